"""Reads of ``overflow``."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist

from teams.models import Team, TeamMember

from .models import OverflowPolicy


def policy_of(team: Team | None) -> OverflowPolicy | None:
    if team is None:
        return None
    try:
        return team.overflow_policy
    except ObjectDoesNotExist:
        return None


def policy_chain(policy: OverflowPolicy | None) -> list[Team]:
    """The further teams of a cross-team policy, in the manager's order (archived left out)."""
    if policy is None or policy.pk is None:  # none, or a form's unsaved one
        return []
    return [s.team for s in policy.chain.select_related("team").filter(team__is_archived=False)]


def active_pool_ids(*, teams: list[Team]) -> set[int]:
    """Rule 3's pool: the active people in the active places of these teams."""
    return set(
        TeamMember.objects.filter(
            team__in=teams, is_active=True, membership__is_active=True
        ).values_list("membership_id", flat=True)
    )
