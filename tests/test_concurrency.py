"""Races with real threads on PostgreSQL: the sweep (rule 9), intake and access (rule 5).

Every thread works on its own database connection and closes it when done; a
barrier releases the threads together so their transactions really overlap.
"""

from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone
from rest_framework.test import APIClient

from history.models import LeadEvent
from history.services import Actor, event_record
from leads.models import Lead
from leads.services import lead_mark_accessed
from leads.sweep import overflow_sweep

from .races import Threads, run_at_once

Type = LeadEvent.Type
def due_leads(new_lead, org, teams, count, *, created_at):
    """``count`` API leads spread over ``teams``, assigned at ``created_at`` (already due)."""
    return [
        new_lead(org, team=teams[i % len(teams)], now=created_at) for i in range(count)
    ]


def first_assignee(lead_ids):
    """Each lead's assignee on arrival, from its ``assigned`` event."""
    return dict(
        LeadEvent.objects.filter(lead_id__in=lead_ids, type=Type.ASSIGNED).values_list(
            "lead_id", "to_member_id"
        )
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_sweeps_at_once_transfer_each_due_lead_exactly_once(org, make_team, new_lead):
    teams = [make_team(org, size=5, slug=f"team-{i}") for i in range(4)]
    now = timezone.now()
    leads = due_leads(new_lead, org, teams, 1000, created_at=now - timedelta(hours=1))
    ids = [lead.pk for lead in leads]
    before = first_assignee(ids)
    team_of = {lead.pk: teams[i % len(teams)] for i, lead in enumerate(leads)}

    counts = run_at_once(*[lambda: overflow_sweep(now=now, batch_size=50)] * 4)

    assert sum(counts) == 1000, counts
    overflowed = LeadEvent.objects.filter(lead_id__in=ids, type=Type.OVERFLOWED)
    assert overflowed.count() == 1000
    assert not (
        overflowed.values("lead_id", "sequence").annotate(n=Count("id")).filter(n__gt=1)
    ), "a transfer was written twice"
    events = {e.lead_id: e for e in overflowed}
    assert set(events) == set(ids)
    received = Counter()
    for lead in Lead.objects.filter(pk__in=ids):
        event = events[lead.pk]
        assert lead.transfer_count == 1
        assert event.sequence == 1
        assert event.from_member_id == before[lead.pk]
        assert lead.assignee_id == event.to_member_id != before[lead.pk]
        assert lead.assignee_id in {m.pk for m in team_of[lead.pk].attendants}
        assert lead.overflow_active and lead.overflow_due_at == now + timedelta(minutes=10)
        received[lead.assignee_id] += 1
    # The four sweeps took turns at each team's rotation: 250 transfers per team of five
    # spread evenly, whatever order the batches came in (rule 10).
    for team in teams:
        counts = [received[m.pk] for m in team.attendants]
        assert max(counts) - min(counts) <= 4, counts


def _post_plan(team_slug):
    """200 POSTs: retries by external_id, by Idempotency-Key, and both; copies side by side.

    Returns ``[(identity, body, headers)]``: requests with the same identity must
    yield one lead.
    """
    plan = []

    def add(identity, copies, *, external_id=None, key=None, team=False):
        body = {"name": f"Lead {identity}", "email": f"{identity}@example.com"}
        if external_id:
            body["external_id"] = external_id
        if team:
            body["team"] = team_slug
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        plan.extend([(identity, body, headers)] * copies)

    for i in range(115):  # once each; half name the team, half rely on the default team
        add(f"ext-{i}", 1, external_id=f"ext-{i}", team=i % 2 == 0)
    for i in range(115, 130):  # retried by external_id, three copies racing
        add(f"ext-{i}", 3, external_id=f"ext-{i}")
    for i in range(130, 140):  # retried with an Idempotency-Key as well, two copies
        add(f"ext-{i}", 2, external_id=f"ext-{i}", key=f"key-ext-{i}")
    for i in range(10):  # no external_id: the Idempotency-Key alone dedupes, two copies
        add(f"key-{i}", 2, key=f"key-only-{i}")
    assert len(plan) == 200
    return plan


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_200_concurrent_posts_to_one_team_of_5_are_fair_and_deduplicated(
    org, make_team, api_key
):
    team = make_team(org, size=5, slug="sales")
    org.default_team = team
    org.save(update_fields=["default_team"])
    plan = _post_plan(team.slug)
    workers = 10
    rounds = [plan[i : i + workers] for i in range(0, len(plan), workers)]
    # Copies of one identity are side by side in ``plan``, so they mostly land in the
    # same round on different threads and race each other (the rest retry a round later).
    threads = Threads(parties=workers)
    answers = []  # (identity, status, lead id or None, error)

    def worker(slot):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key.raw}")
        for requests in rounds:
            threads.wait()
            if slot >= len(requests):
                continue
            identity, body, headers = requests[slot]
            try:
                response = client.post("/api/v1/leads", body, format="json", **headers)
            except Exception as exc:  # the test client re-raises a view's crash (a 500)
                answers.append((identity, 500, None, repr(exc)))
                continue
            lead_id = response.json().get("id") if response.status_code < 300 else None
            answers.append((identity, response.status_code, lead_id, response.content))

    for slot in range(workers):
        threads.start(slot, lambda slot=slot: worker(slot))
    threads.join()

    assert len(answers) == 200
    bad = [a for a in answers if a[1] not in (200, 201)]
    assert not bad, bad[:5]
    identities = {identity for identity, *_ in plan}
    by_identity = defaultdict(list)
    for identity, status, lead_id, _content in answers:
        by_identity[identity].append((status, lead_id))
    for identity, replies in by_identity.items():
        statuses = Counter(status for status, _ in replies)
        assert statuses[201] == 1, (identity, replies)
        assert len({lead_id for _, lead_id in replies}) == 1, (identity, replies)

    leads = Lead.objects.for_org(org)
    assert leads.count() == len(identities) == 150
    assert Counter(status for _, status, *_ in answers)[201] == leads.count()
    for identity, replies in by_identity.items():
        lead = leads.get(pk=replies[0][1])
        assert lead.email == f"{identity}@example.com"
        if identity.startswith("ext-"):
            assert lead.external_id == identity

    held = Counter(leads.values_list("assignee_id", flat=True))
    per_attendant = {m.pk: held[m.pk] for m in team.attendants}
    assert sum(per_attendant.values()) == 150, held  # nobody outside the team, none queued
    assert max(per_attendant.values()) - min(per_attendant.values()) <= 1, per_attendant
    events = Counter(
        LeadEvent.objects.for_org(org).values_list("lead_id", "type")
    )
    for lead in leads:
        assert events[(lead.pk, Type.CREATED)] == 1
        assert events[(lead.pk, Type.ASSIGNED)] == 1
    assigned_to = Counter(
        LeadEvent.objects.for_org(org).filter(type=Type.ASSIGNED)
        .values_list("to_member_id", flat=True)
    )
    assert assigned_to == held


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_assignee_access_racing_the_sweep_has_exactly_one_winner(org, make_team, new_lead):
    team = make_team(org, size=3)
    base = timezone.now()
    trials = 30
    # Lead i falls due at base + i seconds: each trial's sweep finds only its own lead.
    moments = [base + timedelta(seconds=i) for i in range(trials)]
    leads = [new_lead(org, team=team, now=at - timedelta(minutes=10)) for at in moments]
    holders = {lead.pk: lead.assignee for lead in leads}
    threads = Threads(parties=2)
    accessed = [None] * trials
    swept = [None] * trials

    def attendant():
        for i, lead in enumerate(leads):
            threads.wait()
            holder = holders[lead.pk]
            accessed[i] = lead_mark_accessed(
                organization=org, lead_id=lead.pk, membership=holder,
                actor=Actor.for_user(holder.user), now=moments[i],
            )

    def beat():
        for i in range(trials):
            threads.wait()
            for _ in range(i % 4):
                # A few round trips of handicap on some trials, so both sides win some.
                connection.cursor().execute("SELECT 1")
            swept[i] = overflow_sweep(now=moments[i])

    threads.start("attendant", attendant)
    threads.start("beat", beat)
    threads.join()

    for i, lead in enumerate(leads):
        holder = holders[lead.pk]
        lead.refresh_from_db()
        events = list(LeadEvent.objects.filter(lead=lead).order_by("created_at", "id"))
        by_type = defaultdict(list)
        for e in events:
            by_type[e.type].append(e)
        accessed_by_holder = [e for e in by_type[Type.ACCESSED] if e.to_member_id == holder.pk]
        if accessed[i]:
            # The attendant won: the lead stays and stops overflowing.
            assert swept[i] == 0, i
            assert lead.assignee_id == holder.pk
            assert lead.assignee_accessed_at == lead.first_accessed_at == moments[i]
            assert not lead.overflow_active and lead.overflow_due_at is None
            assert lead.overflow_reason == Lead.OverflowReason.ACCESSED
            assert lead.transfer_count == 0
            assert len(accessed_by_holder) == 1
            stops = by_type[Type.OVERFLOW_STOPPED]
            assert [e.reason for e in stops] == [Lead.OverflowReason.ACCESSED]
            assert by_type[Type.OVERFLOWED] == []
        else:
            # The sweep won: the lead moved on and the late access changed nothing.
            assert swept[i] == 1, i
            successor = lead.assignee_id
            assert successor in {m.pk for m in team.attendants} - {holder.pk}
            assert lead.transfer_count == 1
            assert lead.overflow_active
            assert lead.overflow_due_at == moments[i] + timedelta(minutes=10)
            assert lead.assignee_accessed_at is None and lead.first_accessed_at is None
            [moved] = by_type[Type.OVERFLOWED]
            assert (moved.from_member_id, moved.to_member_id, moved.sequence) == (
                holder.pk, successor, 1,
            )
            assert accessed_by_holder == []
            assert by_type[Type.ACCESSED] == [] and by_type[Type.OVERFLOW_STOPPED] == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_redelivered_sweep_at_the_same_instant_writes_nothing_the_second_time(
    org, make_team, new_lead
):
    teams = [make_team(org, size=3, slug=f"team-{i}") for i in range(2)]
    now = timezone.now()
    leads = due_leads(new_lead, org, teams, 100, created_at=now - timedelta(minutes=30))
    ids = [lead.pk for lead in leads]

    def state():
        return (
            LeadEvent.objects.filter(lead_id__in=ids).count(),
            sorted(
                Lead.objects.filter(pk__in=ids).values_list(
                    "pk", "assignee_id", "transfer_count", "overflow_due_at", "overflow_active"
                )
            ),
        )

    first = run_at_once(*[lambda: overflow_sweep(now=now, batch_size=10)] * 2)
    assert sum(first) == 100, first
    after_first = state()
    assert after_first[0] == 100 * 3  # created, assigned, overflowed

    # The broker redelivers the same tick to two workers at once, then once more.
    assert run_at_once(*[lambda: overflow_sweep(now=now, batch_size=10)] * 2) == [0, 0]
    assert overflow_sweep(now=now) == 0
    assert state() == after_first


@pytest.mark.django_db
def test_unique_sequence_constraint_refuses_a_duplicate_transfer_event(
    org, make_team, new_lead
):
    """Runs on every database: the constraint is the last guard against a double transfer."""
    team = make_team(org, size=3)
    now = timezone.now()
    lead = new_lead(org, team=team, now=now - timedelta(minutes=10))
    assert overflow_sweep(now=now) == 1
    first = LeadEvent.objects.get(lead=lead, type=Type.OVERFLOWED)

    with pytest.raises(IntegrityError), transaction.atomic():
        event_record(
            lead=lead, type=Type.OVERFLOWED, actor=Actor.system(),
            from_member=first.from_member, to_member=first.to_member, sequence=first.sequence,
        )
    assert LeadEvent.objects.filter(lead=lead, type=Type.OVERFLOWED).count() == 1
    # The constraint is about transfers only; the next transfer's number is free.
    event_record(lead=lead, type=Type.NOTE, actor=Actor.system(), sequence=first.sequence)
    event_record(lead=lead, type=Type.OVERFLOWED, actor=Actor.system(), sequence=2)

