"""Assignment strategies. Each picks one member among those who can take a lead.

A strategy is called with the team row locked (see ``routing.services``), so
what it reads and the cursor it moves are never stale. Candidates come from
``routing.selectors.eligible_members``, in the team's order, each with its
``open_count``.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Protocol

from core import sql
from teams.models import Team, TeamMember

EPOCH = datetime.min.replace(tzinfo=UTC)


class Strategy(Protocol):
    def pick(self, *, team: Team, candidates: list[TeamMember]) -> TeamMember | None: ...

    def pick_from(self, *, team: Team, members: list[TeamMember],
                  eligible: Callable[[TeamMember], bool]) -> TeamMember | None:
        """``pick`` among the ``members`` (the rotation, in order) that are ``eligible``,
        asking ``eligible`` no more often than the strategy needs."""

    def picked(self, *, team: Team, member: TeamMember, save: bool = True) -> None: ...


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

    def pick_from(self, *, team, members, eligible):
        """The same member as ``pick`` over the eligible ones: the first eligible after the
        cursor, walking the rotation from there (the sweep asks this for every lead)."""
        last = team.rr_last_member if team.rr_last_member_id is not None else None
        start = 0
        if last is not None:
            cursor = (last.order, last.id)
            start = next(
                (i for i, m in enumerate(members) if (m.order, m.id) > cursor), len(members)
            )
        return next((m for m in members[start:] + members[:start] if eligible(m)), None)

    def picked(self, *, team, member, save=True):
        """Move the cursor to ``member``; ``save=False`` leaves writing it to the caller
        (the sweep writes each team's cursor once per batch)."""
        team.rr_last_member = member
        if save:
            cursor_save(team)


def cursor_save(team: Team) -> None:
    """Write where the team's rotation stands (``rr_last_member``, moved by ``picked``)."""
    sql.execute(cursor_sql(), [team.rr_last_member_id, team.pk])


def strategy_moves_cursor(strategy: Strategy) -> bool:
    """Whether ``picked`` moves a cursor that must be written (round robin's)."""
    return isinstance(strategy, RoundRobin)


@cache
def cursor_sql() -> str:
    """Every new lead of a round-robin team moves the cursor: compiled once (core.sql).
    Parameters: the member it stands on, the team."""
    return (f"UPDATE {sql.table(Team)} SET {sql.quote('rr_last_member_id')} = %s "
            f"WHERE {sql.quote('id')} = %s")


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

    def pick_from(self, *, team, members, eligible):
        return self.pick(team=team, candidates=[m for m in members if eligible(m)])

    def picked(self, *, team, member, save=True):
        """Nothing to move: the open counts are the state."""


STRATEGIES: dict[str, Strategy] = {
    Team.Strategy.ROUND_ROBIN: RoundRobin(),
    Team.Strategy.LEAST_OPEN: LeastOpen(),
}


def strategy_for(team: Team) -> Strategy:
    return STRATEGIES[team.strategy]
