"""The attendants' inbox, lead page and actions (issue 3)."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from history.models import LeadEvent
from leads.models import Lead
from leads.sweep import overflow_sweep
from teams.models import Membership

Type = LeadEvent.Type


@pytest.fixture
def team(org, make_team, bob):
    """A team of bob and two colleagues, overflow after 10 minutes."""
    team = make_team(org, size=2)
    team.members.create(membership=bob, order=99)
    return team


def login(client, membership, language="en"):
    client.force_login(membership.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def lead_ids(response):
    return [lead.pk for lead in response.context["page"].object_list]


def test_mine_shows_my_open_leads_most_urgent_first(client, org, team, bob, new_lead):
    now = timezone.now()
    team.members.exclude(membership=bob).update(is_active=False)
    later = new_lead(org, team=team, now=now - timedelta(minutes=1))
    sooner = new_lead(org, team=team, now=now - timedelta(minutes=5))
    with time_machine.travel(now, tick=False):
        response = login(client, bob).get("/inbox/")
    assert response.status_code == 200
    assert lead_ids(response) == [sooner.pk, later.pk]
    assert response.context["counts"]["mine"] == 2
    assert "in 5\xa0minutes" in response.content.decode()  # time left before overflow


def test_unassigned_tab_lists_the_queue_first_in_first_out(client, org, make_team, bob, new_lead):
    empty = make_team(org, size=0, policy=None)
    first = new_lead(org, team=empty)
    second = new_lead(org, team=empty)
    response = login(client, bob).get("/inbox/?tab=unassigned")
    assert lead_ids(response) == [first.pk, second.pk]
    assert response.context["counts"]["unassigned"] == 2


def test_attendant_without_all_permission_gets_no_all_tab(client, org, team, bob, new_lead):
    new_lead(org, team=team)
    response = login(client, bob).get("/inbox/?tab=all")
    assert response.context["tab"] == "mine"
    assert [key for key, _label in response.context["tabs"]] == ["mine", "unassigned", "past"]
    bob.can_see_all = True
    bob.save()
    response = client.get("/inbox/?tab=all")
    assert response.context["tab"] == "all"
    assert len(lead_ids(response)) == 1


def test_manager_sees_all_tab(client, org, team, alice, new_lead):
    leads = {new_lead(org, team=team).pk for _ in range(3)}
    response = login(client, alice).get("/inbox/?tab=all")
    assert set(lead_ids(response)) == leads


def test_search_by_name_email_or_phone_and_filter_by_team(
    client, org, team, make_team, alice, new_lead
):
    other = make_team(org, size=1, policy=None, slug="suporte")
    maria = new_lead(org, team=team, name="Maria Souza", email="m@x.com", phone="+55 11 98888-7777")
    new_lead(org, team=team, name="João", email="joao@y.com")
    in_other = new_lead(org, team=other, name="Mario")
    login(client, alice)
    assert lead_ids(client.get("/inbox/?tab=all&q=souza")) == [maria.pk]
    assert lead_ids(client.get("/inbox/?tab=all&q=m@x")) == [maria.pk]
    assert lead_ids(client.get("/inbox/?tab=all&q=98888")) == [maria.pk]
    assert lead_ids(client.get("/inbox/?tab=all&team=suporte")) == [in_other.pk]


def test_inbox_is_paginated(client, org, make_team, alice, new_lead):
    team = make_team(org, size=1, policy=None)
    for _ in range(30):
        new_lead(org, team=team)
    response = login(client, alice).get("/inbox/?tab=all")
    assert len(lead_ids(response)) == 25
    assert len(lead_ids(client.get("/inbox/?tab=all&page=2"))) == 5


def test_partial_refresh_tells_me_a_lead_overflowed_away(client, org, make_team, new_lead):
    team = make_team(org, size=2)
    first, second = team.attendants
    now = timezone.now()
    lead = new_lead(org, team=team, now=now - timedelta(minutes=11))
    login(client, first)
    since = (now - timedelta(seconds=30)).isoformat()
    overflow_sweep(now=now)
    response = client.get("/inbox/", {"partial": "1", "since": since})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html  # only the list
    assert lead.pk not in lead_ids(response)
    assert "data-moved-away" in html and second.display_name in html


def test_other_organizations_leads_never_show(client, org, other_org, team, make_team, charlie,
                                              new_lead):
    new_lead(org, team=team)
    response = login(client, charlie).get("/inbox/?tab=all")
    assert lead_ids(response) == []


def test_assign_to_me_takes_a_queued_lead_and_counts_as_access(client, org, make_team, bob,
                                                                new_lead):
    empty = make_team(org, size=0, policy=None)
    lead = new_lead(org, team=empty)
    response = login(client, bob).post(f"/leads/{lead.pk}/assign/")
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.assignee_id == bob.pk and lead.first_accessed_at is not None
    assert list(lead.events.values_list("type", flat=True)) == [
        "created", "queued", "assigned", "accessed",
    ]


def test_assign_to_me_is_refused_when_someone_took_it(client, org, team, bob, alice, new_lead):
    lead = new_lead(org, team=team)
    holder = lead.assignee_id
    response = login(client, alice).post(f"/leads/{lead.pk}/assign/", follow=True)
    assert "Someone else has already taken this lead." in response.content.decode()
    lead.refresh_from_db()
    assert lead.assignee_id == holder


def test_transfer_to_a_colleague_with_a_note(client, org, make_team, new_lead):
    team = make_team(org, size=2)
    first, second = team.attendants
    lead = new_lead(org, team=team)
    login(client, first).get(f"/leads/{lead.pk}/")  # opens it: overflow stops
    response = client.post(
        f"/leads/{lead.pk}/transfer/", {"to_member": second.pk, "note": "Cliente fala inglês"}
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.assignee_id == second.pk and lead.assignee_accessed_at is None
    event = lead.events.get(type=Type.TRANSFERRED)
    assert (event.from_member_id, event.to_member_id) == (first.pk, second.pk)
    assert event.data["note"] == "Cliente fala inglês"
    # The colleague sees it in Mine, and the note on the page.
    client.force_login(second.user)
    assert lead.pk in lead_ids(client.get("/inbox/"))
    assert "Cliente fala inglês" in client.get(f"/leads/{lead.pk}/").content.decode()


def test_transfer_to_a_team_uses_its_rotation(client, org, make_team, new_lead):
    team = make_team(org, size=1, policy=None)
    other = make_team(org, size=2, policy=None, slug="suporte")
    lead = new_lead(org, team=team)
    login(client, team.attendants[0]).post(f"/leads/{lead.pk}/transfer/", {"to_team": other.pk})
    lead.refresh_from_db()
    assert lead.assignee_id == other.attendants[0].pk and lead.team_id == other.pk


def test_transfer_keeps_an_overflowing_lead_overflowing_with_a_fresh_clock(
    client, org, make_team, new_lead
):
    team = make_team(org, size=3)
    first, second, _third = team.attendants
    lead = new_lead(org, team=team, now=timezone.now() - timedelta(minutes=5))
    client.force_login(first.user)
    client.post(f"/leads/{lead.pk}/transfer/", {"to_member": second.pk})
    lead.refresh_from_db()
    assert lead.overflow_active
    assert lead.overflow_due_at > timezone.now() + timedelta(minutes=9)


def test_transfer_needs_exactly_one_target(client, org, make_team, new_lead):
    team = make_team(org, size=2)
    lead = new_lead(org, team=team)
    login(client, team.attendants[0])
    response = client.post(f"/leads/{lead.pk}/transfer/", {"note": "?"})
    assert response.status_code == 400
    assert "Choose either a person or a team." in response.content.decode()
    both = client.post(f"/leads/{lead.pk}/transfer/",
                       {"to_member": team.attendants[1].pk, "to_team": team.pk})
    assert both.status_code == 400
    lead.refresh_from_db()
    assert lead.assignee_id == team.attendants[0].pk
    assert not lead.events.filter(type=Type.TRANSFERRED).exists()


def test_transfer_to_another_organizations_person_is_refused(client, org, make_team, charlie,
                                                            new_lead):
    team = make_team(org, size=2)
    lead = new_lead(org, team=team)
    response = login(client, team.attendants[0]).post(
        f"/leads/{lead.pk}/transfer/", {"to_member": charlie.pk}
    )
    assert response.status_code == 400
    lead.refresh_from_db()
    assert lead.assignee_id == team.attendants[0].pk


def test_a_colleague_cannot_act_on_my_lead(client, org, make_team, new_lead):
    team = make_team(org, size=2)
    lead = new_lead(org, team=team)
    colleague = team.attendants[1]
    login(client, colleague)
    for action in ("transfer", "conclude", "reopen", "note", "assign"):
        assert client.post(f"/leads/{lead.pk}/{action}/", {"text": "x"}).status_code == 404
    colleague.can_see_all = True
    colleague.save()
    response = client.post(f"/leads/{lead.pk}/conclude/", follow=True)
    assert "Only the lead&#x27;s attendant or a manager can do this." in response.content.decode()
    lead.refresh_from_db()
    assert lead.status == Lead.Status.OPEN


def test_conclude_stops_overflow_and_reopen_brings_it_back_open(client, org, make_team, new_lead):
    team = make_team(org, size=2)
    lead = new_lead(org, team=team)
    login(client, team.attendants[0]).get(f"/leads/{lead.pk}/")
    client.post(f"/leads/{lead.pk}/conclude/", {"note": "Venda fechada"})
    lead.refresh_from_db()
    assert lead.status == Lead.Status.CONCLUDED and lead.concluded_at is not None
    assert not lead.overflow_active
    # Opening the page already stopped the overflow, so concluding adds no second stop.
    types = list(lead.events.values_list("type", flat=True))
    assert types[-1] == "concluded" and types.count("overflow_stopped") == 1
    assert lead.pk not in lead_ids(client.get("/inbox/"))
    assert lead.pk in lead_ids(client.get("/inbox/?status=concluded"))
    client.post(f"/leads/{lead.pk}/reopen/")
    lead.refresh_from_db()
    assert lead.status == Lead.Status.OPEN and lead.concluded_at is None
    assert lead.events.filter(type=Type.REOPENED).count() == 1


def test_conclude_twice_is_refused_with_a_message(client, org, make_team, new_lead):
    team = make_team(org, size=2)
    lead = new_lead(org, team=team)
    login(client, team.attendants[0])
    client.post(f"/leads/{lead.pk}/conclude/")
    response = client.post(f"/leads/{lead.pk}/conclude/", follow=True)
    assert "This lead is already concluded." in response.content.decode()
    assert lead.events.filter(type=Type.CONCLUDED).count() == 1


def test_manager_concluding_an_unopened_lead_records_why_overflow_stopped(
    client, org, make_team, alice, new_lead
):
    team = make_team(org, size=2)
    lead = new_lead(org, team=team)
    login(client, alice).post(f"/leads/{lead.pk}/conclude/")
    lead.refresh_from_db()
    assert lead.overflow_reason == Lead.OverflowReason.CONCLUDED
    stop = lead.events.get(type=Type.OVERFLOW_STOPPED)
    assert stop.reason == "concluded"


def test_add_note_appears_in_history(client, org, make_team, new_lead):
    team = make_team(org, size=2)
    lead = new_lead(org, team=team)
    login(client, team.attendants[0]).post(f"/leads/{lead.pk}/note/", {"text": "Ligar às 15h"})
    note = lead.events.get(type=Type.NOTE)
    assert note.data == {"text": "Ligar às 15h"}
    assert note.actor_user_id == team.attendants[0].user_id


def test_blank_note_is_refused_and_nothing_written(client, org, make_team, new_lead):
    team = make_team(org, size=2)
    lead = new_lead(org, team=team)
    response = login(client, team.attendants[0]).post(f"/leads/{lead.pk}/note/", {"text": "  "})
    assert response.status_code == 400
    assert not lead.events.filter(type=Type.NOTE).exists()


def test_actions_need_post(client, org, make_team, new_lead):
    team = make_team(org, size=2)
    lead = new_lead(org, team=team)
    login(client, team.attendants[0])
    assert client.get(f"/leads/{lead.pk}/conclude/").status_code == 405


def test_outsider_cannot_act_on_a_lead(client, org, make_team, charlie, new_lead):
    team = make_team(org, size=2)
    lead = new_lead(org, team=team)
    login(client, charlie)
    for action in ("transfer", "conclude", "reopen", "note", "assign"):
        assert client.post(f"/leads/{lead.pk}/{action}/", {"text": "x"}).status_code == 404
    lead.refresh_from_db()
    assert lead.status == Lead.Status.OPEN and lead.events.count() == 2


def test_presence_switch_is_remembered_and_read_by_online_only_routing(
    client, org, make_team, new_lead
):
    team = make_team(org, size=2, policy=None, online_only=True)
    first, second = team.attendants
    login(client, first).post("/presence/", {"presence": "offline", "next": "/inbox/"})
    first.refresh_from_db()
    assert first.presence == Membership.Presence.OFFLINE
    assert first.presence_changed_at is not None
    assert {new_lead(org, team=team).assignee_id for _ in range(3)} == {second.pk}
    assert client.post("/presence/", {"presence": "sleeping"}).status_code == 400


def test_presence_redirect_never_leaves_the_site(client, bob):
    response = login(client, bob).post(
        "/presence/", {"presence": "away", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/inbox/"


def test_pages_follow_the_organizations_language_until_the_person_picks(client, org, bob):
    client.force_login(bob.user)
    assert "Caixa de entrada" in client.get("/inbox/").content.decode()
    org.language = "en"
    org.save()
    assert "Inbox" in client.get("/inbox/").content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "pt-br"
    assert "Caixa de entrada" in client.get("/inbox/").content.decode()
