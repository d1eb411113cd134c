"""Choosing who gets a lead. Reads teams; writes only the rotation's own bookkeeping."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from core import sql
from teams.models import Membership, Team, TeamMember

from .selectors import eligible_members
from .strategies import cursor_save, cursor_sql, strategy_for, strategy_moves_cursor

DEDICATED = "dedicated"
STICKY = "sticky"
STRATEGY = "strategy"


@dataclass(frozen=True)
class Choice:
    membership: Membership
    how: str  # DEDICATED, STICKY or STRATEGY
    member: TeamMember | None = None


def team_lock(team: Team) -> Team:
    """Lock the team's row for the rest of the caller's transaction.

    Every assignment of a team's leads happens under this lock, so the cursor,
    the open counts and the queue order are read fresh. No join in the locking
    query: PostgreSQL re-reads only the locked row when a waiter gets the lock,
    so a joined cursor member would come back stale and simultaneous leads
    would all start over at the first member. Every new lead takes it: its SQL is
    compiled once (core.sql).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("team_lock must run inside the lead's transaction")
    rows = sql.fetch(_team_lock_sql(connection.vendor), [team.pk])
    if not rows:
        raise Team.DoesNotExist(f"team {team.pk} is gone")
    return sql.instance(Team, rows[0])


@functools.cache
def _team_lock_sql(vendor: str) -> str:
    name = Team._meta.db_table
    return (f"SELECT {sql.select_list(Team, name)} FROM {sql.table(Team)} "
            f"WHERE {sql.quote('id')} = %s{sql.for_update()}")


def teams_lock(*, team_ids) -> dict[int, int | None]:
    """Lock several teams' rows in id order, the one order every path takes them in.

    Returns each team's round-robin cursor as it stands under the lock.
    """
    return dict(
        Team.objects.filter(pk__in=team_ids).order_by("pk").select_for_update()
        .values_list("pk", "rr_last_member_id")
    )


def choose_assignee(
    *,
    team: Team,
    locked: bool = False,
    required_skills: frozenset[int] = frozenset(),
    dedicated: Membership | None = None,
    previous_holder_id: int | None = None,
    exclude: frozenset[int] = frozenset(),
    now: datetime | None = None,
    rotation: list[TeamMember] | None = None,
) -> Choice | None:
    """Who gets a lead of ``team`` now, in this order:

    1. the rule's dedicated attendant, when eligible in the team like anyone else
       (an active member, online where the team asks, under capacity, holding the
       skills): a dedicated lead follows the team's presence rule too;
    2. a returning customer's previous attendant, when the team is sticky and
       they are eligible in it;
    3. the team's strategy among the eligible members.

    ``None`` when nobody can take it: the lead waits in the team's queue. ``rotation``:
    the team's ``active_members`` as the caller just read them under the lock.
    """
    now = now or timezone.now()
    if not locked:
        team = team_lock(team)
    candidates = eligible_members(team=team, required_skills=required_skills, exclude=exclude,
                                  rotation=rotation)
    if dedicated is not None:
        for member in candidates:
            if member.membership_id == dedicated.pk:
                _mark_assigned(member.membership_id, now)
                return Choice(membership=member.membership, how=DEDICATED, member=member)
    if previous_holder_id is not None and team.sticky_returning:
        for member in candidates:
            if member.membership_id == previous_holder_id:
                _mark_assigned(member.membership_id, now)
                return Choice(membership=member.membership, how=STICKY, member=member)
    strategy = strategy_for(team)
    member = strategy.pick(team=team, candidates=candidates)
    if member is None:
        return None
    strategy.picked(team=team, member=member, save=False)
    _mark_assigned(member.membership_id, now,
                   cursor=team if strategy_moves_cursor(strategy) else None)
    return Choice(membership=member.membership, how=STRATEGY, member=member)


def _mark_assigned(membership_id: int, now: datetime, *, cursor: Team | None = None) -> None:
    """The person's last assignment and, given the ``cursor`` team, where its rotation now
    stands (``rr_last_member``): on PostgreSQL both in one statement, as every new lead
    of a round-robin team writes them."""
    at = Membership._meta.get_field("last_assigned_at").get_db_prep_save(now, connection)
    if cursor is None:
        sql.execute(_mark_assigned_sql(), [at, membership_id])
    elif connection.vendor == "postgresql":  # a WITH clause that writes: PostgreSQL's
        sql.execute(_mark_and_move_sql(), [cursor.rr_last_member_id, cursor.pk, at, membership_id])
    else:
        cursor_save(cursor)
        sql.execute(_mark_assigned_sql(), [at, membership_id])


@functools.cache
def _mark_assigned_sql() -> str:
    return (f"UPDATE {sql.table(Membership)} SET {sql.quote('last_assigned_at')} = %s "
            f"WHERE {sql.quote('id')} = %s")


@functools.cache
def _mark_and_move_sql() -> str:
    return f"WITH moved AS ({cursor_sql()}) {_mark_assigned_sql()}"


def assignee_pick(*, team: Team) -> TeamMember | None:
    """The team's strategy alone (manual transfer to a team)."""
    choice = choose_assignee(team=team)
    return choice.member if choice else None


def _picks_in_a_row(team: Team, candidates: list[TeamMember], count: int,
                    clock: Callable[[], datetime]) -> list[TeamMember | None]:
    """The team's strategy for ``count`` leads one after the other, in memory: the cursor
    moves, open counts grow (capacity) and last assignments move to ``clock()``
    (least-open's ties) as each lead is taken. ``None`` for a lead nobody can take."""
    strategy = strategy_for(team)
    picks: list[TeamMember | None] = []
    for _ in range(count):
        live = [m for m in candidates if m.capacity is None or m.open_count < m.capacity]
        member = strategy.pick(team=team, candidates=live)
        picks.append(member)
        if member is None:
            continue
        strategy.picked(team=team, member=member, save=False)
        member.open_count += 1
        member.membership.last_assigned_at = clock()
    return picks


def choose_many(*, team: Team, count: int, now: datetime) -> list[Choice | None]:
    """Who gets each of ``count`` new leads of ``team``, as ``choose_assignee`` would
    answer them one after the other (no dedicated attendant, returning customer or
    skills: an imported file's leads), reading the rotation once and writing the cursor
    and each picked person's last assignment once. Runs under the team's lock, which
    the caller holds (``team`` is what ``team_lock`` returned)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("choose_many must run inside the leads' transaction")
    picks = _picks_in_a_row(team, eligible_members(team=team), count, lambda: now)
    taken = [m for m in picks if m is not None]
    if taken and team.strategy == Team.Strategy.ROUND_ROBIN:
        Team.objects.filter(pk=team.pk).update(rr_last_member=team.rr_last_member)
    if taken:
        Membership.objects.filter(pk__in={m.membership_id for m in taken}).update(
            last_assigned_at=now)
    return [None if m is None else Choice(membership=m.membership, how=STRATEGY, member=m)
            for m in picks]


def preview(*, team: Team, count: int) -> list[TeamMember]:
    """Who the next ``count`` leads of the team would go to, changing nothing.

    Simulates the strategy on the current state (``_picks_in_a_row``) until nobody can
    take a lead. Sticky and dedicated routing depend on the lead, so they are left out.
    """
    # Leads that arrive one after the other: each later than the one before.
    picks = _picks_in_a_row(team, eligible_members(team=team), count, timezone.now)
    return list(itertools.takewhile(lambda m: m is not None, picks))
