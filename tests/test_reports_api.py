"""GET /api/v1/reports/summary and GET /api/v1/leads/export, and the page exports' CSV."""

import csv
import io
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.http import StreamingHttpResponse

from history.services import Actor
from leads.services import lead_conclude, lead_mark_accessed
from leads.sweep import overflow_sweep
from reports import definitions as d
from reports.api import SummarySerializer
from reports.exports import neutralise
from reports.selectors import summary

from .factories import TeamMemberFactory
from .helpers import client_for

SP = ZoneInfo("America/Sao_Paulo")
MON = date(2026, 11, 23)
SUMMARY = "/api/v1/reports/summary"
EXPORT = "/api/v1/leads/export"
KEYS = {"from", "to", "team", "time_zone", "leads_received", "leads_by_day", "by_source",
        "by_origin", "time_to_first_access", "overflow", "attendants", "queue"}


def at(hour, minute=0, day=MON):
    return datetime.combine(day, time(hour, minute), tzinfo=SP)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(at(15), tick=False):
        yield


@pytest.fixture
def sales(org, bob, dave, make_team):
    team = make_team(org, size=0, slug="sales", service_minutes=10)
    TeamMemberFactory(team=team, membership=bob, order=0)
    TeamMemberFactory(team=team, membership=dave, order=1)
    return team


@pytest.fixture
def history(org, sales, bob, dave, new_lead):
    """Monday: Bob opens Ana after 3 minutes and concludes it; Dave's lead overflows to Bob;
    one lead late on Sunday night (São Paulo), Monday 01:30 in UTC."""
    ana = new_lead(org, team=sales, name="Ana", phone="+55 11 91234-5678", now=at(10))
    lead_mark_accessed(organization=org, lead_id=ana.pk, membership=bob, actor=Actor.system(),
                       now=at(10, 3))
    lead_conclude(organization=org, lead_id=ana.pk, membership=bob, now=at(11))
    evil = new_lead(org, team=sales, name='=HYPERLINK("http://evil.example")',
                    email="evil@example.com", now=at(10, 10))
    assert evil.assignee_id == dave.pk
    assert overflow_sweep(now=at(10, 30)) == 1
    sunday = new_lead(org, team=sales, name="Sunday night", now=at(22, 30, day=MON - timedelta(1)))
    return {"ana": ana, "evil": evil, "sunday": sunday}


def test_summary_answers_the_issues_keys_with_the_dashboards_numbers(api, org, history):
    response = api.get(SUMMARY, {"from": "2026-11-23", "to": "2026-11-23"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == KEYS
    assert (body["from"], body["to"], body["team"], body["time_zone"]) == (
        "2026-11-23", "2026-11-23", None, "America/Sao_Paulo")
    assert body["leads_received"] == 2
    assert body["leads_by_day"] == [
        {"date": "2026-11-23", "received": 2, "opened": 1, "overflowed": 1}]
    assert {"source": "api", "received": 2} in body["by_source"]
    assert body["time_to_first_access"] == {
        "opened": 1, "never_opened": 1, "p50_seconds": 180.0, "p90_seconds": 180.0,
        "p50_service_seconds": 180.0, "p90_service_seconds": 180.0}
    assert body["overflow"] == {"leads_overflowed": 1, "rate": 0.5, "transfers": 1,
                                "all_tried": 0}
    assert body["queue"] == {"waiting_now": 0, "longest_wait_seconds": None}
    same = summary(organization=org, date_range=d.DateRange(MON, MON))
    assert body == SummarySerializer(same).data


def test_summary_attendants_carry_the_membership_id_of_a_leads_assignee(api, history, bob, dave):
    body = api.get(SUMMARY, {"from": "2026-11-23", "to": "2026-11-23"}).json()
    lead = api.get(f"/api/v1/leads/{history['ana'].pk}").json()

    rows = {row["id"]: row for row in body["attendants"]}
    assert lead["assignee"]["id"] == bob.pk
    assert rows[bob.pk] == {
        "id": bob.pk, "name": bob.display_name, "received": 2, "opened": 1,
        "p50_seconds": 180.0, "p90_seconds": 180.0, "p50_service_seconds": 180.0,
        "p90_service_seconds": 180.0, "missed": 0, "concluded": 1, "open_now": 1,
    }
    assert (rows[dave.pk]["received"], rows[dave.pk]["missed"], rows[dave.pk]["opened"]) == (
        1, 1, 0)


def test_summary_defaults_to_the_last_30_days_and_filters_by_team(api, history, sales):
    body = api.get(SUMMARY).json()
    team = api.get(SUMMARY, {"team": "sales"}).json()

    assert (body["from"], body["to"]) == ("2026-10-25", "2026-11-23")
    assert len(body["leads_by_day"]) == 30
    assert body["leads_received"] == 3
    assert team["team"] == "sales" and team["leads_received"] == 3


@pytest.mark.parametrize("params, parameter", [
    ({"from": "2026-11-30", "to": "2026-11-01"}, "to"),
    ({"from": "2025-11-01", "to": "2026-11-02"}, "to"),
    ({"from": "23/11/2026"}, "from"),
    ({"to": "tomorrow"}, "to"),
    ({"team": "nope"}, "team"),
    ({"team": "not a slug!"}, "team"),
])
def test_summary_answers_400_naming_the_parameter(api, params, parameter):
    response = api.get(SUMMARY, params)

    assert response.status_code == 400
    assert parameter in response.json()


def test_summary_accepts_a_range_of_366_days(api, db):
    response = api.get(SUMMARY, {"from": "2025-11-23", "to": "2026-11-23"})

    assert response.status_code == 200
    assert len(response.json()["leads_by_day"]) == 366


def test_summary_never_mixes_organizations(outsider_api, history, globex_team):
    theirs = outsider_api.get(SUMMARY, {"from": "2026-11-23", "to": "2026-11-23"}).json()
    foreign_team = outsider_api.get(SUMMARY, {"team": "sales"})

    assert theirs["leads_received"] == 0
    assert theirs["attendants"] == []
    assert foreign_team.status_code == 400 and "team" in foreign_team.json()


def test_summary_needs_a_key(db):
    from rest_framework.test import APIClient

    assert APIClient().get(SUMMARY).status_code == 401


def test_summary_and_export_are_in_the_openapi_schema(client, db):
    schema = client.get("/api/schema/?format=json").json()

    summary_op = schema["paths"]["/api/v1/reports/summary"]["get"]
    params = {p["name"] for p in summary_op["parameters"]}
    assert {"from", "to", "team"} <= params
    ref = summary_op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert set(component["properties"]) == KEYS
    export_op = schema["paths"]["/api/v1/leads/export"]["get"]
    assert "text/csv" in export_op["responses"]["200"]["content"]
    assert {"from", "to", "team", "status", "assignee", "external_id", "separator"} <= {
        p["name"] for p in export_op["parameters"]}


# --- GET /api/v1/leads/export ----------------------------------------------------------------


def read_csv(response, separator=","):
    assert isinstance(response, StreamingHttpResponse)
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=separator))


def test_export_is_not_taken_for_a_lead_id_and_answers_csv(api, history):
    response = api.get(EXPORT)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = read_csv(response)
    assert [row["name"] for row in rows] == [
        '\'=HYPERLINK("http://evil.example")', "Ana", "Sunday night"]


def test_export_rows_are_in_the_organizations_time_zone_and_neutralised(api, history, bob):
    rows = {row["id"]: row for row in read_csv(api.get(EXPORT))}

    ana = rows[str(history["ana"].pk)]
    assert ana["created_at"] == "2026-11-23 10:00:00"
    assert ana["first_accessed_at"] == "2026-11-23 10:03:00"
    assert ana["seconds_to_first_access"] == "180"
    assert ana["phone"] == "'+55 11 91234-5678"
    assert ana["assignee_id"] == str(bob.pk)
    assert rows[str(history["sunday"].pk)]["created_at"] == "2026-11-22 22:30:00"


def test_export_takes_the_leads_filters_and_a_range(api, history, bob, dave):
    monday = read_csv(api.get(EXPORT, {"from": "2026-11-23", "to": "2026-11-23"}))
    concluded = read_csv(api.get(EXPORT, {"status": "concluded"}))
    bobs = read_csv(api.get(EXPORT, {"assignee": bob.pk}))
    by_team = read_csv(api.get(EXPORT, {"team": "sales", "to": "2026-11-22"}))

    assert {row["name"] for row in monday} == {"Ana", '\'=HYPERLINK("http://evil.example")'}
    assert [row["name"] for row in concluded] == ["Ana"]
    assert {row["assignee_id"] for row in bobs} == {str(bob.pk)}
    assert [row["name"] for row in by_team] == ["Sunday night"]


def test_export_offers_the_semicolon_with_a_decimal_comma(api, history):
    response = api.get(EXPORT, {"separator": "semicolon"})

    rows = read_csv(response, separator=";")
    assert len(rows) == 3 and "seconds_to_first_access" in rows[0]


@pytest.mark.parametrize("params, parameter", [
    ({"from": "2026-11-30", "to": "2026-11-01"}, "to"),
    ({"team": "nope"}, "team"),
    ({"separator": "tab"}, "separator"),
    ({"status": "lost"}, "status"),
])
def test_export_answers_400_naming_the_parameter(api, params, parameter):
    response = api.get(EXPORT, params)

    assert response.status_code == 400
    assert parameter in response.json()


def test_export_never_mixes_organizations(outsider_api, history):
    rows = read_csv(outsider_api.get(EXPORT))

    assert rows == []


def test_neutralise_prefixes_what_a_spreadsheet_would_run():
    for text in ("=1+1", "+55 11", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(text) == "'" + text
    assert neutralise("Ana") == "Ana"
    assert neutralise("") == ""


# --- the page exports ----------------------------------------------------------------------------


def page_csv(membership, path, language="pt-br"):
    client = client_for(membership)
    client.cookies["django_language"] = language
    response = client.get(path)
    assert response.status_code == 200, response.content
    return response


def test_page_export_of_the_leads_in_portuguese_uses_semicolons(alice, history):
    response = page_csv(alice, "/manage/reports/leads.csv?from=2026-11-23&to=2026-11-23")

    assert 'filename="leads-2026-11-23-2026-11-23.csv"' in response["Content-Disposition"]
    rows = read_csv(response, separator=";")
    assert [row["Nome"] for row in rows] == ['\'=HYPERLINK("http://evil.example")', "Ana"]
    assert rows[1]["Recebido em"] == "2026-11-23 10:00:00"


def test_page_export_of_the_inbox_list_keeps_its_filters(alice, history):
    response = page_csv(alice, "/manage/reports/leads.csv?tab=all&q=Ana&status=concluded"
                               "&separator=comma", language="en")

    assert [row["Name"] for row in read_csv(response)] == ["Ana"]


def test_page_export_of_the_attendants_table(alice, history, bob):
    response = page_csv(alice, "/manage/reports/attendants.csv?preset=today&separator=semicolon",
                        language="en")

    rows = {row["Id"]: row for row in read_csv(response, separator=";")}
    assert rows[str(bob.pk)]["Received"] == "2"
    assert rows[str(bob.pk)]["Median seconds to open"] == "180"
    assert rows[str(bob.pk)]["Overflow rate (%)"] == "0,0"


def test_page_export_refuses_a_bad_range_naming_it(alice):
    response = client_for(alice).get("/manage/reports/attendants.csv?from=2026-11-30&to=2026-11-01")

    assert response.status_code == 400
    assert response.content.decode().startswith("to:")
