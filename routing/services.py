from django.db import transaction

from teams.models import Team, TeamMember

from .selectors import available_members
from .strategies import strategy_for


def assignee_pick(*, team: Team) -> TeamMember | None:
    """Choose who gets a new lead of ``team`` and move the team's cursor.

    Locks the team row until the caller's transaction ends, so simultaneous
    leads of one team are assigned one after the other from a fresh cursor.
    ``None`` when nobody can take it: the lead waits in the team's queue.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("assignee_pick must run inside the lead's transaction")
    # No join in the locking query: PostgreSQL re-reads only the locked row when
    # a waiter gets the lock, so a joined cursor member would come back stale
    # (or empty) and simultaneous leads would all start over at the first member.
    locked = Team.objects.select_for_update().get(pk=team.pk)
    strategy = strategy_for(locked)
    member = strategy.pick(team=locked, candidates=available_members(team=locked))
    if member is not None:
        strategy.picked(team=locked, member=member)
    return member
