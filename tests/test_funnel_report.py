"""Conversion (issue 16): the funnel's definitions in reports/definitions.py, one test each,
and its figures against hand-made histories, on the dashboard and from
GET /api/v1/reports/funnel."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from funnel.services import lost_reason_rename, stage_create, stage_move
from history.models import LeadEvent
from history.services import Actor
from leads.models import Lead
from leads.services import lead_conclude, lead_stage_change
from reports import definitions as d
from reports.selectors import funnel

from .factories import TeamMemberFactory
from .helpers import client_for

SP = ZoneInfo("America/Sao_Paulo")
MON = date(2026, 11, 23)
TUE = date(2026, 11, 24)
FUNNEL = "/api/v1/reports/funnel"


def at(hour, minute=0, day=MON):
    return datetime.combine(day, time(hour, minute), tzinfo=SP)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(at(18, day=TUE), tick=False):
        yield


@pytest.fixture
def sales(org, bob, make_team):
    team = make_team(org, size=0, slug="sales")
    TeamMemberFactory(team=team, membership=bob, order=0)
    return team


@pytest.fixture
def support(org, dave, make_team):
    team = make_team(org, size=0, slug="support")
    TeamMemberFactory(team=team, membership=dave, order=0)
    return team


def move(lead, *stages, when, reason=""):
    for stage in stages:
        lead_stage_change(organization=lead.organization, lead_id=lead.pk, stage=stage,
                          lost_reason=reason if stage == "lost" else None, actor=Actor.system(),
                          now=when)


@pytest.fixture
def history(org, sales, support, bob, dave, new_lead):
    """Monday's leads and where they got:

    sales (bob): A new → qualified → opportunity → customer (won, by the API's PATCH way);
    B new → qualified, then lost (no budget) when concluded on the page; C jumped straight to
    opportunity, then lost (no answer); D stays new; E, a manual lead, concluded as won
    from new. support (dave): F qualified and lost (no budget); G concluded without an
    outcome. H arrived on Tuesday: outside Monday's range.
    """
    leads = {name: new_lead(org, team=sales, now=at(9, n), name=name)
             for n, name in enumerate("ABCD")}
    leads["E"] = new_lead(org, team=sales, source="manual", now=at(9, 30), name="E")
    leads["F"] = new_lead(org, team=support, now=at(10), name="F")
    leads["G"] = new_lead(org, team=support, now=at(10, 5), name="G")
    leads["H"] = new_lead(org, team=sales, now=at(9, day=TUE), name="H")
    move(leads["A"], "qualified", "opportunity", "customer", when=at(11))
    move(leads["B"], "qualified", when=at(11))
    lead_conclude(organization=org, lead_id=leads["B"].pk, membership=bob, outcome="lost",
                  lost_reason="no_budget", now=at(12))
    move(leads["C"], "opportunity", when=at(11))
    move(leads["C"], "lost", reason="no_answer", when=at(12))
    lead_conclude(organization=org, lead_id=leads["E"].pk, membership=bob,
                  outcome="customer", now=at(12))
    move(leads["F"], "qualified", when=at(11))
    move(leads["F"], "lost", reason="no_budget", when=at(12))
    lead_conclude(organization=org, lead_id=leads["G"].pk, membership=dave, now=at(12))
    move(leads["H"], "qualified", "customer", when=at(11, day=TUE))
    return leads


def monday(org, team=None):
    return funnel(organization=org, date_range=d.DateRange(MON, MON), team=team)


# --- the definitions ------------------------------------------------------------------------


def test_reached_counts_a_lead_moved_into_a_step_or_past_it(org, history):
    of_monday = d.received(org, d.DateRange(MON, MON).bounds(SP), through="lead__")
    changes = LeadEvent.objects.filter(of_monday)

    def leads(keys):
        return set(changes.filter(d.reached(keys)).values_list("lead__name", flat=True))

    assert leads(["qualified", "opportunity", "customer"]) == {"A", "B", "C", "E", "F"}
    assert leads(["opportunity", "customer"]) == {"A", "C", "E"}
    assert leads(["customer"]) == {"A", "E"}


def test_won_and_lost_now_are_the_leads_in_those_stages(org, history):
    leads = Lead.objects.for_org(org)

    assert set(leads.filter(d.WON).values_list("name", flat=True)) == {"A", "E", "H"}
    assert set(leads.filter(d.LOST_NOW).values_list("name", flat=True)) == {"B", "C", "F"}


def test_conversion_is_the_next_steps_leads_over_this_ones():
    assert d.conversion(3, 4) == 0.75
    assert d.conversion(0, 0) is None


def test_win_rate_is_won_over_won_and_lost():
    assert d.win_rate(2, 3) == 0.4
    assert d.win_rate(0, 0) is None
    assert d.win_rate(1, 0) == 1.0


# --- the figures ---------------------------------------------------------------------------


def test_the_funnel_counts_how_far_the_leads_received_got(org, history):
    report = monday(org)

    assert report.leads_received == 7
    assert [(s.key, s.reached, s.conversion) for s in report.steps] == [
        ("new", 7, None), ("qualified", 5, 5 / 7), ("opportunity", 3, 3 / 5),
        ("customer", 2, 2 / 3)]
    assert (report.overall.won, report.overall.lost, report.overall.win_rate) == (2, 3, 0.4)
    assert [(r.key, r.count) for r in report.overall.lost_reasons] == [
        ("no_budget", 2), ("no_answer", 1)]


def test_win_rate_and_lost_reasons_per_attendant_team_and_source(org, history, bob, dave,
                                                                  sales, support):
    report = monday(org)

    people = {r.key: (r.won, r.lost, r.win_rate) for r in report.attendants}
    assert people == {bob.pk: (2, 2, 0.5), dave.pk: (0, 1, 0.0)}
    bob_row = next(r for r in report.attendants if r.key == bob.pk)
    assert bob_row.label == bob.display_name
    assert {r.key: r.count for r in bob_row.lost_reasons} == {"no_answer": 1, "no_budget": 1}
    assert {r.slug: (r.won, r.lost) for r in report.teams} == {"sales": (2, 2),
                                                               "support": (0, 1)}
    sources = {r.key: (r.received, r.won, r.lost, r.win_rate) for r in report.sources}
    assert sources == {"api": (6, 1, 3, 0.25), "manual": (1, 1, 0, 1.0)}


def test_a_team_and_a_range_pick_their_leads(org, history, support):
    assert monday(org, team=support).leads_received == 2
    assert [s.reached for s in monday(org, team=support).steps] == [2, 1, 0, 0]
    tuesday = funnel(organization=org, date_range=d.DateRange(TUE, TUE))
    assert (tuesday.leads_received, tuesday.overall.won) == (1, 1)
    # H went from qualified straight to customer: past opportunity, so it reached it.
    assert [s.reached for s in tuesday.steps] == [1, 1, 1, 1]


def test_reached_follows_the_funnels_order_now(org, history):
    extra = stage_create(organization=org, name="Proposta")
    stage_move(organization=org, key="opportunity", offset=-1)  # before qualified now
    lost_reason_rename(organization=org, key="no_budget", name="Sem verba")

    report = monday(org)

    assert [(s.key, s.reached) for s in report.steps] == [
        ("new", 7), ("opportunity", 5), ("qualified", 4), (extra.key, 2), ("customer", 2)]
    assert report.overall.lost_reasons[0].name == "Sem verba"


def test_a_funnel_costs_the_same_queries_whatever_the_leads(org, history, new_lead, sales,
                                                            django_assert_max_num_queries):
    monday(org)  # the funnel's copy
    with django_assert_max_num_queries(4):
        monday(org)


# --- the API and the dashboard -------------------------------------------------------------


def test_the_funnel_api_gives_the_figures(api, org, history, bob):
    response = api.get(FUNNEL, {"from": "2026-11-23", "to": "2026-11-23"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["from"], body["to"], body["team"], body["leads_received"]) == (
        "2026-11-23", "2026-11-23", None, 7)
    assert [(s["key"], s["reached"]) for s in body["stages"]] == [
        ("new", 7), ("qualified", 5), ("opportunity", 3), ("customer", 2)]
    assert (body["won"], body["lost"], body["win_rate"]) == (2, 3, 0.4)
    assert [(r["key"], r["count"]) for r in body["lost_reasons"]] == [("no_budget", 2),
                                                                      ("no_answer", 1)]
    assert body["attendants"][0]["id"] == bob.pk and body["attendants"][0]["win_rate"] == 0.5
    assert {t["team"] for t in body["teams"]} == {"sales", "support"}
    assert {s["source"] for s in body["sources"]} == {"api", "manual"}


@pytest.mark.parametrize("query, parameter", [
    ({"from": "2026-11-24", "to": "2026-11-23"}, "to"),
    ({"from": "yesterday"}, "from"),
    ({"team": "nope"}, "team"),
])
def test_bad_funnel_parameters_are_a_400_naming_them(api, org, query, parameter):
    response = api.get(FUNNEL, query)

    assert response.status_code == 400
    assert parameter in response.json()


def test_an_outsiders_key_gets_its_own_empty_funnel(outsider_api, org, history, sales):
    response = outsider_api.get(FUNNEL, {"from": "2026-11-23", "to": "2026-11-23"})

    assert response.status_code == 200
    assert response.json()["leads_received"] == 0 and response.json()["attendants"] == []
    assert outsider_api.get(FUNNEL, {"team": "sales"}).status_code == 400


def test_the_dashboard_shows_the_funnel(org, alice, history):
    page = client_for(alice).get("/manage/?from=2026-11-23&to=2026-11-23")

    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="funnel"' in html and 'aria-labelledby="chart-funnel-title"' in html
    assert '<strong data-figure="won">2</strong>' in html
    assert 'data-stage="opportunity"><th scope="row">' in html
    assert 'id="table-attendant-wins"' in html and 'data-reason="no_budget"' in html


def test_an_outsider_manager_sees_nothing_of_it_on_their_dashboard(charlie, history):
    html = client_for(charlie).get("/manage/?from=2026-11-23&to=2026-11-23").content.decode()

    assert '<strong data-figure="won">' not in html  # no leads: the empty page
    assert "Bob" not in html
