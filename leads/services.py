"""Every write to a lead. Each state change and its history event share one transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from history.models import LeadEvent
from history.services import Actor, event_build, event_record
from overflow.services import overflow_arm, overflow_stop_on_access
from routing.services import assignee_pick
from teams.hours import team_schedule
from teams.models import Membership, Organization, Team

from .models import Lead


def lead_find_existing(
    *, organization: Organization, external_id: str | None, idempotency_key: str | None
) -> Lead | None:
    """The lead a retried POST already created (same external id or Idempotency-Key)."""
    if external_id:
        lead = Lead.objects.for_org(organization).filter(external_id=external_id).first()
        if lead:
            return lead
    if idempotency_key:
        return Lead.objects.for_org(organization).filter(idempotency_key=idempotency_key).first()
    return None


def lead_create(
    *,
    organization: Organization,
    data: dict[str, Any],
    actor: Actor,
    source: str = Lead.Source.API,
    team: Team | None = None,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> tuple[Lead, bool]:
    """Create and assign a lead; ``(lead, False)`` when a retry finds the first one.

    ``data`` holds validated contact fields (name, email, phone, external_id,
    custom). Without a team the organization's default team takes the lead.
    """
    external_id = data.get("external_id") or None
    existing = lead_find_existing(
        organization=organization, external_id=external_id, idempotency_key=idempotency_key
    )
    if existing:
        return existing, False
    team = team or organization.default_team
    now = now or timezone.now()
    lead = Lead(
        organization=organization,
        team=team,
        name=data.get("name", ""),
        email=data.get("email", ""),
        phone=data.get("phone", ""),
        external_id=external_id,
        idempotency_key=idempotency_key,
        custom=data.get("custom") or {},
        source=source,
        created_at=now,
    )
    try:
        with transaction.atomic():
            member = assignee_pick(team=team) if team is not None else None
            if member is not None:
                lead.assignee = member.membership
                lead.assigned_at = now
                overflow_arm(lead=lead, team=team, now=now,
                             schedule=team_schedule(team, organization=organization))
            else:
                lead.overflow_reason = Lead.OverflowReason.UNASSIGNED
            lead.save(force_insert=True)
            LeadEvent.objects.bulk_create(_arrival_events(lead=lead, actor=actor, member=member))
    except IntegrityError:
        # A concurrent retry with the same external id or key won the race.
        existing = lead_find_existing(
            organization=organization, external_id=external_id, idempotency_key=idempotency_key
        )
        if existing is None:
            raise
        return existing, False
    return lead, True


def _arrival_events(*, lead: Lead, actor: Actor, member) -> list[LeadEvent]:
    at = lead.created_at
    events = [event_build(lead=lead, type=LeadEvent.Type.CREATED, actor=actor, at=at,
                          data={"source": lead.source})]
    team_id = lead.team_id
    if member is None:
        events.append(event_build(lead=lead, type=LeadEvent.Type.QUEUED, actor=Actor.system(),
                                  at=at, data={"team_id": team_id}))
    else:
        events.append(event_build(
            lead=lead, type=LeadEvent.Type.ASSIGNED, actor=Actor.system(), at=at,
            to_member=member.membership,
            data={"strategy": lead.team.strategy, "team_id": team_id},
        ))
    return events


def lead_mark_accessed(
    *, organization: Organization, lead_id: int, membership: Membership, actor: Actor,
    now: datetime | None = None,
) -> bool:
    """The assignee opened the lead (rule 5). Anyone else opening it changes nothing.

    Takes the lead's row lock, so it and the sweep serialize: either the access
    lands first and overflow stops, or the transfer lands first and this caller
    is no longer the assignee. Returns whether an access was recorded.
    """
    now = now or timezone.now()
    with transaction.atomic():
        lead = Lead.objects.for_org(organization).select_for_update().get(pk=lead_id)
        if lead.assignee_id != membership.pk or lead.assignee_accessed_at is not None:
            return False
        lead.assignee_accessed_at = now
        if lead.first_accessed_at is None:
            lead.first_accessed_at = now
        event_record(lead=lead, type=LeadEvent.Type.ACCESSED, actor=actor,
                     to_member=membership, at=now)
        overflow_stop_on_access(lead=lead, actor=actor, now=now)
        lead.save(
            update_fields=[
                "assignee_accessed_at", "first_accessed_at", "overflow_active",
                "overflow_due_at", "overflow_reason",
            ]
        )
        return True
