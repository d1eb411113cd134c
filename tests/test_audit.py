"""The audit log of managers' changes (issue 12, section 6): who changed which team, policy,
rule, person, key or webhook (and the organization's settings, skills, hours), when, from what
to what; append-only, written in the transaction of the change, never a secret."""

import json
from datetime import time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import AppendOnlyError, AuditEvent
from audit.services import audit_record
from funnel.services import (
    lost_reason_create,
    lost_reason_set_active,
    scoring_rule_create,
    scoring_rule_delete,
    scoring_rule_update,
    stage_create,
    stage_move,
    stage_rename,
)
from integrations.services import endpoint_create, endpoint_rotate_secret
from overflow.services import policy_save
from routing.services_rules import (
    routing_rule_create,
    routing_rule_delete,
    routing_rule_move,
    routing_rule_update,
)
from teams.models import Membership
from teams.services.hours import HoursException, team_hours_replace
from teams.services.keys import api_key_create, api_key_revoke
from teams.services.organization import organization_update
from teams.services.people import person_create, person_set_active, person_update
from teams.services.skills import person_skills_set, skill_create, skill_delete
from teams.services.teams import (
    team_create,
    team_member_add,
    team_member_move,
    team_member_remove,
    team_member_update,
    team_set_archived,
    team_update,
)

from .factories import MembershipFactory, TeamFactory, UserFactory
from .helpers import client_for

PUBLIC_URL = "https://93.184.215.14/hooks"  # a literal public address: no DNS, never contacted


def last(org) -> AuditEvent:
    return AuditEvent.objects.for_org(org).order_by("-id").first()


def changes_of(org) -> dict:
    return last(org).changes


# --- what each area records -----------------------------------------------------------------


def test_team_settings_are_recorded_with_who_and_from_what_to_what(org, alice):
    team = team_create(organization=org, name="Sales", slug="sales", actor=alice)
    created = last(org)
    team_update(organization=org, team_id=team.pk, name="Sales BR", slug="sales",
                strategy="least_open", online_only=False, business_hours_enabled=False,
                sticky_returning=True, idle_limit_minutes=None, missed_limit=None,
                message_assigned="", message_out_of_hours="", message_queued="", actor=alice)
    changed = last(org)

    assert (created.area, created.action, created.target_id) == ("team", "created", team.pk)
    assert created.changes["name"] == {"from": None, "to": "Sales"}
    assert (changed.actor_kind, changed.actor_membership, changed.actor_label) == (
        "user", alice, alice.display_name)
    assert changed.changes == {"name": {"from": "Sales", "to": "Sales BR"},
                               "strategy": {"from": "round_robin", "to": "least_open"}}
    assert changed.target_label == "Sales BR"
    assert timezone.now() - changed.created_at < timedelta(minutes=1)


def test_an_update_that_changes_nothing_writes_nothing(org, alice):
    team = TeamFactory(organization=org)
    before = AuditEvent.objects.count()
    team_set_archived(organization=org, team_id=team.pk, archived=False, actor=alice)
    assert AuditEvent.objects.count() == before


def test_the_rotation_is_recorded_in_order_with_pauses_and_capacities(org, alice, bob, dave):
    team = TeamFactory(organization=org, name="Sales")
    first = team_member_add(organization=org, team_id=team.pk, membership_id=bob.pk,
                            actor=alice)
    assert changes_of(org) == {"members": {"from": [], "to": [bob.display_name]}}
    second = team_member_add(organization=org, team_id=team.pk, membership_id=dave.pk,
                             capacity=3, actor=alice)
    team_member_update(organization=org, team_id=team.pk, member_id=first.pk, is_active=False,
                       capacity=None, actor=alice)
    assert changes_of(org)["members"]["to"] == [f"{bob.display_name} (paused)",
                                                "Dave Day (capacity 3)"]
    team_member_move(organization=org, team_id=team.pk, member_id=second.pk, offset=-1,
                     actor=alice)
    assert changes_of(org)["members"]["to"] == ["Dave Day (capacity 3)",
                                                f"{bob.display_name} (paused)"]
    team_member_remove(organization=org, team_id=team.pk, member_id=first.pk, actor=alice)
    assert changes_of(org)["members"]["to"] == ["Dave Day (capacity 3)"]
    assert AuditEvent.objects.for_org(org).filter(area="team").count() == 5


def test_business_hours_are_recorded_as_the_schedule_before_and_after(org, alice):
    team = TeamFactory(organization=org, name="Sales")
    team_hours_replace(organization=org, team_id=team.pk, enabled=True,
                       weekly=[(0, time(8), time(12)), (0, time(13), time(18))],
                       exceptions=[HoursException(date=timezone.localdate(), is_closed=True)],
                       actor=alice)
    event = last(org)

    assert (event.area, event.action, event.target_label) == ("hours", "changed", "Sales")
    assert event.changes["weekly"] == {"from": [], "to": ["mon 08:00–12:00",
                                                          "mon 13:00–18:00"]}
    assert event.changes["business_hours_enabled"] == {"from": False, "to": True}
    assert event.changes["exceptions"]["to"] == [f"{timezone.localdate().isoformat()} closed"]


def test_the_overflow_policy_is_recorded_created_then_changed(org, alice, make_team):
    team = make_team(org, size=2, slug="sales", policy=False)
    night = make_team(org, size=2, slug="night")
    policy_save(team=team, enabled=True, service_minutes=15, actor=alice)
    created = last(org)
    policy_save(team=team, enabled=True, service_minutes=30, chain=[night], actor=alice)
    changed = last(org)

    assert (created.area, created.action) == ("policy", "created")
    assert created.changes["service_minutes"] == {"from": None, "to": 15}
    assert changed.changes == {"service_minutes": {"from": 15, "to": 30},
                               "further_teams": {"from": [], "to": ["Night"]}}


def test_routing_rules_are_recorded_created_changed_moved_and_deleted(org, alice, make_team):
    make_team(org, size=2, slug="sales")
    first = routing_rule_create(organization=org, name="First", actor=alice)
    rule = routing_rule_create(organization=org, name="VIP", conditions=[
        {"field": "custom.plan", "op": "eq", "value": "gold"}], actor=alice)
    routing_rule_update(organization=org, rule_id=rule.pk, name="Gold", actor=alice)
    renamed = last(org)
    routing_rule_move(organization=org, rule_id=rule.pk, offset=-1, actor=alice)
    moved = last(org)
    routing_rule_delete(organization=org, rule_id=first.pk, actor=alice)
    deleted = last(org)

    assert renamed.changes == {"name": {"from": "VIP", "to": "Gold"}}
    assert moved.changes == {"position": {"from": 1, "to": 0}}
    assert (deleted.action, deleted.target_label) == ("deleted", "First")
    assert deleted.changes["name"] == {"from": "First", "to": None}
    assert AuditEvent.objects.for_org(org).filter(area="rule").count() == 5


def test_funnel_stages_lost_reasons_and_scoring_rules_are_recorded(org, alice):
    stage = stage_create(organization=org, name="Demo booked", actor=alice)
    stage_rename(organization=org, key=stage.key, name="Demo done", actor=alice)
    renamed = last(org)
    stage_move(organization=org, key=stage.key, offset=-1, actor=alice)
    moved = last(org)
    reason = lost_reason_create(organization=org, name="Too far", actor=alice)
    lost_reason_set_active(organization=org, key=reason.key, is_active=False, actor=alice)
    archived = last(org)
    rule = scoring_rule_create(organization=org, name="Big budget", points=30, actor=alice,
                               conditions=[{"field": "custom.budget", "op": "gte",
                                            "value": 10000}])
    scoring_rule_update(organization=org, rule_id=rule.pk, points=40, actor=alice)
    changed = last(org)
    scoring_rule_delete(organization=org, rule_id=rule.pk, actor=alice)
    deleted = last(org)

    assert renamed.changes == {"name": {"from": "Demo booked", "to": "Demo done"}}
    assert moved.area == "funnel" and moved.changes["order"]["to"].index(stage.key) < (
        moved.changes["order"]["from"].index(stage.key))
    assert archived.changes == {"is_active": {"from": True, "to": False}}
    assert changed.changes == {"points": {"from": 30, "to": 40}}
    assert (deleted.area, deleted.action, deleted.target_label) == (
        "scoring", "deleted", "Big budget")
    assert deleted.changes["points"] == {"from": 40, "to": None}
    events = AuditEvent.objects.for_org(org).filter(area__in=["funnel", "scoring"])
    assert events.count() == 8 and {e.actor_membership for e in events} == {alice}


def test_people_their_roles_switch_and_skills_are_recorded_never_a_password(org, alice):
    person, _password = person_create(organization=org, actor=alice, username="zoe",
                                      role="attendant", password="a-secret-Passw0rd")
    person_update(organization=org, actor=alice, membership_id=person.pk, role="manager",
                  can_see_all=None)
    role = last(org)
    person_set_active(organization=org, actor=alice, membership_id=person.pk, is_active=False)
    switch = last(org)
    spanish = skill_create(organization=org, name="Spanish", actor=alice)
    person_skills_set(organization=org, membership_id=person.pk, skills=[spanish], actor=alice)
    skills = last(org)
    skill_delete(organization=org, skill_id=spanish.pk, actor=alice)
    deleted = last(org)

    created = AuditEvent.objects.for_org(org).get(area="person", action="created")
    assert created.changes["username"] == {"from": None, "to": "zoe"}
    assert role.changes == {"role": {"from": "attendant", "to": "manager"}}
    assert switch.changes == {"is_active": {"from": True, "to": False}}
    assert skills.changes == {"skills": {"from": [], "to": ["Spanish"]}}
    assert (deleted.area, deleted.action, deleted.changes["holders"]["from"]) == (
        "skill", "deleted", [person.display_name])
    stored = json.dumps(list(AuditEvent.objects.values("changes")))
    assert "a-secret-Passw0rd" not in stored and "pbkdf2" not in stored and "md5" not in stored


def test_keys_and_webhooks_are_recorded_without_their_secrets(org, alice):
    key, raw = api_key_create(organization=org, name="CRM", actor=alice)
    api_key_revoke(organization=org, key_id=key.pk, actor=alice)
    revoked = last(org)
    endpoint, secret = endpoint_create(organization=org, url=PUBLIC_URL, actor=alice)
    _endpoint, new_secret = endpoint_rotate_secret(organization=org, endpoint_id=endpoint.pk,
                                                   actor=alice)
    rotated = last(org)

    assert (revoked.area, revoked.action, revoked.target_label) == ("key", "revoked", "CRM")
    assert (rotated.area, rotated.action, rotated.changes) == ("webhook", "secret_rotated", {})
    stored = json.dumps(list(AuditEvent.objects.values()), default=str)
    for value in (raw, key.key_hash, secret, new_secret, secret.removeprefix("whsec_")):
        assert value not in stored
    assert AuditEvent.objects.for_org(org).get(area="key", action="created").changes == {
        "name": {"from": None, "to": "CRM"}, "prefix": {"from": None, "to": key.prefix}}


def test_a_secret_field_passed_by_mistake_is_dropped(org):
    audit_record(organization=org, actor=None, area="webhook", action="changed",
                 target_label="x", changes={"secret": {"from": "a", "to": "b"},
                                            "url": {"from": "u", "to": "v"}})
    assert changes_of(org) == {"url": {"from": "u", "to": "v"}}
    assert last(org).actor_kind == "system"


def test_organization_settings_are_recorded(org, alice):
    organization_update(organization=org, name="Acme BR", time_zone="America/Manaus",
                        language="en", attendants_see_all=True, default_team=None, actor=alice)
    event = last(org)
    assert event.area == "organization"
    assert event.changes["time_zone"] == {"from": "America/Sao_Paulo", "to": "America/Manaus"}
    assert event.changes["name"] == {"from": "Acme", "to": "Acme BR"}


# --- the same transaction, append-only ----------------------------------------------------------


def test_a_refused_change_writes_no_audit_event(org, alice, make_team):
    team = make_team(org, size=1, slug="solo", policy=False)
    with pytest.raises(ValidationError):
        policy_save(team=team, enabled=True, service_minutes=15, actor=alice)  # rule 3
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_event_is_written_in_the_transaction_of_the_change(org, alice):
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        team_create(organization=org, name="Ghost", slug="ghost", actor=alice)
        assert AuditEvent.objects.filter(target_label="Ghost").exists()
        raise Boom
    assert not AuditEvent.objects.exists()
    assert not org.teams.exists()


def test_audit_events_are_never_updated_or_deleted(org, alice):
    team_create(organization=org, name="Sales", slug="sales", actor=alice)
    event = last(org)
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(target_label="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AppendOnlyError):
        event.delete()
    event.target_label = "x"
    with pytest.raises(AppendOnlyError):
        event.save()


# --- who made it: pages, the API, the system ----------------------------------------------------


def test_changes_made_in_the_pages_are_recorded_as_the_manager(org, alice):
    client = client_for(alice)
    response = client.post("/manage/teams/new/", {"name": "Sales", "slug": "sales",
                                                 "strategy": "round_robin"})
    assert response.status_code == 302
    assert (last(org).area, last(org).actor_membership) == ("team", alice)


def test_changes_made_through_the_api_are_recorded_as_the_key(org, api, api_key, make_team):
    make_team(org, size=2, slug="sales", policy=False)
    api.put("/api/v1/teams/sales/overflow-policy", {"enabled": True, "service_minutes": 20},
            format="json")
    api.post("/api/v1/skills", {"name": "Spanish"}, format="json")
    api.post("/api/v1/scoring-rules", {"name": "Returning", "points": 5,
                                       "behaviour": "returning_customer"}, format="json")

    events = list(AuditEvent.objects.for_org(org).exclude(area="key").order_by("id"))
    assert [(e.area, e.action) for e in events] == [
        ("policy", "created"), ("skill", "created"), ("scoring", "created")]
    assert all(e.actor_kind == "api_key" and e.actor_api_key == api_key for e in events)
    assert events[0].actor_label.startswith("API · test")


def test_commands_are_recorded_as_the_system(org):
    api_key_create(organization=org, name="cli")
    assert (last(org).actor_kind, last(org).actor_label) == ("system", "System")


# --- the managers' page -----------------------------------------------------------------------


@pytest.fixture
def log(org, alice, bob):
    """Changes by alice and by another manager, today and ten days ago."""
    zed = MembershipFactory(organization=org, role=Membership.Role.MANAGER,
                            user=UserFactory(username="zed", first_name="Zed"))
    team_create(organization=org, name="Sales", slug="sales", actor=alice)
    skill_create(organization=org, name="Spanish", actor=zed)
    old = AuditEvent.objects.create(
        organization=org, actor_kind="user", actor_membership=alice, actor_label="Alice",
        area="rule", action="created", target_label="Old rule",
        created_at=timezone.now() - timedelta(days=10))
    return {"zed": zed, "old": old}


def rows(response) -> list[str]:
    html = response.content.decode()
    return [label for label in ("Sales", "Spanish", "Old rule") if label in html]


def test_managers_see_the_log_newest_first_and_filter_it(org, alice, log):
    client = client_for(alice)
    since = (timezone.localdate() - timedelta(days=1)).isoformat()

    everything = client.get("/manage/audit/")
    by_area = client.get("/manage/audit/?area=skill")
    by_person = client.get(f"/manage/audit/?person={alice.pk}")
    by_date = client.get(f"/manage/audit/?since={since}")
    unreadable = client.get("/manage/audit/?since=2026-02-30&area=nonsense&person=x")

    assert everything.status_code == 200
    html = everything.content.decode()
    assert html.index("Spanish") < html.index("Sales") < html.index("Old rule")
    assert rows(by_area) == ["Spanish"]
    assert rows(by_person) == ["Sales", "Old rule"]
    assert rows(by_date) == ["Sales", "Spanish"]
    assert unreadable.status_code == 200 and rows(unreadable) == ["Sales", "Spanish",
                                                                   "Old rule"]


def test_the_log_page_is_paginated(org, alice, settings):
    for n in range(55):
        audit_record(organization=org, actor=alice, area="team", action="created",
                     target_label=f"T{n:02}")
    client = client_for(alice)
    first, second = client.get("/manage/audit/"), client.get("/manage/audit/?page=2")
    assert "T54" in first.content.decode() and "T04" not in first.content.decode()
    assert "T04" in second.content.decode() and "T54" not in second.content.decode()


def test_attendants_cannot_open_the_log(bob, log):
    assert client_for(bob).get("/manage/audit/").status_code == 403


def test_the_log_shows_nothing_of_another_organization(charlie, log):
    response = client_for(charlie).get("/manage/audit/")
    assert response.status_code == 200
    assert rows(response) == []
    assert client_for(charlie).get(f"/manage/audit/?person={log['zed'].pk}").status_code == 200


def test_the_log_page_speaks_portuguese_and_english(org, alice, log):
    client = client_for(alice)
    portuguese = client.get("/manage/audit/").content.decode()
    client.cookies["django_language"] = "en"
    english = client.get("/manage/audit/").content.decode()

    assert "Registro de alterações" in portuguese and "Audit log" not in portuguese
    assert "Audit log" in english and "Skill" in english


# --- the API ---------------------------------------------------------------------------------


def test_api_lists_the_log_with_its_filters(api, org, alice, log):
    def labels(query=""):
        # The API key's own creation (area "key") is in the log too; these filters are about
        # the changes of the fixture.
        answer = api.get(f"/api/v1/audit-events{query}").json()
        return [e["target_label"] for e in answer["results"] if e["area"] != "key"]

    first = api.get("/api/v1/audit-events?area=skill").json()["results"][0]
    today = timezone.localdate().isoformat()

    assert labels() == ["Spanish", "Sales", "Old rule"]
    assert first["actor"] == {"kind": "user", "label": log["zed"].display_name,
                              "person": log["zed"].pk, "api_key": None}
    assert first["changes"]["name"] == {"from": None, "to": "Spanish"}
    assert labels("?area=skill") == ["Spanish"]
    assert labels(f"?person={alice.pk}") == ["Sales", "Old rule"]
    assert labels(f"?since={today}") == ["Spanish", "Sales"]
    assert labels(f"?until={today}&since={today}&area=team") == ["Sales"]


def test_api_log_is_read_only_and_kept_to_the_organization(api, outsider_api, log):
    theirs = outsider_api.get("/api/v1/audit-events").json()["results"]
    assert [e["target_label"] for e in theirs] == ["outsider"]  # their own key, nothing of ours
    assert api.post("/api/v1/audit-events", {}, format="json").status_code == 405
    assert api.delete(f"/api/v1/audit-events/{log['old'].pk}").status_code in (404, 405)
    assert api.get("/api/v1/audit-events?area=nonsense").status_code == 400
