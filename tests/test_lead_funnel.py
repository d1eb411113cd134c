"""A lead's stage and score (issue 16): intake scores it before routing, attendants and CRMs
move it through the funnel, each change is history and a webhook, and bad input is a 400
naming the field with nothing half-saved."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from funnel.services import (
    lost_reason_set_active,
    scoring_rule_create,
    stage_create,
    stage_set_active,
)
from history.models import LeadEvent
from history.services import Actor
from integrations.models import WebhookDelivery
from integrations.services import endpoint_create
from leads import services
from leads.models import Lead
from routing.services_rules import routing_rule_create

from .helpers import client_for

Type = LeadEvent.Type
LEADS = "/api/v1/leads"
BUDGET = [{"field": "custom.budget", "op": "gte", "value": 10000}]


@pytest.fixture
def team(org, make_team, bob):
    """Bob alone in the default team: every lead is his."""
    team = make_team(org, size=0, slug="sales")
    team.members.create(membership=bob, order=0)
    org.default_team = team
    org.save(update_fields=["default_team"])
    return team


@pytest.fixture
def rules(org):
    return [
        scoring_rule_create(organization=org, name="budget ≥ 10000", points=30,
                            conditions=BUDGET),
        scoring_rule_create(organization=org, name="source google", points=10, conditions=[
            {"field": "custom.utm_source", "op": "eq", "value": "google"}]),
        scoring_rule_create(organization=org, name="qualified", points=20,
                            behaviour="reached_qualified"),
        scoring_rule_create(organization=org, name="opened in time", points=5,
                            behaviour="opened_in_time"),
        scoring_rule_create(organization=org, name="returning", points=7,
                            behaviour="returning_customer"),
    ]


def named(body: dict) -> list[str]:
    """The fields an error body names (every error also carries ``detail`` and ``code``)."""
    return [name for name in body if name not in ("detail", "code")]


def post(api, **body):
    body.setdefault("email", "maria@example.com")
    response = api.post(LEADS, body, format="json")
    assert response.status_code == 201, response.content
    return Lead.objects.get(pk=response.json()["id"])


def patch(api, lead, **body):
    return api.patch(f"{LEADS}/{lead.pk}", body, format="json")


def events(lead, *types):
    found = LeadEvent.objects.filter(lead=lead).order_by("created_at", "id")
    return list(found.filter(type__in=types) if types else found)


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- intake -------------------------------------------------------------------------------


def test_a_new_lead_starts_new_scored_by_the_rules_and_its_history_says_how(
    api, team, rules
):
    response = api.post(LEADS, {"email": "maria@example.com", "custom": {
        "budget": 15000, "utm_source": "google"}}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["stage"], body["score"], body["lost_reason"]) == ("new", 40, None)
    created = events(Lead.objects.get(pk=body["id"]), Type.CREATED)[0]
    assert created.data["score"] == {"total": 40, "parts": [
        {"rule_id": rules[0].pk, "name": "budget ≥ 10000", "points": 30},
        {"rule_id": rules[1].pk, "name": "source google", "points": 10},
    ]}


def test_a_returning_customer_gets_the_behaviours_points(api, team, rules):
    post(api, email="maria@example.com")

    again = post(api, email="MARIA@example.com")

    assert again.is_returning and again.score == 7


def test_a_routing_rule_on_score_sends_high_scores_to_the_dedicated_attendant(
    api, org, team, rules, bob, dave
):
    team.members.create(membership=dave, order=1)
    routing_rule_create(organization=org, name="high value", team=team, attendant=dave,
                        conditions=[{"field": "score", "op": "gte", "value": 40}])

    high = post(api, email="rich@example.com", custom={"budget": 50000, "utm_source": "google"})
    lows = [post(api, email=f"low{n}@example.com", custom={"budget": 100}) for n in range(4)]

    assert (high.score, high.assignee_id) == (40, dave.pk)
    assert events(high, Type.ASSIGNED)[0].data["how"] == "dedicated"
    assert {lead.assignee_id for lead in lows} == {bob.pk, dave.pk}  # the rotation


def test_scoring_rules_cost_intake_no_query_once_read(api, team, rules,
                                                      django_assert_max_num_queries):
    from .test_query_counts import INGEST_QUERIES

    post(api, email="warm@example.com")
    with django_assert_max_num_queries(INGEST_QUERIES):
        response = api.post(LEADS, {"email": "maria@example.com", "external_id": "x-1",
                                    "custom": {"budget": 20000}}, format="json")
    assert (response.status_code, response.json()["score"]) == (201, 30)


# --- moving a lead: the API ---------------------------------------------------------------


@pytest.fixture
def endpoint(org):
    return endpoint_create(organization=org, url="https://93.184.215.14/hooks",
                           event_types=["stage_changed", "scored"])[0]


def test_patch_moves_the_stage_with_its_event_and_its_webhook(api, api_key, team, rules,
                                                              endpoint):
    lead = post(api)

    response = patch(api, lead, stage="qualified")

    assert response.status_code == 200, response.content
    assert (response.json()["stage"], response.json()["score"]) == ("qualified", 20)
    lead.refresh_from_db()
    assert lead.stage == "qualified" and lead.qualified_at is not None
    changed, scored = events(lead, Type.STAGE_CHANGED, Type.SCORED)
    assert changed.data == {"from": "new", "to": "qualified", "lost_reason": None}
    assert (changed.actor_kind, changed.actor_api_key_id) == ("api_key", api_key.pk)
    assert scored.data["from"] == 0 and scored.data["total"] == 20
    payloads = {d.payload["type"]: d.payload for d in WebhookDelivery.objects.filter(
        endpoint=endpoint)}
    assert payloads["stage_changed"]["stage"] == {"from": "new", "to": "qualified",
                                                 "lost_reason": None}
    assert payloads["stage_changed"]["lead"]["stage"] == "qualified"
    assert payloads["scored"]["score"]["parts"] == [
        {"rule_id": rules[2].pk, "name": "qualified", "points": 20}]


def test_patch_to_customer_concludes_the_lead_as_won(api, team):
    lead = post(api)

    response = patch(api, lead, stage="customer")

    assert response.status_code == 200, response.content
    lead.refresh_from_db()
    assert (lead.stage, lead.status, lead.overflow_active) == ("customer", "concluded", False)
    assert [e.type for e in events(lead)][-3:] == [Type.CONCLUDED, Type.OVERFLOW_STOPPED,
                                                   Type.STAGE_CHANGED]


def test_patch_to_lost_needs_a_reason_of_the_organization(api, team):
    lead = post(api)

    missing = patch(api, lead, stage="lost")
    unknown = patch(api, lead, stage="lost", lost_reason="too-expensive")
    lost = patch(api, lead, stage="lost", lost_reason="no_budget")

    assert missing.status_code == unknown.status_code == 400
    assert named(missing.json()) == named(unknown.json()) == ["lost_reason"]
    assert "no_budget" in unknown.json()["lost_reason"][0]  # the keys it takes are named
    assert lost.status_code == 200, lost.content
    assert (lost.json()["stage"], lost.json()["lost_reason"], lost.json()["status"]) == (
        "lost", "no_budget", "concluded")


@pytest.mark.parametrize("body, field", [
    ({"stage": "won"}, "stage"),
    ({"stage": "customer", "lost_reason": "no_budget"}, "lost_reason"),
    ({"stage": "qualified", "lost_reason": "no_budget"}, "lost_reason"),
    ({"stage": 3}, "stage"),
    ({}, "stage"),
    ({"stage": "qualified", "status": "concluded"}, "status"),
])
def test_bad_stage_changes_are_a_400_naming_the_field_and_change_nothing(
    api, team, body, field
):
    lead = post(api)
    before = len(events(lead))

    response = patch(api, lead, **body)

    assert response.status_code == 400, response.content
    assert field in response.json()
    lead.refresh_from_db()
    assert (lead.stage, lead.status, lead.lost_reason) == ("new", "open", "")
    assert len(events(lead)) == before


def test_a_concluded_lead_moves_only_between_won_and_lost(api, team):
    lead = post(api)
    assert patch(api, lead, stage="lost", lost_reason="no_answer").status_code == 200

    back = patch(api, lead, stage="opportunity")
    won = patch(api, lead, stage="customer")

    assert back.status_code == 400 and named(back.json()) == ["stage"]
    assert won.status_code == 200, won.content
    assert (won.json()["stage"], won.json()["lost_reason"]) == ("customer", None)
    assert [e.type for e in events(lead)].count(Type.CONCLUDED) == 1


def test_the_same_stage_again_changes_nothing(api, team):
    lead = post(api)
    patch(api, lead, stage="opportunity")

    again = patch(api, lead, stage="opportunity")

    assert again.status_code == 200
    assert len(events(lead, Type.STAGE_CHANGED)) == 1


def test_a_lost_lead_keeps_its_reason_unless_told_another(api, team):
    lead = post(api)
    patch(api, lead, stage="lost", lost_reason="no_answer")

    assert patch(api, lead, stage="lost").json()["lost_reason"] == "no_answer"
    assert patch(api, lead, lost_reason="bought_elsewhere").json()["lost_reason"] == (
        "bought_elsewhere")
    assert [e.data["lost_reason"] for e in events(lead, Type.STAGE_CHANGED)] == [
        "no_answer", "bought_elsewhere"]


def test_an_archived_reason_or_stage_takes_no_more_leads(api, org, team):
    lost_reason_set_active(organization=org, key="no_budget", is_active=False)
    extra = stage_create(organization=org, name="Proposta enviada")
    stage_set_active(organization=org, key=extra.key, is_active=False)
    lead = post(api)

    assert named(patch(api, lead, stage="lost", lost_reason="no_budget").json()) == [
        "lost_reason"]
    assert named(patch(api, lead, stage=extra.key).json()) == ["stage"]


def test_another_organizations_lead_is_a_404(api, outsider_api, team):
    lead = post(api)

    assert outsider_api.patch(f"{LEADS}/{lead.pk}", {"stage": "lost"},
                              format="json").status_code == 404
    lead.refresh_from_db()
    assert lead.stage == "new"


def test_leads_are_filtered_by_stage_and_min_score(api, team, rules):
    rich = post(api, email="rich@example.com", custom={"budget": 20000})
    poor = post(api, email="poor@example.com")
    patch(api, poor, stage="qualified")

    def ids(query):
        response = api.get(f"{LEADS}?{query}")
        assert response.status_code == 200, response.content
        return {lead["id"] for lead in response.json()["results"]}

    assert ids("stage=qualified") == {poor.pk}
    assert ids("min_score=25") == {rich.pk}
    assert ids("min_score=20") == {rich.pk, poor.pk}
    assert ids("stage=new&min_score=20") == {rich.pk}
    assert named(api.get(f"{LEADS}?stage=won").json()) == ["stage"]
    assert named(api.get(f"{LEADS}?min_score=high").json()) == ["min_score"]


def test_reopening_a_won_lead_takes_it_back_to_its_last_stage(api, org, team, bob):
    lead = post(api)
    patch(api, lead, stage="opportunity")
    patch(api, lead, stage="customer")

    services.lead_reopen(organization=org, lead_id=lead.pk, membership=bob)

    lead.refresh_from_db()
    assert (lead.status, lead.stage) == ("open", "opportunity")
    assert events(lead, Type.STAGE_CHANGED)[-1].data == {
        "from": "customer", "to": "opportunity", "lost_reason": None}


# --- behaviours -------------------------------------------------------------------------


def test_opening_within_the_service_time_adds_its_points_once(client, api, team, bob, rules):
    lead = post(api)

    assert client_for(bob).get(f"/leads/{lead.pk}/").status_code == 200

    lead.refresh_from_db()
    assert lead.opened_in_time and lead.score == 5
    scored = events(lead, Type.SCORED)
    assert len(scored) == 1 and scored[0].data["parts"][0]["name"] == "opened in time"


def test_opening_after_the_service_time_adds_nothing(client, org, team, bob, rules, new_lead):
    team.overflow_policy.enabled = False  # no clock runs: the service time still counts
    team.overflow_policy.save()
    lead = new_lead(org, team=team, now=timezone.now() - timedelta(minutes=11))

    client_for(bob).get(f"/leads/{lead.pk}/")

    lead.refresh_from_db()
    assert lead.first_accessed_at is not None
    assert (lead.opened_in_time, lead.score) == (False, 0)
    assert not events(lead, Type.SCORED)


def test_reaching_a_stage_past_qualified_counts_as_reaching_qualified(api, team, rules):
    lead = post(api)

    patch(api, lead, stage="opportunity")
    patch(api, lead, stage="new")

    lead.refresh_from_db()
    assert lead.qualified_at is not None and lead.score == 20  # reached: it stays


# --- the lead page ------------------------------------------------------------------------


def test_one_click_on_a_stage_button_moves_the_lead(client, api, team, bob):
    lead = post(api)
    page = english(client_for(bob))

    shown = page.get(f"/leads/{lead.pk}/").content.decode()
    response = page.post(f"/leads/{lead.pk}/stage/", {"stage": "qualified"})

    assert 'data-stage-button="qualified"' in shown
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.stage == "qualified"
    changed = events(lead, Type.STAGE_CHANGED)[0]
    assert (changed.actor_kind, changed.actor_user_id) == ("user", bob.user_id)
    after = page.get(f"/leads/{lead.pk}/").content.decode()
    assert "New → Qualified" in after and 'aria-pressed="true"' in after


def test_concluding_on_the_page_says_won_or_lost_with_a_reason(client, api, team, bob):
    won, lost = post(api, email="a@example.com"), post(api, email="b@example.com")
    page = english(client_for(bob))

    no_reason = page.post(f"/leads/{lost.pk}/conclude/", {"outcome": "lost"})
    page.post(f"/leads/{won.pk}/conclude/", {"outcome": "customer", "lost_reason": "no_answer"})
    page.post(f"/leads/{lost.pk}/conclude/", {"outcome": "lost", "lost_reason": "no_answer"})

    assert no_reason.status_code == 400
    assert "Choose why the lead was lost." in no_reason.content.decode()
    won.refresh_from_db()
    lost.refresh_from_db()
    assert (won.status, won.stage, won.lost_reason) == ("concluded", "customer", "")
    assert (lost.status, lost.stage, lost.lost_reason) == ("concluded", "lost", "no_answer")


def test_concluding_without_an_outcome_keeps_the_stage(client, api, team, bob):
    lead = post(api)
    patch(api, lead, stage="opportunity")

    client_for(bob).post(f"/leads/{lead.pk}/conclude/", {"note": "done"})

    lead.refresh_from_db()
    assert (lead.status, lead.stage) == ("concluded", "opportunity")


def test_only_the_holder_or_a_manager_moves_a_lead(client, api, org, team, bob, dave, alice):
    dave.can_see_all = True
    dave.save()
    lead = post(api)

    refused = english(client_for(dave)).post(f"/leads/{lead.pk}/stage/", {"stage": "qualified"},
                                             follow=True)
    client_for(alice).post(f"/leads/{lead.pk}/stage/", {"stage": "opportunity"})

    assert "Only the lead&#x27;s attendant or a manager" in refused.content.decode()
    lead.refresh_from_db()
    assert lead.stage == "opportunity"


def test_an_outsider_cannot_move_or_see_a_lead(client, api, team, charlie):
    lead = post(api)
    outsider = client_for(charlie)

    assert outsider.post(f"/leads/{lead.pk}/stage/", {"stage": "lost"}).status_code == 404
    assert outsider.post(f"/leads/{lead.pk}/conclude/", {"outcome": "customer"}).status_code == 404
    lead.refresh_from_db()
    assert (lead.stage, lead.status) == ("new", "open")


def test_an_unknown_stage_from_the_page_is_a_message_not_an_error(client, api, team, bob):
    lead = post(api)

    response = english(client_for(bob)).post(f"/leads/{lead.pk}/stage/", {"stage": "won"},
                                             follow=True)

    assert response.status_code == 200
    assert "Unknown stage “won”" in response.content.decode()


def test_the_inbox_filters_and_sorts_by_stage_and_score(client, api, team, bob, rules):
    rich = post(api, email="rich@example.com", custom={"budget": 20000})
    poor = post(api, email="poor@example.com")
    qualified = post(api, email="q@example.com")
    patch(api, qualified, stage="qualified")
    page = client_for(bob)

    def ids(query):
        response = page.get(f"/inbox/?{query}")
        assert response.status_code == 200
        return [lead.pk for lead in response.context["page"].object_list]

    assert ids("stage=qualified") == [qualified.pk]
    assert set(ids("min_score=25")) == {rich.pk}
    assert ids("sort=score") == [rich.pk, qualified.pk, poor.pk]
    assert 'data-stage="qualified"' in page.get("/inbox/").content.decode()


# --- races --------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_stage_changes_leave_one_consistent_history(org, team, bob):
    from tests.races import Threads

    lead, _created = services.lead_create(organization=org, data={"email": "x@example.com"},
                                          actor=Actor.system())
    targets = ["qualified", "opportunity", "new", "qualified", "opportunity", "new"] * 2
    threads = Threads(parties=len(targets))

    def move(stage):
        def job():
            threads.wait()
            return services.lead_stage_change(organization=org, lead_id=lead.pk, stage=stage,
                                              actor=Actor.system()).stage
        return job

    for n, stage in enumerate(targets):
        threads.start(n, move(stage))
    threads.join()

    lead.refresh_from_db()
    changes = events(lead, Type.STAGE_CHANGED)
    # Each change starts where the one before left the lead, none is lost or repeated, and
    # the last leaves it where it is.
    assert changes, "no change was recorded"
    assert changes[0].data["from"] == "new"
    for before, after in zip(changes, changes[1:], strict=False):
        assert after.data["from"] == before.data["to"] != after.data["to"]
    assert changes[-1].data["to"] == lead.stage

