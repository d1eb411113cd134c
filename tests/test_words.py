"""Words on the lead pages, in both languages: reasons and transcript authors translated,
plurals and "just now" instead of "0 minuto", the one date format per language."""

import re
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import translation
from django.utils.formats import date_format

from history.models import LeadEvent
from history.services import Actor, event_record
from leads.queue import OFFLINE
from leads.reasons import event_reason_label, transcript_author_label
from leads.templatetags.lead_tags import ago as ago_filter
from leads.templatetags.lead_tags import time_left as time_left_filter

from .helpers import client_for

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 30, 9, 0, 49, tzinfo=UTC)


def page(membership, path, language):
    client = client_for(membership)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(("language", "words"), [
    ("pt-br", "o atendente ficou offline"), ("en", "the attendant went offline"),
])
def test_the_history_gives_the_reason_in_words_not_its_code(
    org, make_team, new_lead, alice, language, words,
):
    team = make_team(org, size=2)
    lead = new_lead(org, team=team)
    event_record(lead=lead, type=LeadEvent.Type.QUEUED, actor=Actor.system(),
                 from_member=lead.assignee, reason=OFFLINE, data={"team_id": team.pk})

    html = page(alice, f"/leads/{lead.pk}/", language)

    assert lead.events.filter(reason="attendant_offline").exists()
    assert words in html
    assert "attendant_offline" not in html


@pytest.mark.parametrize(("language", "customer", "bot"), [
    ("pt-br", "Cliente", "Bot"), ("en", "Customer", "Bot"),
])
def test_transcript_authors_are_words_and_times_local(
    org, make_team, new_lead, alice, language, customer, bot,
):
    team = make_team(org, size=1)
    lead = new_lead(org, team=team)
    event_record(lead=lead, type=LeadEvent.Type.HANDOFF, actor=Actor.system(), data={
        "reason": "asked for a human", "transcript": [
            {"author": "customer", "text": "Oi", "at": "2026-11-30T11:00:00Z"},
            {"author": "bot", "text": "Olá!"},
            {"author": "Lia (bot)", "text": "Um momento"},
        ]})

    html = page(alice, f"/leads/{lead.pk}/", language)

    assert f"<strong>{customer}</strong>" in html and f"<strong>{bot}</strong>" in html
    assert "<strong>Lia (bot)</strong>" in html
    assert "<strong>customer</strong>" not in html and "<strong>bot</strong>" not in html
    assert "2026-11-30T11:00:00Z" not in html
    # 11:00 UTC is 08:00 in São Paulo, the organization's time zone.
    assert ("30/11/2026 08:00" if language == "pt-br" else "11/30/2026 08:00") in html


def test_unknown_codes_are_humanised_never_raw():
    assert event_reason_label("some_new_code") == "some new code"
    assert event_reason_label("") == ""
    assert transcript_author_label("Customer ") == "Customer"


@pytest.mark.parametrize(("language", "fresh", "zero_transfers"), [
    ("pt-br", "agora mesmo", "0 transferências"), ("en", "just now", "0 transfers"),
])
def test_no_zero_minutes_and_plural_zero(
    org, make_team, new_lead, alice, language, fresh, zero_transfers,
):
    team = make_team(org, size=1)
    with time_machine.travel(NOW, tick=False):
        lead = new_lead(org, team=team)
        html = page(alice, f"/leads/{lead.pk}/", language)
        inbox = page(alice, "/inbox/?tab=all", language)

    assert fresh in html and fresh in inbox
    assert zero_transfers in html
    text = (html + inbox).replace("\xa0", " ")
    assert not re.search(r"\b0 minut", text)


def test_ages_and_time_left_in_words():
    now = NOW

    def ago(moment, now):
        return ago_filter(moment, now).replace("\xa0", " ")

    def time_left(moment, now):
        return time_left_filter(moment, now).replace("\xa0", " ")

    with translation.override("pt-br"):
        assert ago(now - timedelta(seconds=20), now) == "agora mesmo"
        assert ago(now - timedelta(minutes=1), now) == "há 1 minuto"
        assert ago(now - timedelta(minutes=5), now) == "há 5 minutos"
        assert time_left(now + timedelta(seconds=30), now) == "menos de um minuto"
        assert time_left(now + timedelta(minutes=7), now) == "7 minutos"
    with translation.override("en"):
        assert ago(now - timedelta(minutes=5), now) == "5 minutes ago"


@pytest.mark.parametrize(("language", "short", "long"), [
    ("pt-br", "30/11/2026 06:00", "30 de novembro de 2026 às 06:00"),
    ("en", "11/30/2026 06:00", "November 30, 2026, 06:00"),
])
def test_one_date_format_per_language_always_with_minutes(language, short, long):
    moment = datetime(2026, 11, 30, 6, 0, 49)
    with translation.override(language):
        assert date_format(moment, "SHORT_DATETIME_FORMAT") == short
        assert date_format(moment, "DATETIME_FORMAT").lower() == long.lower()
        assert date_format(moment, "TIME_FORMAT") == "06:00"


def test_inbox_column_says_when_received_not_age(org, make_team, new_lead, alice):
    new_lead(org, team=make_team(org, size=1))
    html = page(alice, "/inbox/?tab=all", "pt-br")
    assert ">Recebido</th>" in html and "Idade" not in html


def test_an_opened_lead_says_by_whom_not_to_whom(org, make_team, new_lead, client):
    team = make_team(org, size=1)
    lead = new_lead(org, team=team)
    person = lead.assignee
    client.force_login(person.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "pt-br"
    html = client.get(f"/leads/{lead.pk}/").content.decode()
    accessed = html[html.index('data-event-type="accessed"'):]
    accessed = accessed[:accessed.index("</li>")]
    assert f"por <strong>{person.display_name}</strong>" in accessed
    assert "para <strong>" not in accessed


def test_the_teams_list_gives_the_hours_not_on(org, make_team, alice):
    team = make_team(org, size=1, name="Vendas")
    team.business_hours_enabled = True
    team.save(update_fields=["business_hours_enabled"])
    for day in range(5):
        team.hours.create(weekday=day, start=time(8), end=time(18))
    team.hours.create(weekday=5, start=time(9), end=time(13))

    html = page(alice, "/manage/teams/", "pt-br").replace("\xa0", " ")

    assert "Seg–Sex 08:00–18:00; Sab 09:00–13:00" in html
