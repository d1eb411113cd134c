"""The waiting queue under real concurrency on PostgreSQL: simultaneous leads, simultaneous
conclusions and presence switches. Each lead is assigned exactly once, in arrival order,
and no attendant goes over capacity.

Every thread works on its own database connection and closes it when done; a barrier
releases the threads of a round together so their transactions really overlap.
"""

import re
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from history.models import LeadEvent
from history.services import Actor
from leads.models import Lead
from leads.queue import presence_change, queue_position, queued_leads
from leads.services import lead_conclude, lead_create
from leads.sweep import overflow_sweep
from teams.models import Membership, TeamMember

from .races import Threads, backends_waiting_for_a_lock, hold_row, in_rounds, until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

Type = LeadEvent.Type
LEADS = "/api/v1/leads"


def queue_in_order(team):
    return list(queued_leads(team=team).values_list("pk", flat=True))


def open_per_attendant(team):
    return Counter(
        Lead.objects.filter(team=team, status="open", assignee__isnull=False)
        .values_list("assignee_id", flat=True)
    )


def assigned_events(lead_ids):
    return Counter(
        LeadEvent.objects.filter(lead_id__in=lead_ids, type=Type.ASSIGNED)
        .values_list("lead_id", flat=True)
    )


@pytest.fixture
def full_house(org, make_team):
    """Five attendants with room for ten open leads each: a total capacity of 50."""
    team = make_team(org, size=5, slug="sales", policy=None)
    team.members.update(capacity=10)
    return team


def test_200_simultaneous_leads_to_a_team_of_capacity_50_leave_150_waiting_in_arrival_order(
    org, full_house, api_key
):
    def post(i):
        def call():
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key.raw}")
            response = client.post(
                LEADS, {"email": f"c{i}@example.com", "team": "sales"}, format="json"
            )
            return response.status_code, response.json()
        return call

    answers = in_rounds([post(i) for i in range(200)], workers=20)

    assert [status for status, _ in answers] == [201] * 200
    leads = {lead.pk: lead for lead in Lead.objects.filter(team=full_house)}
    assert len(leads) == 200
    held = open_per_attendant(full_house)
    assert held == {m.pk: 10 for m in full_house.attendants}
    waiting = queue_in_order(full_house)
    assert len(waiting) == 150
    # The queue is in arrival order: positions 1..150 follow created_at.
    by_arrival = sorted(waiting, key=lambda pk: (leads[pk].created_at, pk))
    assert waiting == by_arrival
    assert [queue_position(lead=leads[pk]) + 1 for pk in waiting] == list(range(1, 151))
    # Each lead was answered once and recorded once.
    assert assigned_events(list(leads)) == Counter({pk: 1 for pk in leads if leads[pk].assignee_id})
    queued_events = Counter(
        LeadEvent.objects.filter(lead__team=full_house, type=Type.QUEUED)
        .values_list("lead_id", flat=True)
    )
    assert queued_events == Counter(dict.fromkeys(waiting, 1))
    assert {body["queue_position"] is None for _, body in answers if body["assignee"]} == {True}


def test_what_a_waiting_lead_was_told_matches_its_place_in_the_queue(
    org, full_house, api_key
):
    """The POST answer's message tells the place in line; first in, first out means the
    leads taken are the first to arrive and the places told are the places held."""

    def create(i):
        def call():
            lead, _ = lead_create(organization=org, data={"email": f"c{i}@example.com"},
                                  team=full_house, actor=Actor.system())
            return lead.pk
        return call

    in_rounds([create(i) for i in range(200)], workers=20)

    leads = sorted(Lead.objects.filter(team=full_house), key=lambda x: (x.created_at, x.pk))
    taken_late = [i for i, lead in enumerate(leads) if (lead.assignee_id is None) != (i >= 50)]
    told = [int(re.search(r"\d+", lead.customer_message["text"]).group())
            for lead in leads if lead.assignee_id is None]
    wrong_place = [(place, was_told) for place, was_told in enumerate(told, start=1)
                   if place != was_told]
    assert (taken_late, wrong_place) == ([], []), (
        f"{len(taken_late)} leads out of arrival order; "
        f"{len(wrong_place)} of {len(told)} told the wrong place, e.g. {wrong_place[:5]}"
    )


def test_freeing_capacity_concurrently_assigns_the_queue_in_order_and_each_lead_once(
    org, full_house
):
    start = timezone.now() - timedelta(hours=1)
    for i in range(200):
        lead_create(organization=org, data={"email": f"c{i}@example.com"}, team=full_house,
                    actor=Actor.system(), now=start + timedelta(seconds=i))
    everyone = list(Lead.objects.filter(team=full_house).values_list("pk", flat=True))
    queue = queue_in_order(full_house)
    assert len(queue) == 150
    people = {m.pk: m for m in Membership.objects.filter(
        pk__in=[m.pk for m in full_house.attendants]).select_related("user")}

    def conclude(lead_id, holder_id):
        def call():
            return lead_conclude(organization=org, lead_id=lead_id,
                                 membership=people[holder_id]).pk
        return call

    for round_ in range(4):  # 150 waiting leave the queue 50 at a time, then it is empty
        held = list(
            Lead.objects.filter(team=full_house, status="open", assignee__isnull=False)
            .values_list("pk", "assignee_id")
        )
        assert len(held) == 50, round_
        in_rounds([conclude(pk, holder) for pk, holder in held], workers=10)

        expected_taken, queue = queue[:50], queue[50:]
        assert queue_in_order(full_house) == queue, round_
        taken = Lead.objects.filter(pk__in=expected_taken)
        assert all(lead.assignee_id is not None for lead in taken), round_
        assert open_per_attendant(full_house) == (
            {m: 10 for m in people} if expected_taken else Counter()), round_
        if not expected_taken:
            break

    assert queue_in_order(full_house) == []
    assert assigned_events(everyone) == Counter(dict.fromkeys(everyone, 1))
    from_queue = LeadEvent.objects.filter(lead__team=full_house, type=Type.ASSIGNED,
                                          data__from_queue=True)
    assert from_queue.count() == 150
    # Taken in arrival order: the order of the assignments is the order of the queue.
    order = list(from_queue.order_by("id").values_list("lead_id", flat=True))
    created = dict(Lead.objects.filter(team=full_house).values_list("pk", "created_at"))
    assert order == sorted(order, key=lambda pk: (created[pk], pk))


def test_two_attendants_coming_online_at_once_split_the_queue_without_doubles(
    org, make_team
):
    team = make_team(org, size=2, slug="desk", policy=None, online_only=True)
    team.members.update(capacity=15)
    a, b = team.attendants
    Membership.objects.filter(pk__in=[a.pk, b.pk]).update(presence="offline")
    start = timezone.now() - timedelta(hours=1)
    for i in range(40):
        lead_create(organization=org, data={"email": f"c{i}@example.com"}, team=team,
                    actor=Actor.system(), now=start + timedelta(seconds=i))
    queue = queue_in_order(team)

    people = list(Membership.objects.filter(pk__in=[a.pk, b.pk]))
    in_rounds([lambda m=m: presence_change(membership=m, presence="online") for m in people],
              workers=2)

    assert open_per_attendant(team) == {a.pk: 15, b.pk: 15}
    assert queue_in_order(team) == queue[30:]
    assert assigned_events(queue) == Counter(dict.fromkeys(queue[:30], 1))


def test_presence_switches_racing_new_leads_never_deadlock_or_strand_a_lead(
    org, make_team
):
    team = make_team(org, size=3, slug="desk", policy=None, online_only=True)
    a, b, c = team.attendants
    switches = ["offline", "online"] * 10
    done = threading.Event()

    def switcher():
        try:
            for presence in switches:
                presence_change(membership=Membership.objects.get(pk=a.pk), presence=presence)
        finally:
            done.set()

    def intake(slot):
        i = 0
        while not done.is_set() and i < 200:
            lead_create(organization=org, data={"email": f"s{slot}-{i}@example.com"},
                        team=team, actor=Actor.system())
            i += 1

    threads = Threads()
    threads.start("switcher", switcher)
    for slot in range(4):
        threads.start(slot, lambda slot=slot: intake(slot))
    threads.join()

    a.refresh_from_db()
    assert a.presence == "online"
    leads = list(Lead.objects.filter(team=team))
    assert leads and all(lead.assignee_id in {a.pk, b.pk, c.pk} for lead in leads)
    assert queue_in_order(team) == []
    for lead in leads:
        events = lead.events.filter(type=Type.ASSIGNED)
        assert events.count() >= 1
        got = list(events.order_by("id").values_list("to_member_id", flat=True))
        assert len(got) == len(set(got)), ("a lead went back to someone who held it", got)


def test_a_transfer_and_a_new_lead_never_both_take_an_attendants_last_place(org, make_team):
    """The sweep decides capacity under the team's lock, as intake does.

    Bob has one place left. The sweep moves Ana's overdue lead to him and, before it
    commits, is held up on Ana's own row (it counts her missed lead). A new lead of the
    team arrives meanwhile: it must wait for the sweep and then find Bob full.
    """
    team = make_team(org, size=2, online_only=True, missed_limit=5)
    ana, bob = team.attendants
    TeamMember.objects.filter(team=team, membership=bob).update(capacity=1)
    now = timezone.now()
    overdue, _ = lead_create(organization=org, data={"email": "first@example.com"}, team=team,
                             actor=Actor.system(), now=now - timedelta(hours=1))
    assert overdue.assignee_id == ana.pk
    Membership.objects.filter(pk=ana.pk).update(presence=Membership.Presence.OFFLINE)

    threads = Threads()
    release = hold_row(threads, ana)
    threads.start("sweep", lambda: overflow_sweep(now=now))
    until(lambda: backends_waiting_for_a_lock() >= 1, "the sweep waits on Ana's row")
    intake = threads.start("intake", lambda: lead_create(
        organization=org, data={"email": "second@example.com"}, team=team,
        actor=Actor.system())[0])
    until(lambda: not intake.is_alive() or backends_waiting_for_a_lock() >= 2,
           "the new lead either waits for the sweep or is through")
    release.set()
    threads.join()
    results = threads.results

    assert results["sweep"] == 1
    assert Lead.objects.get(pk=overdue.pk).assignee_id == bob.pk
    assert Lead.objects.filter(assignee=bob, status=Lead.Status.OPEN).count() == 1
    assert Lead.objects.get(pk=results["intake"].pk).assignee_id is None  # waits in the queue


def test_a_transfer_never_follows_an_attendant_who_went_offline_during_the_sweep(
    org, make_team
):
    """A sweep loads each team once; its later batches read presence again under the team
    locks. Ana's two overdue leads go one per batch; between the batches Bob goes offline
    (the sweep is held up on Ana's row, counting her first missed lead)."""
    team = make_team(org, size=3, online_only=True, missed_limit=5)
    ana, bob, carla = team.attendants
    others = Membership.objects.filter(pk__in=[bob.pk, carla.pk])
    others.update(presence=Membership.Presence.OFFLINE)  # both leads go to Ana alone
    now = timezone.now()
    overdue = [
        lead_create(organization=org, data={"email": f"{n}@example.com"}, team=team,
                    actor=Actor.system(), now=now - timedelta(hours=2 - n))[0]
        for n in range(2)
    ]
    assert {lead.assignee_id for lead in overdue} == {ana.pk}
    Membership.objects.filter(pk=ana.pk).update(presence=Membership.Presence.OFFLINE)
    others.update(presence=Membership.Presence.ONLINE)

    threads = Threads()
    release = hold_row(threads, ana)
    threads.start("sweep", lambda: overflow_sweep(now=now, batch_size=1))
    until(lambda: backends_waiting_for_a_lock() >= 1, "the first batch waits on Ana's row")
    Membership.objects.filter(pk=bob.pk).update(presence=Membership.Presence.OFFLINE)
    release.set()
    threads.join()

    first, second = (Lead.objects.get(pk=lead.pk) for lead in overdue)
    assert first.assignee_id == bob.pk  # decided while Bob was online
    assert second.assignee_id == carla.pk
