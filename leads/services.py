"""Every write to a lead. Each state change and its history event share one transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import sql
from funnel import scoring
from funnel.models import Stage
from funnel.selectors import Funnel, StageInfo, active_scoring_rules, funnel_of
from history.models import LeadEvent
from history.services import Actor, event_build, event_record, events_save
from overflow.clock import (
    overflow_arm,
    overflow_rearm,
    overflow_stop_fields,
    overflow_stop_on_access,
    service_time_met,
)
from routing.selectors import matching_rule, rule_attendant, rule_team
from routing.services import DEDICATED, Choice, assignee_pick, choose_assignee, team_lock
from teams.hours import team_schedule_cached
from teams.models import Membership, Organization, Skill, Team

from . import selectors
from .limits import lead_limit_after_create
from .messages import (
    customer_message_assigned,
    customer_message_queued,
    customer_message_redirected,
)
from .models import Lead
from .normalize import normalize_email, normalize_phone
from .queue import queue_drain, queue_drain_for_member, queue_position, rotation_and_waiting


def lead_find_existing(
    *, organization: Organization, external_id: str | None, idempotency_key: str | None
) -> Lead | None:
    """The lead a retried POST already created (same external id, else same
    Idempotency-Key), loaded as it stands now, with what the API shows of it."""
    found, _previous = selectors.arrival_lookup(
        organization=organization, email="", phone="", external_id=external_id,
        idempotency_key=idempotency_key,
    )
    if found is None:
        return None
    return selectors.lead_get(organization=organization, lead_id=found)


def lead_create(
    *,
    organization: Organization,
    data: dict[str, Any],
    actor: Actor,
    source: str = Lead.Source.API,
    team: Team | None = None,
    required_skills: Iterable[Skill] = (),
    idempotency_key: str | None = None,
    now: datetime | None = None,
    origin: Any = None,
) -> tuple[Lead, bool]:
    """Create and route a lead; ``(lead, False)`` when a retry finds the first one.

    ``origin`` is the lead source (sources.Source) it came in by, if any.

    ``data`` holds validated contact fields (name, email, phone, external_id,
    custom). The lead is scored first (funnel.scoring), then the organization's
    routing rules are read, which may test the score: the first that matches may
    choose the team (unless the caller named one), a dedicated attendant, required
    skills, or close the lead with a redirect. Without a team, the organization's
    default team takes the lead.
    """
    external_id = data.get("external_id") or None
    email = normalize_email(data.get("email", ""))
    phone = normalize_phone(data.get("phone", ""))
    # A retry's first lead, and the contact's latest lead: one round trip.
    existing_id, previous = selectors.arrival_lookup(
        organization=organization, email=email, phone=phone, external_id=external_id,
        idempotency_key=idempotency_key,
    )
    if existing_id is not None:
        return selectors.lead_get(organization=organization, lead_id=existing_id), False
    # Without a given time, arrival is stamped under the team lock (below), so the
    # queue's order (created_at) is the order in which leads were routed.
    stamp_under_lock = now is None
    now = now or timezone.now()
    custom = data.get("custom") or {}
    facts = scoring.lead_facts(
        source=source, email=email, phone=phone, name=data.get("name", ""), custom=custom,
        returning=previous is not None, origin=origin.name if origin is not None else "",
    )
    score = scoring.score(
        active_scoring_rules(organization=organization), facts,
        scoring.behaviours_seen(returning=previous is not None, opened_in_time=False,
                                reached_qualified=False),
    )
    facts["score"] = score.total
    rule = matching_rule(organization=organization, facts=facts)
    if team is None and rule is not None:
        team = rule_team(organization=organization, rule=rule)
    team = team or organization.default_team
    skills = frozenset(s.pk for s in required_skills)
    if rule is not None:
        skills |= rule.skill_ids
    lead = Lead(
        organization=organization,
        team=team,
        name=data.get("name", ""),
        email=data.get("email", ""),
        phone=data.get("phone", ""),
        email_normalized=email,
        phone_normalized=phone,
        is_returning=previous is not None,
        routing_rule_id=rule.id if rule else None,
        external_id=external_id,
        idempotency_key=idempotency_key,
        custom=custom,
        source=source,
        origin=origin,
        score=score.total,
        created_at=now,
    )
    created = {"source": source, "rule_id": rule.id if rule else None,
               "returning": lead.is_returning, "score": score.as_dict()}
    redirect = rule is not None and bool(rule.redirect_to)
    # Read before the transaction: the team's lock is held from the first step of
    # routing to the commit, and none of this needs it.
    dedicated = rule_attendant(organization=organization, rule=rule) if rule else None
    schedule = (
        team_schedule_cached(team, organization=organization) if team and not redirect else None
    )
    try:
        with transaction.atomic():
            if redirect:
                _close_redirected(lead=lead, rule=rule, created=created, actor=actor, now=now)
            else:
                _route_on_arrival(
                    lead=lead, team=team, skills=skills, created=created, dedicated=dedicated,
                    schedule=schedule, previous=previous, actor=actor, now=now,
                    stamp_under_lock=stamp_under_lock,
                )
    except IntegrityError:
        # A concurrent retry with the same external id or key won the race.
        existing = lead_find_existing(
            organization=organization, external_id=external_id, idempotency_key=idempotency_key
        )
        if existing is None:
            raise
        return existing, False
    if organization.leads_per_month is not None:
        # Over the operator's monthly limit the lead is kept all the same; the owners are told.
        lead_limit_after_create(organization=organization, now=now)
    return lead, True


# Many leads in one request: leads/batch.py (routed in bulk, ``lead_create`` as fallback).


def _route_on_arrival(*, lead, team, skills, created, dedicated, schedule, previous, actor, now,
                      stamp_under_lock=False) -> None:
    organization = lead.organization
    choice = None
    if team is not None:
        locked = team_lock(team)
        if stamp_under_lock:
            now = lead.created_at = timezone.now()
        # First in, first out: whoever already waits in the queue goes first. Almost always
        # nobody waits: the rotation comes with that answer, and serves the choice below.
        rotation = rotation_and_waiting(team=locked)
        if rotation is None:
            queue_drain(team=locked, locked=True, now=now)
        choice = choose_assignee(
            team=locked, locked=True, required_skills=skills, dedicated=dedicated,
            previous_holder_id=previous.assignee_id if previous else None, now=now,
            rotation=rotation,
        )
    elif dedicated is not None and dedicated.is_active:
        choice = Choice(membership=dedicated, how=DEDICATED)
    if choice is not None:
        lead.assignee = choice.membership
        lead.assigned_at = now
        overflow_arm(lead=lead, team=team, now=now, schedule=schedule)
        message = customer_message_assigned(
            team=team, organization=organization, membership=choice.membership,
            schedule=schedule, now=now,
        )
    else:
        lead.overflow_reason = Lead.OverflowReason.UNASSIGNED
        message = customer_message_queued(
            team=team, organization=organization, position=queue_position(lead=lead) + 1,
            schedule=schedule, now=now,
        )
    lead.customer_message = message.as_dict()
    sql.insert(lead)  # lead.save(force_insert=True), its INSERT compiled once
    if skills:
        lead.required_skills.set(skills)
    system = Actor.system()
    events = [event_build(lead=lead, type=LeadEvent.Type.CREATED, actor=actor, at=now,
                          data=created)]
    if choice is None:
        events.append(event_build(
            lead=lead, type=LeadEvent.Type.QUEUED, actor=system, at=now,
            data={"team_id": lead.team_id, "customer_message": lead.customer_message},
        ))
    else:
        events.append(event_build(
            lead=lead, type=LeadEvent.Type.ASSIGNED, actor=system, at=now,
            to_member=choice.membership,
            data={"how": choice.how, "strategy": team.strategy if team else None,
                  "team_id": lead.team_id, "customer_message": lead.customer_message},
        ))
    events_save(events)


def _close_redirected(*, lead, rule, created, actor, now) -> None:
    """A rule sends the customer to another channel: the lead is recorded and closed."""
    message = customer_message_redirected(
        organization=lead.organization, target=rule.redirect_to, team=lead.team
    )
    lead.status = Lead.Status.CONCLUDED
    lead.concluded_at = now
    lead.overflow_reason = Lead.OverflowReason.CONCLUDED
    lead.customer_message = message.as_dict()
    lead.save(force_insert=True)
    events_save([
        event_build(lead=lead, type=LeadEvent.Type.CREATED, actor=actor, at=now, data=created),
        event_build(lead=lead, type=LeadEvent.Type.CONCLUDED, actor=Actor.system(), at=now,
                    reason="redirected",
                    data={"redirect_to": rule.redirect_to, "customer_message": message.as_dict()}),
    ])


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
        # Asked before the clock stops: opened within the service time is a behaviour
        # scoring counts.
        in_time = not lead.opened_in_time and service_time_met(
            lead=lead, organization=organization, now=now)
        event_record(lead=lead, type=LeadEvent.Type.ACCESSED, actor=actor,
                     to_member=membership, at=now)
        if membership.missed_in_row:
            # An opened lead ends a run of missed ones.
            Membership.objects.filter(pk=membership.pk).update(missed_in_row=0)
        overflow_stop_on_access(lead=lead, actor=actor, now=now)
        if in_time:
            lead.opened_in_time = True
            events_save(_rescore(lead, organization=organization, actor=Actor.system(),
                                 now=now))
        lead.save(
            update_fields=[
                "assignee_accessed_at", "first_accessed_at", "overflow_active",
                "overflow_due_at", "overflow_reason", "opened_in_time", "score",
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
        events_save([
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
            # A new team by hand: the lead follows that team's overflow policy from now on.
            lead.team = lead.overflow_team = to_team
        elif to_member.organization_id != organization.pk or not to_member.is_active:
            raise ActionRefused(_("Choose an active person of your organization."))
        if to_member.pk == lead.assignee_id:
            raise ActionRefused(_("The lead is already with this person."))
        previous = lead.assignee
        lead.assignee = to_member
        lead.assigned_at = now
        lead.assignee_accessed_at = None
        # If its clock was running, the new attendant gets a whole service time.
        overflow_rearm(lead=lead, team=lead.team, now=now)
        lead.save()
        event_record(
            lead=lead, type=LeadEvent.Type.TRANSFERRED, actor=actor, from_member=previous,
            to_member=to_member, at=now,
            data={"note": note, "team_id": to_team.pk if to_team else None},
        )
    return lead


def lead_conclude(
    *, organization: Organization, lead_id: int, membership: Membership, note: str = "",
    outcome: str = "", lost_reason: str = "", now=None,
) -> Lead:
    """Conclude a lead, with its outcome when one is given: won (the ``customer`` stage) or
    lost (the ``lost`` stage, with one of the organization's lost reasons)."""
    actor = Actor.for_user(membership.user)
    funnel = funnel_of(organization=organization)
    with transaction.atomic():
        lead = _locked_lead(organization=organization, lead_id=lead_id)
        now = now or timezone.now()  # under the lock: history in the order of the changes
        _require_handler(lead, membership)
        if lead.status == Lead.Status.CONCLUDED:
            raise ActionRefused(_("This lead is already concluded."))
        target = None
        if outcome:
            target = _stage_check(funnel, lead, stage=outcome, lost_reason=lost_reason,
                                  field="outcome")
            if not target.is_outcome:
                raise ValidationError({"outcome": [_("Choose won or lost.")]})
        events = _conclude(lead, actor=actor, now=now, note=note)
        if target is not None:
            events += _stage_set(lead, organization=organization, funnel=funnel, target=target,
                                 lost_reason=lost_reason, actor=actor, now=now)
        lead.save()
        events_save(events)
        _after_conclude(lead, now=now)
    return lead


def _conclude(lead: Lead, *, actor: Actor, now: datetime, note: str = "") -> list[LeadEvent]:
    """Conclude the locked lead (no save): its events, the conclusion first."""
    events = [event_build(
        lead=lead, type=LeadEvent.Type.CONCLUDED, actor=actor, at=now, data={"note": note},
    )]
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
    return events


def _after_conclude(lead: Lead, *, now: datetime) -> None:
    if lead.assignee is not None:
        # A concluded lead frees capacity: the queue may move.
        queue_drain_for_member(membership=lead.assignee, now=now)


def lead_reopen(
    *, organization: Organization, lead_id: int, membership: Membership, now=None
) -> Lead:
    """Reopen a concluded lead. It stays with its attendant and does not overflow again;
    a won or lost lead goes back to the last stage it was worked in."""
    actor = Actor.for_user(membership.user)
    with transaction.atomic():
        lead = _locked_lead(organization=organization, lead_id=lead_id)
        now = now or timezone.now()
        _require_handler(lead, membership)
        if lead.status != Lead.Status.CONCLUDED:
            raise ActionRefused(_("This lead is open already."))
        lead.status = Lead.Status.OPEN
        lead.concluded_at = None
        events = [event_build(lead=lead, type=LeadEvent.Type.REOPENED, actor=actor, at=now)]
        funnel = funnel_of(organization=organization)
        current = funnel.stage(lead.stage)
        if current is not None and current.is_outcome:
            back = selectors.last_open_stage(organization=organization, lead_id=lead.pk)
            events += _stage_set(
                lead, organization=organization, funnel=funnel,
                target=funnel.stage(back) or funnel.stages[0], lost_reason="", actor=actor,
                now=now,
            )
        lead.save()
        events_save(events)
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


# --- the funnel: stage and score ------------------------------------------------------


def lead_stage_change(
    *,
    organization: Organization,
    lead_id: int,
    actor: Actor,
    stage: str | None = None,
    lost_reason: str | None = None,
    membership: Membership | None = None,
    now: datetime | None = None,
) -> Lead:
    """Move a lead to a stage of the organization's funnel: one click on its page, or a
    CRM's ``PATCH``. ``stage`` left out keeps the stage (to change a lost reason);
    ``lost_reason`` left out keeps the reason of a lead that stays lost.

    Won (``customer``) and lost conclude an open lead; a concluded lead moves only
    between them (reopen it to work it again). Each change is a ``stage_changed``
    event (an outbound webhook too) in the transaction of the change, with the
    score worked out again. The lead's row lock orders concurrent changes, so each
    event starts from the stage the previous one left. Changing nothing writes
    nothing. Refusals are ``ValidationError`` naming the field; a person who neither
    holds the lead nor manages is refused (``ActionRefused``).
    """
    funnel = funnel_of(organization=organization)
    with transaction.atomic():
        lead = _locked_lead(organization=organization, lead_id=lead_id)
        # Stamped under the lock: concurrent changes are in the history in the order they
        # were made, each starting where the one before left the lead.
        now = now or timezone.now()
        if membership is not None:
            _require_handler(lead, membership)
        stage = lead.stage if stage is None else stage
        if lost_reason is None:
            lost_reason = lead.lost_reason if stage == lead.stage else ""
        target = _stage_check(funnel, lead, stage=stage, lost_reason=lost_reason)
        if (lead.stage, lead.lost_reason) == (target.key, lost_reason):
            return lead
        concluding = target.is_outcome and lead.status == Lead.Status.OPEN
        events = _conclude(lead, actor=actor, now=now) if concluding else []
        events += _stage_set(lead, organization=organization, funnel=funnel, target=target,
                             lost_reason=lost_reason, actor=actor, now=now)
        lead.save()
        events_save(events)
        if concluding:
            _after_conclude(lead, now=now)
    return lead


def _stage_check(funnel: Funnel, lead: Lead, *, stage: str, lost_reason: str,
                 field: str = "stage") -> StageInfo:
    """The stage to move to, or a ``ValidationError`` naming the field at fault."""
    target = funnel.stage(stage)
    if target is None or not (target.is_active or target.key == lead.stage):
        raise ValidationError({field: [
            _("Unknown stage “%(stage)s”. Choose one of: %(stages)s.")
            % {"stage": stage, "stages": ", ".join(s.key for s in funnel.stages if s.is_active)}
        ]})
    if lead.status == Lead.Status.CONCLUDED and not target.is_outcome:
        raise ValidationError({field: [
            _("This lead is concluded: it can only be won or lost. Reopen it to work it "
              "again.")]})
    if target.kind == Stage.Kind.LOST:
        reason = funnel.reason(lost_reason) if lost_reason else None
        if not lost_reason:
            raise ValidationError({"lost_reason": [_("Choose why the lead was lost.")]})
        if reason is None or not (reason.is_active or lost_reason == lead.lost_reason):
            raise ValidationError({"lost_reason": [
                _("Unknown lost reason “%(reason)s”. Choose one of: %(reasons)s.")
                % {"reason": lost_reason,
                   "reasons": ", ".join(r.key for r in funnel.offered_reasons)}
            ]})
    elif lost_reason:
        raise ValidationError({"lost_reason": [
            _("A lost reason goes only with the lost stage.")]})
    return target


def _stage_set(lead: Lead, *, organization: Organization, funnel: Funnel, target: StageInfo,
               lost_reason: str, actor: Actor, now: datetime) -> list[LeadEvent]:
    """Put the locked lead in ``target`` (no save): its ``stage_changed`` event, and a
    ``scored`` one when its score moves."""
    previous = lead.stage
    lead.stage = target.key
    lead.lost_reason = lost_reason
    if lead.qualified_at is None and funnel.reaches(target.key, Stage.QUALIFIED):
        lead.qualified_at = now
    events = [event_build(
        lead=lead, type=LeadEvent.Type.STAGE_CHANGED, actor=actor, at=now,
        data={"from": previous, "to": target.key, "lost_reason": lost_reason or None},
    )]
    return events + _rescore(lead, organization=organization, actor=actor, now=now)


def _score_now(lead: Lead, *, organization: Organization) -> scoring.Score:
    """The lead's score by the organization's scoring rules now, from its fields and the
    behaviours seen of it."""
    facts = scoring.lead_facts(
        source=lead.source, email=lead.email_normalized, phone=lead.phone_normalized,
        name=lead.name, custom=lead.custom, returning=lead.is_returning,
        origin=lead.origin.name if lead.origin_id else "",
    )
    behaviours = scoring.behaviours_seen(
        returning=lead.is_returning, opened_in_time=lead.opened_in_time,
        reached_qualified=lead.qualified_at is not None,
    )
    return scoring.score(active_scoring_rules(organization=organization), facts, behaviours)


def _rescore(lead: Lead, *, organization: Organization, actor: Actor,
             now: datetime) -> list[LeadEvent]:
    """Work the locked lead's score out again (no save); a ``scored`` event saying how it is
    made up now, when it moved."""
    score = _score_now(lead, organization=organization)
    if score.total == lead.score:
        return []
    previous, lead.score = lead.score, score.total
    return [event_build(lead=lead, type=LeadEvent.Type.SCORED, actor=actor, at=now,
                        data={"from": previous, **score.as_dict()})]


# --- bot handoff ---------------------------------------------------------------------


def lead_handoff(
    *,
    organization: Organization,
    data: dict[str, Any],
    transcript: list[dict[str, Any]],
    reason: str,
    actor: Actor,
    team: Team | None = None,
    required_skills: Iterable[Skill] = (),
    now: datetime | None = None,
) -> tuple[Lead, bool]:
    """A chatbot hands a conversation to a person (transbordo para atendimento humano).

    Reuses the contact's open lead (same external id, e-mail or phone) or creates
    one with source ``bot``, routed like any lead (bot leads overflow only where
    the team opts in), and writes the transcript into its history as one event
    the attendant reads on the lead page. Returns ``(lead, created)``.
    """
    now = now or timezone.now()
    with transaction.atomic():
        lead = selectors.open_lead_for_contact(
            organization=organization,
            external_id=data.get("external_id") or None,
            email=normalize_email(data.get("email", "")),
            phone=normalize_phone(data.get("phone", "")),
        )
        created = lead is None
        if created:
            lead, created = lead_create(
                organization=organization, data=data, actor=actor, source=Lead.Source.BOT,
                team=team, required_skills=required_skills, now=now,
            )
        event_record(
            lead=lead, type=LeadEvent.Type.HANDOFF, actor=actor, at=now,
            to_member=lead.assignee, reason="",
            data={"reason": reason, "transcript": transcript, "reused": not created},
        )
    return lead, created
