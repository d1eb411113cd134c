"""The REST API: lead intake, reads, accept, overflow policy, auth and tenant isolation."""

import json

import pytest
from django.conf import settings
from django.utils import translation
from rest_framework.test import APIClient

from history.models import LeadEvent
from leads.models import Lead
from overflow import rules
from overflow.models import OverflowPolicy
from teams.models import ApiKey

LEADS = "/api/v1/leads"


def lead_url(lead_id, suffix=""):
    return f"{LEADS}/{lead_id}{suffix}"


def policy_url(slug):
    return f"/api/v1/teams/{slug}/overflow-policy"


@pytest.fixture
def sales(org, make_team):
    """``org``'s default team: three active attendants, 10-minute overflow, open 24/7."""
    team = make_team(org, size=3, slug="sales")
    org.default_team = team
    org.save(update_fields=["default_team"])
    return team


@pytest.fixture
def support(org, make_team):
    return make_team(org, size=2, slug="support")


@pytest.fixture
def lead(org, sales, new_lead):
    return new_lead(org, team=sales, email="maria@example.com", phone="+55 11 99999-0000")


def post_lead(client, body, **extra):
    return client.post(LEADS, body, format="json", **extra)


def post_raw(client, raw, url=LEADS, content_type="application/json"):
    return client.generic("POST", url, raw, content_type=content_type)


# --- POST /api/v1/leads -----------------------------------------------------------


def test_post_lead_creates_assigns_and_answers_201(api, org, sales, api_key):
    response = post_lead(api, {"name": "Maria Silva", "email": "Maria@Example.com",
                               "phone": "+55 11 91234-5678", "custom": {"utm": "ads"}})

    assert response.status_code == 201, response.content
    body = response.json()
    first = sales.attendants[0]
    assert body["assignee"] == {
        "id": first.pk, "name": first.display_name, "first_name": first.first_name,
    }
    assert body["team"] == {"slug": "sales", "name": sales.name}
    assert set(body["overflow"]) == {"active", "due_at", "reason", "transfers"}
    assert body["overflow"]["active"] is True
    assert body["overflow"]["due_at"]
    assert body["overflow"]["transfers"] == 0

    lead = Lead.objects.get(pk=body["id"])
    assert lead.organization_id == org.pk
    assert lead.source == Lead.Source.API
    assert lead.email == "maria@example.com"
    assert lead.custom == {"utm": "ads"}
    assert lead.assignee_id == first.pk
    assert lead.status == Lead.Status.OPEN
    assert lead.overflow_active is True
    events = list(LeadEvent.objects.filter(lead=lead).order_by("created_at", "id"))
    assert [e.type for e in events] == [LeadEvent.Type.CREATED, LeadEvent.Type.ASSIGNED]
    assert events[0].actor_kind == LeadEvent.ActorKind.API_KEY
    assert events[0].actor_api_key_id == api_key.pk
    assert events[1].to_member_id == first.pk


def test_post_lead_without_team_goes_to_the_default_team(api, org, sales, support):
    response = post_lead(api, {"email": "a@example.com"})

    assert response.status_code == 201
    lead = Lead.objects.get(pk=response.json()["id"])
    assert lead.team_id == sales.pk
    assert lead.assignee_id in {m.pk for m in sales.attendants}


def test_post_lead_with_team_slug_routes_to_that_team(api, org, sales, support):
    response = post_lead(api, {"email": "a@example.com", "team": "support"})

    assert response.status_code == 201
    assert response.json()["team"]["slug"] == "support"
    lead = Lead.objects.get(pk=response.json()["id"])
    assert lead.team_id == support.pk
    assert lead.assignee_id == support.attendants[0].pk


def test_retry_with_same_external_id_answers_200_with_the_first_lead(api, sales):
    first = post_lead(api, {"email": "a@example.com", "external_id": "crm-1"})
    assert first.status_code == 201
    leads, events = Lead.objects.count(), LeadEvent.objects.count()

    again = post_lead(api, {"email": "other@example.com", "external_id": "crm-1"})

    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Lead.objects.count() == leads == 1
    assert LeadEvent.objects.count() == events
    lead = Lead.objects.get()
    assert lead.email == "a@example.com"


def test_retry_with_same_idempotency_key_answers_200_with_the_first_lead(api, sales):
    first = post_lead(api, {"email": "a@example.com"}, HTTP_IDEMPOTENCY_KEY="req-42")
    assert first.status_code == 201
    events = LeadEvent.objects.count()

    again = post_lead(api, {"email": "a@example.com"}, HTTP_IDEMPOTENCY_KEY="req-42")

    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Lead.objects.count() == 1
    assert LeadEvent.objects.count() == events
    assert Lead.objects.get().idempotency_key == "req-42"


def test_idempotency_key_longer_than_128_characters_is_refused(api, sales):
    response = post_lead(api, {"email": "a@example.com"}, HTTP_IDEMPOTENCY_KEY="k" * 129)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert Lead.objects.count() == 0


# --- bad input: 4xx naming the field, nothing written ----------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"name": "Só o nome"}, "contact", id="no-email-no-phone"),
        pytest.param({"name": "x", "email": "", "phone": ""}, "contact", id="blank-contact"),
        pytest.param({"email": "not-an-email"}, "email", id="bad-email"),
        pytest.param({"email": 5}, "email", id="email-number"),
        pytest.param({"phone": "call me maybe"}, "phone", id="bad-phone"),
        pytest.param({"phone": 11999990000}, "phone", id="phone-number"),
        pytest.param({"email": "a@example.com", "team": "nope"}, "team", id="unknown-team"),
        pytest.param({"email": "a@example.com", "name": 123}, "name", id="name-number"),
        pytest.param({"email": "a@example.com", "name": True}, "name", id="name-bool"),
        pytest.param({"email": "a@example.com", "name": {"a": 1}}, "name", id="name-object"),
        pytest.param({"email": "a@example.com", "external_id": 7}, "external_id",
                     id="external-id-number"),
        pytest.param({"email": "a@example.com", "custom": "x"}, "custom", id="custom-string"),
        pytest.param({"email": "a@example.com", "custom": [1, 2]}, "custom", id="custom-list"),
        pytest.param({"email": "a@example.com", "custom": {f"k{i}": i for i in range(101)}},
                     "custom", id="custom-too-many-keys"),
        pytest.param({"email": "a@example.com", "custom": {"k": "x" * 17_000}}, "custom",
                     id="custom-too-large"),
        pytest.param({"email": "a@example.com", "name": "x" * 201}, "name", id="name-too-long"),
        pytest.param({"email": "a@example.com", "emial": "typo@example.com"}, "emial",
                     id="unknown-field"),
    ],
)
def test_invalid_lead_is_refused_naming_the_field_and_nothing_is_written(
    api, sales, body, field
):
    response = post_lead(api, body)

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Lead.objects.count() == 0
    assert LeadEvent.objects.count() == 0


def test_body_larger_than_the_upload_limit_answers_413(api, sales):
    body = {"email": "a@example.com", "custom": {"blob": "x" * (300 * 1024)}}
    assert len(json.dumps(body)) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    response = post_lead(api, body)

    assert response.status_code == 413
    assert Lead.objects.count() == 0


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param('{"email": "a@example.com"', id="truncated"),
        pytest.param("{'email': 'a@example.com'}", id="single-quotes"),
        pytest.param("not json at all", id="text"),
        pytest.param('[{"email": "a@example.com"}]', id="array"),
        pytest.param("[]", id="empty-array"),
        pytest.param('"a@example.com"', id="string"),
        pytest.param("null", id="null"),
        pytest.param("42", id="number"),
    ],
)
def test_malformed_or_non_object_json_answers_400(api, sales, raw):
    response = post_raw(api, raw)

    assert response.status_code == 400, response.content
    assert Lead.objects.count() == 0


def test_non_json_content_type_is_refused_with_415(api, sales):
    response = post_raw(
        api, "email=a@example.com", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 415
    assert Lead.objects.count() == 0


# --- mass assignment ------------------------------------------------------------------


def test_server_owned_fields_are_refused_by_name_and_nothing_is_created(
    api, org, other_org, sales
):
    chosen = sales.attendants[2]
    body = {
        "email": "a@example.com",
        "organization": other_org.pk,
        "assignee": chosen.pk,
        "status": "concluded",
        "source": "manual",
        "overflow": {"active": False},
        "id": 999_999,
    }

    response = post_lead(api, body)

    assert response.status_code == 400
    errors = response.json()
    for field in ("organization", "assignee", "status", "source", "overflow", "id"):
        assert field in errors, field
    assert Lead.objects.count() == 0
    assert LeadEvent.objects.count() == 0


def test_server_owned_fields_are_named_together_with_other_field_errors(api, sales):
    response = post_lead(api, {"email": "bad", "status": "concluded"})

    assert response.status_code == 400
    assert {"email", "status"} <= set(response.json())
    assert Lead.objects.count() == 0


def test_valid_lead_gets_the_servers_assignee_and_status(api, sales):
    refused = post_lead(api, {"email": "a@example.com", "assignee": sales.attendants[2].pk})
    assert refused.status_code == 400

    response = post_lead(api, {"email": "a@example.com"})

    assert response.status_code == 201
    lead = Lead.objects.get(pk=response.json()["id"])
    assert lead.assignee_id == sales.attendants[0].pk  # the rotation's choice
    assert lead.status == Lead.Status.OPEN
    assert lead.source == Lead.Source.API


# --- authentication -------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="no-header"),
        pytest.param("Bearer x", id="wrong-scheme"),
        pytest.param("Api-Key tb_not-a-real-key", id="unknown-key"),
        pytest.param("Api-Key ", id="empty-key"),
    ],
)
def test_requests_without_a_valid_key_answer_401_with_the_scheme(org, sales, authorization):
    client = APIClient()
    if authorization is not None:
        client.credentials(HTTP_AUTHORIZATION=authorization)

    for response in (client.get(LEADS), post_lead(client, {"email": "a@example.com"})):
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Api-Key"
    assert Lead.objects.count() == 0


def test_revoked_key_answers_401(api, api_key, sales):
    assert api.get(LEADS).status_code == 200
    api_key.revoke()

    response = post_lead(api, {"email": "a@example.com"})

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"
    assert Lead.objects.count() == 0


def test_key_records_when_it_was_last_used(api, api_key, sales):
    assert api_key.last_used_at is None

    assert api.get(LEADS).status_code == 200

    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


def test_key_is_stored_only_as_hash_and_prefix(api_key):
    stored = ApiKey.objects.get(pk=api_key.pk)
    assert api_key.raw not in (stored.key_hash, stored.prefix, stored.name)
    assert stored.key_hash == ApiKey.hash(api_key.raw)
    assert api_key.raw.startswith(stored.prefix)


# --- tenant isolation -------------------------------------------------------------------


def test_outsider_cannot_read_another_organizations_lead(outsider_api, lead):
    assert outsider_api.get(lead_url(lead.pk)).status_code == 404
    assert outsider_api.get(lead_url(lead.pk, "/history")).status_code == 404


def test_outsider_cannot_accept_another_organizations_lead(outsider_api, lead):
    response = outsider_api.post(
        lead_url(lead.pk, "/accept"), {"attendant": lead.assignee_id}, format="json"
    )

    assert response.status_code == 404
    lead.refresh_from_db()
    assert lead.overflow_active is True
    assert lead.first_accessed_at is None
    assert not LeadEvent.objects.filter(lead=lead, type=LeadEvent.Type.ACCESSED).exists()


def test_outsider_list_never_shows_another_organizations_leads(outsider_api, org, sales,
                                                               new_lead):
    new_lead(org, team=sales, external_id="crm-7")

    everything = outsider_api.get(LEADS)
    by_external_id = outsider_api.get(LEADS, {"external_id": "crm-7"})
    by_team = outsider_api.get(LEADS, {"team": "sales"})

    for response in (everything, by_external_id, by_team):
        assert response.status_code == 200
        assert response.json()["count"] == 0
        assert response.json()["results"] == []


def test_outsider_cannot_read_another_organizations_team(outsider_api, api, sales):
    assert api.get("/api/v1/teams/sales").status_code == 200
    assert outsider_api.get("/api/v1/teams/sales").status_code == 404
    listed = outsider_api.get("/api/v1/teams")
    assert listed.status_code == 200
    assert "sales" not in json.dumps(listed.json())


def test_outsider_cannot_read_or_change_another_organizations_overflow_policy(
    outsider_api, org, make_team
):
    team = make_team(org, size=3, slug="sales", service_minutes=30)

    read = outsider_api.get(policy_url("sales"))
    write = outsider_api.put(
        policy_url("sales"), {"enabled": False, "service_minutes": 10}, format="json"
    )

    assert read.status_code == 404
    assert write.status_code == 404
    policy = OverflowPolicy.objects.get(team=team)
    assert (policy.enabled, policy.service_minutes) == (True, 30)


def test_outsider_cannot_post_a_lead_into_another_organizations_team(
    outsider_api, org, sales
):
    response = post_lead(outsider_api, {"email": "a@example.com", "team": "sales"})

    assert response.status_code == 400
    assert "team" in response.json()
    assert Lead.objects.count() == 0


def test_outsider_cannot_name_another_organizations_team_as_further_team(
    outsider_api, other_org, org, sales, make_team
):
    make_team(other_org, size=2, slug="globex-team")

    response = outsider_api.put(
        policy_url("globex-team"),
        {"enabled": True, "service_minutes": 10, "further_teams": ["sales"]},
        format="json",
    )

    assert response.status_code == 400
    assert "further_teams" in response.json()


def test_same_external_id_in_two_organizations_makes_two_leads(
    api, outsider_api, org, other_org, sales
):
    mine = post_lead(api, {"email": "a@example.com", "external_id": "shared-1"})
    theirs = post_lead(outsider_api, {"email": "a@example.com", "external_id": "shared-1"})

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]
    assert Lead.objects.filter(external_id="shared-1", organization=org).count() == 1
    assert Lead.objects.filter(external_id="shared-1", organization=other_org).count() == 1


def test_same_idempotency_key_in_two_organizations_makes_two_leads(
    api, outsider_api, org, other_org, sales
):
    mine = post_lead(api, {"email": "a@example.com"}, HTTP_IDEMPOTENCY_KEY="same")
    theirs = post_lead(outsider_api, {"email": "a@example.com"}, HTTP_IDEMPOTENCY_KEY="same")

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert Lead.objects.filter(idempotency_key="same").count() == 2


# --- reading leads ------------------------------------------------------------------------


def test_lead_list_is_paginated(api, org, sales, new_lead):
    leads = [new_lead(org, team=sales) for _ in range(3)]

    response = api.get(LEADS)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert {r["id"] for r in body["results"]} == {lead.pk for lead in leads}


def test_lead_list_filters_by_status_team_and_external_id(
    api, org, sales, support, new_lead
):
    in_sales = new_lead(org, team=sales, external_id="crm-1")
    in_support = new_lead(org, team=support, external_id="crm-2")
    Lead.objects.filter(pk=in_support.pk).update(status=Lead.Status.CONCLUDED)

    def ids(**params):
        response = api.get(LEADS, params)
        assert response.status_code == 200, response.content
        return [r["id"] for r in response.json()["results"]]

    assert ids(status="open") == [in_sales.pk]
    assert ids(status="concluded") == [in_support.pk]
    assert ids(team="support") == [in_support.pk]
    assert ids(team="sales") == [in_sales.pk]
    assert ids(external_id="crm-2") == [in_support.pk]
    assert ids(external_id="crm-404") == []
    assert ids(assignee=in_sales.assignee_id) == [in_sales.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"status": "zzz"}, "status"), ({"assignee": "abc"}, "assignee"),
     ({"team": "not a slug!"}, "team")],
)
def test_bad_list_filter_answers_400_naming_it(api, sales, params, field):
    response = api.get(LEADS, params)

    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("bad_id", ["abc", "0", "999999", "1.5", "99999999999999999999999"])
def test_unknown_or_malformed_lead_id_answers_404(api, sales, bad_id):
    assert api.get(lead_url(bad_id)).status_code == 404


def test_lead_detail_shows_the_lead(api, lead):
    response = api.get(lead_url(lead.pk))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == lead.pk
    assert body["email"] == "maria@example.com"
    assert body["assignee"]["id"] == lead.assignee_id


def test_history_lists_events_oldest_first_with_actor_and_members(api, lead, sales):
    first = sales.attendants[0]
    accepted = api.post(lead_url(lead.pk, "/accept"), {"attendant": first.pk}, format="json")
    assert accepted.status_code == 200

    response = api.get(lead_url(lead.pk, "/history"))

    assert response.status_code == 200
    events = response.json()
    assert [e["type"] for e in events] == ["created", "assigned", "accessed", "overflow_stopped"]
    for event in events:
        assert set(event["actor"]) == {"kind", "label"}
        assert "from_member" in event and "to_member" in event
    assert events[0]["actor"]["kind"] == "system"
    assert events[1]["to_member"] == {
        "id": first.pk, "name": first.display_name, "first_name": first.first_name,
    }
    assert events[1]["from_member"] is None
    assert events[2]["actor"] == {"kind": "api_key", "label": "API · test"}
    assert events[3]["reason"] == "accessed"
    stamps = [e["created_at"] for e in events]
    assert stamps == sorted(stamps)


# --- accept -------------------------------------------------------------------------------


def test_accept_by_the_assignee_stops_overflow(api, lead):
    response = api.post(lead_url(lead.pk, "/accept"), {"attendant": lead.assignee_id},
                        format="json")

    assert response.status_code == 200
    assert response.json()["overflow"]["active"] is False
    assert response.json()["overflow"]["reason"] == "accessed"
    lead.refresh_from_db()
    assert lead.overflow_active is False
    assert lead.overflow_due_at is None
    assert lead.overflow_reason == Lead.OverflowReason.ACCESSED
    assert lead.first_accessed_at is not None
    assert LeadEvent.objects.filter(lead=lead, type=LeadEvent.Type.ACCESSED).count() == 1


def test_accept_twice_records_one_access(api, lead):
    url = lead_url(lead.pk, "/accept")
    assert api.post(url, {"attendant": lead.assignee_id}, format="json").status_code == 200
    assert api.post(url, {"attendant": lead.assignee_id}, format="json").status_code == 200

    assert LeadEvent.objects.filter(lead=lead, type=LeadEvent.Type.ACCESSED).count() == 1
    assert LeadEvent.objects.filter(lead=lead, type=LeadEvent.Type.OVERFLOW_STOPPED).count() == 1


def test_accept_by_another_attendant_answers_409_and_changes_nothing(api, lead, sales):
    other = sales.attendants[1]
    assert other.pk != lead.assignee_id

    response = api.post(lead_url(lead.pk, "/accept"), {"attendant": other.pk}, format="json")

    assert response.status_code == 409
    assert "attendant" in response.json()
    lead.refresh_from_db()
    assert lead.overflow_active is True
    assert lead.first_accessed_at is None
    assert not LeadEvent.objects.filter(lead=lead, type=LeadEvent.Type.ACCESSED).exists()


def test_accept_by_unknown_or_foreign_attendant_answers_404(api, lead, charlie):
    for attendant in (999_999, charlie.pk):
        response = api.post(lead_url(lead.pk, "/accept"), {"attendant": attendant},
                            format="json")
        assert response.status_code == 404
    lead.refresh_from_db()
    assert lead.overflow_active is True


@pytest.mark.parametrize("body", [{}, {"attendant": "abc"}, {"attendant": None}])
def test_accept_without_a_valid_attendant_answers_400(api, lead, body):
    response = api.post(lead_url(lead.pk, "/accept"), body, format="json")

    assert response.status_code == 400
    assert "attendant" in response.json()


# --- overflow policy -----------------------------------------------------------------------


def test_overflow_policy_get_returns_defaults_for_a_team_without_one(api, org, make_team):
    make_team(org, size=2, slug="fresh", policy=None)

    response = api.get(policy_url("fresh"))

    assert response.status_code == 200
    assert response.json() == {
        "team": "fresh", "enabled": False, "service_minutes": 10, "max_transfers": None,
        "include_bot_leads": False, "further_teams": [],
    }


def test_overflow_policy_put_saves_the_policy_and_its_chain(api, org, make_team):
    team = make_team(org, size=2, slug="fresh", policy=None)
    further = make_team(org, size=2, slug="night")

    body = {"enabled": True, "service_minutes": 25, "max_transfers": 3,
            "include_bot_leads": True, "further_teams": ["night"]}
    response = api.put(policy_url("fresh"), body, format="json")

    assert response.status_code == 200, response.content
    assert response.json() == {"team": "fresh", **body}
    policy = OverflowPolicy.objects.get(team=team)
    assert (policy.enabled, policy.service_minutes, policy.max_transfers,
            policy.include_bot_leads) == (True, 25, 3, True)
    assert [s.team_id for s in policy.chain.all()] == [further.pk]
    assert api.get(policy_url("fresh")).json() == {"team": "fresh", **body}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"enabled": True, "service_minutes": 10, "further_teams": ["nowhere"]},
                     "further_teams", id="unknown-further-team"),
        pytest.param({"enabled": True, "service_minutes": 10, "further_teams": ["fresh"]},
                     "further_teams", id="itself-as-further-team"),
        pytest.param({"enabled": True, "service_minutes": 9}, "service_minutes",
                     id="nine-minutes"),
        pytest.param({"enabled": False, "service_minutes": 0}, "service_minutes",
                     id="zero-minutes"),
        pytest.param({"enabled": True, "service_minutes": "ten"}, "service_minutes",
                     id="minutes-not-a-number"),
        pytest.param({"enabled": True, "service_minutes": 10, "max_transfers": 0},
                     "max_transfers", id="zero-transfers"),
        pytest.param({"enabled": True, "service_minutes": 10, "colour": "blue"}, "colour",
                     id="unknown-field"),
        pytest.param({"service_minutes": 10}, "enabled", id="enabled-missing"),
    ],
)
def test_overflow_policy_put_refuses_bad_input_naming_the_field(
    api, org, make_team, body, field
):
    team = make_team(org, size=2, slug="fresh", service_minutes=30)

    response = api.put(policy_url("fresh"), body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()
    policy = OverflowPolicy.objects.get(team=team)
    assert (policy.enabled, policy.service_minutes, policy.chain.count()) == (True, 30, 0)


def test_enabling_overflow_with_one_active_attendant_is_refused(api, org, make_team):
    team = make_team(org, size=1, slug="solo", policy=None)

    response = api.put(policy_url("solo"), {"enabled": True, "service_minutes": 10},
                       format="json")

    assert response.status_code == 400
    with translation.override(settings.LANGUAGE_CODE):
        message = str(rules.too_few_attendants_error(1).messages[0])
    assert response.json()["enabled"] == [message]
    assert not OverflowPolicy.objects.filter(team=team).exists()


def test_overflow_policy_of_unknown_team_answers_404(api, org):
    assert api.get(policy_url("nowhere")).status_code == 404
    response = api.put(policy_url("nowhere"), {"enabled": False, "service_minutes": 10},
                       format="json")
    assert response.status_code == 404


# --- OpenAPI ------------------------------------------------------------------------------


def test_openapi_schema_documents_leads_and_the_api_key_scheme(db):
    response = APIClient().get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = json.loads(response.content)
    assert "/api/v1/leads" in "".join(schema["paths"])
    assert "ApiKey" in schema["components"]["securitySchemes"]
    assert schema["components"]["securitySchemes"]["ApiKey"]["name"] == "Authorization"


def test_openapi_schema_default_format_answers(db):
    response = APIClient().get("/api/schema/")

    assert response.status_code == 200
    assert b"/api/v1/leads" in response.content
    assert b"ApiKey" in response.content


def test_api_docs_page_answers(db):
    response = APIClient().get("/api/docs/")

    assert response.status_code == 200


# --- odd input the parser and the database must not choke on ---------------------------


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param('{"email": "a@example.com", "custom": {"n": NaN}}', id="nan"),
        pytest.param('{"email": "a@example.com", "custom": {"n": Infinity}}', id="infinity"),
        pytest.param('{"email": "a@example.com", "custom": {"n": 1e400}}', id="float-overflow"),
    ],
)
def test_non_finite_numbers_are_refused_with_400(api, sales, raw):
    """NaN and infinities are not JSON; the database's JSON check must never see them."""
    api.raise_request_exception = False

    response = post_raw(api, raw)

    assert response.status_code == 400
    assert Lead.objects.count() == 0


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param('{"email": "a@example.com", "custom": ' + "[" * 100_000 + "]" * 100_000
                     + "}", id="deep-arrays"),
        pytest.param('{"email": "a@example.com", "custom": {"x": ' + '{"y": ' * 5000 + "1"
                     + "}" * 5001 + "}", id="deep-objects"),
    ],
)
def test_deeply_nested_json_is_refused_with_400(api, sales, raw):
    assert len(raw) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    api.raise_request_exception = False

    response = post_raw(api, raw)

    assert response.status_code == 400
    assert Lead.objects.count() == 0


@pytest.mark.parametrize(
    "custom",
    [
        pytest.param(r'{"nul": "a\u0000b"}', id="nul-in-value"),
        pytest.param(r'{"a\u0000b": 1}', id="nul-in-key"),
        pytest.param(r'{"lone": "\ud800"}', id="lone-surrogate"),
    ],
)
def test_unstorable_text_in_custom_fields_is_refused_or_kept_never_a_500(api, sales, custom):
    """Either 400 with nothing written, or 201 with the lead stored: never a 500."""
    api.raise_request_exception = False

    response = post_raw(api, '{"email": "a@example.com", "custom": ' + custom + "}")

    assert response.status_code in (201, 400), response.status_code
    if response.status_code == 400:
        assert "custom" in response.json()
        assert Lead.objects.count() == 0
    else:
        assert Lead.objects.count() == 1


def test_filter_with_an_integer_beyond_the_database_range_never_crashes(api, lead):
    """Either refused naming the filter, or simply nothing found."""
    api.raise_request_exception = False

    response = api.get(LEADS, {"assignee": "9" * 30})

    assert response.status_code in (200, 400), response.status_code
    if response.status_code == 400:
        assert "assignee" in response.json()
    else:
        assert response.json()["results"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"enabled": True, "service_minutes": 10**22}, "service_minutes",
                     id="minutes-beyond-bigint"),
        pytest.param({"enabled": True, "service_minutes": 2**31}, "service_minutes",
                     id="minutes-beyond-integer"),
        pytest.param({"enabled": True, "service_minutes": 10, "max_transfers": 10**22},
                     "max_transfers", id="transfers-beyond-bigint"),
        pytest.param({"enabled": True, "service_minutes": 10, "max_transfers": 2**31},
                     "max_transfers", id="transfers-beyond-integer"),
    ],
)
def test_overflow_policy_numbers_beyond_the_database_range_answer_400(
    api, org, make_team, body, field
):
    team = make_team(org, size=2, slug="fresh", service_minutes=30)
    api.raise_request_exception = False

    response = api.put(policy_url("fresh"), body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert OverflowPolicy.objects.get(team=team).service_minutes == 30


def test_a_huge_service_time_never_breaks_lead_intake(api, org, sales):
    """Whatever the policy API accepts, the next lead must still be taken."""
    api.raise_request_exception = False
    saved = api.put(policy_url("sales"), {"enabled": True, "service_minutes": 10**10},
                    format="json")
    assert saved.status_code < 500

    response = post_lead(api, {"email": "a@example.com"})

    assert response.status_code == 201
    assert Lead.objects.count() == 1


# --- no 500 anywhere ----------------------------------------------------------------------

DEEP = 100_000
ODD_RAW_BODIES = [
    "",
    "null",
    "0",
    "-1",
    "1e400",
    "true",
    '"text"',
    "{}",
    "[]",
    "[null]",
    "{" * 50,
    '{"email": null}',
    '{"email": null, "phone": null, "name": null, "custom": null, "team": null}',
    '{"email": [], "phone": {}, "team": [], "external_id": {}}',
    '{"email": "a@example.com", "team": 123}',
    '{"email": "a@example.com", "team": {"slug": "sales"}}',
    '{"email": "a@example.com", "custom": {"a": {"b": {"c": [1, {"d": null}]}}}}',
    '{"email": "a@example.com", "custom": {"n": 1e400}}',
    '{"email": "a@example.com", "custom": {"n": NaN, "i": Infinity}}',
    '{"email": "a@example.com", "custom": {"": ""}}',
    '{"email": "a@example.com", "custom": {"nul": "a\\u0000b"}}',
    '{"email": "a@example.com", "custom": {"a\\u0000b": 1}}',
    '{"email": "a@example.com", "custom": {"lone": "\\ud800"}}',
    '{"email": "a@example.com", "name": "\\ud800"}',
    '{"email": "a@example.com", "name": "a\\u0000b"}',
    '{"email": "a\\u0000@example.com"}',
    '{"phone": "\\u0000"}',
    '{"email": "a@example.com", "external_id": "\\u0000"}',
    '{"email": "a@example.com", "team": "\\u0000"}',
    '{"email": "a@example.com", "custom": ' + "[" * DEEP + "]" * DEEP + "}",
    '{"email": "a@example.com", "custom": {"x": ' + '{"y": ' * 5000 + "1" + "}" * 5001 + "}",
    '{"email": "a@example.com", "email": "b@example.com"}',
]
ODD_BODIES = [
    {"name": "Zoë Ñandú 李小龍 🚀", "email": "zoe@example.com"},
    {"name": "ﷺ" * 200, "email": "a@example.com"},
    {"email": "josé@exemplo.com.br"},
    {"email": "a@" + "b" * 300 + ".com"},
    {"email": "a" * 10_000 + "@example.com"},
    {"phone": "9" * 10_000},
    {"phone": "+" + "1" * 31},
    {"email": "a@example.com", "name": "x" * 100_000},
    {"email": "a@example.com", "external_id": "e" * 129},
    {"email": "a@example.com", "external_id": "é" * 128},
    {"email": "a@example.com", "team": "t" * 1000},
    {"email": "a@example.com", "team": "sales' OR 1=1 --"},
    {"email": "a@example.com", "custom": {"k" * 10_000: 1}},
    {"email": "a@example.com", "custom": {str(i): [i] * 10 for i in range(100)}},
    {"email": "a@example.com", "custom": {"big": 10**100}},
    {"email": "a@example.com", "custom": {"neg": -(10**30), "f": 1.5e308}},
    {"email": 10**100},
    {"email": 1.5},
    {"email": ["a@example.com"]},
    {"email": {"address": "a@example.com"}},
    {"phone": True},
    {"name": None, "email": "a@example.com"},
    {"email": "a@example.com", "custom": None},
    {"email": "a@example.com", "custom": {}},
    {"email": "a@example.com", "id": None, "organization": None, "assignee": None},
]


def test_no_odd_lead_body_causes_a_server_error(api, sales):
    api.raise_request_exception = False  # a crash must show as the 500 a client would get
    statuses = {}
    for i, raw in enumerate(ODD_RAW_BODIES):
        statuses[f"raw[{i}] {raw[:60]!r}"] = post_raw(api, raw).status_code
    for i, body in enumerate(ODD_BODIES):
        statuses[f"json[{i}] {json.dumps(body)[:60]}"] = post_lead(api, body).status_code
    for i, raw in enumerate(ODD_RAW_BODIES):
        response = api.generic("POST", LEADS, raw.encode("utf-8", "surrogatepass"),
                               content_type="application/json; charset=latin-1")
        statuses[f"latin-1[{i}]"] = response.status_code
    statuses["invalid utf-8"] = api.generic(
        "POST", LEADS, b'{"email": "\xff\xfe@example.com"}', content_type="application/json"
    ).status_code

    server_errors = {what: code for what, code in statuses.items() if code >= 500}
    assert not server_errors, "\n".join(server_errors)


def test_no_odd_request_to_the_other_endpoints_causes_a_server_error(api, lead, sales):
    api.raise_request_exception = False
    huge = "9" * 30
    requests = [
        ("get", f"{LEADS}/{huge}", None),
        ("get", f"{LEADS}/{huge}/history", None),
        ("post", f"{LEADS}/{huge}/accept", {"attendant": 1}),
        ("post", lead_url(lead.pk, "/accept"), {"attendant": 10**30}),
        ("post", lead_url(lead.pk, "/accept"), {"attendant": -1}),
        ("post", lead_url(lead.pk, "/accept"), {"attendant": 1.5}),
        ("post", lead_url(lead.pk, "/accept"), {"attendant": [1]}),
        ("post", lead_url(lead.pk, "/accept"), None),
        ("get", f"{LEADS}?assignee={huge}", None),
        ("get", f"{LEADS}?assignee=-1", None),
        ("get", f"{LEADS}?page=abc", None),
        ("get", f"{LEADS}?page=99999", None),
        ("get", f"{LEADS}?external_id=%00", None),
        ("get", f"{LEADS}?external_id={'x' * 500}", None),
        ("get", f"{LEADS}?team=%F0%9F%9A%80", None),
        ("get", f"{LEADS}?status=%00", None),
        ("get", "/api/v1/teams/%00", None),
        ("get", "/api/v1/teams/" + "t" * 500, None),
        ("put", policy_url("sales"), None),
        ("put", policy_url("sales"), []),
        ("put", policy_url("sales"), {"enabled": "maybe", "service_minutes": 10}),
        ("put", policy_url("sales"), {"enabled": True, "service_minutes": 10**30}),
        ("put", policy_url("sales"), {"enabled": True, "service_minutes": -5}),
        ("put", policy_url("sales"),
         {"enabled": True, "service_minutes": 10, "max_transfers": 10**30}),
        ("put", policy_url("sales"),
         {"enabled": True, "service_minutes": 10, "further_teams": "support"}),
        ("put", policy_url("sales"),
         {"enabled": True, "service_minutes": 10, "further_teams": [None, {}]}),
        ("put", policy_url("sales"),
         {"enabled": True, "service_minutes": 10, "further_teams": ["x"] * 10_000}),
        ("put", policy_url("sales"),
         {"enabled": True, "service_minutes": 10, "further_teams": ["sales", "sales"]}),
        ("post", policy_url("sales"), {"enabled": True, "service_minutes": 10}),
        ("delete", policy_url("sales"), None),
        ("delete", lead_url(lead.pk), None),
        ("patch", lead_url(lead.pk), {"status": "concluded"}),
        ("put", lead_url(lead.pk), {"email": "x@example.com"}),
    ]
    failures = {}
    for method, url, body in requests:
        response = getattr(api, method)(url, body, format="json")
        if response.status_code >= 500:
            failures[f"{method.upper()} {url[:80]} {str(body)[:60]}"] = response.status_code
    assert not failures, "\n".join(failures)
    lead.refresh_from_db()
    assert lead.status == Lead.Status.OPEN
    assert lead.email == "maria@example.com"
