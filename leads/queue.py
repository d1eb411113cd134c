"""The waiting queue and leads that follow presence.

A lead nobody can take waits unassigned in its team's queue and is assigned
first in, first out as soon as someone can take it: when an attendant comes
online, when capacity frees, when a member is activated, and by a periodic
task as a safety net. Every drain of a team runs under the team's row lock,
so each waiting lead is assigned exactly once, in order.

When an attendant goes offline (or idle past the team's limit), the leads
they have not opened yet pass on at once to eligible colleagues who never
held them, or back to the queue.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core import sql
from history.models import LeadEvent
from history.selectors import lead_holder_ids
from history.services import Actor, event_build, events_save
from overflow.clock import overflow_arm, overflow_rearm, overflow_stop_fields
from routing.selectors import rotation_read
from routing.services import choose_assignee, team_lock, teams_lock
from teams.hours import team_schedule
from teams.models import Membership, Team
from teams.services.presence import presence_set

from .models import Lead

DRAIN_BATCH = 200


def queued_leads(*, team: Team):
    return Lead.objects.filter(
        team=team, assignee__isnull=True, status=Lead.Status.OPEN
    ).order_by("created_at", "id")


def queue_position(*, lead: Lead) -> int:
    """How many of the team's waiting leads are ahead of ``lead`` (0 when first)."""
    ahead = queued_leads(team=lead.team)
    if lead.pk is not None:
        ahead = ahead.filter(
            Q(created_at__lt=lead.created_at) | Q(created_at=lead.created_at, id__lt=lead.pk)
        )
    return ahead.count()


def queue_drain(*, team: Team, locked: bool = False, now: datetime | None = None) -> int:
    """Assign the team's waiting leads in arrival order while someone can take them.

    ``locked``: the caller's transaction already holds the team's lock.
    """
    now = now or timezone.now()
    if locked:
        return _drain_locked(team=team, now=now)
    with transaction.atomic():
        return _drain_locked(team=team_lock(team), now=now)


def _drain_locked(*, team: Team, now: datetime) -> int:
    # Every new lead drains its team first; almost always nobody waits, and
    # asking that (in SQL compiled once, core.sql) is cheaper than claiming the
    # (empty) batch.
    if not sql.fetch(_anyone_waiting_sql(), [team.pk, Lead.Status.OPEN]):
        return 0
    waiting = list(
        queued_leads(team=team)
        .select_for_update(skip_locked=True)
        .prefetch_related("required_skills")[:DRAIN_BATCH]
    )
    if not waiting:
        return 0
    schedule = team_schedule(team)
    events = []
    assigned = 0
    for lead in waiting:
        skills = frozenset(s.pk for s in lead.required_skills.all())
        choice = choose_assignee(team=team, locked=True, required_skills=skills, now=now)
        if choice is None:
            if not skills:
                break  # nobody can take any lead now; the rest keep their places
            continue  # nobody with these skills; a later lead may still go
        lead.assignee = choice.membership
        lead.assigned_at = now
        lead.assignee_accessed_at = None
        overflow_arm(lead=lead, team=team, now=now, schedule=schedule)
        lead.save(update_fields=[
            "assignee", "assigned_at", "assignee_accessed_at", "overflow_team",
            "overflow_active", "overflow_due_at", "overflow_reason",
        ])
        events.append(event_build(
            lead=lead, type=LeadEvent.Type.ASSIGNED, actor=Actor.system(), at=now,
            to_member=choice.membership,
            data={"how": choice.how, "from_queue": True, "team_id": team.pk},
        ))
        assigned += 1
    events_save(events)
    return assigned


def rotation_and_waiting(*, team: Team) -> list | None:
    """The team's rotation (``routing.selectors.active_members``) when nobody waits in its
    queue, else ``None`` (drain first, then read the rotation again): one statement for
    both, under the team's lock, as every new lead of a team asks."""
    rotation, waiting = rotation_read(team=team, also=_anyone_waiting_exists(),
                                      also_params=[team.pk, Lead.Status.OPEN])
    return None if waiting is None or waiting else rotation


@functools.cache
def _anyone_waiting_exists() -> str:
    return f"SELECT EXISTS ({_anyone_waiting_sql()})"


@functools.cache
def _anyone_waiting_sql() -> str:
    """``queued_leads(team).exists()``: the partial index ``lead_queue`` answers it."""
    q = sql.quote
    return (f"SELECT 1 FROM {sql.table(Lead)} WHERE {q('team_id')} = %s "
            f"AND {q('assignee_id')} IS NULL AND {q('status')} = %s LIMIT 1")


def queue_drain_for_member(*, membership: Membership, now: datetime | None = None) -> int:
    """Drain every team the person works in (they came online, or capacity freed)."""
    teams = Team.objects.filter(
        members__membership=membership, members__is_active=True, is_archived=False
    ).distinct().order_by("pk")
    return sum(queue_drain(team=team, now=now) for team in teams)


def queue_drain_all(*, now: datetime | None = None) -> int:
    """The safety net: every team with someone waiting."""
    team_ids = (
        Lead.objects.filter(assignee__isnull=True, status=Lead.Status.OPEN, team__isnull=False)
        .values_list("team_id", flat=True)
        .distinct()
    )
    teams = Team.objects.filter(pk__in=team_ids).order_by("pk")
    return sum(queue_drain(team=team, now=now) for team in teams)


# --- presence ------------------------------------------------------------------------

OFFLINE = "attendant_offline"
AWAY = "attendant_away"
IDLE = "attendant_idle"


@transaction.atomic
def presence_change(*, membership: Membership, presence: str, now: datetime | None = None):
    """An attendant's own switch, and what follows from it.

    Online: the queues of their teams are drained. Offline or away: the leads
    they have not opened yet pass on (leads follow presence).
    """
    now = now or timezone.now()
    # Lock order everywhere is team rows (by id) before the membership row: a new
    # lead holds its team's lock when it stamps its attendant's last_assigned_at.
    teams_lock(team_ids=_teams_touched_by(membership))
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    presence_set(membership=membership, presence=presence)
    if presence == Membership.Presence.ONLINE:
        queue_drain_for_member(membership=membership, now=now)
    else:
        reason = OFFLINE if presence == Membership.Presence.OFFLINE else AWAY
        leads_pass_on(membership=membership, reason=reason, now=now)
    return membership


def leads_pass_on_if_away(*, membership_id: int, now: datetime | None = None) -> int:
    """Someone was set away by their team's missed limit: their other unopened leads pass
    on, as when they switch to away themselves; unless they came back meanwhile."""
    membership = Membership.objects.get(pk=membership_id)
    with transaction.atomic():
        teams_lock(team_ids=_teams_touched_by(membership))
        membership = Membership.objects.select_for_update().get(pk=membership_id)
        if membership.presence != Membership.Presence.AWAY:
            return 0
        return leads_pass_on(membership=membership, reason=AWAY, now=now)


def _teams_touched_by(membership: Membership) -> set[int]:
    """The teams a person works in and the teams of the leads they hold."""
    teams = set(
        Team.objects.filter(members__membership=membership, is_archived=False)
        .values_list("pk", flat=True)
    )
    teams |= set(
        Lead.objects.filter(assignee=membership, status=Lead.Status.OPEN, team__isnull=False)
        .values_list("team_id", flat=True)
    )
    return teams


def leads_pass_on(*, membership: Membership, reason: str, now: datetime | None = None) -> int:
    """Pass on the open leads the person has not opened yet in online-only teams; returns
    how many moved.

    Presence decides who receives leads only in a team that takes online attendants only
    (routing.selectors.can_take); elsewhere someone away or offline keeps receiving leads,
    so nothing of theirs is passed on either (it would come straight back). Each lead goes
    to an eligible colleague in its team who never held it, or back to the queue when
    nobody can take it. One history event per lead.
    """
    now = now or timezone.now()
    moved = 0
    with transaction.atomic():
        leads = list(
            Lead.objects.filter(
                assignee=membership, status=Lead.Status.OPEN, assignee_accessed_at__isnull=True,
                team__online_only=True,
            )
            # Lock the leads only: the team join is nullable, which FOR UPDATE refuses.
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("team__organization")
            .prefetch_related("required_skills")
            .order_by("created_at", "id")
        )
        holders = lead_holder_ids(lead_ids=[lead.pk for lead in leads])
        for lead in leads:
            _pass_on(lead=lead, membership=membership, held=holders[lead.pk], reason=reason,
                     now=now)
            moved += 1
    return moved


def _pass_on(*, lead: Lead, membership: Membership, held: set[int], reason: str, now) -> None:
    choice = None
    if lead.team is not None:
        team = team_lock(lead.team)
        skills = frozenset(s.pk for s in lead.required_skills.all())
        choice = choose_assignee(
            team=team, locked=True, required_skills=skills,
            exclude=frozenset(held | {membership.pk}), now=now,
        )
    system = Actor.system()
    if choice is None:
        lead.assignee = None
        lead.assigned_at = None
        overflow_stop_fields(lead, Lead.OverflowReason.UNASSIGNED)
        event = event_build(lead=lead, type=LeadEvent.Type.QUEUED, actor=system, at=now,
                            from_member=membership, reason=reason,
                            data={"team_id": lead.team_id})
    else:
        lead.assignee = choice.membership
        lead.assigned_at = now
        # The new attendant gets a whole service time of their own.
        overflow_rearm(lead=lead, team=lead.team, now=now)
        event = event_build(lead=lead, type=LeadEvent.Type.ASSIGNED, actor=system, at=now,
                            from_member=membership, to_member=choice.membership, reason=reason,
                            data={"how": choice.how, "team_id": lead.team_id})
    lead.assignee_accessed_at = None
    lead.save(update_fields=[
        "assignee", "assigned_at", "assignee_accessed_at", "overflow_active",
        "overflow_due_at", "overflow_reason",
    ])
    events_save([event])


def idle_sweep(*, now: datetime | None = None) -> int:
    """Online attendants idle past a team's limit are set away and their leads passed on."""
    now = now or timezone.now()
    moved = 0
    teams = Team.objects.filter(idle_limit_minutes__isnull=False, is_archived=False)
    for team in teams:
        cutoff = now - timedelta(minutes=team.idle_limit_minutes)
        idle = Membership.objects.filter(
            team_memberships__team=team, team_memberships__is_active=True, is_active=True,
            presence=Membership.Presence.ONLINE,
        ).filter(
            Q(last_seen_at__lt=cutoff)
            | Q(last_seen_at__isnull=True, presence_changed_at__lt=cutoff)
        )
        for membership in idle:
            with transaction.atomic():
                teams_lock(team_ids=_teams_touched_by(membership))
                presence_set(membership=membership, presence=Membership.Presence.AWAY)
                moved += leads_pass_on(membership=membership, reason=IDLE, now=now)
    return moved
