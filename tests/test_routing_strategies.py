"""Property tests of the assignment strategies (PRODUCT.md "Assignment") and of overflow
eligibility ("The overflow rules", rule 2), with hypothesis.

Each example builds its own organization inside a transaction that is rolled back at the
end, so examples never see each other's rows. The oracles below restate the product's
rules from the database; they never call the code under test.
"""

import itertools
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.db.models import Max
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from history.models import LeadEvent
from history.services import Actor
from leads.models import Lead
from leads.queue import presence_change, queued_leads
from leads.services import lead_assign_to_me, lead_conclude, lead_create, lead_mark_accessed
from leads.sweep import overflow_sweep
from routing.services import preview
from teams.models import Membership, Skill, Team, TeamMember
from teams.services.presence import presence_set

from .factories import MembershipFactory, OrganizationFactory, OverflowPolicyFactory, TeamFactory

pytestmark = pytest.mark.django_db

PROPERTY = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
Type = LeadEvent.Type
ONLINE, AWAY, OFFLINE = (Membership.Presence.ONLINE, Membership.Presence.AWAY,
                         Membership.Presence.OFFLINE)
BASE = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday; no business hours: always open
NEVER = datetime.min.replace(tzinfo=UTC)
_numbers = itertools.count()


@contextmanager
def rolled_back():
    """One hypothesis example's rows live and die inside this block."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def arrive(org, team=None, *, now=None, skills=(), **data):
    """A lead through the real intake, with a contact nobody used before (no stickiness)."""
    n = next(_numbers)
    data.setdefault("name", f"Lead {n}")
    data.setdefault("email", f"lead-{n}@example.com")
    lead, _created = lead_create(
        organization=org, data=data, team=team, required_skills=skills,
        actor=Actor.system(), now=now,
    )
    return lead


def open_counts(org) -> Counter:
    return Counter(
        Lead.objects.for_org(org)
        .filter(status=Lead.Status.OPEN, assignee__isnull=False)
        .values_list("assignee_id", flat=True)
    )


def rotation(team):
    """Active members of active people, in the manager's order."""
    return list(
        TeamMember.objects.filter(team=team, is_active=True, membership__is_active=True)
        .select_related("membership")
        .order_by("order", "id")
    )


def skills_of(membership_ids) -> dict[int, set[int]]:
    held = {mid: set() for mid in membership_ids}
    rows = Membership.skills.through.objects.filter(membership_id__in=held)
    for mid, sid in rows.values_list("membership_id", "skill_id"):
        held[mid].add(sid)
    return held


def lead_skills(lead) -> set[int]:
    return set(lead.required_skills.values_list("pk", flat=True))


def can_take(team, member, counts, held_skills, needs=frozenset()) -> bool:
    """The product's eligibility, restated: online where asked, under capacity, skilled."""
    team.refresh_from_db(fields=["online_only"])
    if team.online_only and member.membership.presence != ONLINE:
        return False
    if member.capacity is not None and counts[member.membership_id] >= member.capacity:
        return False
    return set(needs) <= held_skills[member.membership_id]


def holders(lead) -> list[int]:
    """Everyone who received the lead, in order (arrival, queue, hand-offs, overflow)."""
    return list(
        lead.events.filter(type__in=[Type.ASSIGNED, Type.OVERFLOWED], to_member__isnull=False)
        .order_by("created_at", "id")
        .values_list("to_member_id", flat=True)
    )


def team_of(org, members, *, online_only=False, strategy=Team.Strategy.ROUND_ROBIN, **fields):
    """A team whose members follow ``members``: dicts with order/capacity/presence/active."""
    team = TeamFactory(organization=org, online_only=online_only, strategy=strategy, **fields)
    team.attendants = []
    for spec in members:
        person = MembershipFactory(
            organization=org, presence=spec.get("presence", ONLINE),
            is_active=spec.get("person_active", True),
        )
        TeamMember.objects.create(
            team=team, membership=person, order=spec.get("order", len(team.attendants)),
            capacity=spec.get("capacity"), is_active=spec.get("active", True),
        )
        team.attendants.append(person)
    return team


# --- round robin ---------------------------------------------------------------------------


@PROPERTY
@given(data=st.data())
def test_round_robin_counts_differ_by_at_most_one_over_any_run(data):
    size = data.draw(st.integers(1, 6), label="size")
    orders = data.draw(st.lists(st.integers(0, 3), min_size=size, max_size=size), label="orders")
    online_only = data.draw(st.booleans(), label="online_only")
    # Who is outside the fixed set during the run, and why; at least one member stays in.
    left_out = data.draw(
        st.dictionaries(
            st.integers(0, size - 1),
            st.sampled_from(["member_inactive", "person_inactive", "offline"]),
            max_size=size - 1,
        ),
        label="left_out",
    )
    warmup = data.draw(st.integers(0, 2 * size), label="warmup")
    length = data.draw(st.integers(1, 3 * size + 2), label="run")
    with rolled_back():
        org = OrganizationFactory()
        team = team_of(org, [{"order": o} for o in orders], online_only=online_only)
        for _ in range(warmup):  # the cursor starts anywhere
            arrive(org, team)
        for i, why in left_out.items():
            person = team.attendants[i]
            if why == "member_inactive":
                TeamMember.objects.filter(team=team, membership=person).update(is_active=False)
            elif why == "person_inactive":
                Membership.objects.filter(pk=person.pk).update(is_active=False)
            else:
                Membership.objects.filter(pk=person.pk).update(presence=OFFLINE)
        fixed = [
            p.pk for i, p in enumerate(team.attendants)
            if i not in left_out or (left_out[i] == "offline" and not online_only)
        ]

        run = [arrive(org, team).assignee_id for _ in range(length)]

        assert set(run) <= set(fixed), (run, fixed)
        for start in range(length):  # every window of the run, not just the whole of it
            counts = dict.fromkeys(fixed, 0)
            for assignee in run[start:]:
                counts[assignee] += 1
                assert max(counts.values()) - min(counts.values()) <= 1, (start, counts)


# --- least open ----------------------------------------------------------------------------

MEMBER = st.fixed_dictionaries({
    "order": st.integers(0, 2),
    "open": st.integers(0, 3),
    "waited": st.none() | st.integers(0, 3),  # quarter-hours since their last assignment
    "capacity": st.none() | st.integers(1, 4),
    "presence": st.sampled_from([ONLINE, ONLINE, AWAY, OFFLINE]),
    "active": st.booleans() | st.just(True),
})


def give_open_leads(org, person, count):
    """Open leads held by ``person`` outside the team (no default team: they wait, then are
    taken by hand)."""
    for _ in range(count):
        lead = arrive(org, None)
        lead_assign_to_me(organization=org, lead_id=lead.pk, membership=person, now=BASE)


def least_open_oracle(team, org):
    """The member a least-open team must pick now, by the product's rule: fewest open
    leads, then the longest wait since the last assignment, then the team's order."""
    counts = open_counts(org)
    members = rotation(team)
    held = skills_of([m.membership_id for m in members])
    eligible = [m for m in members if can_take(team, m, counts, held)]
    if not eligible:
        return None, counts, eligible
    best = min(
        eligible,
        key=lambda m: (counts[m.membership_id], m.membership.last_assigned_at or NEVER,
                       m.order, m.pk),
    )
    return best.membership_id, counts, eligible


@PROPERTY
@given(data=st.data())
def test_least_open_always_picks_a_member_with_the_fewest_open_leads(data):
    specs = data.draw(st.lists(MEMBER, min_size=1, max_size=5), label="members")
    online_only = data.draw(st.booleans(), label="online_only")
    steps = data.draw(
        st.lists(st.sampled_from(["lead", "lead", "conclude"]), min_size=1, max_size=12),
        label="steps",
    )
    with rolled_back():
        org = OrganizationFactory()
        team = team_of(org, specs, online_only=online_only, strategy=Team.Strategy.LEAST_OPEN)
        for person, spec in zip(team.attendants, specs, strict=True):
            give_open_leads(org, person, spec["open"])
            if spec["waited"] is not None:
                Membership.objects.filter(pk=person.pk).update(
                    last_assigned_at=BASE - timedelta(minutes=15 * spec["waited"])
                )
        for step, kind in enumerate(steps, start=1):
            now = BASE + timedelta(minutes=step)
            if kind == "conclude":
                open_ids = list(
                    Lead.objects.for_org(org).filter(status="open", assignee__isnull=False)
                    .order_by("id").values_list("pk", "assignee_id")
                )
                if open_ids:
                    lead_id, holder = open_ids[data.draw(st.integers(0, len(open_ids) - 1))]
                    lead_conclude(organization=org, lead_id=lead_id,
                                  membership=Membership.objects.get(pk=holder), now=now)
                continue
            expected, counts, eligible = least_open_oracle(team, org)
            if queued_leads(team=team).exists():
                # Someone waits: then nobody can take a lead, or the queue would have moved.
                assert expected is None, ("a lead waits while someone is free", eligible)
            lead = arrive(org, team, now=now)
            lead.refresh_from_db()
            assert lead.assignee_id == expected, (step, counts, expected)
            if expected is not None:
                assert counts[lead.assignee_id] == min(counts[m.membership_id] for m in eligible)


# --- capacity, online-only, skills and the queue over any sequence of events ---------------

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("lead"), st.sets(st.integers(0, 1), max_size=2)),
        st.tuples(st.just("conclude"), st.integers(0, 10**6)),
        st.tuples(st.just("open"), st.integers(0, 10**6)),
        st.tuples(st.just("presence"), st.integers(0, 4), st.sampled_from([ONLINE, AWAY,
                                                                            OFFLINE])),
    ),
    min_size=1,
    max_size=25,
)


@PROPERTY
@given(data=st.data())
def test_capacity_online_only_and_skills_hold_over_any_sequence_of_events(data):
    """Presence switches here change presence only (as the sweep's missed limit does)."""
    events_keep_the_rules(data, hand_off=False)


def events_keep_the_rules(data, *, hand_off):
    """Never over capacity; an online-only team never gives a lead to someone offline; a
    lead needing skills goes only to holders of all of them; a waiting lead waits only
    while nobody new can take it; the queue moves first in, first out. With ``hand_off``,
    attendants switch through ``presence_change``: going offline or away passes each
    unopened lead on exactly once, never to someone who held it."""
    specs = data.draw(
        st.lists(
            st.fixed_dictionaries({
                "capacity": st.none() | st.integers(0, 3),
                "presence": st.sampled_from([ONLINE, OFFLINE]),
                "skills": st.sets(st.integers(0, 1), max_size=2),
            }),
            min_size=1, max_size=4,
        ),
        label="members",
    )
    strategy = data.draw(st.sampled_from(Team.Strategy.values), label="strategy")
    online_only = data.draw(st.booleans(), label="online_only")
    ops = data.draw(OPS, label="ops")
    if not online_only:  # presence matters only to online-only teams
        ops = [op for op in ops if op[0] != "presence"]
    with rolled_back():
        org = OrganizationFactory()
        skills = [Skill.objects.create(organization=org, name=n, slug=n) for n in ("en", "sac")]
        team = team_of(org, specs, online_only=online_only, strategy=strategy)
        for person, spec in zip(team.attendants, specs, strict=True):
            person.skills.set([skills[i] for i in spec["skills"]])
        ids = [p.pk for p in team.attendants]
        held_skills = skills_of(ids)
        last_event = 0
        for step, op in enumerate(ops, start=1):
            now = BASE + timedelta(minutes=step)
            before = list(queued_leads(team=team).values_list("pk", flat=True))
            unopened = {}
            if op[0] == "lead":
                arrive(org, team, now=now, skills=[skills[i] for i in sorted(op[1])])
            elif op[0] in ("conclude", "open"):
                held = list(
                    Lead.objects.filter(team=team, status="open", assignee__isnull=False)
                    .order_by("id")
                )
                if held:
                    lead = held[op[1] % len(held)]
                    action = lead_conclude if op[0] == "conclude" else _open
                    action(organization=org, lead_id=lead.pk, membership=lead.assignee, now=now)
            else:
                person = Membership.objects.get(pk=ids[op[1] % len(ids)])
                if op[2] == ONLINE or hand_off:
                    unopened = {
                        lead.pk: set(holders(lead))
                        for lead in Lead.objects.filter(
                            assignee=person, status="open", assignee_accessed_at__isnull=True
                        )
                    } if op[2] != ONLINE else {}
                    presence_change(membership=person, presence=op[2], now=now)
                else:
                    presence_set(membership=person, presence=op[2])

            counts = open_counts(org)
            members = rotation(team)
            by_id = {m.membership_id: m for m in members}
            # Capacity is never exceeded.
            for m in members:
                if m.capacity is not None:
                    assert counts[m.membership_id] <= m.capacity, (op, m.capacity, counts)
            # Whoever received a lead in this step could take it.
            new = LeadEvent.objects.filter(
                lead__team=team, pk__gt=last_event, type=Type.ASSIGNED
            ).select_related("lead").order_by("id")
            for event in new:
                m = by_id.get(event.to_member_id)
                assert m is not None, ("a lead went outside the rotation", op)
                if online_only:
                    assert m.membership.presence == ONLINE, ("offline attendant got a lead", op)
                assert lead_skills(event.lead) <= held_skills[m.membership_id], op
            # Nobody waits while someone who never held it could take it.
            for lead in queued_leads(team=team).prefetch_related("required_skills"):
                needs = {s.pk for s in lead.required_skills.all()}
                prior = set(holders(lead))
                free = [
                    m.membership_id for m in members
                    if m.membership_id not in prior and can_take(team, m, counts, held_skills,
                                                                 needs)
                ]
                assert not free, ("a lead waits while someone can take it", op, free)
            # First in, first out: leads needing no skill leave the queue as a prefix.
            plain_before = [pk for pk in before if not Lead.objects.get(pk=pk).required_skills
                            .exists()]
            still = set(queued_leads(team=team).values_list("pk", flat=True))
            left = [pk for pk in plain_before if pk not in still]
            assert left == plain_before[: len(left)], ("queue order broken", op)
            # Going offline or away: each unopened lead moved exactly once, never to a holder.
            for lead_id, prior in unopened.items():
                moved = LeadEvent.objects.filter(
                    lead_id=lead_id, pk__gt=last_event, type__in=[Type.ASSIGNED, Type.QUEUED]
                )
                assert moved.count() == 1, (op, list(moved.values_list("type", flat=True)))
                assert moved[0].to_member_id not in prior
            last_event = LeadEvent.objects.aggregate(m=Max("pk"))["m"] or 0


def _open(*, organization, lead_id, membership, now):
    lead_mark_accessed(organization=organization, lead_id=lead_id, membership=membership,
                       actor=Actor.for_user(membership.user), now=now)


# --- overflow: never back to a holder, same eligibility as a new lead ----------------------


@PROPERTY
@given(data=st.data())
def test_overflow_never_returns_a_lead_to_a_holder_and_respects_eligibility(data):
    specs = data.draw(
        st.lists(
            st.fixed_dictionaries({
                "capacity": st.none() | st.integers(1, 4),
                "presence": st.sampled_from([ONLINE, ONLINE, OFFLINE]),
                "skills": st.sets(st.integers(0, 1), max_size=2),
            }),
            min_size=2, max_size=5,
        ),
        label="members",
    )
    online_only = data.draw(st.booleans(), label="online_only")
    strategy = data.draw(st.sampled_from(Team.Strategy.values), label="strategy")
    leads_needing = data.draw(
        st.lists(st.sets(st.integers(0, 1), max_size=2), min_size=1, max_size=8),
        label="leads",
    )
    rounds = data.draw(
        st.lists(
            st.tuples(
                st.lists(st.tuples(st.integers(0, 4), st.sampled_from([ONLINE, OFFLINE])),
                         max_size=2),
                st.lists(st.tuples(st.sampled_from(["conclude", "open"]),
                                   st.integers(0, 10**6)), max_size=2),
            ),
            min_size=1, max_size=6,
        ),
        label="rounds",
    )
    with rolled_back():
        org = OrganizationFactory()
        skills = [Skill.objects.create(organization=org, name=n, slug=n) for n in ("en", "sac")]
        team = team_of(org, specs, online_only=online_only, strategy=strategy)
        OverflowPolicyFactory(team=team, service_minutes=10)
        for person, spec in zip(team.attendants, specs, strict=True):
            person.skills.set([skills[i] for i in spec["skills"]])
        ids = [p.pk for p in team.attendants]
        held_skills = skills_of(ids)
        for needs in leads_needing:
            arrive(org, team, now=BASE, skills=[skills[i] for i in sorted(needs)])
        last_event = 0
        for k, (presences, actions) in enumerate(rounds, start=1):
            now = BASE + timedelta(minutes=10 * k, seconds=1)
            for i, presence in presences:
                presence_set(membership=Membership.objects.get(pk=ids[i % len(ids)]),
                             presence=presence)
            for kind, pick in actions:
                held = list(Lead.objects.filter(team=team, status="open",
                                                assignee__isnull=False).order_by("id"))
                if held:
                    lead = held[pick % len(held)]
                    action = lead_conclude if kind == "conclude" else _open
                    action(organization=org, lead_id=lead.pk, membership=lead.assignee,
                           now=now - timedelta(seconds=1))
            presence_now = dict(Membership.objects.filter(pk__in=ids)
                                .values_list("pk", "presence"))

            overflow_sweep(now=now)

            counts = open_counts(org)
            for m in rotation(team):
                if m.capacity is not None:
                    assert counts[m.membership_id] <= m.capacity, (k, counts)
            moved = LeadEvent.objects.filter(
                lead__team=team, pk__gt=last_event, type=Type.OVERFLOWED
            ).select_related("lead")
            for event in moved:
                assert event.from_member_id != event.to_member_id
                if online_only:
                    assert presence_now[event.to_member_id] == ONLINE, k
                assert lead_skills(event.lead) <= held_skills[event.to_member_id], k
            for lead in Lead.objects.filter(team=team):
                got = holders(lead)
                assert len(got) == len(set(got)), ("a lead went back to a holder", got)
                for holder in got:
                    assert lead_skills(lead) <= held_skills[holder]
            last_event = LeadEvent.objects.aggregate(m=Max("pk"))["m"] or 0


# --- overflow: the team's rotation goes on (rule 10) ----------------------------------------


@PROPERTY
@given(data=st.data())
def test_rule10_overflow_continues_the_rotation_new_leads_use(data):
    """Over any sequence of new leads, openings and sweeps in a round-robin team where
    everyone can take leads: every assignment, new or transferred, goes to the first member
    after the previous assignment in the team's order who never held that lead; so no lead
    goes back to a holder, and the counts differ by at most one plus the turns a lead had
    to skip because its next member had held it."""
    size = data.draw(st.integers(2, 5), label="size")
    ops = data.draw(
        st.lists(st.sampled_from(["lead", "lead", "open", "sweep"]), min_size=1, max_size=25),
        label="ops",
    )
    with rolled_back():
        org = OrganizationFactory()
        team = team_of(org, [{} for _ in range(size)])
        OverflowPolicyFactory(team=team, service_minutes=10)
        now = BASE
        for op in ops:
            now += timedelta(minutes=4)
            if op == "lead":
                arrive(org, team, now=now)
            elif op == "open":
                waiting = list(Lead.objects.filter(team=team, assignee_accessed_at__isnull=True,
                                                   overflow_active=True).order_by("id"))
                if waiting:
                    lead = waiting[data.draw(st.integers(0, len(waiting) - 1))]
                    _open(organization=org, lead_id=lead.pk, membership=lead.assignee, now=now)
            else:
                overflow_sweep(now=now)

        order = [p.pk for p in team.attendants]
        assignments = (
            LeadEvent.objects.filter(lead__team=team, type__in=[Type.ASSIGNED, Type.OVERFLOWED])
            .order_by("created_at", "id").values_list("lead_id", "to_member_id")
        )
        held: dict[int, list[int]] = {}
        cursor = None
        skips = 0
        counts = Counter()
        for lead_id, member in assignments:
            prior = held.setdefault(lead_id, [])
            assert member not in prior, ("a lead went back to a holder", lead_id, prior)
            start = 0 if cursor is None else order.index(cursor) + 1
            walk = order[start:] + order[:start]
            expected = next(m for m in walk if m not in prior)
            assert member == expected, (lead_id, prior, cursor, member)
            skips += walk.index(expected) > 0
            prior.append(member)
            counts[member] += 1
            cursor = member
            values = [counts[m] for m in order]
            assert max(values) - min(values) <= 1 + skips, (values, skips)


# --- preview -------------------------------------------------------------------------------


@PROPERTY
@given(data=st.data())
def test_preview_foretells_the_next_leads_and_changes_nothing(data):
    specs = data.draw(st.lists(MEMBER, min_size=1, max_size=4), label="members")
    strategy = data.draw(st.sampled_from(Team.Strategy.values), label="strategy")
    online_only = data.draw(st.booleans(), label="online_only")
    warmup = data.draw(st.integers(0, 4), label="warmup")
    count = data.draw(st.integers(1, 8), label="count")
    with rolled_back():
        org = OrganizationFactory()
        team = team_of(org, specs, online_only=online_only, strategy=strategy)
        for person, spec in zip(team.attendants, specs, strict=True):
            give_open_leads(org, person, spec["open"])
            if spec["waited"] is not None:
                Membership.objects.filter(pk=person.pk).update(
                    last_assigned_at=BASE - timedelta(minutes=15 * spec["waited"])
                )
        for i in range(warmup):
            arrive(org, team, now=BASE + timedelta(seconds=i))
        state = (
            Team.objects.filter(pk=team.pk).values_list("rr_last_member", flat=True).get(),
            sorted(Membership.objects.filter(organization=org)
                   .values_list("pk", "last_assigned_at")),
            Lead.objects.for_org(org).count(),
        )

        foretold = [m.membership_id for m in preview(team=Team.objects.get(pk=team.pk),
                                                     count=count)]

        assert state == (
            Team.objects.filter(pk=team.pk).values_list("rr_last_member", flat=True).get(),
            sorted(Membership.objects.filter(organization=org)
                   .values_list("pk", "last_assigned_at")),
            Lead.objects.for_org(org).count(),
        )
        actual = []
        for i in range(count):
            lead = arrive(org, team, now=BASE + timedelta(minutes=1 + i))
            if lead.assignee_id is None:
                break
            actual.append(lead.assignee_id)
        assert foretold == actual


@PROPERTY
@given(data=st.data())
def test_going_offline_hands_each_unopened_lead_on_once_over_any_sequence_of_events(data):
    events_keep_the_rules(data, hand_off=True)
