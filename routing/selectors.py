"""Who can take a lead right now. One rule of eligibility for every path:
new leads, the waiting queue, overflow and presence hand-offs."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q

from core import sql
from teams.config_cache import org_cached
from teams.models import Membership, Organization, Team, TeamMember

from .conditions import conditions_hold
from .models import RoutingRule


def active_members(*, team: Team) -> list[TeamMember]:
    """The team's rotation: active members of active memberships, in the manager's order,
    each with its membership and user.

    Every new lead reads it under the team's lock: its SQL is compiled once (core.sql).
    """
    return rotation_read(team=team)[0]


def rotation_read(*, team: Team, also: str = "", also_params: Sequence[Any] = ()
                  ) -> tuple[list[TeamMember], Any]:
    """``active_members`` and, in the same statement, the value of the SQL expression
    ``also`` (an uncorrelated one, with its ``also_params``: a caller's question that
    must be asked under the same lock); ``None`` for it when the team has no active
    member, so no row to carry it."""
    user_model = get_user_model()
    tm_width, m_width = sql.width(TeamMember), sql.width(Membership)
    u_width = sql.width(user_model)
    members, answer = [], None
    for row in sql.fetch(_active_members_sql(also), [*also_params, team.pk, True, True]):
        member = sql.instance(TeamMember, row)
        membership = sql.instance(Membership, row, tm_width)
        sql.cache_related(membership, "user", sql.instance(user_model, row, tm_width + m_width))
        sql.cache_related(member, "membership", membership)
        members.append(member)
        if also:
            answer = row[tm_width + m_width + u_width]
    return members, answer


@functools.cache
def _active_members_sql(also: str = "") -> str:
    q = sql.quote
    return (
        f"SELECT {sql.select_list(TeamMember, 'tm')}, {sql.select_list(Membership, 'm')}, "
        f"{sql.select_list(get_user_model(), 'u')}{f', ({also})' if also else ''} "
        f"FROM {sql.table(TeamMember)} tm "
        f"JOIN {sql.table(Membership)} m ON m.{q('id')} = tm.{q('membership_id')} "
        f"JOIN {sql.table(get_user_model())} u ON u.{q('id')} = m.{q('user_id')} "
        f"WHERE tm.{q('team_id')} = %s AND tm.{q('is_active')} = %s AND m.{q('is_active')} = %s "
        f"ORDER BY tm.{q('order')}, tm.{q('id')}"
    )


def open_lead_counts(*, membership_ids: Iterable[int]) -> dict[int, int]:
    """Open leads held by each membership (capacity and least-open)."""
    ids = list(membership_ids)
    if not ids:
        return {}
    rows = (
        Membership.objects.filter(id__in=ids)
        .annotate(n=Count("assigned_leads", filter=Q(assigned_leads__status="open")))
        .values_list("id", "n")
    )
    return dict(rows)


def skill_ids_by_membership(*, membership_ids: Iterable[int]) -> dict[int, set[int]]:
    ids = list(membership_ids)
    skills: dict[int, set[int]] = defaultdict(set)
    if ids:
        rows = Membership.skills.through.objects.filter(membership_id__in=ids).values_list(
            "membership_id", "skill_id"
        )
        for membership_id, skill_id in rows:
            skills[membership_id].add(skill_id)
    return skills


def can_take(
    *,
    online_only: bool,
    presence: str,
    capacity: int | None,
    open_count: int,
    skills: set[int],
    required_skills: frozenset[int] | set[int],
) -> bool:
    """The one eligibility rule: online when the team asks it, under capacity, holds the skills."""
    if online_only and presence != Membership.Presence.ONLINE:
        return False
    if capacity is not None and open_count >= capacity:
        return False
    return set(required_skills) <= skills


def eligible_members(
    *, team: Team, required_skills: frozenset[int] = frozenset(), exclude: Iterable[int] = (),
    rotation: list[TeamMember] | None = None,
) -> list[TeamMember]:
    """Members who can take a lead of ``team`` now, in order, each with ``open_count``
    (of ``rotation``, the team's ``active_members`` just read under its lock, if given)."""
    excluded = set(exclude)
    if rotation is None:
        rotation = active_members(team=team)
    members = [m for m in rotation if m.membership_id not in excluded]
    ids = [m.membership_id for m in members]
    # Open counts cost a query: only least-open and capacity need them.
    needs_counts = team.strategy == Team.Strategy.LEAST_OPEN or any(
        m.capacity is not None for m in members
    )
    counts = open_lead_counts(membership_ids=ids) if needs_counts else {}
    skills = skill_ids_by_membership(membership_ids=ids) if required_skills else {}
    eligible = []
    for m in members:
        m.open_count = counts.get(m.membership_id, 0)
        if can_take(
            online_only=team.online_only,
            presence=m.membership.presence,
            capacity=m.capacity,
            open_count=m.open_count,
            skills=skills.get(m.membership_id, set()),
            required_skills=required_skills,
        ):
            eligible.append(m)
    return eligible


def available_members(*, team: Team) -> list[TeamMember]:
    return eligible_members(team=team)


def available_count(*, team: Team) -> int:
    """How many people can receive the team's leads when they have room: its active members,
    only those online where the team takes online attendants only (capacity aside)."""
    return sum(
        can_take(online_only=team.online_only, presence=m.membership.presence, capacity=None,
                 open_count=0, skills=set(), required_skills=frozenset())
        for m in active_members(team=team)
    )


@dataclass(frozen=True)
class ActiveRule:
    """An active routing rule as intake reads it: plain values, cached per process."""

    id: int
    customer: str
    conditions: list
    team_id: int | None
    attendant_id: int | None
    skill_ids: frozenset[int]
    redirect_to: str


def active_rules(*, organization: Organization) -> tuple[ActiveRule, ...]:
    """The organization's active rules in the manager's order.

    Read on every new lead, changed rarely: kept per process and rebuilt when
    the organization's configuration version moves (``teams.config_cache``).
    """

    def build():
        rules = (
            RoutingRule.objects.for_org(organization)
            .filter(is_active=True)
            .prefetch_related("required_skills")
            .order_by("position", "id")
        )
        return tuple(
            ActiveRule(
                id=rule.pk, customer=rule.customer, conditions=rule.conditions,
                team_id=rule.team_id, attendant_id=rule.attendant_id,
                skill_ids=frozenset(s.pk for s in rule.required_skills.all()),
                redirect_to=rule.redirect_to,
            )
            for rule in rules
        )

    return org_cached(organization, "routing.active_rules", build)


def matching_rule(*, organization: Organization, facts: dict) -> ActiveRule | None:
    """The first active rule, in the manager's order, whose conditions hold."""
    customer = facts.get("customer")
    for rule in active_rules(organization=organization):
        if rule.customer != RoutingRule.Customer.ANY and rule.customer != customer:
            continue
        if conditions_hold(rule.conditions, facts):
            return rule
    return None


def rule_team(*, organization: Organization, rule: ActiveRule) -> Team | None:
    """The team a rule sends leads to, unless it was archived since."""
    if rule.team_id is None:
        return None
    return (
        Team.objects.for_org(organization)
        .filter(pk=rule.team_id, is_archived=False)
        .select_related("overflow_policy")
        .first()
    )


def rule_attendant(*, organization: Organization, rule: ActiveRule) -> Membership | None:
    """A rule's dedicated attendant, read fresh: they may have been deactivated since."""
    if rule.attendant_id is None:
        return None
    return (
        Membership.objects.for_org(organization)
        .filter(pk=rule.attendant_id)
        .select_related("user")
        .first()
    )
