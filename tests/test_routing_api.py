"""The routing API: routing rules, skills and a team's preview.

Every endpoint answers the key's organization only: another organization's rule, skill or
team is a 404 in the URL and a 400 naming the field in a body; nothing is written on a refusal.
"""

import json

import pytest
from rest_framework.test import APIClient

from history.models import LeadEvent
from history.services import Actor
from leads.models import Lead
from leads.services import lead_create
from routing.models import RoutingRule
from routing.services_rules import routing_rule_create
from teams.models import Membership, Skill, Team
from teams.services.skills import skill_create

from .factories import MembershipFactory, TeamFactory, TeamMemberFactory

RULES = "/api/v1/routing-rules"
SKILLS = "/api/v1/skills"


def rule_url(rule_id):
    return f"{RULES}/{rule_id}"


def preview_url(slug, n=None):
    return f"/api/v1/teams/{slug}/preview" + (f"?n={n}" if n is not None else "")


@pytest.fixture
def sales(org, make_team):
    return make_team(org, size=3, slug="sales", policy=False)


@pytest.fixture
def vip(org, make_team):
    return make_team(org, size=1, slug="vip", policy=False)


@pytest.fixture
def english(org):
    return skill_create(organization=org, name="English")


@pytest.fixture
def globex(other_org, charlie):
    """Charlie's organization's team, skill and rule, which alice's key must never reach."""
    team = TeamFactory(organization=other_org, name="Globex Squad", slug="squad")
    skill = skill_create(organization=other_org, name="Klingon")
    rule = routing_rule_create(organization=other_org, name="Globex rule", team=team)
    return {"team": team, "skill": skill, "rule": rule, "person": charlie}


def make_rule(org, name="Rule", **fields):
    return routing_rule_create(organization=org, name=name, **fields)


def rules_snapshot():
    """Every rule of every organization, with its skills, to compare before and after."""
    return [
        (r["id"], r["organization_id"], r["name"], r["position"], r["is_active"], r["customer"],
         json.dumps(r["conditions"]), r["team_id"], r["attendant_id"], r["redirect_to"],
         sorted(RoutingRule.objects.get(pk=r["id"]).required_skills.values_list("pk", flat=True)))
        for r in RoutingRule.objects.order_by("pk").values()
    ]


def order_of(org):
    return list(
        RoutingRule.objects.filter(organization=org).order_by("position").values_list(
            "name", "position"
        )
    )


# --- routing rules: create -------------------------------------------------------------------


def test_rule_is_created_last_with_every_field_and_answers_201(api, org, sales, vip, english):
    first = make_rule(org, "First")

    response = api.post(RULES, {
        "name": "Enterprise to VIP",
        "customer": "existing",
        "conditions": [{"field": "custom.plan", "op": "eq", "value": "enterprise"},
                       {"field": "source", "op": "in", "value": ["api", "bot"]}],
        "team": "vip",
        "attendant": vip.attendants[0].pk,
        "required_skills": ["english"],
    }, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    rule = RoutingRule.objects.get(pk=body["id"])
    assert body == {
        "id": rule.pk, "name": "Enterprise to VIP", "position": 1, "is_active": True,
        "customer": "existing",
        "conditions": [{"field": "custom.plan", "op": "eq", "value": "enterprise"},
                       {"field": "source", "op": "in", "value": ["api", "bot"]}],
        "team": "vip", "attendant": vip.attendants[0].pk, "required_skills": ["english"],
        "redirect_to": "", "created_at": body["created_at"],
    }
    assert rule.organization == org
    assert (rule.team, rule.attendant) == (vip, vip.attendants[0])
    assert list(rule.required_skills.all()) == [english]
    assert order_of(org) == [("First", 0), ("Enterprise to VIP", 1)]
    assert first.pk != rule.pk


def test_rule_created_with_a_position_pushes_the_others_down(api, org):
    for name in ("A", "B", "C"):
        make_rule(org, name)

    response = api.post(RULES, {"name": "New", "position": 1}, format="json")

    assert response.status_code == 201
    assert response.json()["position"] == 1
    assert order_of(org) == [("A", 0), ("New", 1), ("B", 2), ("C", 3)]


def test_rule_with_a_redirect_alone_is_created(api, org):
    response = api.post(RULES, {
        "name": "Support elsewhere", "conditions": [{"field": "custom.kind", "op": "eq",
                                                      "value": "support"}],
        "redirect_to": "suporte@example.com",
    }, format="json")

    assert response.status_code == 201
    assert RoutingRule.objects.get(organization=org).redirect_to == "suporte@example.com"


def test_a_rule_made_through_the_api_routes_the_next_lead(api, org, sales, vip, new_lead):
    api.post(RULES, {"name": "Enterprise", "team": "vip",
                     "conditions": [{"field": "custom.plan", "op": "eq", "value": "enterprise"}]},
             format="json")

    routed = new_lead(org, custom={"plan": "enterprise"})
    other = new_lead(org, team=sales, custom={"plan": "free"})

    assert (routed.team, routed.assignee) == (vip, vip.attendants[0])
    assert other.team == sales


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({}, "name", id="no-name"),
        pytest.param({"name": ""}, "name", id="blank-name"),
        pytest.param({"name": "   "}, "name", id="spaces-name"),
        pytest.param({"name": 7}, "name", id="number-name"),
        pytest.param({"name": "x" * 121}, "name", id="long-name"),
        pytest.param({"name": "R", "customer": "vip"}, "customer", id="customer"),
        pytest.param({"name": "R", "conditions": {"field": "source"}}, "conditions",
                     id="conditions-not-a-list"),
        pytest.param({"name": "R", "conditions": [{"field": "plan", "op": "eq", "value": 1}]},
                     "conditions", id="condition-field"),
        pytest.param({"name": "R", "conditions": [{"field": "source", "op": "like",
                                                   "value": "a"}]},
                     "conditions", id="condition-op"),
        pytest.param({"name": "R", "conditions": [{"field": "source", "op": "in",
                                                   "value": "api"}]},
                     "conditions", id="condition-in-needs-list"),
        pytest.param({"name": "R", "conditions": [{"field": "source", "op": "eq"}]},
                     "conditions", id="condition-value"),
        pytest.param({"name": "R", "team": "nowhere"}, "team", id="unknown-team"),
        pytest.param({"name": "R", "team": "squad"}, "team", id="foreign-team"),
        pytest.param({"name": "R", "attendant": 999999}, "attendant", id="unknown-attendant"),
        pytest.param({"name": "R", "attendant": "charlie"}, "attendant",
                     id="attendant-not-an-id"),
        pytest.param({"name": "R", "required_skills": ["klingon"]}, "required_skills",
                     id="foreign-skill"),
        pytest.param({"name": "R", "required_skills": ["nope"]}, "required_skills",
                     id="unknown-skill"),
        pytest.param({"name": "R", "team": "sales", "redirect_to": "x@example.com"},
                     "redirect_to", id="redirect-with-team"),
        pytest.param({"name": "R", "required_skills": ["english"], "redirect_to": "x"},
                     "redirect_to", id="redirect-with-skills"),
        pytest.param({"name": "R", "position": -1}, "position", id="negative-position"),
        pytest.param({"name": "R", "organization": 1}, "organization", id="server-owned"),
        pytest.param({"name": "R", "id": 5}, "id", id="read-only-id"),
    ],
)
def test_bad_rule_is_refused_naming_the_field_and_nothing_is_written(
    api, org, sales, english, globex, body, field
):
    before = rules_snapshot()

    response = api.post(RULES, body, format="json")

    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert rules_snapshot() == before


def test_foreign_attendant_id_is_refused_as_unknown(api, org, globex):
    response = api.post(RULES, {"name": "R", "attendant": globex["person"].pk}, format="json")

    assert response.status_code == 400
    assert "attendant" in response.json()
    assert not RoutingRule.objects.filter(organization=org).exists()


def test_archived_team_and_deactivated_attendant_are_refused_when_chosen(api, org, sales, vip):
    Team.objects.filter(pk=vip.pk).update(is_archived=True)
    gone = MembershipFactory(organization=org, is_active=False)

    response = api.post(RULES, {"name": "R", "team": "vip", "attendant": gone.pk}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"team", "attendant", "detail", "code"}
    assert not RoutingRule.objects.filter(organization=org).exists()


def test_condition_problems_are_listed_one_by_one(api, org):
    response = api.post(RULES, {"name": "R", "conditions": [
        {"field": "source", "op": "eq", "value": "api"},
        {"field": "nope", "op": "eq", "value": 1},
        {"field": "source", "op": "between", "value": 1},
    ]}, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    problems = response.json()["conditions"]
    assert len(problems) == 2
    assert problems[0].startswith("Condition 2") and problems[1].startswith("Condition 3")


def test_condition_problems_speak_the_clients_language(api, org):
    response = api.post(RULES, {"name": "R", "conditions": [{"field": "nope", "op": "eq"}]},
                        format="json", HTTP_ACCEPT_LANGUAGE="pt-br")
    assert response.json()["conditions"][0].startswith("Condição 1")


# --- routing rules: read ------------------------------------------------------------------


def test_rules_are_listed_in_order_and_only_the_organizations(api, org, sales, globex):
    make_rule(org, "B")
    make_rule(org, "A", position=0, team=sales)

    response = api.get(RULES)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [(r["name"], r["position"], r["team"]) for r in body["results"]] == [
        ("A", 0, "sales"), ("B", 1, None),
    ]


def test_rule_detail_shows_the_rule(api, org, english):
    rule = make_rule(org, "Skills", required_skills=[english], is_active=False)

    response = api.get(rule_url(rule.pk))

    assert response.status_code == 200
    assert response.json()["required_skills"] == ["english"]
    assert response.json()["is_active"] is False


@pytest.mark.parametrize("bad_id", ["abc", "0", "999999", "1.5", "99999999999999999999999"])
def test_unknown_or_malformed_rule_id_answers_404(api, org, bad_id):
    make_rule(org)
    before = rules_snapshot()

    assert api.get(rule_url(bad_id)).status_code == 404
    assert api.patch(rule_url(bad_id), {"name": "X"}, format="json").status_code == 404
    assert api.delete(rule_url(bad_id)).status_code == 404
    assert rules_snapshot() == before


# --- routing rules: change, move, delete ----------------------------------------------------


def test_patch_changes_only_the_fields_given(api, org, sales, english):
    rule = make_rule(org, "Old", team=sales, required_skills=[english],
                     conditions=[{"field": "source", "op": "eq", "value": "api"}])

    response = api.patch(rule_url(rule.pk), {"name": "New", "is_active": False}, format="json")

    assert response.status_code == 200
    rule.refresh_from_db()
    assert (rule.name, rule.is_active, rule.team) == ("New", False, sales)
    assert rule.conditions == [{"field": "source", "op": "eq", "value": "api"}]
    assert list(rule.required_skills.all()) == [english]


def test_patch_to_a_redirect_must_clear_the_team(api, org, sales):
    rule = make_rule(org, "R", team=sales)

    refused = api.patch(rule_url(rule.pk), {"redirect_to": "x@example.com"}, format="json")
    accepted = api.patch(rule_url(rule.pk), {"redirect_to": "x@example.com", "team": None},
                         format="json")

    assert refused.status_code == 400 and "redirect_to" in refused.json()
    assert accepted.status_code == 200
    rule.refresh_from_db()
    assert (rule.team, rule.redirect_to) == (None, "x@example.com")


def test_patch_position_moves_the_rule_and_renumbers(api, org):
    a, b, c = (make_rule(org, n) for n in "ABC")

    response = api.patch(rule_url(c.pk), {"position": 0}, format="json")

    assert response.status_code == 200
    assert order_of(org) == [("C", 0), ("A", 1), ("B", 2)]
    api.patch(rule_url(c.pk), {"position": 99}, format="json")
    assert order_of(org) == [("A", 0), ("B", 1), ("C", 2)]


def test_put_replaces_the_rule_and_keeps_its_place(api, org, sales, english):
    make_rule(org, "First")
    rule = make_rule(org, "R", team=sales, required_skills=[english],
                     conditions=[{"field": "source", "op": "eq", "value": "api"}])

    response = api.put(rule_url(rule.pk), {"name": "Bare"}, format="json")

    assert response.status_code == 200
    rule.refresh_from_db()
    assert (rule.name, rule.team, rule.conditions, rule.position) == ("Bare", None, [], 1)
    assert not rule.required_skills.exists()


def test_a_rule_keeps_its_archived_team_when_something_else_changes(api, org, sales):
    rule = make_rule(org, "R", team=sales)
    Team.objects.filter(pk=sales.pk).update(is_archived=True)

    response = api.patch(rule_url(rule.pk), {"name": "Renamed"}, format="json")

    assert response.status_code == 200
    rule.refresh_from_db()
    assert (rule.name, rule.team_id) == ("Renamed", sales.pk)


def test_bad_change_is_refused_naming_the_field_and_nothing_is_written(api, org, sales, globex):
    rule = make_rule(org, "R", team=sales)
    before = rules_snapshot()

    for body, field in [({"team": "squad"}, "team"), ({"conditions": [{"op": "eq"}]},
                                                      "conditions"),
                        ({"name": ""}, "name"), ({"status": "x"}, "status")]:
        response = api.patch(rule_url(rule.pk), body, format="json")
        assert response.status_code == 400, body
        assert field in response.json()
    response = api.put(rule_url(rule.pk), {"team": "sales"}, format="json")
    assert response.status_code == 400 and "name" in response.json()
    assert rules_snapshot() == before


def test_delete_answers_204_and_closes_the_gap(api, org):
    a, b, c = (make_rule(org, n) for n in "ABC")

    response = api.delete(rule_url(b.pk))

    assert response.status_code == 204
    assert order_of(org) == [("A", 0), ("C", 1)]


def test_deleting_a_rule_keeps_the_leads_it_routed(api, org, sales, new_lead):
    rule = make_rule(org, "R", team=sales)
    lead = new_lead(org)
    assert lead.routing_rule == rule

    api.delete(rule_url(rule.pk))

    lead.refresh_from_db()
    assert lead.routing_rule is None
    assert lead.team == sales


# --- routing rules: another organization ---------------------------------------------------


def test_outsider_cannot_read_change_move_or_delete_the_organizations_rules(
    outsider_api, org, sales
):
    rule = make_rule(org, "Secret", team=sales)
    before = rules_snapshot()

    listed = outsider_api.get(RULES)
    assert listed.status_code == 200 and listed.json()["count"] == 0
    assert outsider_api.get(rule_url(rule.pk)).status_code == 404
    assert outsider_api.patch(rule_url(rule.pk), {"name": "Pwned"},
                              format="json").status_code == 404
    assert outsider_api.patch(rule_url(rule.pk), {"position": 0},
                              format="json").status_code == 404
    assert outsider_api.put(rule_url(rule.pk), {"name": "Pwned"},
                            format="json").status_code == 404
    assert outsider_api.delete(rule_url(rule.pk)).status_code == 404
    assert rules_snapshot() == before


def test_outsider_cannot_point_a_rule_at_the_organizations_team_or_people(
    outsider_api, org, sales, english, bob
):
    for body, field in [({"team": "sales"}, "team"), ({"attendant": bob.pk}, "attendant"),
                        ({"required_skills": ["english"]}, "required_skills")]:
        response = outsider_api.post(RULES, {"name": "R", **body}, format="json")
        assert response.status_code == 400
        assert field in response.json()
    assert not RoutingRule.objects.exists()


@pytest.mark.parametrize("url", [RULES, SKILLS, "/api/v1/teams/sales/preview"])
def test_requests_without_a_key_answer_401(org, sales, url):
    assert APIClient().get(url).status_code == 401
    assert APIClient().post(url, {"name": "R"}, format="json").status_code in (401, 405)


# --- skills ---------------------------------------------------------------------------------


def test_skills_are_listed_with_their_holders_and_only_the_organizations(
    api, org, english, bob, globex
):
    bob.skills.add(english)
    MembershipFactory(organization=org, is_active=False).skills.add(english)
    skill_create(organization=org, name="Financeiro")

    response = api.get(SKILLS)

    assert response.status_code == 200
    assert response.json()["results"] == [
        {"slug": "english", "name": "English", "holder_count": 1},
        {"slug": "financeiro", "name": "Financeiro", "holder_count": 0},
    ]


def test_skill_is_created_with_a_slug_from_its_name(api, org):
    response = api.post(SKILLS, {"name": "Produto Médico"}, format="json")

    assert response.status_code == 201
    assert response.json() == {"slug": "produto-medico", "name": "Produto Médico",
                               "holder_count": 0}
    assert Skill.objects.get(organization=org).slug == "produto-medico"


def test_skill_is_created_with_its_own_slug(api, org):
    response = api.post(SKILLS, {"name": "SAC", "slug": "sac-n1"}, format="json")

    assert response.status_code == 201
    assert Skill.objects.get(organization=org).slug == "sac-n1"


def test_same_skill_slug_in_two_organizations_is_fine(api, outsider_api, org, other_org):
    assert api.post(SKILLS, {"name": "English"}, format="json").status_code == 201
    assert outsider_api.post(SKILLS, {"name": "English"}, format="json").status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({}, "name", id="no-name"),
        pytest.param({"name": ""}, "name", id="blank"),
        pytest.param({"name": 5}, "name", id="number"),
        pytest.param({"name": "English"}, "name", id="taken-by-name"),
        pytest.param({"name": "Inglês", "slug": "english"}, "slug", id="taken-slug"),
        pytest.param({"name": "Bad", "slug": "no spaces"}, "slug", id="bad-slug"),
        pytest.param({"name": "日本語"}, "slug", id="no-slug-from-name"),
        pytest.param({"name": "X", "holder_count": 3}, "holder_count", id="read-only"),
        pytest.param({"name": "X", "organization": 2}, "organization", id="unknown-field"),
    ],
)
def test_bad_skill_is_refused_naming_the_field(api, org, english, body, field):
    response = api.post(SKILLS, body, format="json")

    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert list(Skill.objects.filter(organization=org)) == [english]


def test_skill_detail_and_delete(api, org, english, bob):
    bob.skills.add(english)
    rule = make_rule(org, "R", required_skills=[english])

    assert api.get(f"{SKILLS}/english").json()["holder_count"] == 1
    response = api.delete(f"{SKILLS}/english")

    assert response.status_code == 204
    assert not Skill.objects.filter(pk=english.pk).exists()
    assert not bob.skills.exists()
    assert not rule.required_skills.exists()


def test_outsider_cannot_see_or_delete_the_organizations_skills(outsider_api, org, english):
    assert outsider_api.get(SKILLS).json()["count"] == 0
    assert outsider_api.get(f"{SKILLS}/english").status_code == 404
    assert outsider_api.delete(f"{SKILLS}/english").status_code == 404
    assert Skill.objects.filter(pk=english.pk).exists()


def test_deleting_a_skill_frees_the_leads_that_waited_for_it(api, org, sales, english):
    lead, _ = lead_create(organization=org, data={"email": "w@example.com"}, team=sales,
                          required_skills=[english], actor=Actor.system())
    assert lead.assignee is None  # nobody speaks English yet

    api.delete(f"{SKILLS}/english")

    lead.refresh_from_db()
    assert lead.assignee in sales.attendants


# --- preview --------------------------------------------------------------------------------


def routing_state(org):
    """What assigning a lead would change: the cursors, the tie-breakers, leads and events."""
    return {
        "cursors": list(Team.objects.filter(organization=org).order_by("pk").values_list(
            "pk", "rr_last_member_id")),
        "last_assigned": list(Membership.objects.filter(organization=org).order_by("pk")
                              .values_list("pk", "last_assigned_at", "presence",
                                           "missed_in_row")),
        "leads": list(Lead.objects.filter(organization=org).order_by("pk").values_list(
            "pk", "assignee_id", "status")),
        "events": LeadEvent.objects.count(),
    }


def test_preview_shows_the_round_robin_after_the_cursor_and_changes_nothing(
    api, org, sales, new_lead
):
    a, b, c = sales.attendants
    new_lead(org, team=sales)  # a got the last lead: the cursor stands on a
    before = routing_state(org)

    response = api.get(preview_url("sales", 5))

    assert response.status_code == 200
    assert response.json() == [
        {"id": m.pk, "name": m.display_name} for m in (b, c, a, b, c)
    ]
    assert routing_state(org) == before
    assert [new_lead(org, team=sales).assignee for _ in range(5)] == [b, c, a, b, c]


def test_preview_defaults_to_ten_leads(api, org, sales):
    response = api.get(preview_url("sales"))

    assert response.status_code == 200
    assert len(response.json()) == 10


def test_preview_of_least_open_with_capacity_stops_where_the_queue_begins(
    api, org, make_team, new_lead
):
    team = make_team(org, size=2, slug="care", policy=False, strategy="least_open")
    a, b = team.attendants
    team.members.filter(membership=a).update(capacity=2)
    team.members.filter(membership=b).update(capacity=1)
    new_lead(org, team=team)  # a takes it: a 1/2, b 0/1
    before = routing_state(org)

    response = api.get(preview_url("care", 5))

    assert [e["id"] for e in response.json()] == [b.pk, a.pk]
    assert routing_state(org) == before


def test_preview_leaves_out_offline_attendants_when_the_team_is_online_only(
    api, org, make_team
):
    team = make_team(org, size=3, slug="live", policy=False, online_only=True)
    a, b, c = team.attendants
    Membership.objects.filter(pk=b.pk).update(presence=Membership.Presence.OFFLINE)

    response = api.get(preview_url("live", 4))

    assert [e["id"] for e in response.json()] == [a.pk, c.pk, a.pk, c.pk]


def test_preview_of_a_team_nobody_can_serve_is_empty(api, org, make_team):
    make_team(org, size=0, slug="empty", policy=False)

    response = api.get(preview_url("empty", 3))

    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize("n", ["0", "51", "-1", "abc", "1.5", "99999999999999999999"])
def test_preview_refuses_a_bad_n_naming_it(api, sales, n):
    response = api.get(f"/api/v1/teams/sales/preview?n={n}")

    assert response.status_code == 400
    assert "n" in response.json()


@pytest.mark.parametrize("n", [1, 50])
def test_preview_takes_n_from_1_to_50(api, sales, n):
    response = api.get(preview_url("sales", n))

    assert response.status_code == 200
    assert len(response.json()) == n


def test_outsider_cannot_preview_the_organizations_team(outsider_api, org, sales):
    before = routing_state(org)

    assert outsider_api.get(preview_url("sales", 3)).status_code == 404
    assert routing_state(org) == before


def test_preview_of_unknown_team_answers_404(api, org):
    assert api.get(preview_url("nowhere")).status_code == 404


def test_preview_of_a_team_with_members_of_a_deactivated_person_skips_them(
    api, org, make_team
):
    team = make_team(org, size=2, slug="duo", policy=False)
    a, b = team.attendants
    Membership.objects.filter(pk=a.pk).update(is_active=False)
    TeamMemberFactory(team=team, membership=MembershipFactory(organization=org), order=5,
                      is_active=False)

    response = api.get(preview_url("duo", 2))

    assert [e["id"] for e in response.json()] == [b.pk, b.pk]


# --- OpenAPI ----------------------------------------------------------------------------------


def test_openapi_schema_documents_rules_skills_and_preview(db):
    schema = json.loads(APIClient().get("/api/schema/", {"format": "json"}).content)
    paths = schema["paths"]

    assert {"get", "post"} <= set(paths["/api/v1/routing-rules"])
    assert {"get", "put", "patch", "delete"} <= set(paths["/api/v1/routing-rules/{id}"])
    assert {"get", "post"} <= set(paths["/api/v1/skills"])
    assert "delete" in paths["/api/v1/skills/{slug}"]
    preview = paths["/api/v1/teams/{slug}/preview"]["get"]
    assert "n" in {p["name"] for p in preview["parameters"]}
