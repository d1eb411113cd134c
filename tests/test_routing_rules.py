"""Routing rules (first match wins; team, dedicated attendant, skills, redirect; the default
team), new versus existing customers, sticky returning customers, skills on arrival and on
overflow, and the contact normalization that recognises a returning customer."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from history.models import LeadEvent
from leads.models import Lead
from leads.normalize import normalize_email, normalize_phone
from leads.queue import queued_leads
from leads.services import lead_transfer
from leads.sweep import overflow_sweep
from routing.models import RoutingRule
from routing.services_rules import routing_rule_move
from teams.models import Membership, Organization, Skill

pytestmark = pytest.mark.django_db

Type = LeadEvent.Type
LEADS = "/api/v1/leads"


@pytest.fixture
def general(org, make_team):
    """``org``'s default team: three attendants in round robin, no overflow."""
    team = make_team(org, size=3, slug="general", policy=None)
    org.default_team = team
    org.save(update_fields=["default_team"])
    return team


@pytest.fixture
def special(org, make_team):
    return make_team(org, size=2, slug="special", policy=None)


def rule(org, *, position=0, conditions=(), skills=(), **fields):
    made = RoutingRule.objects.create(
        organization=org, name=fields.pop("name", f"Rule {position}"), position=position,
        conditions=list(conditions), **fields,
    )
    made.full_clean()
    made.required_skills.set(skills)
    return made


def skill(org, slug):
    return Skill.objects.create(organization=org, name=slug.title(), slug=slug)


def refreshed(lead):
    lead.refresh_from_db()
    return lead


# --- conditions: every operator, on every kind of field -------------------------------------

CASES = [
    # (condition, fields that match, fields that do not)
    pytest.param({"field": "custom.plan", "op": "eq", "value": "enterprise"},
                 {"custom": {"plan": "Enterprise"}}, {"custom": {"plan": "pro"}}, id="eq-text"),
    pytest.param({"field": "custom.seats", "op": "eq", "value": 10},
                 {"custom": {"seats": "10.0"}}, {"custom": {"seats": 11}}, id="eq-number"),
    pytest.param({"field": "custom.plan", "op": "ne", "value": "free"},
                 {"custom": {"plan": "pro"}}, {"custom": {"plan": "FREE"}}, id="ne"),
    pytest.param({"field": "custom.plan", "op": "ne", "value": "free"},
                 {"custom": {}}, {"custom": {"plan": "free"}}, id="ne-missing-field-holds"),
    pytest.param({"field": "custom.utm_source", "op": "in", "value": ["google", "meta"]},
                 {"custom": {"utm_source": "Google"}}, {"custom": {"utm_source": "bing"}},
                 id="in"),
    pytest.param({"field": "custom.utm_source", "op": "in", "value": ["google"]},
                 {"custom": {"utm_source": "google"}}, {"custom": {}}, id="in-missing-field"),
    pytest.param({"field": "custom.utm_source", "op": "not_in", "value": ["bing"]},
                 {"custom": {"utm_source": "google"}}, {"custom": {"utm_source": "Bing"}},
                 id="not_in"),
    pytest.param({"field": "custom.utm_campaign", "op": "contains", "value": "black"},
                 {"custom": {"utm_campaign": "BlackFriday-2026"}},
                 {"custom": {"utm_campaign": "cyber-monday"}}, id="contains"),
    pytest.param({"field": "custom.value", "op": "gt", "value": 10000},
                 {"custom": {"value": 10000.5}}, {"custom": {"value": 10000}}, id="gt"),
    pytest.param({"field": "custom.value", "op": "gte", "value": 10000},
                 {"custom": {"value": "10000"}}, {"custom": {"value": 9999.99}}, id="gte"),
    pytest.param({"field": "custom.value", "op": "gt", "value": 10},
                 {"custom": {"value": 11}}, {"custom": {"value": "lots"}}, id="gt-not-a-number"),
    pytest.param({"field": "custom.age", "op": "lt", "value": 18},
                 {"custom": {"age": 17}}, {"custom": {"age": 18}}, id="lt"),
    pytest.param({"field": "custom.age", "op": "lte", "value": 18},
                 {"custom": {"age": 18}}, {"custom": {"age": 19}}, id="lte"),
    pytest.param({"field": "custom.coupon", "op": "exists"},
                 {"custom": {"coupon": "X1"}}, {"custom": {"coupon": ""}}, id="exists"),
    pytest.param({"field": "custom.coupon", "op": "not_exists"},
                 {"custom": {}}, {"custom": {"coupon": "X1"}}, id="not_exists"),
    pytest.param({"field": "email", "op": "contains", "value": "@bigcorp.com"},
                 {"email": "ana@bigcorp.com"}, {"email": "ana@small.com"}, id="email"),
    pytest.param({"field": "name", "op": "eq", "value": "ACME Buyer"},
                 {"name": "acme buyer"}, {"name": "Someone"}, id="name"),
    pytest.param({"field": "phone", "op": "eq", "value": "5511912345678"},
                 {"phone": "(11) 91234-5678"}, {"phone": "(11) 91234-0000"}, id="phone"),
]


@pytest.mark.parametrize(("condition", "matching", "other"), CASES)
def test_each_condition_operator_sends_matching_leads_by_the_rule_and_others_to_default(
    org, general, special, new_lead, condition, matching, other
):
    made = rule(org, conditions=[condition], team=special)

    hit = refreshed(new_lead(org, **matching))
    miss = refreshed(new_lead(org, **other))

    assert (hit.team_id, hit.routing_rule_id) == (special.pk, made.pk)
    assert hit.assignee_id in {m.pk for m in special.attendants}
    assert (miss.team_id, miss.routing_rule_id) == (general.pk, None)
    assert miss.assignee_id in {m.pk for m in general.attendants}
    created = hit.events.get(type=Type.CREATED)
    assert created.data["rule_id"] == made.pk


@pytest.mark.parametrize(("source", "routed"), [("bot", True), ("api", False),
                                                 ("import", False)])
def test_a_rule_on_the_source_routes_by_where_the_lead_came_from(
    org, general, special, new_lead, source, routed
):
    rule(org, conditions=[{"field": "source", "op": "eq", "value": "bot"}], team=special)

    lead = refreshed(new_lead(org, source=source))

    assert lead.team_id == (special.pk if routed else general.pk)


def test_every_condition_of_a_rule_must_hold(org, general, special, new_lead):
    rule(org, team=special, conditions=[
        {"field": "custom.utm_source", "op": "eq", "value": "google"},
        {"field": "custom.value", "op": "gte", "value": 500},
    ])

    both = refreshed(new_lead(org, custom={"utm_source": "google", "value": 900}))
    one = refreshed(new_lead(org, custom={"utm_source": "google", "value": 100}))

    assert (both.team_id, one.team_id) == (special.pk, general.pk)


def test_first_matching_rule_in_the_managers_order_wins_and_inactive_rules_are_skipped(
    org, general, special, make_team, new_lead
):
    third = make_team(org, size=1, slug="third", policy=None)
    rule(org, position=0, team=third, is_active=False)  # would match everything
    second = rule(org, position=2, team=general,
                  conditions=[{"field": "custom.plan", "op": "exists"}])
    first = rule(org, position=1, team=special,
                 conditions=[{"field": "custom.plan", "op": "eq", "value": "pro"}])

    pro = refreshed(new_lead(org, custom={"plan": "pro"}))
    free = refreshed(new_lead(org, custom={"plan": "free"}))

    assert (pro.team_id, pro.routing_rule_id) == (special.pk, first.pk)
    assert (free.team_id, free.routing_rule_id) == (general.pk, second.pk)
    assert not Lead.objects.filter(team=third).exists()


def test_the_default_team_catches_leads_no_rule_matches(org, general, special, new_lead):
    rule(org, team=special, conditions=[{"field": "custom.plan", "op": "eq", "value": "vip"}])

    leads = [refreshed(new_lead(org, custom={"plan": "basic"})) for _ in range(3)]

    assert [lead.team_id for lead in leads] == [general.pk] * 3
    assert [lead.assignee_id for lead in leads] == [m.pk for m in general.attendants]
    assert all(lead.routing_rule_id is None for lead in leads)


def test_a_rule_pointing_at_an_archived_team_leaves_the_lead_with_the_default_team(
    org, general, special, new_lead
):
    rule(org, team=special)
    special.is_archived = True
    special.save(update_fields=["is_archived"])

    assert refreshed(new_lead(org)).team_id == general.pk


def test_a_team_named_by_the_caller_wins_over_a_rules_team(org, general, special, new_lead):
    rule(org, team=special)

    lead = refreshed(new_lead(org, team=general))

    assert lead.team_id == general.pk


# --- rules are kept per process, and every change reaches the next lead -----------------------


def test_a_rule_saved_after_leads_arrived_routes_the_very_next_lead(org, general, special, api):
    assert api.post(LEADS, {"email": "first@example.com"}, format="json").status_code == 201

    rule(org, team=special)
    answer = api.post(LEADS, {"email": "second@example.com"}, format="json")

    assert answer.json()["team"]["slug"] == "special"


def test_a_rule_saved_in_this_process_applies_to_an_organization_object_loaded_before(
    org, general, special, new_lead
):
    new_lead(org)  # org (in memory) still carries the version from before the rule

    rule(org, team=special)

    assert refreshed(new_lead(org)).team_id == special.pk


def test_a_rule_changed_by_another_process_routes_that_processs_next_lead(
    org, general, special, api
):
    """Another process commits the change and bumps the version; this one keeps its old copy
    of the rules until a request reads the organization's version again: at the latest once
    its cached API key (with the organization, ``API_KEY_CACHE_SECONDS``) is read anew."""
    made = rule(org, team=special, conditions=[{"field": "custom.plan", "op": "eq",
                                                "value": "vip"}])
    vip = {"email": "a@example.com", "custom": {"plan": "vip"}}
    assert api.post(LEADS, vip, format="json").json()["team"]["slug"] == "special"

    RoutingRule.objects.filter(pk=made.pk).update(is_active=False)  # no signal: as elsewhere
    Organization.objects.filter(pk=org.pk).update(config_version=F("config_version") + 1)
    later = timezone.now() + timedelta(seconds=settings.API_KEY_CACHE_SECONDS + 1)
    with time_machine.travel(later, tick=False):
        answer = api.post(LEADS, {**vip, "email": "b@example.com"}, format="json")

    assert answer.json()["team"]["slug"] == "general"


def test_moving_a_rule_first_routes_the_very_next_lead_by_it(org, general, special, api):
    """Moving renumbers positions with bulk_update, which sends no save signal."""
    rule(org, position=0, team=general, conditions=[{"field": "custom.plan", "op": "exists"}])
    later = rule(org, position=1, team=special,
                 conditions=[{"field": "custom.plan", "op": "eq", "value": "vip"}])
    vip = {"email": "a@example.com", "custom": {"plan": "vip"}}
    assert api.post(LEADS, vip, format="json").json()["team"]["slug"] == "general"

    routing_rule_move(organization=org, rule_id=later.pk, offset=-1)
    answer = api.post(LEADS, {**vip, "email": "b@example.com"}, format="json")

    assert answer.json()["team"]["slug"] == "special"


def test_deleting_a_skill_a_rule_requires_leaves_later_leads_routable(org, general, api):
    finance = skill(org, "financeiro")
    general.attendants[1].skills.add(finance)
    rule(org, skills=[finance])
    assert api.post(LEADS, {"email": "a@example.com"}, format="json").status_code == 201

    finance.delete()
    answer = api.post(LEADS, {"email": "b@example.com"}, format="json")

    assert answer.status_code == 201, answer.content
    assert not Lead.objects.get(pk=answer.json()["id"]).required_skills.exists()


# --- actions ---------------------------------------------------------------------------------


def test_dedicated_attendant_rule_sends_high_value_leads_to_the_named_person(
    org, general, new_lead
):
    owner = general.attendants[2]
    rule(org, attendant=owner, conditions=[{"field": "custom.value", "op": "gte",
                                            "value": 10000}])

    big = refreshed(new_lead(org, custom={"value": 25000}))
    small = refreshed(new_lead(org, custom={"value": 50}))
    bigger = refreshed(new_lead(org, custom={"value": 10000}))

    assert big.assignee_id == bigger.assignee_id == owner.pk
    assert small.assignee_id == general.attendants[0].pk  # the rotation is untouched
    assert big.events.get(type=Type.ASSIGNED).data["how"] == "dedicated"
    assert small.events.get(type=Type.ASSIGNED).data["how"] == "strategy"


def test_dedicated_rule_on_a_custom_field_routes_to_the_named_person(org, general, new_lead):
    owner = general.attendants[1]
    rule(org, attendant=owner,
         conditions=[{"field": "custom.plan", "op": "eq", "value": "enterprise"}])

    leads = [refreshed(new_lead(org, custom={"plan": "enterprise"})) for _ in range(3)]

    assert {lead.assignee_id for lead in leads} == {owner.pk}


def test_a_deactivated_dedicated_attendant_lets_the_strategy_choose(org, general, new_lead):
    owner = general.attendants[2]
    rule(org, attendant=owner)
    Membership.objects.filter(pk=owner.pk).update(is_active=False)

    lead = refreshed(new_lead(org))

    assert lead.assignee_id == general.attendants[0].pk
    assert lead.events.get(type=Type.ASSIGNED).data["how"] == "strategy"


def test_a_dedicated_attendant_outside_the_leads_team_lets_the_strategy_choose(
    org, general, special, new_lead
):
    outsider = special.attendants[0]  # in special only; the rule leaves the team to intake
    rule(org, attendant=outsider)

    lead = refreshed(new_lead(org))

    assert lead.team_id == general.pk and lead.assignee_id == general.attendants[0].pk
    assert lead.events.get(type=Type.ASSIGNED).data["how"] == "strategy"


def test_a_rule_refuses_a_dedicated_attendant_outside_its_team(org, general, special, api):
    body = {"name": "VIP", "team": "special", "attendant": general.attendants[0].pk}

    answer = api.post("/api/v1/routing-rules", body, format="json")

    assert answer.status_code == 400
    [refusal] = answer.json()["attendant"]
    assert general.attendants[0].display_name in refusal and "Special" in refusal
    assert not RoutingRule.objects.exists()
    body["attendant"] = special.attendants[1].pk
    assert api.post("/api/v1/routing-rules", body, format="json").status_code == 201


def test_a_dedicated_lead_follows_an_online_only_teams_presence_rule(
    org, make_team, new_lead
):
    desk = make_team(org, size=3, slug="desk", policy=None, online_only=True)
    org.default_team = desk
    org.save(update_fields=["default_team"])
    owner = desk.attendants[2]
    rule(org, attendant=owner)
    Membership.objects.filter(pk=owner.pk).update(presence=Membership.Presence.OFFLINE)

    while_offline = refreshed(new_lead(org))
    Membership.objects.filter(pk=owner.pk).update(presence=Membership.Presence.ONLINE)
    while_online = refreshed(new_lead(org))

    assert while_offline.assignee_id == desk.attendants[0].pk
    assert while_offline.events.get(type=Type.ASSIGNED).data["how"] == "strategy"
    assert while_online.assignee_id == owner.pk


def test_skills_rule_gives_the_lead_only_to_attendants_holding_every_skill(
    org, general, new_lead
):
    finance, english = skill(org, "financeiro"), skill(org, "english")
    a, b, c = general.attendants
    a.skills.set([finance])
    b.skills.set([english])
    c.skills.set([finance, english])
    rule(org, skills=[finance, english],
         conditions=[{"field": "custom.topic", "op": "eq", "value": "invoice"}])

    leads = [refreshed(new_lead(org, custom={"topic": "invoice"})) for _ in range(3)]

    assert {lead.assignee_id for lead in leads} == {c.pk}
    assert set(leads[0].required_skills.all()) == {finance, english}


def test_a_lead_needing_a_skill_nobody_holds_waits_although_others_are_free(
    org, general, new_lead
):
    rule(org, skills=[skill(org, "klingon")])

    lead = refreshed(new_lead(org))

    assert lead.assignee_id is None and lead.status == Lead.Status.OPEN
    assert list(queued_leads(team=general)) == [lead]
    assert list(lead.events.values_list("type", flat=True)) == [Type.CREATED, Type.QUEUED]


def test_skills_asked_in_the_post_limit_who_can_take_the_lead(api, org, general):
    sac = skill(org, "sac")
    general.attendants[1].skills.set([sac])

    answers = [
        api.post(LEADS, {"email": f"c{i}@example.com", "required_skills": ["sac"]},
                 format="json").json()
        for i in range(3)
    ]

    assert [a["assignee"]["id"] for a in answers] == [general.attendants[1].pk] * 3
    assert set(Lead.objects.get(pk=answers[0]["id"]).required_skills.all()) == {sac}


def test_redirect_rule_records_the_lead_as_concluded_with_the_redirect_message(
    org, general, new_lead, api
):
    made = rule(org, redirect_to="suporte@acme.com.br",
                conditions=[{"field": "custom.kind", "op": "eq", "value": "support"}])
    org.language = "en"
    org.save(update_fields=["language"])

    answer = api.post(LEADS, {"email": "help@example.com", "custom": {"kind": "support"}},
                      format="json")

    assert answer.status_code == 201
    body = answer.json()
    lead = Lead.objects.get(pk=body["id"])
    assert lead.status == Lead.Status.CONCLUDED and lead.concluded_at is not None
    assert lead.assignee_id is None and lead.routing_rule_id == made.pk
    assert not lead.overflow_active
    assert lead.customer_message == {
        "kind": "redirected",
        "text": "This channel does not handle your request: please use suporte@acme.com.br.",
    }
    assert body["customer_message"] == lead.customer_message
    assert body["queue_position"] is None and body["status"] == "concluded"
    events = list(lead.events.order_by("id"))
    assert [e.type for e in events] == [Type.CREATED, Type.CONCLUDED]
    assert events[1].reason == "redirected"
    assert events[1].data["redirect_to"] == "suporte@acme.com.br"
    assert events[1].data["customer_message"] == lead.customer_message
    assert not queued_leads(team=general).exists()


# --- new versus existing customers ---------------------------------------------------------


def test_rules_tell_new_leads_from_existing_customers(org, general, special, new_lead):
    existing = rule(org, position=0, customer=RoutingRule.Customer.EXISTING, team=special)
    new = rule(org, position=1, customer=RoutingRule.Customer.NEW, team=general)

    first = refreshed(new_lead(org, email="maria@x.com"))
    again = refreshed(new_lead(org, email="MARIA@X.COM"))
    stranger = refreshed(new_lead(org, email="joao@x.com"))

    assert (first.team_id, first.routing_rule_id, first.is_returning) == (
        general.pk, new.pk, False)
    assert (again.team_id, again.routing_rule_id, again.is_returning) == (
        special.pk, existing.pk, True)
    assert (stranger.team_id, stranger.is_returning) == (general.pk, False)


def test_customer_condition_field_matches_existing_customers(org, general, special, new_lead):
    rule(org, team=special, conditions=[{"field": "customer", "op": "eq", "value": "existing"}])

    first = refreshed(new_lead(org, phone="+55 (11) 91234-5678", email=""))
    again = refreshed(new_lead(org, phone="011 91234 5678", email=""))

    assert (first.team_id, again.team_id) == (general.pk, special.pk)
    assert again.is_returning and not first.is_returning


def test_customers_of_another_organization_are_new_here(
    org, other_org, general, special, new_lead, make_team
):
    rule(org, customer=RoutingRule.Customer.EXISTING, team=special)
    new_lead(other_org, team=make_team(other_org, size=1, policy=None), email="maria@x.com")

    lead = refreshed(new_lead(org, email="maria@x.com"))

    assert lead.team_id == general.pk and not lead.is_returning


# --- sticky returning customers ------------------------------------------------------------


def test_returning_customer_goes_back_to_the_attendant_who_held_them(org, general, new_lead):
    a, b, c = general.attendants
    first = new_lead(org, email="maria@x.com")
    new_lead(org)  # b

    again = refreshed(new_lead(org, email="Maria@X.com"))
    after = refreshed(new_lead(org))

    assert first.assignee_id == a.pk
    assert again.assignee_id == a.pk and again.is_returning
    assert again.events.get(type=Type.ASSIGNED).data["how"] == "sticky"
    assert after.assignee_id == c.pk  # stickiness does not move the rotation


def test_returning_customer_follows_whoever_holds_their_latest_lead(
    org, general, new_lead, alice
):
    a, b, c = general.attendants
    first = new_lead(org, email="maria@x.com")
    lead_transfer(organization=org, lead_id=first.pk, membership=alice, to_member=c)

    again = refreshed(new_lead(org, email="maria@x.com"))

    assert again.assignee_id == c.pk and again.is_returning


def test_returning_customer_recognised_by_phone_in_another_format(org, general, new_lead):
    new_lead(org, email="", phone="+55 (11) 91234-5678")  # a
    new_lead(org)  # b

    again = refreshed(new_lead(org, email="", phone="011 91234 5678"))

    assert again.assignee_id == general.attendants[0].pk and again.is_returning


@pytest.mark.parametrize("why", ["member_inactive", "person_inactive"])
def test_returning_customer_of_an_inactive_attendant_goes_by_the_strategy(
    org, general, new_lead, why
):
    a, b, c = general.attendants
    new_lead(org, email="maria@x.com")  # a
    if why == "member_inactive":
        general.members.filter(membership=a).update(is_active=False)
    else:
        Membership.objects.filter(pk=a.pk).update(is_active=False)

    again = refreshed(new_lead(org, email="maria@x.com"))

    assert again.assignee_id == b.pk
    assert again.is_returning
    assert again.events.get(type=Type.ASSIGNED).data["how"] == "strategy"


def test_returning_customer_of_an_offline_attendant_goes_to_an_online_colleague_at_once(
    org, make_team, new_lead
):
    team = make_team(org, size=3, policy=None, online_only=True)
    a, b, c = team.attendants
    new_lead(org, team=team, email="maria@x.com")  # a
    Membership.objects.filter(pk=a.pk).update(presence=Membership.Presence.OFFLINE)

    again = refreshed(new_lead(org, team=team, email="maria@x.com"))

    assert again.assignee_id == b.pk
    assert again.is_returning
    assert not queued_leads(team=team).exists()


def test_returning_customer_of_an_attendant_at_capacity_goes_to_a_colleague(
    org, make_team, new_lead
):
    team = make_team(org, size=2, policy=None, strategy="least_open")
    a, b = team.attendants
    team.members.update(capacity=1)
    new_lead(org, team=team, email="maria@x.com")  # a, now full

    again = refreshed(new_lead(org, team=team, email="maria@x.com"))

    assert again.assignee_id == b.pk and again.is_returning
    assert not queued_leads(team=team).exists()


def test_returning_customer_of_an_offline_holder_waits_only_when_nobody_can_take_it(
    org, make_team, new_lead
):
    team = make_team(org, size=2, policy=None, online_only=True)
    a, b = team.attendants
    team.members.update(capacity=1)
    new_lead(org, team=team, email="maria@x.com")  # a
    new_lead(org, team=team)  # b, now full
    Membership.objects.filter(pk=a.pk).update(presence=Membership.Presence.OFFLINE)

    again = refreshed(new_lead(org, team=team, email="maria@x.com"))

    assert again.assignee_id is None and again.is_returning
    assert list(queued_leads(team=team)) == [again]


def test_returning_customer_without_the_required_skill_holder_goes_to_a_skilled_colleague(
    org, general, new_lead
):
    a, b, c = general.attendants
    english = skill(org, "english")
    c.skills.set([english])
    new_lead(org, email="maria@x.com")  # a
    rule(org, skills=[english], conditions=[{"field": "custom.lang", "op": "eq",
                                             "value": "en"}])

    again = refreshed(new_lead(org, email="maria@x.com", custom={"lang": "en"}))

    assert again.assignee_id == c.pk and again.is_returning


def test_teams_without_stickiness_route_returning_customers_by_the_strategy(
    org, general, new_lead
):
    general.sticky_returning = False
    general.save(update_fields=["sticky_returning"])
    new_lead(org, email="maria@x.com")  # a

    again = refreshed(new_lead(org, email="maria@x.com"))

    assert again.assignee_id == general.attendants[1].pk
    assert again.is_returning


# --- skills on overflow ---------------------------------------------------------------------


def test_overflow_never_gives_a_lead_to_someone_without_its_skills(org, make_team, new_lead):
    team = make_team(org, size=4, service_minutes=10)
    a, b, c, d = team.attendants
    english = skill(org, "english")
    for person in (a, c):
        person.skills.set([english])
    rule(org, skills=[english])
    start = timezone.now() - timedelta(minutes=10)
    lead = new_lead(org, team=team, now=start)
    assert lead.assignee_id == a.pk

    for k in range(4):  # more sweeps than attendants
        overflow_sweep(now=start + timedelta(minutes=10 * (k + 1), seconds=1))

    lead.refresh_from_db()
    moves = list(lead.events.filter(type=Type.OVERFLOWED).values_list(
        "from_member_id", "to_member_id"))
    assert moves == [(a.pk, c.pk)]
    assert lead.assignee_id == c.pk and lead.transfer_count == 1


def test_overflow_skips_unskilled_colleagues_and_stops_when_the_skilled_have_held_it(
    org, make_team, new_lead
):
    team = make_team(org, size=3, service_minutes=10)
    a, b, c = team.attendants
    sac = skill(org, "sac")
    a.skills.set([sac])
    b.skills.set([sac])
    rule(org, skills=[sac])
    start = timezone.now() - timedelta(minutes=10)
    lead = new_lead(org, team=team, now=start)

    overflow_sweep(now=start + timedelta(minutes=10, seconds=1))
    overflow_sweep(now=start + timedelta(minutes=20, seconds=2))

    lead.refresh_from_db()
    assert lead.assignee_id == b.pk
    assert c.pk not in set(lead.events.values_list("to_member_id", flat=True))


# --- normalization --------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [
    "+55 (11) 91234-5678", "011 91234 5678", "(11) 91234-5678", "11912345678",
    "0055 11 91234-5678", "+55.11.91234.5678",
])
def test_phone_numbers_normalize_to_digits_with_the_country_code(raw):
    assert normalize_phone(raw) == "5511912345678"


def test_foreign_numbers_keep_their_own_country_code():
    assert normalize_phone("+1 (415) 555-0100") == "14155550100"
    assert normalize_phone("") == ""


def test_emails_normalize_to_lower_case_without_spaces():
    assert normalize_email("  MARIA@X.COM ") == normalize_email("maria@x.com") == "maria@x.com"


def test_api_recognises_a_returning_customer_however_they_type_their_contact(
    api, org, general
):
    def post(body):
        return api.post(LEADS, body, format="json").json()

    first = post({"email": "maria@x.com"})
    by_email = post({"email": "MARIA@X.COM"})
    by_phone_first = post({"phone": "+55 (11) 91234-5678"})
    by_phone_again = post({"phone": "011 91234 5678"})

    assert [first["is_returning"], by_email["is_returning"]] == [False, True]
    assert [by_phone_first["is_returning"], by_phone_again["is_returning"]] == [False, True]
    assert by_email["assignee"]["id"] == first["assignee"]["id"]
    assert by_phone_again["assignee"]["id"] == by_phone_first["assignee"]["id"]
    stored = Lead.objects.get(pk=by_phone_again["id"])
    assert stored.phone_normalized == "5511912345678"
    assert Lead.objects.get(pk=by_email["id"]).email_normalized == "maria@x.com"
