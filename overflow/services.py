"""Writes of ``overflow``'s configuration: a team's policy, checked against rules 3 and 4.

A lead's overflow state (arm, re-arm, stop) is in ``overflow.clock``; the sweep that
transfers due leads works on leads and lives above this app, in ``leads.sweep``.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.services import Action, Area, audit_record, created, diff
from teams.models import Team

from . import rules
from .models import OverflowChainStep, OverflowPolicy
from .selectors import active_pool_ids


def policy_validate(*, team: Team, enabled: bool, service_minutes: int, chain: list[Team]) -> None:
    """Rules 3 and 4 for a policy about to be saved; raises ``ValidationError`` by field."""
    errors: dict[str, list] = {}
    try:
        rules.validate_service_minutes(service_minutes)
    except ValidationError as exc:
        errors["service_minutes"] = exc.error_list
    foreign = [t for t in chain if t.organization_id != team.organization_id]
    if foreign or any(t.pk == team.pk for t in chain):
        errors["further_teams"] = [ValidationError("A further team must be another team of yours.")]
    if enabled:
        active = active_pool_ids(teams=[team, *chain])
        if not rules.has_enough_attendants(active):
            errors["enabled"] = [rules.too_few_attendants_error(len(active))]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def policy_save(
    *,
    team: Team,
    enabled: bool,
    service_minutes: int,
    max_transfers: int | None = None,
    include_bot_leads: bool = False,
    chain: list[Team] | None = None,
    actor=None,
) -> OverflowPolicy:
    """Create or replace a team's policy. ``actor``: the membership or API key making the
    change (None: the system), for the audit log."""
    chain = list(chain or [])
    policy_validate(team=team, enabled=enabled, service_minutes=service_minutes, chain=chain)
    existing = OverflowPolicy.objects.select_for_update().filter(team=team).first()
    before = _settings(existing) if existing is not None else None
    policy, _ = OverflowPolicy.objects.update_or_create(
        team=team,
        defaults={
            "enabled": enabled,
            "service_minutes": service_minutes,
            "max_transfers": max_transfers,
            "include_bot_leads": include_bot_leads,
        },
    )
    policy.chain.all().delete()
    OverflowChainStep.objects.bulk_create(
        OverflowChainStep(policy=policy, team=t, position=i) for i, t in enumerate(chain)
    )
    after = _settings(policy)
    audit_record(
        organization=team.organization_id, actor=actor, area=Area.POLICY,
        action=Action.CREATED if before is None else Action.CHANGED, target=policy,
        target_label=team.name, changes=created(after) if before is None else diff(before, after),
    )
    return policy


def _settings(policy: OverflowPolicy) -> dict:
    return {
        "enabled": policy.enabled, "service_minutes": policy.service_minutes,
        "max_transfers": policy.max_transfers, "include_bot_leads": policy.include_bot_leads,
        "further_teams": [step.team.name for step in
                          policy.chain.select_related("team").order_by("position")],
    }
