"""The API contract (issue 12, section 4): what the OpenAPI schema promises is what the API does.

schemathesis drives every operation from the schema with every check on; the schema is
validated as OpenAPI; and each writable resource goes round trip with nothing but what the
schema says (request bodies built from its request components, answers checked against its
response components).
"""

import ipaddress
import json
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from rest_framework.test import APIClient

from funnel.services import scoring_rule_create
from history.services import Actor
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.services import endpoint_create
from leads.services import lead_create
from ops.models import DataExport
from routing.services_rules import routing_rule_create
from sources.services import source_create
from teams.services.skills import skill_create

SCHEMA_URL = "/api/schema/?format=json"
ERROR_STATUSES = {"400", "401", "403", "404", "409", "413", "429"}
PUBLIC_URL = "https://93.184.215.14/hooks"  # a literal public address: no DNS, never contacted
SCHEMATHESIS_CONFIG = Path(__file__).with_name("schemathesis.toml")
# Bounded: a few minutes on CI's two cores (docs/security.md has the last run's figures).
SCHEMATHESIS_EXAMPLES = 20


@pytest.fixture
def schema(db):
    return json.loads(Client().get(SCHEMA_URL).content)


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


# --- the schema itself --------------------------------------------------------------------


def test_the_schema_is_valid_openapi(schema):
    validate(schema)


def test_paths_are_listed_as_the_readme_writes_them_without_a_trailing_slash(schema):
    assert all(not path.endswith("/") for path in schema["paths"])
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for path in re.findall(r"`(?:GET|POST|PUT|PATCH|DELETE)[^`]* (/api/v1/[^`?\s]*)", readme):
        assert re.sub(r"\{[^}]+\}", "{x}", path) in {
            re.sub(r"\{[^}]+\}", "{x}", p) for p in schema["paths"]
        }, path


def test_operation_ids_are_names_a_generated_client_can_use(schema):
    ids = [operation["operationId"] for _path, _method, operation in operations(schema)]

    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", i) and not i.startswith("v1") for i in ids)
    assert {"leads_list", "leads_create", "leads_retrieve", "leads_accept", "leads_history",
            "leads_export", "teams_preview", "teams_overflow_policy_retrieve",
            "teams_overflow_policy_update", "handoffs_create", "reports_summary",
            "routing_rules_partial_update", "webhooks_rotate_secret",
            "webhook_deliveries_list", "webhook_deliveries_resend"} <= set(ids)


def test_request_bodies_never_carry_read_only_fields(schema):
    components = schema["components"]["schemas"]
    for path, method, operation in operations(schema):
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if not body:
            continue
        name = body["schema"]["$ref"].rsplit("/", 1)[1]
        component = components[name]
        assert name.endswith("Request"), (method, path, name)
        assert not any(p.get("readOnly") for p in component.get("properties", {}).values())
    assert "id" not in components["LeadCreateRequest"]["properties"]
    assert "holder_count" not in components["SkillRequest"]["properties"]
    assert "created_at" not in components["RoutingRuleRequest"]["properties"]


def test_every_operation_documents_the_one_error_body(schema):
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["detail", "code"]
    for path, method, operation in operations(schema):
        documented = set(operation["responses"])
        assert ERROR_STATUSES <= documented, (method, path)
        for status in ERROR_STATUSES:
            content = operation["responses"][status]["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/Error"}
        assert "Retry-After" in operation["responses"]["429"]["headers"]


# --- what the API answers ---------------------------------------------------------------------


@pytest.fixture
def no_throttles(settings):
    """Throttles off: 429s would only hide the answers under test."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"intake": "", "api": "", "address": ""},
    }


def json_schema(node):
    """OpenAPI 3.0's ``nullable`` as JSON Schema says it (``{"anyOf": [..., null]}``)."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def validator_for(schema, component: str):
    return Draft202012Validator({"$ref": f"#/components/schemas/{component}",
                                 "components": json_schema(schema["components"])})


def error_validator(schema):
    return validator_for(schema, "Error")


def test_every_error_status_answers_the_documented_body(api, org, make_team, schema,
                                                        settings, new_lead):
    api.credentials(HTTP_AUTHORIZATION=api._credentials["HTTP_AUTHORIZATION"],
                    HTTP_ACCEPT_LANGUAGE="en")
    team = make_team(org, size=2, slug="sales")
    lead = new_lead(org, team=team)
    validator = error_validator(schema)
    answers = {
        "400": api.post("/api/v1/leads", {"emial": "x"}, format="json"),
        "401": APIClient().get("/api/v1/leads"),
        "404": api.get("/api/v1/leads/999999"),
        "409": api.post(f"/api/v1/leads/{lead.pk}/accept",
                        {"attendant": team.attendants[1 - team.attendants.index(
                            lead.assignee)].pk}, format="json"),
        "413": api.post("/api/v1/leads", data=b'{"name": "' + b"x" * 300_000 + b'"}',
                        content_type="application/json"),
        "404 (no route)": api.get("/api/v1/nothing-here"),
        "400 (a service's refusal)": api.post("/api/v1/skills", {"name": "?!"}, format="json"),
    }
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                                   "api": "1/h"},
    }
    api.get("/api/v1/teams")
    answers["429"] = api.get("/api/v1/teams")
    for label, response in answers.items():
        assert response.status_code == int(label[:3]), (label, response.content)
        assert response["Content-Type"] == "application/json", label
        body = response.json()
        assert list(validator.iter_errors(body)) == [], (label, body)
        assert body["detail"] and body["code"], label
    assert answers["400"].json()["emial"] == ["Unknown or read-only field."]
    assert answers["409"].json()["code"] == "conflict"
    assert answers["409"].json()["attendant"]
    assert answers["429"].json()["code"] == "throttled"
    assert answers["401"].json()["code"] == "not_authenticated"


def test_wrong_json_types_are_refused_not_converted(api, org, make_team):
    api.credentials(HTTP_AUTHORIZATION=api._credentials["HTTP_AUTHORIZATION"],
                    HTTP_ACCEPT_LANGUAGE="en")
    team = make_team(org, size=2, slug="sales", policy=None)
    url = "/api/v1/teams/sales/overflow-policy"

    response = api.put(url, {"enabled": "false", "service_minutes": "20"}, format="json")
    skill = api.post("/api/v1/skills", {"name": "Spanish", "slug": 7}, format="json")

    assert response.status_code == 400
    assert response.json()["enabled"] == ["Must be true or false."]
    assert response.json()["service_minutes"] == ["Must be a whole number."]
    assert skill.status_code == 400 and skill.json()["slug"] == ["Must be a string."]
    assert not hasattr(team, "overflow_policy")


@pytest.mark.parametrize("query", ["team=", "page=", "page=x", "assignee=", "status="])
def test_an_empty_or_unreadable_query_parameter_is_refused_naming_it(api, query):
    response = api.get(f"/api/v1/leads?{query}")

    assert response.status_code in (400, 404)
    name = query.split("=")[0]
    assert name in response.json() or response.json()["code"] == "not_found"


def test_every_api_path_answers_with_and_without_a_trailing_slash(api, org, make_team, schema,
                                                                   new_lead, no_throttles):
    team = make_team(org, size=2, slug="sales")
    lead = new_lead(org, team=team)
    endpoint, _secret = endpoint_create(organization=org, url=PUBLIC_URL)
    skill = skill_create(organization=org, name="Spanish")
    rule = scoring_rule_create(organization=org, name="Returning", points=5,
                               behaviour="returning_customer")
    export = DataExport.objects.create(organization=org)
    source = source_create(organization=org, name="Landing page")
    values = {"{id}": str(lead.pk), "{slug}": team.slug}
    for path, method, _operation in operations(schema):
        if method != "get":
            continue
        concrete = path
        if path.startswith("/api/v1/webhooks/"):
            concrete = path.replace("{id}", str(endpoint.pk))
        elif path.startswith("/api/v1/skills/"):
            concrete = path.replace("{slug}", skill.slug)
        elif path.startswith("/api/v1/scoring-rules/"):
            concrete = path.replace("{id}", str(rule.pk))
        elif path == "/api/v1/exports/{id}":
            concrete = path.replace("{id}", str(export.pk))
        elif path == "/api/v1/exports/{id}/download":
            continue  # a file only once built; its 404 is the same with or without the slash
        elif path.startswith("/api/v1/sources/"):
            concrete = path.replace("{id}", str(source.pk))
        elif path.startswith("/api/v1/webhook-deliveries/") or path.startswith(
                "/api/v1/routing-rules/"):
            continue  # none exists here; their 404 is the same with or without the slash
        for placeholder, value in values.items():
            concrete = concrete.replace(placeholder, value)
        bare, slashed = api.get(concrete), api.get(concrete + "/")
        assert bare.status_code == slashed.status_code == 200, (path, bare, slashed)
    # and writes: a POST to the slashed form of a hand-written route
    response = api.post("/api/v1/handoffs/", {
        "contact": {"email": "ana@example.com", "team": "sales"}, "transcript": [],
    }, format="json")
    assert response.status_code == 201


def test_lead_history_answers_the_plain_list_the_schema_documents(api, org, make_team, schema,
                                                                  new_lead):
    lead = new_lead(org, team=make_team(org, size=2))
    documented = schema["paths"]["/api/v1/leads/{id}/history"]["get"]["responses"]["200"]

    answer = api.get(f"/api/v1/leads/{lead.pk}/history").json()

    assert documented["content"]["application/json"]["schema"]["type"] == "array"
    assert isinstance(answer, list)
    assert [event["type"] for event in answer] == ["created", "assigned"]


def test_overflow_policy_put_takes_back_what_get_gave(api, org, make_team):
    make_team(org, size=2, slug="sales")
    make_team(org, size=2, slug="night")
    url = "/api/v1/teams/sales/overflow-policy"
    api.put(url, {"enabled": True, "service_minutes": 15, "further_teams": ["night"]},
            format="json")

    read = api.get(url).json()
    put = api.put(url, read, format="json")
    elsewhere = api.put(url, {**read, "team": "night"}, format="json")

    assert read["team"] == "sales"
    assert put.status_code == 200 and put.json() == read
    assert elsewhere.status_code == 400 and "team" in elsewhere.json()


def test_webhook_deliveries_are_listed_filtered_and_kept_to_the_organization(
        api, outsider_api, org, make_team, new_lead):
    endpoint, _secret = endpoint_create(organization=org, url=PUBLIC_URL)
    other, _secret = endpoint_create(organization=org, url=PUBLIC_URL + "/other",
                                     event_types=["concluded"])
    new_lead(org, team=make_team(org, size=2))

    listed = api.get("/api/v1/webhook-deliveries").json()
    mine = api.get(f"/api/v1/webhook-deliveries?endpoint={endpoint.pk}&status=pending").json()
    theirs = outsider_api.get("/api/v1/webhook-deliveries").json()
    foreign = outsider_api.get(f"/api/v1/webhook-deliveries?endpoint={endpoint.pk}")

    assert listed["count"] == WebhookDelivery.objects.filter(endpoint=endpoint).count() == 2
    assert [d["endpoint"] for d in mine["results"]] == [endpoint.pk] * 2
    assert api.get(f"/api/v1/webhook-deliveries?endpoint={other.pk}").json()["count"] == 0
    assert theirs["count"] == 0
    assert foreign.status_code == 404 and foreign.json()["endpoint"]


def test_api_docs_serve_swagger_ui_from_our_own_static_files(db):
    page = Client().get("/api/docs/")
    html = page.content.decode()

    assert page.status_code == 200
    policy = page["Content-Security-Policy"]
    assert "cdn.jsdelivr.net" not in html and "http" not in policy
    assert "img-src 'self' data:" in policy  # Swagger UI's icons, in its own stylesheet
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    script = Client().get("/api/docs/?script=")
    assert script.status_code == 200 and "/api/schema/" in script.content.decode()


# --- round trip of every writable resource, with only what the schema says ------------------


def request_body(schema, component: str, answer: dict) -> dict:
    """What a generated client would send back: the answer's fields that the request
    component has, nothing else."""
    properties = schema["components"]["schemas"][component]["properties"]
    return {name: value for name, value in answer.items() if name in properties}


def check_answer(schema, component: str, body):
    validator = validator_for(schema, component)
    assert list(validator.iter_errors(body)) == [], (component, body)


def test_every_writable_resource_goes_round_trip_as_the_schema_describes_it(
        api, org, make_team, schema, no_throttles):
    make_team(org, size=2, slug="sales")
    make_team(org, size=2, slug="night")

    skill = api.post("/api/v1/skills", {"name": "Spanish"}, format="json")
    check_answer(schema, "Skill", skill.json())
    assert api.get(f"/api/v1/skills/{skill.json()['slug']}").json() == skill.json()

    lead = api.post("/api/v1/leads", {"email": "ana@example.com", "team": "sales",
                                      "required_skills": []}, format="json")
    check_answer(schema, "Lead", lead.json())
    check_answer(schema, "Lead", api.get(f"/api/v1/leads/{lead.json()['id']}").json())

    policy_url = "/api/v1/teams/sales/overflow-policy"
    policy = api.put(policy_url, {"enabled": True, "service_minutes": 12}, format="json")
    check_answer(schema, "OverflowPolicy", policy.json())
    again = api.put(policy_url, request_body(schema, "OverflowPolicyRequest", policy.json()),
                    format="json")
    assert again.status_code == 200 and again.json() == policy.json()

    rule = api.post("/api/v1/routing-rules", {"name": "Spanish speakers", "team": "night",
                                              "required_skills": [skill.json()["slug"]]},
                    format="json")
    check_answer(schema, "RoutingRule", rule.json())
    rule_url = f"/api/v1/routing-rules/{rule.json()['id']}"
    back = api.put(rule_url, request_body(schema, "RoutingRuleRequest", rule.json()),
                   format="json")
    assert back.status_code == 200 and back.json() == rule.json()
    patched = api.patch(rule_url, {"is_active": False}, format="json")
    check_answer(schema, "RoutingRule", patched.json())

    webhook = api.post("/api/v1/webhooks", {"url": PUBLIC_URL, "event_types": ["created"]},
                       format="json")
    check_answer(schema, "WebhookEndpointCreated", webhook.json())
    webhook_url = f"/api/v1/webhooks/{webhook.json()['id']}"
    read = api.get(webhook_url).json()
    back = api.put(webhook_url, request_body(schema, "WebhookEndpointInputRequest", read),
                   format="json")
    assert back.status_code == 200 and back.json() == read
    check_answer(schema, "WebhookEndpointCreated",
                 api.post(f"{webhook_url}/rotate-secret").json())

    source = api.post("/api/v1/sources", {"name": "Landing page", "team": "sales",
                                          "field_mapping": {"email": "mail"},
                                          "allowed_origins": ["https://www.example.com"]},
                      format="json")
    check_answer(schema, "LeadSource", source.json())
    source_url = f"/api/v1/sources/{source.json()['id']}"
    read = api.get(source_url).json()
    back = api.put(source_url, request_body(schema, "SourceInputRequest", read), format="json")
    assert back.status_code == 200 and back.json() == read
    check_answer(schema, "LeadSource", api.post(f"{source_url}/rotate-token").json())

    handoff = api.post("/api/v1/handoffs", {"contact": {"external_id": "chat-1"},
                                            "transcript": [{"author": "bot", "text": "Hi"}]},
                       format="json")
    check_answer(schema, "HandoffAnswer", handoff.json())

    for url in (rule_url, webhook_url, source_url,
                f"/api/v1/skills/{skill.json()['slug']}"):
        assert api.delete(url).status_code == 204
        assert api.get(url).status_code == 404


# --- schemathesis over every operation ----------------------------------------------------------


def _public_dns(real):
    """Webhook host names resolve to a public address without asking a DNS server (remote)."""

    def getaddrinfo(host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        try:
            ipaddress.ip_address(name or "")
        except ValueError:
            if name and name != "localhost":
                return [(socket.AF_INET, socket.SOCK_STREAM, 6, "",
                         ("93.184.215.14", int(port or 80)))]
        return real(host, port, *args, **kwargs)

    return getaddrinfo


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_failure_in_any_operation(
        live_server, org, make_team, api_key, no_throttles, monkeypatch, tmp_path):
    """Every operation, every check (server errors, status codes, content types, headers and
    bodies against the schema, invalid data refused, valid data accepted, auth, use after
    delete), examples bounded; the figures land in docs/security.md."""
    monkeypatch.setattr(socket, "getaddrinfo", _public_dns(socket.getaddrinfo))
    sales = make_team(org, size=3, slug="sales")
    make_team(org, size=2, slug="night")
    skill_create(organization=org, name="Spanish")
    lead, _ = lead_create(organization=org, data={"email": "ana@example.com"}, team=sales,
                          actor=Actor.system())
    routing_rule_create(organization=org, name="Night owls", team=sales)
    endpoint_create(organization=org, url=PUBLIC_URL)
    assert WebhookEndpoint.objects.exists() and lead.pk

    st = Path(sys.executable).with_name("st")
    run = subprocess.run(
        [str(st), "--config-file", str(SCHEMATHESIS_CONFIG), "run",
         f"{live_server.url}{SCHEMA_URL}", "--checks", "all",
         "--phases", "examples,coverage,fuzzing,stateful",
         "--max-examples", str(SCHEMATHESIS_EXAMPLES), "--workers", "2", "--seed", "12",
         "--header", f"Authorization: Api-Key {api_key.raw}",
         "--header", "Accept-Language: en", "--no-color"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    summary = run.stdout[run.stdout.rfind("SUMMARY"):]
    print(summary)
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    selected = re.search(r"Selected: (\d+)/(\d+)", summary)
    count = sum(1 for _ in operations(json.loads(Client().get(SCHEMA_URL).content)))
    assert selected.groups() == (str(count), str(count)) and f"Tested: {count}" in summary
    assert re.search(r"(\d+) generated, \1 passed", summary), summary
