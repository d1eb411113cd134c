"""The managers' dashboard, its CSV exports, and the attendant's own numbers in the inbox."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from history.services import Actor
from leads.services import lead_mark_accessed
from leads.sweep import overflow_sweep

from .factories import MembershipFactory, TeamMemberFactory
from .helpers import client_for

SP = ZoneInfo("America/Sao_Paulo")
MON = date(2026, 11, 23)
NOW = datetime.combine(MON, time(15), tzinfo=SP)


def at(hour, minute=0, day=MON):
    return datetime.combine(day, time(hour, minute), tzinfo=SP)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def sales(org, bob, dave, make_team):
    team = make_team(org, size=0, slug="sales", service_minutes=10)
    TeamMemberFactory(team=team, membership=bob, order=0)
    TeamMemberFactory(team=team, membership=dave, order=1)
    team.attendants = [bob, dave]
    return team


@pytest.fixture
def history(org, sales, bob, dave, new_lead):
    """Bob opens his first lead after 3 minutes; his second overflows to Dave at 10:20."""
    first = new_lead(org, team=sales, name="Ana", now=at(10))
    assert first.assignee_id == bob.pk
    lead_mark_accessed(organization=org, lead_id=first.pk, membership=bob,
                       actor=Actor.system(), now=at(10, 3))
    second = new_lead(org, team=sales, name="=HYPERLINK(\"http://evil\")", now=at(10, 10))
    assert second.assignee_id == dave.pk
    third = new_lead(org, team=sales, name="+55 call me", now=at(10, 12))
    assert third.assignee_id == bob.pk
    assert overflow_sweep(now=at(10, 30)) == 2
    return [first, second, third]


def dashboard(membership, query="", language="en"):
    client = client_for(membership)
    client.cookies["django_language"] = language
    return client.get("/manage/" + (f"?{query}" if query else ""))


def test_managers_land_on_the_dashboard_after_login(alice):
    response = Client().post("/login/", {"username": "alice", "password": "secret-pass"},
                             follow=True)

    assert response.redirect_chain[-1][0] == "/manage/"
    assert response.status_code == 200


def test_attendants_still_land_on_the_inbox_after_login(bob):
    response = Client().post("/login/", {"username": "bob", "password": "secret-pass"},
                             follow=True)

    assert response.redirect_chain[-1][0] == "/inbox/"


def test_dashboard_shows_the_figures_charts_and_tables(alice, history):
    response = dashboard(alice, "preset=today")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-figure="received">3<' in page
    assert 'data-figure="p50">3 min<' in page
    for chart in ("chart-per-day", "chart-waits", "chart-rates"):
        assert f'aria-labelledby="{chart}-title"' in page
    for table in ("table-per-day", "table-attendants", "table-sources", "table-teams"):
        assert f'id="{table}"' in page
    assert 'href="/manage/"' in page and 'class="active">Dashboard' in page


def test_dashboard_speaks_portuguese(alice, history):
    page = dashboard(alice, "preset=today", language="pt-br").content.decode()

    assert "Leads recebidos" in page
    assert "Tempo até o primeiro acesso por atendente" in page


def test_an_empty_range_says_so_instead_of_drawing_empty_axes(alice, history):
    page = dashboard(alice, "from=2026-01-01&to=2026-01-31").content.decode()

    assert 'id="report-empty"' in page
    assert "<svg" not in page


def test_the_range_and_team_come_from_the_url(alice, history, make_team, org):
    other = make_team(org, size=1, slug="other")

    week = dashboard(alice, "preset=7d").content.decode()
    custom = dashboard(alice, "from=2026-11-23&to=2026-11-23").content.decode()
    other_team = dashboard(alice, f"preset=7d&team={other.slug}").content.decode()

    assert 'data-preset="7d" aria-current="true"' in week
    assert 'data-figure="received">3<' in week
    assert 'data-figure="received">3<' in custom
    assert 'data-figure="received">0<' in other_team


@pytest.mark.parametrize("query, field", [
    ("from=2026-11-30&to=2026-11-01", "to"),
    ("from=2025-01-01&to=2026-11-01", "to"),
    ("from=yesterday&to=2026-11-01", "from"),
    ("from=2026-11-01", "to"),
    ("team=nope", "team"),
])
def test_a_bad_range_or_team_answers_400_naming_it(alice, query, field):
    response = dashboard(alice, query)

    assert response.status_code == 400
    assert f'data-error-for="{field}"' in response.content.decode()


def test_another_organizations_team_is_refused_like_an_unknown_one(alice, globex_team):
    response = dashboard(alice, f"team={globex_team.slug}")

    assert response.status_code == 400
    assert globex_team.name not in response.content.decode()


def test_attendants_get_403_on_the_dashboard_and_its_exports(bob):
    client = client_for(bob)

    for path in ("/manage/", "/manage/reports/leads.csv", "/manage/reports/attendants.csv"):
        assert client.get(path).status_code == 403


def test_anonymous_visitors_are_sent_to_login(db):
    for path in ("/manage/", "/manage/reports/leads.csv", "/manage/reports/attendants.csv"):
        response = Client().get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_another_organizations_manager_sees_only_their_own(charlie, history):
    page = dashboard(charlie, "preset=today").content.decode()
    leads_csv = b"".join(client_for(charlie).get(
        "/manage/reports/leads.csv?preset=today").streaming_content).decode("utf-8-sig")
    people_csv = b"".join(client_for(charlie).get(
        "/manage/reports/attendants.csv?preset=today").streaming_content).decode("utf-8-sig")

    assert 'data-figure="received">0<' in page
    assert "Bob" not in page
    assert "Ana" not in leads_csv and len(leads_csv.splitlines()) == 1
    assert "Bob" not in people_csv


def _queries(client, path):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


# Session, user and membership (3; the last-seen stamp is skipped within a minute), unread
# badge (1), the form's teams (1), the summary: leads by day/source/team, leads by holder,
# openings (first and per attendant: two percentile statements on PostgreSQL, one read on
# SQLite), history per attendant, the attendants, the queue (7 or 6); the funnel: leads by
# holder, team, source and outcome, and their stage changes (2); the person's organizations
# for the header's switch (1).
DASHBOARD_QUERIES = 15


def test_dashboard_query_count_does_not_grow_with_attendants_or_days(
    org, alice, sales, history, new_lead
):
    client = client_for(alice)
    client.get("/manage/")  # the last-seen stamp
    small = _queries(client, "/manage/?preset=today")

    for n in range(6):
        member = MembershipFactory(organization=org)
        TeamMemberFactory(team=sales, membership=member, order=10 + n)
        new_lead(org, team=sales, now=at(9, n, day=MON - timedelta(days=n + 1)))
    large = _queries(client, "/manage/?preset=30d")

    assert small == large <= DASHBOARD_QUERIES


def test_attendant_sees_only_their_own_numbers_at_the_top_of_the_inbox(bob, dave, history):
    page = client_for(bob).get("/inbox/").content.decode()

    # Bob opened one lead after 3 minutes and missed the one that went to Dave.
    assert 'data-figure="own-median">3 min<' in page
    assert 'data-figure="own-missed">1<' in page
    dave_page = client_for(dave).get("/inbox/").content.decode()
    assert 'data-figure="own-missed">1<' in dave_page
    assert 'data-figure="own-opened">0<' in dave_page
    assert "/manage/reports/leads.csv" not in page


def test_managers_get_an_export_link_with_the_inbox_filters(alice, history):
    page = client_for(alice).get("/inbox/?tab=all&q=Ana").content.decode()

    assert "/manage/reports/leads.csv?tab=all&amp;q=Ana&amp;status=open" in page
    assert 'data-figure="own-median"' not in page
