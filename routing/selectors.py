"""Who can take a lead right now. One rule of eligibility for every path:
new leads, the waiting queue, overflow and presence hand-offs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Count, Q

from teams.models import Membership, Team, TeamMember

from .conditions import conditions_hold
from .models import RoutingRule


def active_members(*, team: Team) -> list[TeamMember]:
    """The team's rotation: active members of active memberships, in the manager's order."""
    return list(
        TeamMember.objects.filter(team=team, is_active=True, membership__is_active=True)
        .select_related("membership__user")
        .order_by("order", "id")
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
    *, team: Team, required_skills: frozenset[int] = frozenset(), exclude: Iterable[int] = ()
) -> list[TeamMember]:
    """Members who can take a lead of ``team`` now, in order, each with ``open_count``."""
    excluded = set(exclude)
    members = [m for m in active_members(team=team) if m.membership_id not in excluded]
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


def matching_rule(*, organization, facts: dict) -> RoutingRule | None:
    """The first active rule, in the manager's order, whose conditions hold."""
    rules = (
        RoutingRule.objects.for_org(organization)
        .filter(is_active=True)
        .select_related("team", "attendant__user")
        .prefetch_related("required_skills")
        .order_by("position", "id")
    )
    customer = facts.get("customer")
    for rule in rules:
        if rule.customer != RoutingRule.Customer.ANY and rule.customer != customer:
            continue
        if conditions_hold(rule.conditions, facts):
            return rule
    return None
