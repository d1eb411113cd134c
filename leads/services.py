"""Every write to a lead. Each state change and its history event share one transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from history.models import LeadEvent
from history.services import Actor, event_build, event_record
from overflow.services import (
    overflow_arm,
    overflow_stop_fields,
    overflow_stop_on_access,
    policy_of,
)
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


# --- attendants' actions ---------------------------------------------------------


class ActionRefused(Exception):
    """An inbox action that is not allowed now; the message is shown to the user."""


def _locked_lead(*, organization: Organization, lead_id: int) -> Lead:
    return Lead.objects.for_org(organization).select_for_update().get(pk=lead_id)


def _require_handler(lead: Lead, membership: Membership) -> None:
    """The assignee or a manager may act on a lead; anyone else is refused."""
    if not (membership.is_manager or lead.assignee_id == membership.pk):
        raise ActionRefused(_("Only the lead's attendant or a manager can do this."))


def lead_assign_to_me(
    *, organization: Organization, lead_id: int, membership: Membership, now=None
) -> Lead:
    """Take an unassigned lead from the queue. Taking it is opening it: no overflow."""
    now = now or timezone.now()
    actor = Actor.for_user(membership.user)
    with transaction.atomic():
        lead = _locked_lead(organization=organization, lead_id=lead_id)
        if lead.status != Lead.Status.OPEN:
            raise ActionRefused(_("This lead is concluded; reopen it first."))
        if lead.assignee_id is not None:
            raise ActionRefused(_("Someone else has already taken this lead."))
        lead.assignee = membership
        lead.assigned_at = lead.assignee_accessed_at = now
        lead.first_accessed_at = lead.first_accessed_at or now
        overflow_stop_fields(lead, Lead.OverflowReason.ACCESSED)
        lead.save()
        LeadEvent.objects.bulk_create([
            event_build(lead=lead, type=LeadEvent.Type.ASSIGNED, actor=actor,
                        to_member=membership, at=now, data={"self_assigned": True}),
            event_build(lead=lead, type=LeadEvent.Type.ACCESSED, actor=actor,
                        to_member=membership, at=now),
        ])
    return lead


def lead_transfer(
    *,
    organization: Organization,
    lead_id: int,
    membership: Membership,
    to_member: Membership | None = None,
    to_team: Team | None = None,
    note: str = "",
    now=None,
) -> Lead:
    """Hand a lead to a colleague, or to a team's rotation, with a note (manual handoff).

    Whether the lead overflows does not change: if its clock was running, it
    starts again for the new attendant.
    """
    if (to_member is None) == (to_team is None):
        raise ActionRefused(_("Choose either a person or a team."))
    now = now or timezone.now()
    actor = Actor.for_user(membership.user)
    with transaction.atomic():
        lead = _locked_lead(organization=organization, lead_id=lead_id)
        _require_handler(lead, membership)
        if lead.status != Lead.Status.OPEN:
            raise ActionRefused(_("This lead is concluded; reopen it first."))
        if to_team is not None:
            if to_team.organization_id != organization.pk or to_team.is_archived:
                raise ActionRefused(_("Choose one of your organization's teams."))
            picked = assignee_pick(team=to_team)
            if picked is None:
                raise ActionRefused(_("Nobody in that team can take a lead right now."))
            to_member = picked.membership
            lead.team = to_team
        elif to_member.organization_id != organization.pk or not to_member.is_active:
            raise ActionRefused(_("Choose an active person of your organization."))
        if to_member.pk == lead.assignee_id:
            raise ActionRefused(_("The lead is already with this person."))
        previous = lead.assignee
        lead.assignee = to_member
        lead.assigned_at = now
        lead.assignee_accessed_at = None
        if lead.overflow_active:
            schedule = team_schedule(lead.team, organization=organization) if lead.team else None
            policy = policy_of(lead.team)
            due = schedule.add_open_minutes(now, policy.service_minutes) if policy else None
            if due is None:
                overflow_stop_fields(lead, Lead.OverflowReason.TRANSFERRED)
            else:
                lead.overflow_due_at = due
        lead.save()
        event_record(
            lead=lead, type=LeadEvent.Type.TRANSFERRED, actor=actor, from_member=previous,
            to_member=to_member, at=now,
            data={"note": note, "team_id": to_team.pk if to_team else None},
        )
    return lead


def lead_conclude(
    *, organization: Organization, lead_id: int, membership: Membership, note: str = "",
    now=None,
) -> Lead:
    now = now or timezone.now()
    actor = Actor.for_user(membership.user)
    with transaction.atomic():
        lead = _locked_lead(organization=organization, lead_id=lead_id)
        _require_handler(lead, membership)
        if lead.status == Lead.Status.CONCLUDED:
            raise ActionRefused(_("This lead is already concluded."))
        events = []
        if lead.overflow_active:
            overflow_stop_fields(lead, Lead.OverflowReason.CONCLUDED)
            events.append(event_build(
                lead=lead, type=LeadEvent.Type.OVERFLOW_STOPPED, actor=actor,
                to_member=lead.assignee, reason=Lead.OverflowReason.CONCLUDED, at=now,
            ))
        elif not lead.overflow_reason:
            lead.overflow_reason = Lead.OverflowReason.CONCLUDED
        lead.status = Lead.Status.CONCLUDED
        lead.concluded_at = now
        lead.save()
        events.insert(0, event_build(
            lead=lead, type=LeadEvent.Type.CONCLUDED, actor=actor, at=now, data={"note": note},
        ))
        LeadEvent.objects.bulk_create(events)
    return lead


def lead_reopen(
    *, organization: Organization, lead_id: int, membership: Membership, now=None
) -> Lead:
    """Reopen a concluded lead. It stays with its attendant and does not overflow again."""
    now = now or timezone.now()
    with transaction.atomic():
        lead = _locked_lead(organization=organization, lead_id=lead_id)
        _require_handler(lead, membership)
        if lead.status != Lead.Status.CONCLUDED:
            raise ActionRefused(_("This lead is open already."))
        lead.status = Lead.Status.OPEN
        lead.concluded_at = None
        lead.save()
        event_record(lead=lead, type=LeadEvent.Type.REOPENED,
                     actor=Actor.for_user(membership.user), at=now)
    return lead


MAX_NOTE_LENGTH = 5000


def lead_add_note(
    *, organization: Organization, lead_id: int, membership: Membership, text: str, now=None
) -> LeadEvent:
    text = (text or "").strip()
    if not text:
        raise ActionRefused(_("Write the note first."))
    if len(text) > MAX_NOTE_LENGTH:
        raise ActionRefused(
            _("A note may have at most %(n)d characters.") % {"n": MAX_NOTE_LENGTH}
        )
    lead = Lead.objects.for_org(organization).get(pk=lead_id)
    return event_record(lead=lead, type=LeadEvent.Type.NOTE,
                        actor=Actor.for_user(membership.user), at=now or timezone.now(),
                        data={"text": text})
