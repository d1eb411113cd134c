"""An organization's funnel and scoring rules (issue 16): the services, the managers' pages,
the API, the per-process copy, and tenant isolation for every new page and endpoint."""

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from funnel import services
from funnel.models import LostReason, ScoringRule, Stage
from funnel.selectors import active_scoring_rules, funnel_of
from routing.services_rules import routing_rule_create
from teams.models import Organization

from .factories import OrganizationFactory
from .helpers import client_for

RULES = "/api/v1/scoring-rules"
BUDGET = [{"field": "custom.budget", "op": "gte", "value": 10000}]


def keys(organization):
    return [s.key for s in funnel_of(organization=organization).stages]


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- stages and lost reasons --------------------------------------------------------------


def test_every_new_organization_starts_with_the_default_funnel(db):
    org = OrganizationFactory()

    assert keys(org) == ["new", "qualified", "opportunity", "customer", "lost"]
    assert [s.kind for s in Stage.objects.for_org(org)] == [
        "new", "middle", "middle", "won", "lost"]
    assert [r.key for r in LostReason.objects.for_org(org)] == [
        "no_budget", "no_answer", "bought_elsewhere", "invalid_contact", "not_interested"]


def test_default_names_follow_the_readers_language_until_renamed(org):
    from django.utils import translation

    with translation.override("pt-br"):
        assert [s.label for s in funnel_of(organization=org).stages] == [
            "Novo", "Qualificado", "Oportunidade", "Cliente", "Perdido"]
    services.stage_rename(organization=org, key="customer", name="Venda fechada")
    with translation.override("en"):
        assert funnel_of(organization=org).stage_label("customer") == "Venda fechada"
        assert funnel_of(organization=org).stage_label("new") == "New"
    services.stage_rename(organization=org, key="customer", name="")
    with translation.override("en"):
        assert funnel_of(organization=org).stage_label("customer") == "Customer"


def test_middle_stages_are_added_before_customer_and_reordered_among_themselves(org):
    stage = services.stage_create(organization=org, name="Proposta enviada")

    assert stage.key == "proposta_enviada"
    assert keys(org) == ["new", "qualified", "opportunity", "proposta_enviada", "customer",
                         "lost"]
    services.stage_move(organization=org, key="proposta_enviada", offset=-1)
    services.stage_move(organization=org, key="qualified", offset=5)  # clamped: last middle
    assert keys(org) == ["new", "proposta_enviada", "opportunity", "qualified", "customer",
                         "lost"]
    with pytest.raises(ValidationError) as refused:
        services.stage_move(organization=org, key="customer", offset=-1)
    assert "stage" in refused.value.message_dict


def test_the_ends_keep_their_meaning_and_the_built_in_stages_stay(org):
    with pytest.raises(ValidationError):
        services.stage_set_active(organization=org, key="qualified", is_active=False)
    with pytest.raises(ValidationError) as empty:
        services.stage_create(organization=org, name="  ")
    with pytest.raises(ValidationError) as twice:
        services.stage_create(organization=org, name="qualified")
    assert "name" in empty.value.message_dict and "name" in twice.value.message_dict
    assert keys(org) == ["new", "qualified", "opportunity", "customer", "lost"]


def test_an_archived_stage_leaves_the_funnels_steps_but_keeps_its_name(org):
    stage = services.stage_create(organization=org, name="Demo")

    services.stage_set_active(organization=org, key=stage.key, is_active=False)

    funnel = funnel_of(organization=org)
    assert stage.key not in [s.key for s in funnel.steps + funnel.open_stages]
    assert funnel.stage_label(stage.key) == "Demo"


def test_lost_reasons_are_added_renamed_and_archived_but_one_stays(org):
    reason = services.lost_reason_create(organization=org, name="Preço alto")
    services.lost_reason_rename(organization=org, key="no_answer", name="Sumiu")
    for key in ["no_budget", "no_answer", "bought_elsewhere", "invalid_contact",
                "not_interested"]:
        services.lost_reason_set_active(organization=org, key=key, is_active=False)

    with pytest.raises(ValidationError):
        services.lost_reason_set_active(organization=org, key=reason.key, is_active=False)
    funnel = funnel_of(organization=org)
    assert [r.key for r in funnel.offered_reasons] == ["preco_alto"]
    assert funnel.reason_label("no_answer") == "Sumiu"


def test_another_organizations_stage_or_reason_does_not_exist_here(org, other_org):
    other = services.stage_create(organization=other_org, name="Só deles")

    with pytest.raises(Stage.DoesNotExist):
        services.stage_rename(organization=org, key=other.key, name="x")
    with pytest.raises(LostReason.DoesNotExist):
        services.lost_reason_rename(organization=org, key="nope", name="x")


def test_a_change_reaches_the_copies_of_every_process(org):
    assert funnel_of(organization=org).stage_label("lost") != "Perdemos"
    assert active_scoring_rules(organization=org) == ()

    services.stage_rename(organization=org, key="lost", name="Perdemos")
    services.scoring_rule_create(organization=org, name="rich", points=5, conditions=BUDGET)

    # Another process: its copies were built at the old version, the request loads the new.
    fresh = Organization.objects.get(pk=org.pk)
    assert funnel_of(organization=fresh).stage_label("lost") == "Perdemos"
    assert [r.name for r in active_scoring_rules(organization=fresh)] == ["rich"]


# --- scoring rules: services ---------------------------------------------------------------


@pytest.mark.parametrize("fields, field", [
    ({"name": " "}, "name"),
    ({"points": 5000}, "points"),
    ({"points": "ten"}, "points"),
    ({"conditions": [{"field": "budget", "op": "gte", "value": 1}]}, "conditions"),
    ({"conditions": [{"field": "custom.budget", "op": "greater", "value": 1}]}, "conditions"),
    ({"conditions": [{"field": "custom.budget", "op": "gte", "value": "lots"}]}, "conditions"),
    ({"conditions": [{"field": "score", "op": "gte", "value": 10}]}, "conditions"),
    ({"conditions": [], "behaviour": ""}, "conditions"),
    ({"behaviour": "loyal"}, "behaviour"),
])
def test_a_bad_scoring_rule_is_refused_naming_the_field(org, fields, field):
    rule = {"name": "rich", "points": 10, "conditions": BUDGET, "behaviour": "", **fields}

    with pytest.raises(ValidationError) as refused:
        services.scoring_rule_create(organization=org, **rule)

    assert field in refused.value.message_dict
    assert not ScoringRule.objects.exists()


# --- scoring rules: the API ----------------------------------------------------------------


def test_scoring_rules_are_created_changed_listed_and_deleted_through_the_api(api, org):
    created = api.post(RULES, {"name": "budget ≥ 10000", "points": 30, "conditions": BUDGET},
                       format="json")
    assert created.status_code == 201, created.content
    rule = created.json()
    assert (rule["points"], rule["behaviour"], rule["is_active"]) == (30, "", True)

    changed = api.patch(f"{RULES}/{rule['id']}", {"points": 40}, format="json")
    assert changed.status_code == 200 and changed.json()["points"] == 40
    assert [r["name"] for r in api.get(RULES).json()["results"]] == ["budget ≥ 10000"]
    assert api.delete(f"{RULES}/{rule['id']}").status_code == 204
    assert not ScoringRule.objects.for_org(org).exists()


@pytest.mark.parametrize("body, field", [
    ({"name": "x", "points": 5, "conditions": [{"field": "nope", "op": "eq", "value": 1}]},
     "conditions"),
    ({"name": "x", "points": 5, "conditions": [{"field": "source", "op": "like",
                                                "value": "a"}]}, "conditions"),
    ({"name": "x", "points": 5, "conditions": [{"field": "custom.budget", "op": "lt",
                                                "value": "cheap"}]}, "conditions"),
    ({"name": "x", "points": 5.5, "behaviour": "opened_in_time"}, "points"),
    ({"name": "x", "points": 5, "behaviour": "vip"}, "behaviour"),
    ({"name": "x", "points": 5, "behaviour": "opened_in_time", "weight": 2}, "weight"),
])
def test_bad_scoring_rules_through_the_api_are_a_400_naming_the_field(api, body, field):
    response = api.post(RULES, body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not ScoringRule.objects.exists()


def test_a_routing_rule_on_a_score_that_is_no_number_is_a_400(api, org):
    response = api.post("/api/v1/routing-rules", {"name": "vip", "conditions": [
        {"field": "score", "op": "gte", "value": "high"}]}, format="json")

    assert response.status_code == 400
    assert "conditions" in response.json()


def test_the_preview_shows_a_sample_leads_score_and_the_routing_rule_that_takes_it(
    api, org, make_team
):
    team = make_team(org, size=1, slug="vip")
    services.scoring_rule_create(organization=org, name="budget", points=30, conditions=BUDGET)
    returning = services.scoring_rule_create(organization=org, name="back", points=5,
                                             behaviour="returning_customer")
    vip = routing_rule_create(organization=org, name="vip", team=team, conditions=[
        {"field": "score", "op": "gte", "value": 35}])

    low = api.post(f"{RULES}/preview", {"custom": {"budget": "20000"}}, format="json")
    high = api.post(f"{RULES}/preview", {"custom": {"budget": 20000}, "returning": True},
                    format="json")

    assert low.status_code == 200, low.content
    assert (low.json()["score"], low.json()["routing_rule"]) == (30, None)
    assert high.json()["score"] == 35 and high.json()["routing_rule"] == vip.pk
    assert high.json()["parts"][-1] == {"rule_id": returning.pk, "name": "back", "points": 5}
    refused = api.post(f"{RULES}/preview", {"returning": "maybe"}, format="json").json()
    assert [name for name in refused if name not in ("detail", "code")] == ["returning"]


def test_stages_and_lost_reasons_are_listed_for_a_crm(api, org):
    services.stage_rename(organization=org, key="customer", name="Venda")

    stages = api.get("/api/v1/stages")
    reasons = api.get("/api/v1/lost-reasons")

    assert stages.status_code == reasons.status_code == 200
    assert [(s["key"], s["kind"]) for s in stages.json()] == [
        ("new", "new"), ("qualified", "middle"), ("opportunity", "middle"),
        ("customer", "won"), ("lost", "lost")]
    assert stages.json()[3]["name"] == "Venda"
    assert reasons.json()[0]["key"] == "no_budget"


def test_an_outsiders_key_sees_and_changes_nothing_of_the_organization(
    outsider_api, org, other_org
):
    rule = services.scoring_rule_create(organization=org, name="rich", points=5,
                                        conditions=BUDGET)
    services.stage_create(organization=org, name="Segredo")

    assert outsider_api.get(RULES).json()["results"] == []
    assert outsider_api.get(f"{RULES}/{rule.pk}").status_code == 404
    assert outsider_api.patch(f"{RULES}/{rule.pk}", {"points": 1},
                              format="json").status_code == 404
    assert outsider_api.delete(f"{RULES}/{rule.pk}").status_code == 404
    assert outsider_api.post(f"{RULES}/preview", {"custom": {"budget": 20000}},
                             format="json").json()["score"] == 0
    assert "segredo" not in str(outsider_api.get("/api/v1/stages").json())
    rule.refresh_from_db()
    assert rule.points == 5


def test_the_api_needs_a_key(client, db):
    for path in (RULES, "/api/v1/stages", "/api/v1/lost-reasons"):
        assert client.get(path).status_code in (401, 403)


# --- the managers' pages -------------------------------------------------------------------


def test_a_manager_renames_adds_moves_and_archives_stages_on_the_page(org, alice):
    page = english(client_for(alice))

    assert page.get("/manage/funnel/").status_code == 200
    page.post("/manage/funnel/stages/new/", {"name": "Proposta"})
    page.post("/manage/funnel/stages/proposta/move/", {"direction": "up"})
    page.post("/manage/funnel/stages/qualified/name/", {"name": "Lead quente"})
    page.post("/manage/funnel/stages/proposta/active/", {"is_active": "0"})
    refused = page.post("/manage/funnel/stages/new/active/", {"is_active": "0"}, follow=True)

    assert keys(org) == ["new", "qualified", "proposta", "opportunity", "customer", "lost"]
    funnel = funnel_of(organization=org)
    assert funnel.stage_label("qualified") == "Lead quente"
    assert not funnel.stage("proposta").is_active and funnel.stage("new").is_active
    assert "built-in stages are always in use" in refused.content.decode()
    assert "Lead quente" in page.get("/manage/funnel/").content.decode()


def test_a_manager_adds_renames_and_archives_lost_reasons_on_the_page(org, alice):
    page = client_for(alice)

    page.post("/manage/funnel/lost-reasons/new/", {"name": "Caro demais"})
    page.post("/manage/funnel/lost-reasons/no_answer/name/", {"name": "Sumiu"})
    page.post("/manage/funnel/lost-reasons/no_budget/active/", {"is_active": "0"})

    funnel = funnel_of(organization=org)
    assert funnel.reason_label("caro_demais") == "Caro demais"
    assert funnel.reason_label("no_answer") == "Sumiu"
    assert "no_budget" not in [r.key for r in funnel.offered_reasons]


def test_a_manager_writes_a_scoring_rule_and_previews_a_sample_lead(org, alice):
    page = english(client_for(alice))

    bad = page.post("/manage/funnel/scoring/new/", {
        "name": "rich", "points": "30", "behaviour": "", "is_active": "on",
        "conditions-TOTAL_FORMS": "1", "conditions-INITIAL_FORMS": "0",
        "conditions-0-field": "score", "conditions-0-op": "gte", "conditions-0-value": "10",
    })
    good = page.post("/manage/funnel/scoring/new/", {
        "name": "budget ≥ 10000", "points": "30", "behaviour": "", "is_active": "on",
        "conditions-TOTAL_FORMS": "1", "conditions-INITIAL_FORMS": "0",
        "conditions-0-field": "custom.budget", "conditions-0-op": "gte",
        "conditions-0-value": "10000",
    })
    preview = page.get("/manage/funnel/scoring/", {"preview": "1",
                                                   "custom": "budget=15000\nplan=pro"})

    assert bad.status_code == 400 and not ScoringRule.objects.filter(name="rich").exists()
    assert good.status_code == 302
    rule = ScoringRule.objects.get(organization=org)
    assert rule.conditions == [{"field": "custom.budget", "op": "gte", "value": "10000"}]
    assert preview.status_code == 200
    assert preview.context["preview"].score.total == 30
    assert "+30 budget ≥ 10000" in preview.content.decode()
    broken = page.get("/manage/funnel/scoring/", {"preview": "1", "custom": "just text"})
    assert broken.status_code == 400 and "name=value" in broken.content.decode()


def test_a_manager_edits_and_deletes_a_scoring_rule(org, alice):
    rule = services.scoring_rule_create(organization=org, name="rich", points=5,
                                        conditions=BUDGET)
    page = client_for(alice)

    assert page.get(f"/manage/funnel/scoring/{rule.pk}/").status_code == 200
    page.post(f"/manage/funnel/scoring/{rule.pk}/", {
        "name": "rich", "points": "-5", "behaviour": "opened_in_time",
        "conditions-TOTAL_FORMS": "0", "conditions-INITIAL_FORMS": "0"})
    rule.refresh_from_db()
    assert (rule.points, rule.behaviour, rule.conditions, rule.is_active) == (
        -5, "opened_in_time", [], False)
    assert page.post(f"/manage/funnel/scoring/{rule.pk}/delete/").status_code == 302
    assert not ScoringRule.objects.exists()


def test_attendants_are_refused_the_funnel_pages(org, bob):
    page = client_for(bob)

    for path in ("/manage/funnel/", "/manage/funnel/scoring/", "/manage/funnel/scoring/new/"):
        assert page.get(path).status_code == 403
    assert page.post("/manage/funnel/stages/new/", {"name": "x"}).status_code == 403
    assert keys(org) == ["new", "qualified", "opportunity", "customer", "lost"]


def test_an_outsider_manager_gets_404_for_everything_of_the_organization(org, charlie):
    rule = services.scoring_rule_create(organization=org, name="rich", points=5,
                                        conditions=BUDGET)
    stage = services.stage_create(organization=org, name="Segredo")
    page = client_for(charlie)

    assert page.get(f"/manage/funnel/scoring/{rule.pk}/").status_code == 404
    assert page.post(f"/manage/funnel/scoring/{rule.pk}/delete/").status_code == 404
    assert page.post(f"/manage/funnel/stages/{stage.key}/name/",
                     {"name": "x"}).status_code == 404
    assert page.post(f"/manage/funnel/stages/{stage.key}/move/",
                     {"direction": "up"}).status_code == 404
    assert page.post(f"/manage/funnel/stages/{stage.key}/active/",
                     {"is_active": "0"}).status_code == 404
    assert "Segredo" not in page.get("/manage/funnel/").content.decode()
    assert "rich" not in page.get("/manage/funnel/scoring/").content.decode()
    rule.refresh_from_db()
    stage.refresh_from_db()
    assert (rule.points, stage.name, stage.is_active) == (5, "Segredo", True)
