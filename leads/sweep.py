"""The overflow sweep (transbordo): every lead whose service time ran out passes on.

The sweep is the only writer of overflow transfers. It claims due leads with
``SELECT ... FOR UPDATE SKIP LOCKED`` in batches, so any number of workers can
run it at once; each lead is transferred and its ``overflowed`` event written
in one transaction, and a unique (lead, sequence) on those events makes a
second write of the same transfer impossible.

It works on leads, so it lives in ``leads``, above ``overflow`` (the rules and a
lead's clock) and ``routing`` (who may take a lead), which it calls.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.db.models import BigIntegerField, Case, F, PositiveIntegerField, Value, When
from django.utils import timezone

from history.models import LeadEvent
from history.selectors import lead_holder_ids
from history.services import Actor, event_build, events_save
from overflow import rules
from overflow.clock import overflow_rearm, overflow_stop_fields
from overflow.models import OverflowPolicy
from overflow.selectors import policy_chain, policy_of
from routing.selectors import can_take as can_take_lead
from routing.selectors import open_lead_counts, skill_ids_by_membership
from routing.services import teams_lock
from routing.strategies import strategy_for
from teams.hours import Schedule, team_schedule
from teams.models import Membership, Organization, Skill, Team, TeamMember
from teams.services.presence import notify_managers_missed, presence_set

from .models import Lead
from .queue import leads_pass_on_if_away

log = logging.getLogger(__name__)

SWEEP_BATCH_SIZE = 200
Reason = Lead.OverflowReason


@dataclass
class TeamContext:
    """A lead's overflow team, whose policy it follows, and its chain (rules 2, 3, 7)."""

    team: Team
    policy: OverflowPolicy | None
    # The team first, then its further teams in the manager's order.
    chain: list[Team] = field(default_factory=list)
    active_ids: set[int] = field(default_factory=set)
    skills: dict[int, set[int]] = field(default_factory=dict)
    # Leads can require only skills their organization has: without any, no lookups.
    uses_skills: bool = False


class _Sweep:
    """One sweep: what it read once (teams, their rotations, contexts), and per batch
    what it reads again under the teams' locks (cursors, presence, open counts)."""

    def __init__(self, now: datetime):
        self.now = now
        self.teams: dict[int, Team] = {}
        self.schedules: dict[int, Schedule] = {}
        self.members: dict[int, list[TeamMember]] = {}  # per team: its rotation, in order
        self.contexts: dict[int, TeamContext] = {}
        self.set_away: set[int] = set()
        # Per batch, under the locks.
        self.presence: dict[int, str] = {}
        self.last_assigned: dict[int, datetime | None] = {}
        self.open_counts: dict[int, int] = {}

    # --- once per sweep -------------------------------------------------------------

    def load_teams(self, team_ids) -> None:
        missing = set(team_ids) - self.teams.keys()
        if not missing:
            return
        teams = (
            Team.objects.filter(pk__in=missing)
            .select_related("organization", "overflow_policy")
            .prefetch_related("hours", "hour_exceptions")
        )
        for team in teams:
            self.teams[team.pk] = team
            self.schedules[team.pk] = team_schedule(team)
            self.members[team.pk] = []
        members = (
            TeamMember.objects.filter(team__in=missing, is_active=True, membership__is_active=True)
            .select_related("membership")
            .order_by("order", "id")
        )
        for member in members:
            self.members[member.team_id].append(member)
            self.presence[member.membership_id] = member.membership.presence
            self.last_assigned[member.membership_id] = member.membership.last_assigned_at

    def context(self, team_id: int) -> TeamContext:
        if team_id not in self.contexts:
            self.load_teams([team_id])
            team = self.teams[team_id]
            policy = policy_of(team)
            chain_ids = [t.pk for t in policy_chain(policy)]
            self.load_teams(chain_ids)
            chain = [team, *(self.teams[pk] for pk in chain_ids if pk in self.teams)]
            ctx = TeamContext(team=team, policy=policy, chain=chain)
            ctx.active_ids = {m.membership_id for t in chain for m in self.members[t.pk]}
            ctx.uses_skills = Skill.objects.filter(organization_id=team.organization_id).exists()
            if ctx.uses_skills:
                ctx.skills = skill_ids_by_membership(membership_ids=ctx.active_ids)
            self.contexts[team_id] = ctx
        return self.contexts[team_id]

    # --- per batch ------------------------------------------------------------------

    def read_under_locks(self, team_ids: set[int]) -> None:
        """Lock the batch's teams and read what a new lead may have changed meanwhile.

        New leads move the round-robin cursor, take capacity and stamp who was assigned
        last under their team's lock; a presence switch passes leads on under it. Read
        without those locks, a transfer could follow a stale cursor, overfill a place, or
        follow someone who just went offline. Lock order: leads (claimed), teams by id,
        then memberships.
        """
        for team_id, cursor_id in teams_lock(team_ids=team_ids).items():
            self._set_cursor(self.teams[team_id], cursor_id)
        teams = [self.teams[pk] for pk in team_ids]
        fresh = {
            m.membership_id for t in teams if t.online_only or t.strategy == LEAST_OPEN
            for m in self.members[t.pk]
        }
        if fresh:
            rows = Membership.objects.filter(pk__in=fresh).values_list(
                "pk", "presence", "last_assigned_at"
            )
            for pk, presence, last_assigned in rows:
                self.presence[pk] = presence
                self.last_assigned[pk] = last_assigned
        counted = {
            m.membership_id for t in teams for m in self.members[t.pk]
            if t.strategy == LEAST_OPEN or m.capacity is not None
        }
        self.open_counts = open_lead_counts(membership_ids=counted)

    def _set_cursor(self, team: Team, cursor_id: int | None) -> None:
        # The cursor as a loaded member, so the strategy never reads it from the database.
        cursor = next((m for m in self.members[team.pk] if m.pk == cursor_id), None)
        if cursor is None and cursor_id is not None:
            cursor = TeamMember.objects.filter(pk=cursor_id).first()  # left the rotation
        team.rr_last_member = cursor

    def next_holder(self, ctx: TeamContext, *, held: set[int],
                    needs: frozenset[int]) -> TeamMember | None:
        """Rules 2, 7 and 10: the lead's own team first, then the further teams in order,
        each choosing by its own strategy among its eligible members who never held the
        lead. Round robin continues the team's rotation, the cursor new leads use."""
        for team in ctx.chain:

            def eligible(member: TeamMember, team=team) -> bool:
                mid = member.membership_id
                if mid in held:
                    return False
                open_count = self.open_counts.get(mid, 0)
                # The same eligibility as a new lead's (routing.selectors.can_take).
                if not can_take_lead(
                    online_only=team.online_only, presence=self.presence[mid],
                    capacity=member.capacity, open_count=open_count,
                    skills=ctx.skills.get(mid, set()), required_skills=needs,
                ):
                    return False
                member.open_count = open_count
                member.membership.last_assigned_at = self.last_assigned[mid]
                return True

            strategy = strategy_for(team)
            member = strategy.pick_from(team=team, members=self.members[team.pk],
                                        eligible=eligible)
            if member is not None:
                strategy.picked(team=team, member=member, save=False)
                return member
        return None

    def run_batch(self, leads: list[Lead]) -> int:
        holders = lead_holder_ids(lead_ids=[lead.pk for lead in leads])
        contexts = {
            key: self.context(key) for lead in leads if (key := _overflow_team_id(lead))
        }
        for lead in leads:
            ctx = contexts.get(_overflow_team_id(lead))
            if ctx is not None and ctx.team.organization_id == lead.organization_id:
                # The webhook outbox asks whether the organization has endpoints; with the
                # organization on the lead it answers from the per-process copy instead of
                # a query per batch.
                Lead.organization.field.set_cached_value(lead, ctx.team.organization)
        team_ids = {t.pk for ctx in contexts.values() for t in ctx.chain}
        cursors_before = {}
        if team_ids:
            self.read_under_locks(team_ids)
            cursors_before = {pk: self.teams[pk].rr_last_member_id for pk in team_ids}
        required = _required_skills([
            lead for lead in leads
            if (ctx := contexts.get(_overflow_team_id(lead))) and ctx.uses_skills
        ])
        missed: Counter[int] = Counter()
        events: list[LeadEvent] = []
        assigned: set[int] = set()
        transferred = 0
        for lead in leads:
            if not (lead.overflow_active and lead.overflow_due_at <= self.now):
                continue  # re-checked under the lock
            ctx = contexts.get(_overflow_team_id(lead))
            policy = ctx.policy if ctx else None
            if policy is None or not policy.enabled:
                self._stop(lead, Reason.DISABLED, events)
                continue
            if not rules.has_enough_attendants(ctx.active_ids):
                self._stop(lead, Reason.TOO_FEW_ATTENDANTS, events,
                           data={"active": len(ctx.active_ids)})
                continue
            if rules.limit_reached(transfer_count=lead.transfer_count, policy=policy):
                self._stop(lead, Reason.LIMIT_REACHED, events)
                continue
            held = holders[lead.pk]
            target = self.next_holder(ctx, held=held, needs=required.get(lead.pk, frozenset()))
            if target is None:
                if rules.all_tried(pool_ids=ctx.active_ids, held=held):
                    self._stop(lead, Reason.ALL_TRIED, events)
                else:
                    # Someone untried exists but cannot take it now (offline or
                    # full): the current holder keeps it for another service time.
                    self._rearm(lead, self.teams.get(lead.team_id, ctx.team), ctx, events)
                continue
            holding_team = self.teams.get(lead.team_id)
            if holding_team is not None and holding_team.missed_limit and lead.assignee_id:
                missed[lead.assignee_id] += 1
            self._transfer(lead, target, ctx, events)
            held.add(target.membership_id)
            assigned.add(target.membership_id)
            self.last_assigned[target.membership_id] = self.now
            if lead.status == Lead.Status.OPEN:
                mid = target.membership_id
                self.open_counts[mid] = self.open_counts.get(mid, 0) + 1
            transferred += 1
        _save_swept(leads)
        events_save(events)
        _save_rotation(
            teams=[self.teams[pk] for pk in team_ids
                   if self.teams[pk].rr_last_member_id != cursors_before[pk]],
            assigned=assigned, now=self.now,
        )
        if missed:
            self.set_away.update(self._count_missed(missed))
        return transferred

    def _transfer(self, lead, target, ctx, events):
        previous = lead.assignee_id
        receiving = self.teams[target.team_id]
        lead.assignee_id = target.membership_id
        lead.assigned_at = self.now
        lead.assignee_accessed_at = None
        lead.transfer_count += 1
        # The lead's team follows its holder (inboxes, reports and settings follow it);
        # its overflow team stays, so the chain goes on in the manager's order.
        lead.team_id = receiving.pk
        lead.overflow_team_id = ctx.team.pk
        event = event_build(
            lead=lead,
            type=LeadEvent.Type.OVERFLOWED,
            actor=Actor.system(),
            sequence=lead.transfer_count,
            data={
                "due_at": lead.overflow_due_at.isoformat(),
                "team_id": receiving.pk,
                "service_minutes": (policy_of(receiving) or ctx.policy).service_minutes,
            },
            at=self.now,
        )
        # Ids, not Membership(pk=...) stand-ins: a model instance per member per
        # transfer was a tenth of the sweep's time.
        event.from_member_id = previous
        event.to_member_id = target.membership_id
        events.append(event)
        if rules.limit_reached(transfer_count=lead.transfer_count, policy=ctx.policy):
            self._stop(lead, Reason.LIMIT_REACHED, events,
                       data={"max_transfers": ctx.policy.max_transfers})
            return
        self._rearm(lead, receiving, ctx, events)

    def _rearm(self, lead, team, ctx, events):
        if not overflow_rearm(lead=lead, team=team, now=self.now,
                              schedule=self.schedules[team.pk], chain_policy=ctx.policy):
            self._stopped(lead, lead.overflow_reason, events)

    def _stop(self, lead, reason, events, data=None):
        overflow_stop_fields(lead, reason)
        self._stopped(lead, reason, events, data)

    def _stopped(self, lead, reason, events, data=None):
        event = event_build(
            lead=lead,
            type=LeadEvent.Type.OVERFLOW_STOPPED,
            actor=Actor.system(),
            reason=reason,
            data=data or {},
            at=self.now,
        )
        event.to_member_id = lead.assignee_id
        events.append(event)

    def _count_missed(self, missed: Counter) -> list[int]:
        """K leads in a row overflowing away from someone set them away (teams with a
        limit); returns whom. Opening a lead resets the run (leads.services)."""
        Membership.objects.filter(pk__in=missed).update(
            missed_in_row=Case(
                *(When(pk=pk, then=F("missed_in_row") + n) for pk, n in missed.items()),
                default=F("missed_in_row"),
                output_field=PositiveIntegerField(),
            )
        )
        limits: dict[int, int] = {}  # the strictest limit among the person's teams here
        for team in self.teams.values():
            if team.missed_limit:
                for m in self.members[team.pk]:
                    limit = min(limits.get(m.membership_id, team.missed_limit), team.missed_limit)
                    limits[m.membership_id] = limit
        reached = Membership.objects.filter(
            pk__in=[pk for pk in missed if pk in limits], presence=Membership.Presence.ONLINE
        ).select_related("organization", "user")
        set_away = []
        for membership in reached:
            if membership.missed_in_row >= limits[membership.pk]:
                presence_set(membership=membership, presence=Membership.Presence.AWAY)
                notify_managers_missed(membership=membership, missed=membership.missed_in_row)
                set_away.append(membership.pk)
        return set_away


LEAST_OPEN = Team.Strategy.LEAST_OPEN


def _overflow_team_id(lead: Lead) -> int | None:
    """The team whose policy the lead follows (leads from before the field: their team)."""
    return lead.overflow_team_id or lead.team_id


def _save_rotation(*, teams: list[Team], assigned: set[int], now: datetime) -> None:
    """The batch's moves of the rotations: each moved cursor, and who was assigned last."""
    if teams:
        Team.objects.filter(pk__in=[t.pk for t in teams]).update(
            rr_last_member_id=Case(
                *(When(pk=t.pk, then=Value(t.rr_last_member_id)) for t in teams),
                output_field=BigIntegerField(),
            )
        )
    if assigned:
        Membership.objects.filter(pk__in=assigned).update(last_assigned_at=now)


# What the sweep changes on a lead, with PostgreSQL's type of each column.
_SWEPT_FIELDS = {
    "team": "bigint",
    "overflow_team": "bigint",
    "assignee": "bigint",
    "assigned_at": "timestamptz",
    "assignee_accessed_at": "timestamptz",
    "overflow_active": "boolean",
    "overflow_due_at": "timestamptz",
    "overflow_reason": "text",
    "transfer_count": "integer",
}


def _save_swept(leads: list[Lead]) -> None:
    """Write a claimed batch back in one statement.

    ``bulk_update`` builds a ``CASE WHEN id = ...`` per field and row: for a
    batch of 200 that cost the sweep ~90% of its time in Python and a quadratic
    UPDATE in PostgreSQL. There, one ``UPDATE ... FROM unnest(<typed arrays>)``
    writes the same values with a fixed statement text.
    """
    if connection.vendor != "postgresql":
        Lead.objects.bulk_update(leads, list(_SWEPT_FIELDS))
        return
    fields = [Lead._meta.get_field(name) for name in _SWEPT_FIELDS]
    columns = [connection.ops.quote_name(f.column) for f in fields]
    arrays = ", ".join(f"%s::{kind}[]" for kind in ["bigint", *_SWEPT_FIELDS.values()])
    sql = (
        f"UPDATE {connection.ops.quote_name(Lead._meta.db_table)} AS lead"
        f" SET {', '.join(f'{c} = v.{c}' for c in columns)}"
        f" FROM unnest({arrays}) AS v(id, {', '.join(columns)})"
        f" WHERE lead.id = v.id"
    )
    params = [[lead.pk for lead in leads]]
    params += [[getattr(lead, f.attname) for lead in leads] for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _required_skills(leads: list[Lead]) -> dict[int, frozenset[int]]:
    if not leads:
        return {}
    rows = Lead.required_skills.through.objects.filter(
        lead_id__in=[lead.pk for lead in leads]
    ).values_list("lead_id", "skill_id")
    skills: dict[int, set[int]] = {}
    for lead_id, skill_id in rows:
        skills.setdefault(lead_id, set()).add(skill_id)
    return {lead_id: frozenset(ids) for lead_id, ids in skills.items()}


def overflow_sweep(*, now: datetime | None = None, batch_size: int = SWEEP_BATCH_SIZE) -> int:
    """Transfer every lead whose service time has run out; returns how many moved.

    Safe to run in several workers at once and twice in a row: each batch is
    claimed with SKIP LOCKED and re-checked under the lock, and a lead leaves
    the due set in the same transaction that handles it.
    """
    now = now or timezone.now()
    sweep = _Sweep(now)
    total = 0
    # Suspended organizations are passed by: their leads stay as they are, due, until the
    # organization is reactivated. A subquery in the claim itself (no join, so FOR UPDATE
    # locks only the leads), so a sweep with nothing due stays one statement.
    due = Lead.objects.select_for_update(skip_locked=True).filter(
        overflow_active=True, overflow_due_at__lte=now,
    ).exclude(organization_id__in=Organization.objects.filter(
        suspended_at__isnull=False).order_by().values("pk"))
    while True:
        with transaction.atomic():
            batch = list(due.order_by("overflow_due_at", "id")[:batch_size])
            if not batch:
                break
            total += sweep.run_batch(batch)
    if total:
        log.info("overflow sweep transferred %d leads", total)
    # After the batches' commits, outside their locks: their other leads follow them.
    for membership_id in sorted(sweep.set_away):
        leads_pass_on_if_away(membership_id=membership_id)
    return total


