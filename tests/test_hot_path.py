"""Intake's hot path without the ORM's per-call compile (issue 13, section 3).

core.sql builds the statements every new lead runs once per process; these tests hold them
to what the ORM reads and writes, so a field added to a model cannot silently go missing.
Serializer fields shared per class must still answer each request with its own context and
language; the site's CSP header built once must be the one django-csp builds.
"""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from csp.middleware import PolicyParts
from csp.utils import build_policy
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from core import sql
from history.services import Actor, _json
from leads.api.serializers import LeadCreateSerializer, LeadSerializer
from leads.models import Lead
from leads.selectors import arrival_lookup, previous_lead_for_contact
from leads.services import lead_conclude, lead_create
from routing.selectors import active_members
from routing.services import team_lock
from teams.models import Team

LEADS = "/api/v1/leads"


def _lead(org, team, **extra):
    return Lead(
        organization=org, team=team, name="Ana Souza", email="ana@example.com",
        phone="+55 11 91234-5678", email_normalized="ana@example.com",
        phone_normalized="5511912345678", source=Lead.Source.API,
        custom={"utm": "ads", "n": 3, "nested": {"ok": True}},
        customer_message={"kind": "assigned", "text": "Olá"},
        created_at=datetime(2026, 11, 30, 12, 0, tzinfo=UTC), score=7, **extra,
    )


def test_compiled_insert_writes_the_row_the_orm_writes(org, make_team):
    team = make_team(org, size=2)
    by_orm = _lead(org, team, external_id="orm", assignee=team.attendants[0],
                   assigned_at=datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    by_orm.save(force_insert=True)
    compiled = _lead(org, team, external_id="sql", assignee=team.attendants[0],
                     assigned_at=datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    sql.insert(compiled)

    assert compiled.pk is not None and compiled.pk != by_orm.pk
    assert not compiled._state.adding
    fields = [f.name for f in Lead._meta.concrete_fields if f.name not in ("id", "external_id")]
    read = {lead.external_id: model_to_dict(lead, fields=fields)
            for lead in Lead.objects.filter(pk__in=[by_orm.pk, compiled.pk])}
    assert read["sql"] == read["orm"]
    assert read["sql"]["custom"] == {"utm": "ads", "n": 3, "nested": {"ok": True}}


def test_compiled_team_lock_reads_every_field_the_orm_reads(org, make_team):
    team = make_team(org, size=2, strategy=Team.Strategy.LEAST_OPEN, online_only=True)
    with transaction.atomic():
        locked = team_lock(team)
    fields = [f.name for f in Team._meta.concrete_fields]
    assert model_to_dict(locked, fields=fields) == model_to_dict(
        Team.objects.get(pk=team.pk), fields=fields)
    assert locked.strategy == Team.Strategy.LEAST_OPEN and locked.online_only


def test_rotation_is_active_members_in_order_with_their_person_loaded(org, make_team):
    team = make_team(org, size=3)
    first, second, third = team.members.order_by("order", "id")
    second.is_active = False
    second.save(update_fields=["is_active"])
    third.membership.is_active = False
    third.membership.save(update_fields=["is_active"])

    expected = first.membership.display_name, first.membership.presence

    members = active_members(team=team)

    assert [m.pk for m in members] == [first.pk]
    with CaptureQueriesContext(connection) as ctx:
        got = members[0].membership.display_name, members[0].membership.presence
    assert got == expected
    assert ctx.captured_queries == []


def test_previous_lead_for_contact_is_the_newest_by_email_or_phone_of_the_same_org(
    org, other_org, make_team, new_lead
):
    team = make_team(org, size=2)
    older = new_lead(org, team=team, email="ana@example.com", phone="")
    newer = new_lead(org, team=team, email="", phone="+55 11 91234-5678")
    new_lead(other_org, email="bia@example.com")

    by_email = previous_lead_for_contact(organization=org, email="ana@example.com", phone="")
    by_either = previous_lead_for_contact(
        organization=org, email="ana@example.com", phone=newer.phone_normalized)

    assert by_email.pk == older.pk and by_email.assignee_id == older.assignee_id
    assert by_either.pk == newer.pk
    assert previous_lead_for_contact(organization=org, email="bia@example.com", phone="") is None
    assert previous_lead_for_contact(organization=org, email="", phone="") is None


def test_arrival_lookup_finds_the_retry_and_the_contacts_latest_lead_in_one_statement(
    org, other_org, make_team, new_lead
):
    team = make_team(org, size=2)
    by_external = new_lead(org, team=team, external_id="crm-1", email="ana@example.com")
    keyed, _created = lead_create(organization=org, data={"email": "bia@example.com"},
                                  actor=Actor.system(), team=team, idempotency_key="k-1")
    latest = new_lead(org, team=team, email="ana@example.com")
    new_lead(other_org, external_id="crm-2", email="caio@example.com")

    with CaptureQueriesContext(connection) as ctx:
        found = arrival_lookup(organization=org, email="ana@example.com", phone="",
                               external_id="crm-1", idempotency_key="k-1")
    assert len(ctx.captured_queries) == 1
    assert found[0] == by_external.pk  # the external id wins over the key
    assert (found[1].pk, found[1].assignee_id) == (latest.pk, latest.assignee_id)
    assert arrival_lookup(organization=org, email="", phone="", idempotency_key="k-1") == (
        keyed.pk, None)
    assert arrival_lookup(organization=org, email="caio@example.com", phone="",
                          external_id="crm-2") == (None, None)
    assert arrival_lookup(organization=org, email="", phone="") == (None, None)


def test_shared_serializer_fields_validate_each_request_with_its_own_context(
    org, other_org, make_team
):
    make_team(org, size=1, slug="sales")
    ours = LeadCreateSerializer(data={"email": "a@example.com", "team": "sales"},
                                context={"organization": org})
    theirs = LeadCreateSerializer(data={"email": "a@example.com", "team": "sales"},
                                  context={"organization": other_org})

    assert ours.fields is theirs.fields  # built once for the class
    assert ours.is_valid(), ours.errors
    assert ours.validated_data["team"].organization_id == org.pk
    assert not theirs.is_valid()
    assert "team" in theirs.errors


def test_shared_serializer_fields_answer_in_each_request_language(api):
    pt = api.post(LEADS, {"email": "not-an-email"}, format="json",
                  HTTP_ACCEPT_LANGUAGE="pt-br")
    en = api.post(LEADS, {"email": "not-an-email"}, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert pt.status_code == en.status_code == 400
    assert pt.json()["email"] != en.json()["email"]
    assert "valid email" in " ".join(en.json()["email"]).lower()


def test_site_policy_header_is_the_one_django_csp_builds(api, client):
    expected = build_policy(**vars(PolicyParts()))

    assert api.get(LEADS)["Content-Security-Policy"] == expected
    docs = client.get("/api/docs/")["Content-Security-Policy"]
    assert "data:" in docs and docs != expected  # a view's own policy still applies


def test_site_policy_follows_a_settings_change(api, settings):
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'self'", "cdn.example"]}}

    assert api.get(LEADS)["Content-Security-Policy"] == "default-src 'self' cdn.example"


def test_event_data_is_stored_as_djangos_encoder_writes_it():
    data = {"at": datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=UTC), "amount": Decimal("1.50"),
            "label": gettext_lazy("Leads"), "list": [1, "dois", None], "ok": True}
    beyond_64_bits = {**data, "big": 2**70}

    for value in (data, beyond_64_bits):
        assert json.loads(_json(value)) == json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    assert json.loads(_json(data))["at"] == "2026-11-30T12:00:00.123Z"


def test_lead_answer_written_out_is_drfs_generic_answer(org, other_org, make_team, new_lead):
    team = make_team(org, size=2, slug="sales")
    assigned = new_lead(org, team=team, custom={"utm": "x", "n": [1, 2]}, external_id="e-1")
    full = make_team(org, size=1, slug="full")
    full.members.update(capacity=0)
    waiting = [new_lead(org, team=full), new_lead(org, team=full)]
    lost = new_lead(org, team=team)
    lead_conclude(organization=org, lead_id=lost.pk, membership=lost.assignee,
                  outcome="lost", lost_reason="no_budget")
    elsewhere = new_lead(other_org)
    ids = [lead.pk for lead in (assigned, *waiting, lost, elsewhere)]

    answers = {}
    for lead in Lead.objects.select_related("team", "assignee__user").filter(pk__in=ids):
        written = LeadSerializer(lead).data
        generic = serializers.Serializer.to_representation(LeadSerializer(lead), lead)
        assert json.loads(json.dumps(written)) == json.loads(json.dumps(generic)), lead.pk
        answers[lead.pk] = written

    assert len(answers) == 5
    assert answers[assigned.pk]["overflow"]["due_at"] and answers[assigned.pk]["assignee"]
    assert [answers[w.pk]["queue_position"] for w in waiting] == [1, 2]
    assert answers[lost.pk]["lost_reason"] == "no_budget"
    assert answers[lost.pk]["concluded_at"] and answers[elsewhere.pk]["team"] is None


def test_a_new_lead_still_lets_the_waiting_queue_go_first(org, make_team, new_lead):
    team = make_team(org, size=1, slug="desk")
    team.members.update(capacity=1)
    first = new_lead(org, team=team)
    waiting = new_lead(org, team=team)
    assert first.assignee_id is not None and waiting.assignee_id is None
    team.members.update(capacity=2)  # room again, with nothing to drain the queue yet

    newest = new_lead(org, team=team)

    waiting.refresh_from_db()
    assert waiting.assignee_id == first.assignee_id  # the queue went first
    assert newest.assignee_id is None
    assert LeadSerializer(newest).data["queue_position"] == 1


def test_events_built_without_init_are_what_the_model_builds(org, make_team, new_lead):
    from history.models import LeadEvent
    from history.services import event_build

    team = make_team(org, size=2)
    lead = new_lead(org, team=team)
    at = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    fields = [f.attname for f in LeadEvent._meta.concrete_fields]

    built = event_build(lead=lead, type=LeadEvent.Type.TRANSFERRED, actor=Actor.system(),
                        from_member=team.attendants[0], to_member=team.attendants[1],
                        reason="manual", data={"note": "x"}, at=at)
    by_init = LeadEvent(organization_id=org.pk, lead=lead, type=LeadEvent.Type.TRANSFERRED,
                        actor_kind=Actor.system().kind, actor_user=None, actor_api_key=None,
                        from_member=team.attendants[0], to_member=team.attendants[1],
                        reason="manual", data={"note": "x"}, sequence=None, created_at=at)

    assert [getattr(built, f) for f in fields] == [getattr(by_init, f) for f in fields]
    assert built._state.adding and built.pk is None
    with CaptureQueriesContext(connection) as ctx:
        assert built.lead is lead and built.to_member == team.attendants[1]
    assert ctx.captured_queries == []
    with pytest.raises(TypeError):
        sql.new(LeadEvent, {"type": "created"}, {"lead": lead})
