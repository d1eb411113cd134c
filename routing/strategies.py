"""Assignment strategies. Each picks one member among those who can take a lead.

A strategy is called with the team row locked (see ``routing.services``), so
what it reads and the cursor it moves are never stale.
"""

from typing import Protocol

from teams.models import Team, TeamMember


class Strategy(Protocol):
    def pick(self, *, team: Team, candidates: list[TeamMember]) -> TeamMember | None: ...

    def picked(self, *, team: Team, member: TeamMember) -> None: ...


class RoundRobin:
    """The member after the one who got the last lead, in the team's order.

    Over any run of leads with a fixed set of candidates, their counts differ
    by at most one. The cursor is a member, not an index, so adding or removing
    members does not make anyone skip their turn.
    """

    def pick(self, *, team, candidates):
        if not candidates:
            return None
        last = team.rr_last_member
        if last is None:
            return candidates[0]
        cursor = (last.order, last.id)
        for member in candidates:
            if (member.order, member.id) > cursor:
                return member
        return candidates[0]

    def picked(self, *, team, member):
        team.rr_last_member = member
        Team.objects.filter(pk=team.pk).update(rr_last_member=member)


STRATEGIES: dict[str, Strategy] = {
    Team.Strategy.ROUND_ROBIN: RoundRobin(),
}


def strategy_for(team: Team) -> Strategy:
    return STRATEGIES[team.strategy]
