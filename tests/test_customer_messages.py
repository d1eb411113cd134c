"""The customer-facing message on every POST answer, kept on the lead and in its history:
assigned, outside business hours, queued and redirected, in English and in pt-BR, and a
team's own templates with placeholders."""

from datetime import UTC, datetime, time

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.translation import gettext as _

from history.models import LeadEvent
from leads.messages import ASSIGNED, DEFAULTS, OUT_OF_HOURS, QUEUED, REDIRECTED, UNAVAILABLE
from leads.models import Lead
from routing.models import RoutingRule
from teams.models import Membership

from .factories import MembershipFactory, TeamMemberFactory, UserFactory

pytestmark = pytest.mark.django_db

Type = LeadEvent.Type
LEADS = "/api/v1/leads"
WEEKDAYS_8_TO_18 = {d: [(time(8), time(18))] for d in range(5)}
# Monday 2 March 2026, 19:00 in São Paulo (UTC-3): closed; opens Tuesday at 08:00 there.
MONDAY_EVENING = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)
MONDAY_NOON = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def speak(org, language):
    org.language = language
    org.save(update_fields=["language"])


def default_text(kind, language, **values):
    """The default template of ``kind`` in ``language``, filled in.

    pt-BR must really be Portuguese: its template may not be the English one.
    """
    with translation.override("en"):
        english = str(DEFAULTS[kind])
    with translation.override(language):
        template = str(DEFAULTS[kind])
    if language != "en":
        assert template != english, f"no {language} text for the {kind} message"
    return template.format(**values)


def post(api, body):
    response = api.post(LEADS, body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def kept(answer, event_type):
    """The message as stored on the lead and in the event that carries it."""
    lead = Lead.objects.get(pk=answer["id"])
    event = lead.events.get(type=event_type)
    return lead.customer_message, event.data["customer_message"]


@pytest.fixture
def sales(org, make_team):
    """One attendant, Bob Builder; overflow after 30 minutes; open around the clock."""
    team = make_team(org, size=0, slug="sales", service_minutes=30)
    bob = MembershipFactory(organization=org,
                            user=UserFactory(username="bob-b", first_name="Bob",
                                             last_name="Builder"))
    team.members.create(membership=bob, order=0)
    org.default_team = team
    org.save(update_fields=["default_team"])
    return team


@pytest.fixture
def closed_sales(org, sales):
    """``sales`` with business hours Monday to Friday, 08:00-18:00 in São Paulo."""
    org.time_zone = "America/Sao_Paulo"
    org.save(update_fields=["time_zone"])
    sales.business_hours_enabled = True
    sales.save(update_fields=["business_hours_enabled"])
    for weekday, intervals in WEEKDAYS_8_TO_18.items():
        for start, end in intervals:
            sales.hours.create(weekday=weekday, start=start, end=end)
    return sales


@pytest.fixture
def busy_sales(org, make_team):
    """Two attendants with room for one lead each, overflow after 20 minutes."""
    team = make_team(org, size=2, slug="busy", service_minutes=20)
    team.members.update(capacity=1)
    org.default_team = team
    org.save(update_fields=["default_team"])
    return team


# --- assigned ------------------------------------------------------------------------------


def test_assigned_message_in_english_names_the_attendant_and_the_response_time(
    api, org, sales
):
    speak(org, "en")

    answer = post(api, {"email": "maria@example.com"})

    expected = {"kind": "assigned",
                "text": "Hello! Bob will talk to you; we answer within 30 minutes."}
    assert answer["customer_message"] == expected
    assert kept(answer, Type.ASSIGNED) == (expected, expected)


def test_assigned_message_in_portuguese(api, org, sales):
    speak(org, "pt-br")

    answer = post(api, {"email": "maria@example.com"})

    expected = {"kind": "assigned",
                "text": default_text(ASSIGNED, "pt-br", first_name="Bob", minutes=30,
                                     team="Sales")}
    assert answer["customer_message"] == expected
    assert kept(answer, Type.ASSIGNED) == (expected, expected)


def test_assigned_message_uses_the_shortest_service_time_when_the_team_has_no_policy(
    api, org, make_team
):
    speak(org, "en")
    team = make_team(org, size=1, slug="plain", policy=None)
    get_user_model().objects.filter(pk=team.attendants[0].user_id).update(first_name="Ana")

    answer = post(api, {"email": "maria@example.com", "team": "plain"})

    assert answer["customer_message"]["text"] == (
        "Hello! Ana will talk to you; we answer within 10 minutes.")


# --- outside business hours ----------------------------------------------------------------


def test_out_of_hours_message_in_english_gives_the_next_opening_in_the_orgs_time_zone(
    api, org, closed_sales
):
    speak(org, "en")

    with time_machine.travel(MONDAY_EVENING, tick=False):
        answer = post(api, {"email": "maria@example.com"})

    message = answer["customer_message"]
    assert message["kind"] == "out_of_hours"
    assert message["text"] == (
        "We are closed right now. Bob will answer you when we open: tomorrow at 08:00"
    )
    assert answer["assignee"]["first_name"] == "Bob"
    assert not answer["overflow"]["active"]
    assert kept(answer, Type.ASSIGNED) == (message, message)


def test_out_of_hours_message_in_portuguese(api, org, closed_sales):
    speak(org, "pt-br")

    with time_machine.travel(MONDAY_EVENING, tick=False):
        answer = post(api, {"email": "maria@example.com"})

    expected = {"kind": "out_of_hours",
                "text": default_text(OUT_OF_HOURS, "pt-br", first_name="Bob",
                                     next_opening="amanhã às 08:00", team="Sales")}
    assert answer["customer_message"] == expected
    assert kept(answer, Type.ASSIGNED) == (expected, expected)


def test_out_of_hours_message_follows_the_organizations_time_zone(api, org, closed_sales):
    speak(org, "pt-br")
    org.time_zone = "Asia/Tokyo"  # the hours are 08:00-18:00 in Tokyo now
    org.save(update_fields=["time_zone"])

    # 22:00 UTC on Monday is 07:00 on Tuesday in Tokyo: the opening is an hour away.
    with time_machine.travel(MONDAY_EVENING, tick=False):
        answer = post(api, {"email": "maria@example.com"})

    assert answer["customer_message"]["kind"] == "out_of_hours"
    assert answer["customer_message"]["text"].endswith("quando abrirmos: hoje às 08:00")


@pytest.mark.parametrize(("language", "when"), [
    ("pt-br", "9 de março de 2026 às 08:00"), ("en", "March 9, 2026 at 08:00"),
])
def test_an_opening_days_away_is_a_date_with_the_month_in_lower_case_in_portuguese(
    api, org, closed_sales, language, when,
):
    speak(org, language)

    # Friday 6 March 2026, 19:00 in São Paulo: the next opening is Monday the 9th.
    with time_machine.travel(datetime(2026, 3, 6, 22, 0, tzinfo=UTC), tick=False):
        answer = post(api, {"email": "maria@example.com"})

    assert answer["customer_message"]["text"].endswith(when)


def test_inside_business_hours_the_message_is_the_assigned_one(api, org, closed_sales):
    speak(org, "en")

    with time_machine.travel(MONDAY_NOON, tick=False):
        answer = post(api, {"email": "maria@example.com"})

    assert answer["customer_message"]["kind"] == "assigned"


# --- queued --------------------------------------------------------------------------------


def test_queued_message_in_english_gives_the_position_and_an_estimate(api, org, busy_sales):
    speak(org, "en")
    post(api, {"email": "first@example.com"})
    post(api, {"email": "second@example.com"})

    waiting = [post(api, {"email": f"w{i}@example.com"}) for i in range(3)]

    # One service time (20 minutes) per round of the two attendants.
    assert [w["queue_position"] for w in waiting] == [1, 2, 3]
    assert [w["customer_message"] for w in waiting] == [
        {"kind": "queued", "text": "All our attendants are busy. You are number 1 in line; "
                                   "the estimated wait is 20 minutes."},
        {"kind": "queued", "text": "All our attendants are busy. You are number 2 in line; "
                                   "the estimated wait is 20 minutes."},
        {"kind": "queued", "text": "All our attendants are busy. You are number 3 in line; "
                                   "the estimated wait is 40 minutes."},
    ]
    for w in waiting:
        assert kept(w, Type.QUEUED) == (w["customer_message"], w["customer_message"])


def test_queued_message_in_portuguese(api, org, busy_sales):
    speak(org, "pt-br")
    post(api, {"email": "first@example.com"})
    post(api, {"email": "second@example.com"})

    answer = post(api, {"email": "waiting@example.com"})

    expected = {"kind": "queued",
                "text": default_text(QUEUED, "pt-br", position=1, wait_minutes=20, team="Busy")}
    assert answer["customer_message"] == expected
    assert answer["queue_position"] == 1
    assert kept(answer, Type.QUEUED) == (expected, expected)


def test_queued_estimate_counts_only_people_who_can_receive_leads(api, org, busy_sales):
    speak(org, "en")
    busy_sales.online_only = True
    busy_sales.save(update_fields=["online_only"])
    TeamMemberFactory(team=busy_sales, order=2, capacity=1,
                      membership__presence=Membership.Presence.OFFLINE)
    post(api, {"email": "first@example.com"})
    post(api, {"email": "second@example.com"})

    waiting = [post(api, {"email": f"w{i}@example.com"}) for i in range(3)]

    # Three attendants, but the offline one receives nothing: rounds of two, as before.
    assert [w["customer_message"]["text"][-11:] for w in waiting] == [
        "20 minutes.", "20 minutes.", "40 minutes.",
    ]


def test_nobody_online_is_not_everyone_busy_and_promises_no_estimate(api, org, busy_sales):
    busy_sales.online_only = True
    busy_sales.save(update_fields=["online_only"])
    Membership.objects.filter(team_memberships__team=busy_sales).update(
        presence=Membership.Presence.OFFLINE)

    for language in ("en", "pt-br"):
        speak(org, language)
        answer = post(api, {"email": f"nobody-{language}@example.com"})

        assert answer["assignee"] is None
        expected = default_text(UNAVAILABLE, language, position=answer["queue_position"],
                                when=default_when(language), team="Busy")
        assert answer["customer_message"] == {"kind": "unavailable", "text": expected}
        assert "busy" not in expected and "ocupad" not in expected
    assert kept(answer, Type.QUEUED)[0]["kind"] == "unavailable"


def default_when(language):
    with translation.override(language):
        return str(_("as soon as someone is available."))


def test_nobody_online_while_the_team_is_closed_says_when_it_opens(api, org, closed_sales):
    speak(org, "en")
    closed_sales.online_only = True
    closed_sales.save(update_fields=["online_only"])
    Membership.objects.filter(team_memberships__team=closed_sales).update(
        presence=Membership.Presence.OFFLINE)

    with time_machine.travel(MONDAY_EVENING, tick=False):
        answer = post(api, {"email": "night@example.com"})

    assert answer["customer_message"]["kind"] == "unavailable"
    assert answer["customer_message"]["text"] == (
        "Nobody is available right now. You are number 1 in line; we will answer when we "
        "open: tomorrow at 08:00"
    )


# --- redirected ----------------------------------------------------------------------------


@pytest.fixture
def redirect_rule(org, sales):
    return RoutingRule.objects.create(
        organization=org, name="Support elsewhere", redirect_to="https://acme.example/help",
        conditions=[{"field": "custom.subject", "op": "eq", "value": "support"}],
    )


def test_redirected_message_in_english_points_to_the_other_channel(api, org, redirect_rule):
    speak(org, "en")

    answer = post(api, {"email": "maria@example.com", "custom": {"subject": "support"}})

    expected = {"kind": "redirected", "text": "This channel does not handle your request: "
                                              "please use https://acme.example/help."}
    assert answer["customer_message"] == expected
    assert answer["status"] == "concluded" and answer["assignee"] is None
    assert kept(answer, Type.CONCLUDED) == (expected, expected)


def test_redirected_message_in_portuguese(api, org, redirect_rule):
    speak(org, "pt-br")

    answer = post(api, {"email": "maria@example.com", "custom": {"subject": "support"}})

    expected = {"kind": "redirected",
                "text": default_text(REDIRECTED, "pt-br", target="https://acme.example/help",
                                     team="Sales")}
    assert answer["customer_message"] == expected
    assert kept(answer, Type.CONCLUDED) == (expected, expected)


# --- a team's own templates ----------------------------------------------------------------


def test_a_teams_own_templates_fill_their_placeholders(api, org, busy_sales):
    speak(org, "pt-br")
    busy_sales.message_assigned = "Oi! {first_name} responde em até {minutes} min ({team})."
    busy_sales.message_queued = "{team}: você é o {position}º da fila, uns {wait_minutes} min."
    busy_sales.save(update_fields=["message_assigned", "message_queued"])
    a = Membership.objects.select_related("user").get(pk=busy_sales.attendants[0].pk)

    assigned = post(api, {"email": "first@example.com"})
    post(api, {"email": "second@example.com"})
    queued = post(api, {"email": "third@example.com"})

    assert assigned["customer_message"] == {
        "kind": "assigned", "text": f"Oi! {a.first_name} responde em até 20 min (Busy)."}
    assert queued["customer_message"] == {
        "kind": "queued", "text": "Busy: você é o 1º da fila, uns 20 min."}
    assert kept(queued, Type.QUEUED)[1] == queued["customer_message"]


def test_a_teams_out_of_hours_template_gets_the_next_opening(api, org, closed_sales):
    speak(org, "en")
    closed_sales.message_out_of_hours = "{team} is closed; {first_name} is back {next_opening}"
    closed_sales.save(update_fields=["message_out_of_hours"])

    with time_machine.travel(MONDAY_EVENING, tick=False):
        answer = post(api, {"email": "maria@example.com"})

    assert answer["customer_message"] == {
        "kind": "out_of_hours", "text": "Sales is closed; Bob is back tomorrow at 08:00"}
