"""Reads for the managers' routing pages and the rules API. Each names the organization."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from teams.models import Membership, Organization, Team, TeamMember

from .models import RoutingRule
from .selectors import open_lead_counts


def rule_list(*, organization: Organization) -> QuerySet[RoutingRule]:
    """The organization's rules in the order they are tried, with what they point at."""
    return (
        RoutingRule.objects.for_org(organization)
        .select_related("team", "attendant__user")
        .prefetch_related("required_skills")
        .order_by("position", "id")
    )


def rule_get(*, organization: Organization, rule_id: int) -> RoutingRule:
    """Raises ``RoutingRule.DoesNotExist`` for another organization's rule."""
    return rule_list(organization=organization).get(pk=rule_id)


@dataclass(frozen=True)
class Bench:
    """A member of the team who cannot take a lead now, and why (one reason, the first)."""

    member: TeamMember
    reason: str  # DEACTIVATED, PAUSED, NOT_ONLINE or AT_CAPACITY
    open_count: int


DEACTIVATED, PAUSED, NOT_ONLINE, AT_CAPACITY = "deactivated", "paused", "not_online", "at_capacity"


def team_bench(*, team: Team) -> list[Bench]:
    """Who of the team sits out of the rotation now, in the team's order.

    The same tests as ``routing.selectors.can_take`` (skills aside: they depend
    on the lead), spelled out so the preview page can say why.
    """
    members = list(
        TeamMember.objects.filter(team=team).select_related("membership__user").order_by(
            "order", "id"
        )
    )
    counts = open_lead_counts(membership_ids=[m.membership_id for m in members])
    bench = []
    for m in members:
        count = counts.get(m.membership_id, 0)
        if not m.membership.is_active:
            reason = DEACTIVATED
        elif not m.is_active:
            reason = PAUSED
        elif team.online_only and m.membership.presence != Membership.Presence.ONLINE:
            reason = NOT_ONLINE
        elif m.capacity is not None and count >= m.capacity:
            reason = AT_CAPACITY
        else:
            continue
        bench.append(Bench(member=m, reason=reason, open_count=count))
    return bench


def open_counts_of(*, members: list[TeamMember]) -> dict[int, int]:
    """Open leads now, by membership id (the preview's simulation changes its own copies)."""
    return open_lead_counts(membership_ids={m.membership_id for m in members})
