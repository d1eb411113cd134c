"""Assignment strategies. Each picks one member among those who can take a lead.

A strategy is called with the team row locked (see ``routing.services``), so
what it reads and the cursor it moves are never stale. Candidates come from
``routing.selectors.eligible_members``, in the team's order, each with its
``open_count``.
"""

from datetime import UTC, datetime
from typing import Protocol

from teams.models import Team, TeamMember

EPOCH = datetime.min.replace(tzinfo=UTC)


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
        if team.rr_last_member_id is None:
            return candidates[0]
        last = next((m for m in candidates if m.pk == team.rr_last_member_id), None)
        if last is None:
            last = team.rr_last_member  # left the rotation: read where it stood
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


class LeastOpen:
    """The member with the fewest open leads; ties go to who waited longest since their
    last assignment, then to the team's order."""

    def pick(self, *, team, candidates):
        if not candidates:
            return None
        return min(
            candidates,
            key=lambda m: (m.open_count, m.membership.last_assigned_at or EPOCH, m.order, m.id),
        )

    def picked(self, *, team, member):
        """Nothing to move: the open counts are the state."""


STRATEGIES: dict[str, Strategy] = {
    Team.Strategy.ROUND_ROBIN: RoundRobin(),
    Team.Strategy.LEAST_OPEN: LeastOpen(),
}


def strategy_for(team: Team) -> Strategy:
    return STRATEGIES[team.strategy]
