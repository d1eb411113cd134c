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
from django.db.models import Case, F, PositiveIntegerField, When
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
from teams.hours import Schedule, team_schedule
from teams.models import Membership, Skill, Team, TeamMember
from teams.services.presence import notify_managers_missed, presence_set

from .models import Lead
from .queue import leads_pass_on_if_away

log = logging.getLogger(__name__)

SWEEP_BATCH_SIZE = 200
Reason = Lead.OverflowReason


@dataclass
class TeamContext:
    team: Team
    policy: OverflowPolicy | None
    schedule: Schedule
    pool: list[list[rules.PoolMember]] = field(default_factory=list)
    online_only: dict[int, bool] = field(default_factory=dict)
    presence: dict[int, str] = field(default_factory=dict)
    capacity: dict[tuple[int, int], int | None] = field(default_factory=dict)
    skills: dict[int, set[int]] = field(default_factory=dict)
    # Leads can require only skills their organization has: without any, no lookups.
    uses_skills: bool = False

    @property
    def active_ids(self) -> set[int]:
        return {m.membership_id for members in self.pool for m in members}


def _team_context(team_id: int) -> TeamContext:
    team = (
        Team.objects.select_related("organization", "overflow_policy")
        .prefetch_related("hours", "hour_exceptions")
        .get(pk=team_id)
    )
    policy = policy_of(team)
    chain = [team, *policy_chain(policy)]
    context = TeamContext(team=team, policy=policy, schedule=team_schedule(team))
    members = (
        TeamMember.objects.filter(team__in=chain, is_active=True, membership__is_active=True)
        .select_related("membership")
        .order_by("order", "id")
    )
    by_team: dict[int, list[rules.PoolMember]] = {t.pk: [] for t in chain}
    for m in members:
        by_team[m.team_id].append(
            rules.PoolMember(membership_id=m.membership_id, team_id=m.team_id)
        )
        context.presence[m.membership_id] = m.membership.presence
        context.capacity[(m.team_id, m.membership_id)] = m.capacity
    context.pool = [by_team[t.pk] for t in chain]
    context.online_only = {t.pk: t.online_only for t in chain}
    context.uses_skills = Skill.objects.filter(organization_id=team.organization_id).exists()
    if context.uses_skills:
        context.skills = skill_ids_by_membership(membership_ids=context.presence.keys())
    return context


class _Sweep:
    def __init__(self, now: datetime):
        self.now = now
        self.contexts: dict[int, TeamContext] = {}
        self.set_away: set[int] = set()

    def context(self, team_id: int) -> TeamContext:
        if team_id not in self.contexts:
            self.contexts[team_id] = _team_context(team_id)
        return self.contexts[team_id]

    def run_batch(self, leads: list[Lead]) -> int:
        holders = lead_holder_ids(lead_ids=[lead.pk for lead in leads])
        contexts = {lead.team_id: self.context(lead.team_id) for lead in leads if lead.team_id}
        capped = {
            (team_id, mid)
            for ctx in contexts.values()
            for (team_id, mid), cap in ctx.capacity.items()
            if cap is not None
        }
        online_only = {
            team_id for ctx in contexts.values() for team_id, only in ctx.online_only.items()
            if only
        }
        if capped or online_only:
            # A new lead takes a place, and a presence switch passes leads on, under the
            # team's lock. Read without those locks, a transfer and a new lead could both
            # take a member's last place, or a transfer could follow someone who just went
            # offline. Lock order: leads (claimed above), teams by id, then memberships.
            teams_lock(team_ids={team_id for team_id, _mid in capped} | online_only)
        if online_only:
            _refresh_presence(contexts.values(), team_ids=online_only)
        open_counts = open_lead_counts(membership_ids={mid for _team_id, mid in capped})
        required = _required_skills(
            [lead for lead in leads if lead.team_id and contexts[lead.team_id].uses_skills]
        )
        missed: Counter[int] = Counter()
        events: list[LeadEvent] = []
        transferred = 0
        system = Actor.system()
        for lead in leads:
            if not (lead.overflow_active and lead.overflow_due_at <= self.now):
                continue  # re-checked under the lock
            ctx = contexts.get(lead.team_id)
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
            needs = required.get(lead.pk, frozenset())

            def can_take(member: rules.PoolMember, ctx=ctx, needs=needs) -> bool:
                # The same eligibility as a new lead's (routing.selectors.can_take).
                mid = member.membership_id
                return can_take_lead(
                    online_only=ctx.online_only[member.team_id],
                    presence=ctx.presence[mid],
                    capacity=ctx.capacity[(member.team_id, mid)],
                    open_count=open_counts.get(mid, 0),
                    skills=ctx.skills.get(mid, set()),
                    required_skills=needs,
                )

            target = rules.next_attendant(
                pool=ctx.pool, current_id=lead.assignee_id, held=held, can_take=can_take
            )
            if target is None:
                if rules.all_tried(pool_ids=ctx.active_ids, held=held):
                    self._stop(lead, Reason.ALL_TRIED, events)
                else:
                    # Someone untried exists but cannot take it now (offline or
                    # full): the current holder keeps it for another service time.
                    self._rearm(lead, ctx, events)
                continue
            if ctx.team.missed_limit and lead.assignee_id:
                missed[lead.assignee_id] += 1
            self._transfer(lead, target, ctx, policy, events, system)
            held.add(target.membership_id)
            if lead.status == Lead.Status.OPEN:
                open_counts[target.membership_id] = open_counts.get(target.membership_id, 0) + 1
            transferred += 1
        _save_swept(leads)
        events_save(events)
        if missed:
            self.set_away.update(_count_missed(missed, contexts=contexts))
        return transferred

    def _transfer(self, lead, target, ctx, policy, events, actor):
        previous = lead.assignee_id
        lead.assignee_id = target.membership_id
        lead.assigned_at = self.now
        lead.assignee_accessed_at = None
        lead.transfer_count += 1
        event = event_build(
            lead=lead,
            type=LeadEvent.Type.OVERFLOWED,
            actor=actor,
            sequence=lead.transfer_count,
            data={
                "due_at": lead.overflow_due_at.isoformat(),
                "team_id": target.team_id,
                "service_minutes": policy.service_minutes,
            },
            at=self.now,
        )
        # Ids, not Membership(pk=...) stand-ins: a model instance per member per
        # transfer was a tenth of the sweep's time.
        event.from_member_id = previous
        event.to_member_id = target.membership_id
        events.append(event)
        if rules.limit_reached(transfer_count=lead.transfer_count, policy=policy):
            self._stop(lead, Reason.LIMIT_REACHED, events,
                       data={"max_transfers": policy.max_transfers})
            return
        self._rearm(lead, ctx, events)

    def _rearm(self, lead, ctx, events):
        if not overflow_rearm(lead=lead, team=ctx.team, now=self.now, schedule=ctx.schedule):
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


# What the sweep changes on a lead, with PostgreSQL's type of each column.
_SWEPT_FIELDS = {
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


def _refresh_presence(contexts, *, team_ids: set[int]) -> None:
    """Presence of the online-only teams' members as it stands under their teams' locks
    (a sweep loads each team once, and a batch may come seconds later)."""
    ids = {
        m.membership_id for ctx in contexts for members in ctx.pool for m in members
        if m.team_id in team_ids
    }
    fresh = dict(Membership.objects.filter(pk__in=ids).values_list("pk", "presence"))
    for ctx in contexts:
        for membership_id in ctx.presence.keys() & fresh.keys():
            ctx.presence[membership_id] = fresh[membership_id]


def _count_missed(missed: Counter, *, contexts) -> list[int]:
    """K leads in a row overflowing away from someone set them away (teams with a limit);
    returns whom.

    Opening a lead resets the run (leads.services.lead_mark_accessed).
    """
    Membership.objects.filter(pk__in=missed).update(
        missed_in_row=Case(
            *(When(pk=pk, then=F("missed_in_row") + n) for pk, n in missed.items()),
            default=F("missed_in_row"),
            output_field=PositiveIntegerField(),
        )
    )
    limits: dict[int, int] = {}  # the strictest limit among the person's teams here
    for ctx in contexts.values():
        limit = ctx.team.missed_limit
        if limit:
            for m in ctx.pool[0]:
                limits[m.membership_id] = min(limits.get(m.membership_id, limit), limit)
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


def overflow_sweep(*, now: datetime | None = None, batch_size: int = SWEEP_BATCH_SIZE) -> int:
    """Transfer every lead whose service time has run out; returns how many moved.

    Safe to run in several workers at once and twice in a row: each batch is
    claimed with SKIP LOCKED and re-checked under the lock, and a lead leaves
    the due set in the same transaction that handles it.
    """
    now = now or timezone.now()
    sweep = _Sweep(now)
    total = 0
    while True:
        with transaction.atomic():
            batch = list(
                Lead.objects.select_for_update(skip_locked=True)
                .filter(overflow_active=True, overflow_due_at__lte=now)
                .order_by("overflow_due_at", "id")[:batch_size]
            )
            if not batch:
                break
            total += sweep.run_batch(batch)
    if total:
        log.info("overflow sweep transferred %d leads", total)
    # After the batches' commits, outside their locks: their other leads follow them.
    for membership_id in sorted(sweep.set_away):
        leads_pass_on_if_away(membership_id=membership_id)
    return total


