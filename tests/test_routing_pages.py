"""The managers' routing pages: routing rules, skills, a team's routing settings and preview.

Every page answers 200 to alice (manager), 403 to bob (attendant), a login redirect to
anonymous visitors, and 404 to charlie (a manager elsewhere) for anything of alice's; every
action refused changes nothing.
"""

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation
from django.utils.html import escape

from history.models import LeadEvent
from history.services import Actor
from leads import messages as customer_messages
from leads.models import Lead
from leads.services import lead_create
from routing.models import RoutingRule
from routing.services_rules import routing_rule_create
from teams.models import Membership, Skill, Team, TeamMember
from teams.services.skills import skill_create
from teams.services.teams import message_template_problem, team_update

from .factories import MembershipFactory, TeamMemberFactory, UserFactory
from .helpers import client_for


@pytest.fixture
def sales(org, bob, dave, make_team):
    """Bob then Dave, round robin, open around the clock."""
    team = make_team(org, size=0, slug="sales", policy=False)
    TeamMemberFactory(team=team, membership=bob, order=0)
    TeamMemberFactory(team=team, membership=dave, order=1)
    team.attendants = [bob, dave]
    return team


@pytest.fixture
def english(org):
    return skill_create(organization=org, name="English")


@pytest.fixture
def rule(org, sales, english):
    return routing_rule_create(
        organization=org, name="Enterprise", team=sales, required_skills=[english],
        conditions=[{"field": "custom.plan", "op": "eq", "value": "enterprise"}],
    )



# --- every page: who may open it ----------------------------------------------------------------

PAGES = [
    "/manage/routing-rules/",
    "/manage/routing-rules/new/",
    "/manage/routing-rules/{rule}/",
    "/manage/routing-rules/{rule}/delete/",
    "/manage/people/skills/",
    "/manage/people/skills/{skill}/delete/",
    "/manage/teams/{team}/preview/",
]
OBJECT_PAGES = [p for p in PAGES if "{" in p]


def fill(path, *, rule, skill, team):
    return path.format(rule=rule.pk, skill=skill.pk, team=team.pk)


@pytest.mark.parametrize("path", PAGES)
def test_every_routing_page_renders_for_a_manager(alice, rule, english, sales, path):
    response = client_for(alice).get(fill(path, rule=rule, skill=english, team=sales))

    assert response.status_code == 200
    assert 'href="/manage/routing-rules/"' in response.content.decode()  # the navigation


@pytest.mark.parametrize("path", PAGES)
def test_attendant_is_refused_every_routing_page(bob, rule, english, sales, path):
    response = client_for(bob).get(fill(path, rule=rule, skill=english, team=sales))

    assert response.status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitor_is_sent_to_login_from_every_routing_page(rule, english, sales, path):
    response = Client().get(fill(path, rule=rule, skill=english, team=sales))

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("path", OBJECT_PAGES)
def test_outsider_manager_gets_404_for_the_organizations_rules_skills_and_teams(
    charlie, rule, english, sales, path
):
    response = client_for(charlie).get(fill(path, rule=rule, skill=english, team=sales))

    assert response.status_code == 404
    page = response.content.decode()
    assert rule.name not in page and sales.name not in page


@pytest.mark.parametrize("path", ["/manage/routing-rules/", "/manage/people/skills/"])
def test_outsider_manager_lists_only_their_own_rules_and_skills(charlie, rule, english, path):
    response = client_for(charlie).get(path)

    assert response.status_code == 200
    page = response.content.decode()
    assert rule.name not in page
    assert "<code>english</code>" not in page
    assert not list(response.context.get("rules", [])) + list(response.context.get("skills", []))


def test_manager_navigation_links_the_routing_rules(alice):
    page = client_for(alice).get("/manage/teams/").content.decode()

    assert 'href="/manage/routing-rules/"' in page


def test_team_tabs_link_the_preview(alice, sales):
    page = client_for(alice).get(f"/manage/teams/{sales.pk}/").content.decode()

    assert f'href="/manage/teams/{sales.pk}/preview/"' in page


def test_people_page_links_the_skills(alice):
    page = client_for(alice).get("/manage/people/").content.decode()

    assert 'href="/manage/people/skills/"' in page


# --- every action: who may do it ------------------------------------------------------------------


def rule_post(**overrides):
    """A full rule form: the fields and an empty conditions formset."""
    data = {
        "name": "Posted", "customer": "any", "is_active": "on", "team": "", "attendant": "",
        "redirect_to": "",
        "conditions-TOTAL_FORMS": "2", "conditions-INITIAL_FORMS": "0",
        "conditions-MIN_NUM_FORMS": "0", "conditions-MAX_NUM_FORMS": "30",
        "conditions-0-field": "", "conditions-0-op": "eq", "conditions-0-value": "",
        "conditions-1-field": "", "conditions-1-op": "eq", "conditions-1-value": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def team_post(team, **overrides):
    data = {
        "name": team.name, "slug": team.slug, "strategy": team.strategy,
        "idle_limit_minutes": "", "missed_limit": "", "message_assigned": "",
        "message_out_of_hours": "", "message_queued": "", "sticky_returning": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def actions(rule, english, sales, bob):
    return [
        (f"/manage/routing-rules/{rule.pk}/", rule_post(name="Pwned")),
        (f"/manage/routing-rules/{rule.pk}/move/", {"direction": "down"}),
        (f"/manage/routing-rules/{rule.pk}/delete/", {}),
        (f"/manage/people/skills/{english.pk}/delete/", {}),
        (f"/manage/people/{bob.pk}/skills/", {"skills": []}),
        (f"/manage/teams/{sales.pk}/edit/",
         team_post(sales, strategy="least_open", message_queued="Pwned {position}")),
    ]


def snapshot(org):
    """Everything the actions could change, to compare before and after."""
    return {
        "rules": list(RoutingRule.objects.filter(organization=org).values().order_by("pk")),
        "rule_skills": list(
            RoutingRule.required_skills.through.objects.filter(
                routingrule__organization=org
            ).values_list("routingrule_id", "skill_id").order_by("pk")
        ),
        "skills": list(Skill.objects.filter(organization=org).values().order_by("pk")),
        "people_skills": list(
            Membership.skills.through.objects.filter(membership__organization=org)
            .values_list("membership_id", "skill_id").order_by("pk")
        ),
        "teams": list(Team.objects.filter(organization=org).values().order_by("pk")),
    }


def test_outsider_manager_gets_404_for_every_action_and_changes_nothing(
    org, charlie, bob, rule, english, sales
):
    bob.skills.add(english)
    client = client_for(charlie)
    before = snapshot(org)

    for url, data in actions(rule, english, sales, bob):
        response = client.post(url, data)
        assert response.status_code == 404, url

    assert snapshot(org) == before


def test_attendant_gets_403_for_every_action_and_changes_nothing(org, bob, rule, english, sales):
    bob.skills.add(english)
    client = client_for(bob)
    before = snapshot(org)

    for url, data in [*actions(rule, english, sales, bob),
                      ("/manage/routing-rules/new/", rule_post()),
                      ("/manage/people/skills/", {"name": "Hacking"})]:
        response = client.post(url, data)
        assert response.status_code == 403, url

    assert snapshot(org) == before


def test_anonymous_visitor_changes_nothing(org, bob, rule, english, sales):
    before = snapshot(org)

    for url, data in [*actions(rule, english, sales, bob),
                      ("/manage/routing-rules/new/", rule_post()),
                      ("/manage/people/skills/", {"name": "Hacking"})]:
        response = Client().post(url, data)
        assert response.status_code == 302, url

    assert snapshot(org) == before


def test_outsider_manager_cannot_point_their_rule_at_the_organizations_team_or_people(
    org, other_org, charlie, sales, bob, english
):
    response = client_for(charlie).post("/manage/routing-rules/new/", rule_post(
        team=str(sales.pk), attendant=str(bob.pk), required_skills=[str(english.pk)],
    ))

    assert response.status_code == 200
    assert {"team", "attendant", "required_skills"} <= set(response.context["form"].errors)
    assert not RoutingRule.objects.exists()


def test_outsider_manager_cannot_give_the_organizations_skills_to_their_people(
    other_org, charlie, english
):
    response = client_for(charlie).post(f"/manage/people/{charlie.pk}/skills/",
                                        {"skills": [english.pk]})

    assert response.status_code == 200
    assert "skills" in response.context["skills_form"].errors
    assert not charlie.skills.exists()


def test_routing_pages_refuse_posts_without_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice.user)

    response = client.post("/manage/routing-rules/new/", rule_post(name="Sneaky"))

    assert response.status_code == 403
    assert not RoutingRule.objects.exists()


# --- routing rules: list, create, edit --------------------------------------------------------


def test_rules_are_listed_in_order_with_their_conditions_and_actions(
    org, alice, sales, english, rule
):
    routing_rule_create(organization=org, name="Support elsewhere", redirect_to="sac@example.com",
                        customer="existing", position=0)
    org.default_team = sales
    org.save(update_fields=["default_team"])

    response = client_for(alice).get("/manage/routing-rules/")

    page = response.content.decode()
    assert [r.name for r in response.context["rules"]] == ["Support elsewhere", "Enterprise"]
    assert page.index("Support elsewhere") < page.index("Enterprise")
    assert "custom.plan" in page and "enterprise" in page
    assert "sac@example.com" in page
    assert "English" in page
    assert f'href="/manage/teams/{sales.pk}/"' in page
    assert 'id="default-team"' in page


def test_manager_creates_a_rule_with_conditions_skills_and_a_dedicated_attendant(
    org, alice, sales, english, dave
):
    response = client_for(alice).post("/manage/routing-rules/new/", rule_post(
        name="Big deals", customer="new", team=str(sales.pk), attendant=str(dave.pk),
        required_skills=[str(english.pk)],
        **{"conditions-0-field": "custom.value", "conditions-0-op": "gte",
           "conditions-0-value": "10000",
           "conditions-1-field": "source", "conditions-1-op": "in",
           "conditions-1-value": "api, bot"},
    ))

    assert response.status_code == 302
    assert response["Location"] == "/manage/routing-rules/"
    rule = RoutingRule.objects.get(organization=org)
    assert (rule.name, rule.customer, rule.is_active) == ("Big deals", "new", True)
    assert (rule.team, rule.attendant) == (sales, dave)
    assert list(rule.required_skills.all()) == [english]
    assert rule.conditions == [
        {"field": "custom.value", "op": "gte", "value": "10000"},
        {"field": "source", "op": "in", "value": ["api", "bot"]},
    ]


def test_a_rule_made_in_the_page_routes_the_next_lead(org, alice, sales, dave, new_lead):
    client_for(alice).post("/manage/routing-rules/new/", rule_post(
        name="Enterprise to Dave", attendant=str(dave.pk), team=str(sales.pk),
        **{"conditions-0-field": "custom.plan", "conditions-0-op": "eq",
           "conditions-0-value": "enterprise"},
    ))

    leads = [new_lead(org, custom={"plan": "enterprise"}) for _ in range(3)]

    assert {lead.assignee for lead in leads} == {dave}


def test_new_rules_go_last(org, alice, rule):
    client_for(alice).post("/manage/routing-rules/new/", rule_post(name="Later"))

    assert list(RoutingRule.objects.filter(organization=org).order_by("position")
                .values_list("name", flat=True)) == ["Enterprise", "Later"]


@pytest.mark.parametrize(
    ("overrides", "where"),
    [
        pytest.param({"name": ""}, "name", id="no-name"),
        pytest.param({"customer": "vip"}, "customer", id="customer"),
        pytest.param({"conditions-0-field": "plan", "conditions-0-value": "x"}, "field",
                     id="bad-field"),
        pytest.param({"conditions-0-field": "custom.plan"}, "value", id="missing-value"),
        pytest.param({"conditions-0-value": "x"}, "field", id="value-without-field"),
        pytest.param({"conditions-0-field": "source", "conditions-0-op": "like",
                      "conditions-0-value": "x"}, "op", id="unknown-operator"),
        pytest.param({"redirect_to": "sac@example.com", "team": "TEAM"}, "redirect_to",
                     id="redirect-with-team"),
        pytest.param({"team": "999999"}, "team", id="unknown-team"),
    ],
)
def test_bad_rule_form_shows_the_error_next_to_the_field_and_saves_nothing(
    org, alice, sales, overrides, where
):
    overrides = {k: (str(sales.pk) if v == "TEAM" else v) for k, v in overrides.items()}

    response = client_for(alice).post("/manage/routing-rules/new/", rule_post(**overrides))

    assert response.status_code == 200
    form = response.context["form"]
    row_errors = [row.errors for row in form.conditions]
    assert where in form.errors or any(where in errors for errors in row_errors), (
        form.errors, row_errors)
    assert 'class="errorlist' in response.content.decode()
    assert not RoutingRule.objects.exists()


def test_archived_team_is_not_offered_for_a_new_rule(org, alice, sales):
    Team.objects.filter(pk=sales.pk).update(is_archived=True)

    response = client_for(alice).post("/manage/routing-rules/new/",
                                      rule_post(team=str(sales.pk)))

    assert "team" in response.context["form"].errors
    assert not RoutingRule.objects.exists()


def test_edit_page_shows_the_rules_conditions_and_saves_changes(org, alice, rule, sales, dave):
    client = client_for(alice)
    page = client.get(f"/manage/routing-rules/{rule.pk}/")
    formset = page.context["form"].conditions
    assert [f.initial for f in formset.initial_forms] == [
        {"field": "custom.plan", "op": "eq", "value": "enterprise"},
    ]

    response = client.post(f"/manage/routing-rules/{rule.pk}/", rule_post(
        name="Enterprise (renamed)", team=str(sales.pk), attendant=str(dave.pk),
        customer="existing",
        **{"conditions-TOTAL_FORMS": "2", "conditions-INITIAL_FORMS": "1",
           "conditions-0-field": "custom.plan", "conditions-0-op": "in",
           "conditions-0-value": "enterprise, premium",
           "conditions-1-field": "custom.utm_source", "conditions-1-op": "exists"},
    ))

    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.name, rule.attendant, rule.customer) == ("Enterprise (renamed)", dave,
                                                          "existing")
    assert rule.conditions == [
        {"field": "custom.plan", "op": "in", "value": ["enterprise", "premium"]},
        {"field": "custom.utm_source", "op": "exists"},
    ]
    assert not rule.required_skills.exists()  # unticked


def test_removing_a_condition_row_drops_it(org, alice, rule, sales):
    response = client_for(alice).post(f"/manage/routing-rules/{rule.pk}/", rule_post(
        name=rule.name, team=str(sales.pk),
        **{"conditions-INITIAL_FORMS": "1", "conditions-0-field": "custom.plan",
           "conditions-0-op": "eq", "conditions-0-value": "enterprise",
           "conditions-0-DELETE": "on"},
    ))

    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.conditions == []


def test_a_bad_edit_saves_nothing(org, alice, rule):
    before = snapshot(org)

    response = client_for(alice).post(f"/manage/routing-rules/{rule.pk}/", rule_post(
        name="Changed", redirect_to="x@example.com", required_skills=[
            str(s) for s in rule.required_skills.values_list("pk", flat=True)],
    ))

    assert response.status_code == 200
    assert "redirect_to" in response.context["form"].errors
    assert snapshot(org) == before


# --- routing rules: move and delete -----------------------------------------------------------


def test_rules_move_up_and_down(org, alice, rule):
    other = routing_rule_create(organization=org, name="Second")
    client = client_for(alice)

    response = client.post(f"/manage/routing-rules/{other.pk}/move/", {"direction": "up"})

    assert response.status_code == 302
    assert response["Location"] == f"/manage/routing-rules/#rule-{other.pk}"
    order = list(RoutingRule.objects.filter(organization=org).order_by("position")
                 .values_list("name", flat=True))
    assert order == ["Second", "Enterprise"]
    client.post(f"/manage/routing-rules/{other.pk}/move/", {"direction": "down"})
    assert list(RoutingRule.objects.filter(organization=org).order_by("position")
                .values_list("name", flat=True)) == ["Enterprise", "Second"]


def test_unknown_move_direction_is_refused(alice, rule):
    response = client_for(alice).post(f"/manage/routing-rules/{rule.pk}/move/",
                                      {"direction": "sideways"})

    assert response.status_code == 400


def test_rule_delete_asks_first_then_deletes(org, alice, rule):
    client = client_for(alice)

    confirm = client.get(f"/manage/routing-rules/{rule.pk}/delete/")
    assert confirm.status_code == 200
    assert "Enterprise" in confirm.content.decode()
    assert RoutingRule.objects.filter(pk=rule.pk).exists()

    response = client.post(f"/manage/routing-rules/{rule.pk}/delete/")

    assert response.status_code == 302
    assert not RoutingRule.objects.filter(pk=rule.pk).exists()


def test_move_and_delete_of_another_organizations_rule_answer_404(charlie, rule):
    client = client_for(charlie)

    assert client.post(f"/manage/routing-rules/{rule.pk}/move/",
                       {"direction": "up"}).status_code == 404
    assert client.post(f"/manage/routing-rules/{rule.pk}/delete/").status_code == 404
    assert RoutingRule.objects.filter(pk=rule.pk).exists()


# --- skills -----------------------------------------------------------------------------------


def test_manager_creates_a_skill_and_sees_it_listed(org, alice):
    client = client_for(alice)

    response = client.post("/manage/people/skills/", {"name": "Financeiro", "slug": ""})

    assert response.status_code == 302
    skill = Skill.objects.get(organization=org)
    assert (skill.name, skill.slug) == ("Financeiro", "financeiro")
    assert "Financeiro" in client.get("/manage/people/skills/").content.decode()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        pytest.param({"name": ""}, "name", id="no-name"),
        pytest.param({"name": "English"}, "name", id="taken-name"),
        pytest.param({"name": "Inglês", "slug": "english"}, "slug", id="taken-slug"),
        pytest.param({"name": "X", "slug": "no spaces"}, "slug", id="bad-slug"),
    ],
)
def test_bad_skill_is_refused_next_to_the_field(org, alice, english, data, field):
    response = client_for(alice).post("/manage/people/skills/", data)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert list(Skill.objects.filter(organization=org)) == [english]


def test_skill_delete_asks_first_then_deletes_and_people_lose_it(org, alice, bob, english):
    bob.skills.add(english)
    client = client_for(alice)

    assert client.get(f"/manage/people/skills/{english.pk}/delete/").status_code == 200
    assert Skill.objects.filter(pk=english.pk).exists()
    response = client.post(f"/manage/people/skills/{english.pk}/delete/")

    assert response.status_code == 302
    assert not Skill.objects.filter(pk=english.pk).exists()
    assert not bob.skills.exists()


def test_person_page_offers_the_organizations_skills_and_saves_them(
    org, alice, bob, english, other_org
):
    financeiro = skill_create(organization=org, name="Financeiro")
    skill_create(organization=other_org, name="Klingon")
    client = client_for(alice)

    page = client.get(f"/manage/people/{bob.pk}/")
    offered = list(page.context["skills_form"].fields["skills"].queryset)
    assert offered == [english, financeiro]
    assert "Klingon" not in page.content.decode()

    response = client.post(f"/manage/people/{bob.pk}/skills/",
                           {"skills": [english.pk, financeiro.pk]})

    assert response.status_code == 302
    assert set(bob.skills.all()) == {english, financeiro}
    client.post(f"/manage/people/{bob.pk}/skills/", {})
    assert not bob.skills.exists()


def test_gaining_a_skill_hands_the_person_the_leads_that_waited_for_it(
    org, alice, bob, sales, english
):
    lead, _ = lead_create(organization=org, data={"email": "w@example.com"}, team=sales,
                          required_skills=[english], actor=Actor.system())
    assert lead.assignee is None

    client_for(alice).post(f"/manage/people/{bob.pk}/skills/", {"skills": [english.pk]})

    lead.refresh_from_db()
    assert lead.assignee == bob


# --- team routing settings ------------------------------------------------------------------------


def test_manager_sets_least_open_presence_limits_and_messages(alice, sales):
    response = client_for(alice).post(f"/manage/teams/{sales.pk}/edit/", team_post(
        sales, strategy="least_open", online_only="on", sticky_returning=None,
        idle_limit_minutes="15", missed_limit="3",
        message_assigned="Oi! {first_name} responde em {minutes} min.",
        message_out_of_hours="{team}: abrimos {next_opening}.",
        message_queued="Você é o {position}º; espera de {wait_minutes} min.",
    ))

    assert response.status_code == 302
    sales.refresh_from_db()
    assert (sales.strategy, sales.online_only, sales.sticky_returning) == (
        "least_open", True, False)
    assert (sales.idle_limit_minutes, sales.missed_limit) == (15, 3)
    assert sales.message_assigned == "Oi! {first_name} responde em {minutes} min."
    assert sales.message_out_of_hours == "{team}: abrimos {next_opening}."
    assert sales.message_queued == "Você é o {position}º; espera de {wait_minutes} min."


def test_team_settings_page_shows_the_new_settings(alice, sales):
    page = client_for(alice).get(f"/manage/teams/{sales.pk}/").content.decode()

    for name in ("strategy", "sticky_returning", "idle_limit_minutes", "missed_limit",
                 "message_assigned", "message_out_of_hours", "message_queued"):
        assert f'name="{name}"' in page
    assert 'value="least_open"' in page


def in_page_language(text_of):
    with translation.override(settings.LANGUAGE_CODE):
        return escape(text_of())


@pytest.mark.parametrize(
    ("field", "text", "refused"),
    [
        pytest.param("message_assigned", "Oi {nome}!", "{nome}", id="unknown"),
        pytest.param("message_assigned", "Fila {position}", "{position}", id="other-kinds"),
        pytest.param("message_queued", "Em {minutes:d} min", "{minutes:d}", id="format-spec"),
        pytest.param("message_queued", "{team.name}", "{team.name}", id="attribute"),
        pytest.param("message_out_of_hours", "{0} abre", "{0}", id="positional"),
        pytest.param("message_out_of_hours", "{}", "{}", id="empty"),
    ],
)
def test_unknown_placeholders_are_refused_listing_the_allowed_ones(
    alice, sales, field, text, refused
):
    before = Team.objects.filter(pk=sales.pk).values().get()

    response = client_for(alice).post(f"/manage/teams/{sales.pk}/edit/",
                                      team_post(sales, **{field: text}))

    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    allowed = Team.MESSAGE_PLACEHOLDERS[field]
    assert refused in errors[0]
    assert all("{" + name + "}" in errors[0] for name in allowed)
    assert in_page_language(lambda: message_template_problem(text, allowed=allowed)) in (
        response.content.decode())
    assert Team.objects.filter(pk=sales.pk).values().get() == before


def test_unbalanced_braces_are_refused(alice, sales):
    response = client_for(alice).post(f"/manage/teams/{sales.pk}/edit/",
                                      team_post(sales, message_queued="Você é o {position"))

    assert "message_queued" in response.context["form"].errors
    sales.refresh_from_db()
    assert sales.message_queued == ""


@pytest.mark.parametrize(
    ("field", "value"),
    [("idle_limit_minutes", "0"), ("idle_limit_minutes", "1441"), ("missed_limit", "0"),
     ("missed_limit", "101"), ("strategy", "random"), ("message_assigned", "x" * 1001)],
)
def test_out_of_range_team_settings_are_refused(alice, sales, field, value):
    before = Team.objects.filter(pk=sales.pk).values().get()

    response = client_for(alice).post(f"/manage/teams/{sales.pk}/edit/",
                                      team_post(sales, **{field: value}))

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Team.objects.filter(pk=sales.pk).values().get() == before


def test_team_service_refuses_unknown_placeholders_too(org, sales):
    with pytest.raises(ValidationError) as refused:
        team_update(organization=org, team_id=sales.pk, name="Sales", slug="sales",
                    strategy="round_robin", online_only=False, business_hours_enabled=False,
                    sticky_returning=True, idle_limit_minutes=None, missed_limit=None,
                    message_assigned="{oops}", message_out_of_hours="", message_queued="")

    assert "message_assigned" in refused.value.message_dict


def test_the_teams_placeholders_are_those_routing_fills():
    assert Team.MESSAGE_PLACEHOLDERS == {
        "message_assigned": customer_messages.PLACEHOLDERS[customer_messages.ASSIGNED],
        "message_out_of_hours": customer_messages.PLACEHOLDERS[customer_messages.OUT_OF_HOURS],
        "message_queued": customer_messages.PLACEHOLDERS[customer_messages.QUEUED],
    }


def test_new_team_can_start_as_least_open(org, alice):
    response = client_for(alice).post("/manage/teams/new/", {
        "name": "Care", "strategy": "least_open", "sticky_returning": "on",
        "message_assigned": "{first_name} já vem!",
    })

    assert response.status_code == 302
    team = Team.objects.get(organization=org, name="Care")
    assert (team.strategy, team.message_assigned) == ("least_open", "{first_name} já vem!")


def test_turning_online_only_off_hands_the_queue_to_the_offline_members(
    org, alice, sales, bob, dave, new_lead
):
    Team.objects.filter(pk=sales.pk).update(online_only=True)
    Membership.objects.filter(pk__in=[bob.pk, dave.pk]).update(presence="offline")
    sales.refresh_from_db()
    lead = new_lead(org, team=sales)
    assert lead.assignee is None

    client_for(alice).post(f"/manage/teams/{sales.pk}/edit/", team_post(sales))

    lead.refresh_from_db()
    assert lead.assignee in (bob, dave)


# --- preview ----------------------------------------------------------------------------------


def routing_state(org):
    return {
        "cursors": list(Team.objects.filter(organization=org).order_by("pk").values_list(
            "pk", "rr_last_member_id")),
        "last_assigned": list(Membership.objects.filter(organization=org).order_by("pk")
                              .values_list("pk", "last_assigned_at", "presence")),
        "leads": list(Lead.objects.filter(organization=org).order_by("pk").values_list(
            "pk", "assignee_id", "status")),
        "events": LeadEvent.objects.count(),
    }


def test_preview_shows_the_next_ten_and_changes_nothing(org, alice, bob, dave, sales, new_lead):
    new_lead(org, team=sales)  # bob got the last lead
    before = routing_state(org)

    response = client_for(alice).get(f"/manage/teams/{sales.pk}/preview/")

    assert response.status_code == 200
    picks = [member.membership for member, _open in response.context["picks"]]
    assert picks == [dave, bob] * 5
    page = response.content.decode()
    assert page.count('data-membership="') == 10
    # What each would hold once that lead is theirs: bob already holds one.
    assert [n for _member, n in response.context["picks"]][:4] == [1, 2, 2, 3]
    assert 'data-open-after="3"' in page
    assert routing_state(org) == before
    assert [new_lead(org, team=sales).assignee for _ in range(4)] == [dave, bob, dave, bob]


def test_preview_page_says_who_sits_out_and_why(org, alice, bob, dave, sales):
    Team.objects.filter(pk=sales.pk).update(online_only=True)
    Membership.objects.filter(pk=dave.pk).update(presence="away")
    erin = MembershipFactory(organization=org, user=UserFactory(username="erin",
                                                               first_name="Erin"))
    TeamMemberFactory(team=sales, membership=erin, order=2, is_active=False)

    response = client_for(alice).get(f"/manage/teams/{sales.pk}/preview/")

    assert {m.membership for m, _open in response.context["picks"]} == {bob}
    assert [(b.member.membership, b.reason) for b in response.context["bench"]] == [
        (dave, "not_online"), (erin, "paused"),
    ]


def test_preview_of_a_team_at_capacity_says_leads_would_wait(org, alice, bob, dave, sales,
                                                            new_lead):
    TeamMember.objects.filter(team=sales).update(capacity=1)
    new_lead(org, team=sales)
    new_lead(org, team=sales)
    before = routing_state(org)

    response = client_for(alice).get(f"/manage/teams/{sales.pk}/preview/")

    assert response.context["picks"] == []
    assert [b.reason for b in response.context["bench"]] == ["at_capacity", "at_capacity"]
    assert 'class="badge warn"' in response.content.decode()
    assert routing_state(org) == before


# --- language ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/manage/routing-rules/", "/manage/routing-rules/new/",
                                  "/manage/people/skills/"])
def test_routing_pages_speak_english_when_asked(alice, path):
    client = client_for(alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    page = client.get(path).content.decode()

    assert '<html lang="en">' in page
    assert "Routing rules" in page
