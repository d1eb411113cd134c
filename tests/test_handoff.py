"""Bot-to-human handoff (POST /api/v1/handoffs)."""

import pytest
from django.conf import settings

from history.models import LeadEvent
from leads.models import Lead

URL = "/api/v1/handoffs"
TRANSCRIPT = [
    {"author": "customer", "text": "Quero falar com uma pessoa", "at": "2026-11-23T10:00:00-03:00"},
    {"author": "bot", "text": "Claro! Vou transferir.", "at": "2026-11-23T10:00:05-03:00"},
    {"author": "customer", "text": "Obrigado"},
]


@pytest.fixture
def team(org, make_team):
    team = make_team(org, size=2, slug="sac")
    org.default_team = team
    org.save()
    return team


def handoff(api, **overrides):
    body = {
        "contact": {"name": "Maria", "phone": "+55 11 91234-5678", "external_id": "chat-1"},
        "reason": "Pediu atendimento humano",
        "transcript": TRANSCRIPT,
    }
    body.update(overrides)
    return api.post(URL, body, format="json")


def test_handoff_creates_a_bot_lead_routed_like_any_other(api, team):
    response = handoff(api)
    assert response.status_code == 201, response.json()
    answer = response.json()
    assert answer["created"] is True
    lead = Lead.objects.get(pk=answer["lead"]["id"])
    assert lead.source == Lead.Source.BOT
    assert lead.assignee_id == team.attendants[0].pk
    assert answer["lead"]["assignee"]["first_name"]
    assert answer["lead"]["customer_message"]["kind"] == "assigned"


def test_bot_leads_do_not_overflow_unless_the_team_opts_in(api, org, team, make_team):
    lead = Lead.objects.get(pk=handoff(api).json()["lead"]["id"])
    assert not lead.overflow_active and lead.overflow_reason == "not_api_source"
    opted = make_team(org, size=2, slug="vendas", include_bot_leads=True)
    body = {"name": "Ana", "email": "ana@x.com", "team": "vendas"}
    response = handoff(api, contact=body)
    lead = Lead.objects.get(pk=response.json()["lead"]["id"])
    assert lead.team_id == opted.pk and lead.overflow_active


def test_transcript_is_one_history_event_in_order(api, team):
    lead_id = handoff(api).json()["lead"]["id"]
    event = LeadEvent.objects.get(lead_id=lead_id, type=LeadEvent.Type.HANDOFF)
    assert [m["text"] for m in event.data["transcript"]] == [m["text"] for m in TRANSCRIPT]
    assert event.data["reason"] == "Pediu atendimento humano"
    assert event.actor_kind == LeadEvent.ActorKind.API_KEY


def test_attendant_reads_the_transcript_on_the_lead_page(api, client, team):
    lead_id = handoff(api).json()["lead"]["id"]
    client.force_login(team.attendants[0].user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(f"/leads/{lead_id}/").content.decode()
    positions = [html.index(m["text"]) for m in TRANSCRIPT]
    assert positions == sorted(positions)
    assert "Handed off by the bot" in html


@pytest.mark.parametrize("contact", [
    {"name": "Maria", "external_id": "chat-1"},                 # same external id
    {"name": "Maria", "phone": "(11) 91234-5678"},               # same phone, typed otherwise
])
def test_repeated_handoff_of_the_same_contact_reuses_the_open_lead(api, team, contact):
    first = handoff(api).json()["lead"]["id"]
    response = handoff(api, contact=contact, transcript=[{"author": "bot", "text": "De novo"}])
    assert response.status_code == 200
    assert response.json() == {**response.json(), "created": False}
    assert response.json()["lead"]["id"] == first
    assert Lead.objects.count() == 1
    assert LeadEvent.objects.filter(lead_id=first, type="handoff").count() == 2


def test_a_concluded_lead_is_not_reused_by_phone(api, team):
    first = Lead.objects.get(pk=handoff(api).json()["lead"]["id"])
    first.status = Lead.Status.CONCLUDED
    first.save()
    response = handoff(api, contact={"name": "Maria", "phone": "+55 11 91234-5678"})
    assert response.status_code == 201
    new = Lead.objects.get(pk=response.json()["lead"]["id"])
    assert new.pk != first.pk and new.is_returning


@pytest.mark.parametrize(("transcript", "where"), [
    ("not a list", None),
    ([{"author": "bot"}], "text"),
    ([{"text": "oi"}], "author"),
    ([{"author": "bot", "text": "oi", "at": "yesterday"}], "at"),
    ([{"author": "bot", "text": 5}], "text"),
    ([{"author": "bot", "text": "x" * 4001}], "text"),
    ([{"author": "bot", "text": "oi", "mood": "happy"}], "mood"),
    ([{"author": "bot", "text": "ok"}] * 501, None),
])
def test_bad_transcripts_answer_400_naming_the_field(api, team, transcript, where):
    response = handoff(api, transcript=transcript)
    assert response.status_code == 400
    errors = response.json()
    assert "transcript" in errors
    if where:
        assert where in str(errors["transcript"])
    assert Lead.objects.count() == 0


def test_handoff_needs_a_contact(api, team):
    response = api.post(URL, {"transcript": []}, format="json")
    assert response.status_code == 400 and "contact" in response.json()
    response = handoff(api, contact={"name": "Sem contato"})
    assert response.status_code == 400 and "contact" in response.json()
    assert Lead.objects.count() == 0


def test_handoff_needs_a_key_and_stays_in_its_organization(api, outsider_api, team, client):
    assert client.post(URL, {}, content_type="application/json").status_code == 401
    first = handoff(api).json()["lead"]["id"]
    response = handoff(outsider_api)
    assert response.status_code == 201
    assert response.json()["lead"]["id"] != first  # same external id, other organization
    assert LeadEvent.objects.filter(lead_id=first, type="handoff").count() == 1
