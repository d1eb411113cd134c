"""The waiting queue (first in, first out) and leads that follow presence: going offline or
away, idle attendants, K missed leads in a row, coming online; the issue's "Done when"."""

from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from history.models import LeadEvent
from history.services import Actor
from leads.models import Lead
from leads.queue import (
    idle_sweep,
    leads_pass_on_if_away,
    presence_change,
    queue_drain,
    queued_leads,
)
from leads.services import lead_conclude, lead_mark_accessed
from leads.sweep import overflow_sweep
from leads.tasks import queue_drain as queue_drain_task
from teams.models import Membership, TeamMember
from teams.services.people import person_set_active
from teams.services.teams import team_member_update

pytestmark = pytest.mark.django_db

Type = LeadEvent.Type
ONLINE, AWAY, OFFLINE = (Membership.Presence.ONLINE, Membership.Presence.AWAY,
                         Membership.Presence.OFFLINE)
LEADS = "/api/v1/leads"


def login(client, membership):
    client.force_login(membership.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def refreshed(*objects):
    for obj in objects:
        obj.refresh_from_db()
    return objects if len(objects) > 1 else objects[0]


def open_it(org, lead, *, now=None):
    holder = Membership.objects.get(pk=lead.assignee_id)
    assert lead_mark_accessed(organization=org, lead_id=lead.pk, membership=holder,
                              actor=Actor.for_user(holder.user), now=now)


def conclude(org, lead, *, now=None):
    holder = Membership.objects.get(pk=lead.assignee_id)
    return lead_conclude(organization=org, lead_id=lead.pk, membership=holder, now=now)


def set_presence(*people, presence):
    Membership.objects.filter(pk__in=[p.pk for p in people]).update(presence=presence)


def queue_ids(team):
    return list(queued_leads(team=team).values_list("pk", flat=True))


def hand_offs(lead, *, since=0):
    return list(
        lead.events.filter(pk__gt=since, type__in=[Type.ASSIGNED, Type.QUEUED])
        .exclude(reason="").values_list("type", "from_member_id", "to_member_id", "reason")
    )


@pytest.fixture
def desk(org, make_team):
    """An online-only round-robin team of three online attendants, no overflow."""
    return make_team(org, size=3, slug="desk", policy=None, online_only=True)


# --- going offline or away -----------------------------------------------------------------


def test_going_offline_passes_each_unopened_lead_on_exactly_once_and_keeps_opened_ones(
    org, desk, new_lead
):
    a, b, c = desk.attendants
    unopened, _b, _c, opened = [new_lead(org, team=desk) for _ in range(4)]
    assert unopened.assignee_id == opened.assignee_id == a.pk
    open_it(org, opened)

    presence_change(membership=a, presence=OFFLINE)
    presence_change(membership=a, presence=OFFLINE)  # a second switch moves nothing

    unopened, opened, a = refreshed(unopened, opened, a)
    assert a.presence == OFFLINE
    assert unopened.assignee_id == b.pk and unopened.assignee_accessed_at is None
    assert hand_offs(unopened) == [(Type.ASSIGNED, a.pk, b.pk, "attendant_offline")]
    assert opened.assignee_id == a.pk
    assert hand_offs(opened) == []


def test_going_away_passes_unopened_leads_on_too(org, desk, new_lead):
    a, b, c = desk.attendants
    lead = new_lead(org, team=desk)

    presence_change(membership=a, presence=AWAY)

    lead = refreshed(lead)
    assert lead.assignee_id == b.pk
    assert hand_offs(lead) == [(Type.ASSIGNED, a.pk, b.pk, "attendant_away")]


def test_in_a_team_not_online_only_presence_changes_nothing_about_who_receives_leads(
    org, make_team, new_lead
):
    team = make_team(org, size=2, slug="open-desk", policy=None, online_only=False)
    a, b = team.attendants
    mine = new_lead(org, team=team)
    assert mine.assignee_id == a.pk

    presence_change(membership=a, presence=OFFLINE)
    queue_drain(team=team)  # what the beat's safety net would do ten seconds later

    mine, a = refreshed(mine, a)
    assert a.presence == OFFLINE
    assert mine.assignee_id == a.pk and hand_offs(mine) == []
    # Offline, a still takes their turn: presence is not this team's rule.
    assert [new_lead(org, team=team).assignee_id for _ in range(2)] == [b.pk, a.pk]

    presence_change(membership=a, presence=AWAY)
    assert refreshed(mine).assignee_id == a.pk and hand_offs(refreshed(mine)) == []


def test_a_passed_on_lead_never_goes_back_to_someone_who_held_it(org, make_team, new_lead):
    team = make_team(org, size=3, online_only=True, service_minutes=10)
    a, b, c = team.attendants
    start = timezone.now() - timedelta(minutes=10)
    lead = new_lead(org, team=team, now=start)
    overflow_sweep(now=start + timedelta(minutes=10))  # a -> b
    assert refreshed(lead).assignee_id == b.pk

    presence_change(membership=b, presence=OFFLINE)

    lead = refreshed(lead)
    assert lead.assignee_id == c.pk  # not a, although a is next after b
    assert hand_offs(lead) == [(Type.ASSIGNED, b.pk, c.pk, "attendant_offline")]


def test_a_lead_goes_back_to_the_queue_when_only_former_holders_could_take_it(
    org, make_team, new_lead
):
    team = make_team(org, size=3, online_only=True, service_minutes=10)
    a, b, c = team.attendants
    start = timezone.now() - timedelta(minutes=10)
    lead = new_lead(org, team=team, now=start)
    overflow_sweep(now=start + timedelta(minutes=10))  # a -> b
    set_presence(c, presence=OFFLINE)

    presence_change(membership=b, presence=OFFLINE)

    lead = refreshed(lead)
    assert lead.assignee_id is None and lead.status == Lead.Status.OPEN
    assert not lead.overflow_active and lead.overflow_reason == "unassigned"
    assert hand_offs(lead) == [(Type.QUEUED, b.pk, None, "attendant_offline")]
    assert queue_ids(team) == [lead.pk]


def test_a_lead_goes_back_to_the_queue_when_nobody_else_is_online(org, desk, new_lead):
    a, b, c = desk.attendants
    set_presence(b, c, presence=OFFLINE)
    lead = new_lead(org, team=desk)

    presence_change(membership=a, presence=OFFLINE)

    lead = refreshed(lead)
    assert lead.assignee_id is None
    assert hand_offs(lead) == [(Type.QUEUED, a.pk, None, "attendant_offline")]
    assert queue_ids(desk) == [lead.pk]


def test_a_lead_passed_on_respects_capacity_and_skips_a_full_colleague(
    org, desk, new_lead
):
    a, b, c = desk.attendants
    desk.members.update(capacity=1)
    mine, _b, _c = [new_lead(org, team=desk) for _ in range(3)]

    presence_change(membership=a, presence=OFFLINE)

    assert refreshed(mine).assignee_id is None  # b and c are full
    assert queue_ids(desk) == [mine.pk]


def test_presence_page_switches_offline_and_passes_leads_on(client, org, desk, new_lead):
    a, b, c = desk.attendants
    lead = new_lead(org, team=desk)

    response = login(client, a).post("/presence/", {"presence": "offline"})

    assert response.status_code == 302
    a, lead = refreshed(a, lead)
    assert a.presence == OFFLINE
    assert lead.assignee_id == b.pk
    assert hand_offs(lead) == [(Type.ASSIGNED, a.pk, b.pk, "attendant_offline")]


def test_presence_page_refuses_an_unknown_presence(client, org, desk, new_lead):
    a = desk.attendants[0]
    lead = new_lead(org, team=desk)

    response = login(client, a).post("/presence/", {"presence": "asleep"})

    assert response.status_code == 400
    a, lead = refreshed(a, lead)
    assert a.presence == ONLINE and lead.assignee_id == a.pk


def test_presence_page_of_an_outsider_moves_nothing_here(client, org, desk, new_lead, charlie):
    set_presence(*desk.attendants, presence=OFFLINE)
    Membership.objects.filter(pk=charlie.pk).update(presence=OFFLINE)
    lead = new_lead(org, team=desk)

    response = login(client, charlie).post("/presence/", {"presence": "online"})

    assert response.status_code == 302
    charlie, lead = refreshed(charlie, lead)
    assert charlie.presence == ONLINE
    assert lead.assignee_id is None and queue_ids(desk) == [lead.pk]
    assert set(Membership.objects.filter(organization=org).values_list("presence", flat=True)
               ) == {OFFLINE}


# --- the queue moves -----------------------------------------------------------------------


def test_coming_online_drains_the_queue_in_arrival_order(client, org, desk, new_lead):
    a, b, c = desk.attendants
    set_presence(a, b, c, presence=OFFLINE)
    now = timezone.now()
    waiting = [new_lead(org, team=desk, now=now + timedelta(seconds=i)) for i in range(3)]
    assert queue_ids(desk) == [lead.pk for lead in waiting]
    desk.members.filter(membership=b).update(capacity=2)

    response = login(client, b).post("/presence/", {"presence": "online"})

    assert response.status_code == 302
    first, second, third = refreshed(*waiting)
    assert first.assignee_id == second.assignee_id == b.pk
    assert third.assignee_id is None
    assert queue_ids(desk) == [third.pk]
    for lead in (first, second):
        [event] = lead.events.filter(type=Type.ASSIGNED)
        assert event.data["from_queue"] and event.to_member_id == b.pk


def test_concluding_a_lead_frees_capacity_and_the_queue_moves_first_in_first_out(
    api, org, make_team, new_lead
):
    team = make_team(org, size=1, slug="solo", policy=None)
    team.members.update(capacity=1)
    (a,) = team.attendants
    now = timezone.now()
    leads = [new_lead(org, team=team, now=now + timedelta(seconds=i)) for i in range(4)]
    assert [api.get(f"{LEADS}/{lead.pk}").json()["queue_position"] for lead in leads] == [
        None, 1, 2, 3]

    conclude(org, leads[0], now=now + timedelta(minutes=1))

    assert [refreshed(lead).assignee_id for lead in leads[1:]] == [a.pk, None, None]
    assert [api.get(f"{LEADS}/{lead.pk}").json()["queue_position"] for lead in leads[1:]] == [
        None, 1, 2]
    conclude(org, leads[1], now=now + timedelta(minutes=2))
    assert [refreshed(lead).assignee_id for lead in leads[2:]] == [a.pk, None]
    assert LeadEvent.objects.filter(lead__in=leads, type=Type.ASSIGNED).count() == 3


def test_a_new_lead_never_jumps_the_queue(org, desk, new_lead):
    a, b, c = desk.attendants
    desk.members.update(capacity=1)
    now = timezone.now()
    held = [new_lead(org, team=desk, now=now + timedelta(seconds=i)) for i in range(3)]
    waiting = new_lead(org, team=desk, now=now + timedelta(seconds=3))
    # Capacity frees without the queue being told (a manager's bulk edit, say).
    held[0].status = Lead.Status.CONCLUDED
    held[0].save(update_fields=["status"])

    late = new_lead(org, team=desk, now=now + timedelta(seconds=4))

    assert refreshed(waiting).assignee_id == a.pk
    assert refreshed(late).assignee_id is None
    assert queue_ids(desk) == [late.pk]


def test_raising_a_members_capacity_drains_the_queue(org, desk, new_lead, alice):
    a, b, c = desk.attendants
    desk.members.update(capacity=1)
    for _ in range(3):
        new_lead(org, team=desk)
    waiting = new_lead(org, team=desk)
    member = TeamMember.objects.get(team=desk, membership=c)

    team_member_update(organization=org, team_id=desk.pk, member_id=member.pk, is_active=True,
                       capacity=2)

    assert refreshed(waiting).assignee_id == c.pk
    assert queue_ids(desk) == []


def test_activating_a_member_drains_the_queue(org, desk, new_lead):
    a, b, c = desk.attendants
    desk.members.exclude(membership=a).update(is_active=False)
    desk.members.update(capacity=1)
    new_lead(org, team=desk)
    waiting = new_lead(org, team=desk)
    member = TeamMember.objects.get(team=desk, membership=b)

    team_member_update(organization=org, team_id=desk.pk, member_id=member.pk, is_active=True,
                       capacity=1)

    assert refreshed(waiting).assignee_id == b.pk


def test_reactivating_a_person_drains_their_teams_queue(org, desk, new_lead, alice):
    a, b, c = desk.attendants
    desk.members.update(capacity=1)
    Membership.objects.filter(pk=c.pk).update(is_active=False)
    new_lead(org, team=desk)
    new_lead(org, team=desk)
    waiting = new_lead(org, team=desk)
    assert waiting.assignee_id is None

    person_set_active(organization=org, actor=alice, membership_id=c.pk, is_active=True)

    assert refreshed(waiting).assignee_id == c.pk


def test_the_periodic_task_assigns_leads_whose_attendant_became_free_by_other_means(
    org, desk, new_lead
):
    a, b, c = desk.attendants
    set_presence(a, b, c, presence=OFFLINE)
    now = timezone.now()
    waiting = [new_lead(org, team=desk, now=now + timedelta(seconds=i)) for i in range(2)]
    set_presence(b, presence=ONLINE)  # no switch: nobody told the queue

    assert queue_drain_task() == "assigned 2 waiting leads"

    assert [refreshed(lead).assignee_id for lead in waiting] == [b.pk, b.pk]
    assert queue_drain_task() == "assigned 0 waiting leads"


def test_draining_an_empty_or_blocked_queue_writes_nothing(org, desk, new_lead):
    set_presence(*desk.attendants, presence=OFFLINE)
    lead = new_lead(org, team=desk)
    events = LeadEvent.objects.count()

    assert queue_drain(team=desk) == 0

    assert refreshed(lead).assignee_id is None
    assert LeadEvent.objects.count() == events


# --- K missed in a row; idle attendants ----------------------------------------------------


def test_k_missed_leads_in_a_row_set_the_attendant_away_and_tell_the_managers(
    org, make_team, new_lead, alice, mailoutbox, django_capture_on_commit_callbacks
):
    team = make_team(org, size=3, service_minutes=10, missed_limit=2)
    a, b, c = team.attendants
    start = timezone.now() - timedelta(minutes=10)
    leads = [new_lead(org, team=team, now=start) for _ in range(4)]  # a, b, c, a
    open_it(org, leads[1])
    open_it(org, leads[2])

    with django_capture_on_commit_callbacks(execute=True):
        overflow_sweep(now=start + timedelta(minutes=10))

    a, b, c = refreshed(a, b, c)
    assert a.presence == AWAY and a.missed_in_row == 2
    assert (b.presence, c.presence) == (ONLINE, ONLINE)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [alice.user.email]
    assert a.display_name in mailoutbox[0].subject


def two_missed_and_one_waiting(org, team, new_lead):
    """a misses two leads in a row (the team's limit) while a third of theirs is not due yet;
    returns a and that third lead, after the sweep that passes the two on."""
    a = team.attendants[0]
    start = timezone.now() - timedelta(minutes=10)
    early = [new_lead(org, team=team, now=start) for _ in range(4)]  # a, b, c, a
    open_it(org, early[1])
    open_it(org, early[2])
    waiting = [new_lead(org, team=team, now=start + timedelta(minutes=5)) for _ in range(3)][2]
    assert waiting.assignee_id == a.pk

    overflow_sweep(now=start + timedelta(minutes=10))
    return a, waiting


def test_an_attendant_the_missed_limit_sets_away_passes_their_other_unopened_leads_on(
    org, make_team, new_lead
):
    team = make_team(org, size=3, service_minutes=10, missed_limit=2, online_only=True)
    a, b, c = team.attendants
    a, waiting = two_missed_and_one_waiting(org, team, new_lead)

    assert refreshed(a).presence == AWAY
    waiting = refreshed(waiting)
    assert waiting.assignee_id in {b.pk, c.pk}
    assert waiting.events.get(type=Type.ASSIGNED, from_member=a).reason == "attendant_away"
    assert not Lead.objects.filter(assignee=a, status=Lead.Status.OPEN).exists()


def test_the_missed_limit_in_a_team_not_online_only_sets_away_and_passes_nothing_on(
    org, make_team, new_lead
):
    team = make_team(org, size=3, service_minutes=10, missed_limit=2)

    a, waiting = two_missed_and_one_waiting(org, team, new_lead)

    assert refreshed(a).presence == AWAY  # and the managers are told
    assert refreshed(waiting).assignee_id == a.pk  # yet a keeps receiving leads here


def test_someone_back_online_before_the_pass_on_keeps_their_leads(org, make_team, new_lead):
    team = make_team(org, size=2, service_minutes=10)
    a, _b = team.attendants
    lead = new_lead(org, team=team)
    assert lead.assignee_id == a.pk  # online: the missed limit's away came and went

    assert leads_pass_on_if_away(membership_id=a.pk) == 0
    assert refreshed(lead).assignee_id == a.pk


def test_opening_a_lead_resets_the_run_of_missed_leads(
    org, make_team, new_lead, alice, mailoutbox, django_capture_on_commit_callbacks
):
    team = make_team(org, size=2, service_minutes=10, missed_limit=2)
    a, b = team.attendants
    t = timezone.now() - timedelta(hours=1)

    def round_of_two(at):
        mine, theirs = new_lead(org, team=team, now=at), new_lead(org, team=team, now=at)
        assert (mine.assignee_id, theirs.assignee_id) == (a.pk, b.pk)
        open_it(org, theirs, now=at)
        return mine

    def sweep(at):
        with django_capture_on_commit_callbacks(execute=True):
            overflow_sweep(now=at)
        for lead in Lead.objects.filter(team=team, assignee=b, assignee_accessed_at=None):
            open_it(org, lead, now=at)  # b opens whatever overflowed to them

    round_of_two(t)
    sweep(t + timedelta(minutes=10))
    assert refreshed(a).missed_in_row == 1
    opened = round_of_two(t + timedelta(minutes=11))
    open_it(org, opened, now=t + timedelta(minutes=11))
    assert refreshed(a).missed_in_row == 0

    round_of_two(t + timedelta(minutes=12))
    sweep(t + timedelta(minutes=22))
    a = refreshed(a)
    assert (a.presence, a.missed_in_row, len(mailoutbox)) == (ONLINE, 1, 0)

    round_of_two(t + timedelta(minutes=23))
    sweep(t + timedelta(minutes=33))
    a = refreshed(a)
    assert (a.presence, a.missed_in_row, len(mailoutbox)) == (AWAY, 2, 1)


def test_teams_without_a_missed_limit_never_set_anyone_away(
    org, make_team, new_lead, alice, mailoutbox, django_capture_on_commit_callbacks
):
    team = make_team(org, size=2, service_minutes=10)
    start = timezone.now() - timedelta(minutes=10)
    for _ in range(4):
        new_lead(org, team=team, now=start)

    with django_capture_on_commit_callbacks(execute=True):
        overflow_sweep(now=start + timedelta(minutes=10))

    assert set(Membership.objects.filter(pk__in=[m.pk for m in team.attendants])
               .values_list("presence", flat=True)) == {ONLINE}
    assert mailoutbox == []


def test_idle_attendants_are_set_away_and_their_unopened_leads_pass_on(
    client, org, make_team, new_lead
):
    team = make_team(org, size=2, slug="desk", policy=None, online_only=True,
                     idle_limit_minutes=15)
    a, b = team.attendants
    t0 = timezone.now().replace(microsecond=0)
    with time_machine.travel(t0, tick=False):
        login(client, a).get("/inbox/")  # a is seen
        unopened, _b, opened = (new_lead(org, team=team, now=t0) for _ in range(3))
        open_it(org, opened, now=t0)
    with time_machine.travel(t0 + timedelta(minutes=10), tick=False):
        login(client, b).get("/inbox/")  # b is seen later
    with time_machine.travel(t0 + timedelta(minutes=14, seconds=59), tick=False):
        assert idle_sweep() == 0  # not yet

    with time_machine.travel(t0 + timedelta(minutes=15, seconds=1), tick=False):
        moved = idle_sweep()

    assert moved == 1
    a, b, unopened, opened = refreshed(a, b, unopened, opened)
    assert (a.presence, b.presence) == (AWAY, ONLINE)
    assert unopened.assignee_id == b.pk
    assert hand_offs(unopened) == [(Type.ASSIGNED, a.pk, b.pk, "attendant_idle")]
    assert opened.assignee_id == a.pk
    with time_machine.travel(t0 + timedelta(minutes=40), tick=False):
        assert idle_sweep() == 2  # b is idle too: nobody is left, so back to the queue

    b, unopened = refreshed(b, unopened)
    assert b.presence == AWAY
    assert unopened.assignee_id is None
    assert hand_offs(unopened)[-1] == (Type.QUEUED, b.pk, None, "attendant_idle")
    assert len(queue_ids(team)) == 2


# --- the "Done when" ---------------------------------------------------------------


def test_done_when_least_open_online_only_capacity_three_queue_and_a_third_attendant(
    api, client, org, make_team
):
    team = make_team(org, size=3, slug="sales", policy=None, strategy="least_open",
                     online_only=True)
    team.members.update(capacity=3)
    a, b, c = team.attendants
    set_presence(c, presence=OFFLINE)

    answers = [
        api.post(LEADS, {"email": f"customer{i}@example.com", "team": "sales"}, format="json")
        for i in range(10)
    ]

    assert [r.status_code for r in answers] == [201] * 10
    answers = [r.json() for r in answers]
    assert Counter(x["assignee"]["id"] for x in answers[:6]) == {a.pk: 3, b.pk: 3}
    assert [x["assignee"] for x in answers[6:]] == [None] * 4
    assert [x["queue_position"] for x in answers] == [None] * 6 + [1, 2, 3, 4]
    assert [x["customer_message"]["kind"] for x in answers] == ["assigned"] * 6 + ["queued"] * 4
    queued = [x["id"] for x in answers[6:]]
    assert queue_ids(team) == queued

    response = login(client, c).post("/presence/", {"presence": "online"})

    assert response.status_code == 302
    leads = {lead.pk: lead for lead in Lead.objects.filter(pk__in=queued)}
    assert [leads[pk].assignee_id for pk in queued] == [c.pk, c.pk, c.pk, None]
    drained = LeadEvent.objects.filter(lead_id__in=queued, type=Type.ASSIGNED).order_by("id")
    assert [e.lead_id for e in drained] == queued[:3]  # in order
    assert all(e.data["from_queue"] for e in drained)
    assert queue_ids(team) == queued[3:]
    assert api.get(f"{LEADS}/{queued[3]}").json()["queue_position"] == 1
