"""POST /in/<token>: every kind end to end (lead created and routed, the log), the limits,
CORS, token rotation, tenant isolation, and the token kept out of logs and Sentry."""

import base64
import hashlib
import hmac
import json
import logging
from pathlib import Path

import pytest
import time_machine
from django.test import Client
from django.utils import translation

from leads.models import Lead
from ops.logging import JsonFormatter, RedactSecrets
from ops.redact import redact
from ops.sentry import before_send
from sources.models import Source, SourceSubmission
from sources.services import source_create, source_rotate_token, submissions_prune
from teams.services.organization import organization_reactivate, organization_suspend

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
Outcome = SourceSubmission.Outcome


@pytest.fixture(autouse=True)
def english(org):
    """Sources answer in their organization's language (pt-BR by default): English here."""
    org.language = "en"
    org.save()
    with translation.override("en"):
        yield


@pytest.fixture
def team(org, make_team):
    return make_team(org, size=2, slug="sales")


@pytest.fixture
def form_source(org, team):
    return source_create(organization=org, name="Landing page", team=team,
                         honeypot_field="website")


def url(source) -> str:
    return f"/in/{source.token}"


def post_json(client, source, data, **headers):
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    return client.post(url(source), body, content_type="application/json", **headers)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + base64.b64encode(
        hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


# --- form ------------------------------------------------------------------------------


def test_a_plain_form_post_creates_a_routed_api_lead_and_lands_on_the_received_page(
    form_source, team
):
    response = Client().post(url(form_source), {"nome": "Ana", "email": "ana@example.com",
                                                "telefone": "11 91234-5678", "plano": "anual"})
    assert response.status_code == 201
    assert b"We received your contact" in response.content
    lead = Lead.objects.get()
    assert (lead.name, lead.email, lead.phone) == ("Ana", "ana@example.com", "11 91234-5678")
    assert lead.custom == {"plano": "anual"}
    assert lead.source == Lead.Source.API
    assert lead.origin == form_source
    assert lead.team == team and lead.assignee in team.attendants
    submission = SourceSubmission.objects.get()
    assert submission.outcome == Outcome.CREATED
    assert list(submission.leads.all()) == [lead]
    assert submission.payload["nome"] == "Ana"


def test_a_form_post_redirects_303_to_the_thank_you_page(org, form_source):
    form_source.thank_you_url = "https://www.example.com/obrigado"
    form_source.save()
    response = Client().post(url(form_source) + "/", {"email": "a@example.com"})
    assert response.status_code == 303
    assert response["Location"] == "https://www.example.com/obrigado"


def test_multipart_form_posts_are_read_too(form_source):
    response = Client().post(url(form_source), {"email": "m@example.com", "n": "1"},
                             HTTP_ACCEPT="application/json")  # the test client's multipart
    assert response.status_code == 201
    assert response.json()["status"] == "created"


def test_json_posts_get_json_answers(form_source):
    response = post_json(Client(), form_source, {"name": "J", "email": "j@example.com"})
    assert response.status_code == 201
    assert response.json() == {"status": "created", "leads": [Lead.objects.get().pk]}


def test_no_email_and_no_phone_is_400_and_logged_with_the_payload(form_source):
    response = Client().post(url(form_source), {"name": "Only a name"})
    assert response.status_code == 400
    assert b"No e-mail and no phone" in response.content
    assert not Lead.objects.exists()
    submission = SourceSubmission.objects.get()
    assert (submission.outcome, submission.status_code) == (Outcome.REFUSED, 400)
    assert submission.payload == {"name": "Only a name"}


def test_honeypot_filled_in_answers_like_success_but_creates_nothing(form_source):
    response = Client().post(url(form_source), {"email": "bot@example.com",
                                                "website": "http://spam.example"})
    assert response.status_code == 200
    assert b"We received your contact" in response.content
    assert not Lead.objects.exists()
    assert SourceSubmission.objects.get().outcome == Outcome.SPAM


def test_a_switched_off_source_refuses_with_403_and_logs_it(form_source):
    form_source.is_active = False
    form_source.save()
    response = post_json(Client(), form_source, {"email": "a@example.com"})
    assert response.status_code == 403
    assert response.json()["code"] == "source_disabled"
    assert not Lead.objects.exists()
    assert SourceSubmission.objects.get().reason == "The source is switched off."


def test_a_suspended_organizations_intake_urls_refuse_with_403_and_log_it(org, form_source):
    organization_suspend(organization=org, reason="unpaid")
    response = post_json(Client(), form_source, {"email": "a@example.com"})
    assert response.status_code == 403
    assert response.json()["code"] == "organization_suspended"
    assert not Lead.objects.exists()
    assert "suspended" in SourceSubmission.objects.get().reason

    organization_reactivate(organization=org)
    assert post_json(Client(), form_source, {"email": "a@example.com"}).status_code == 201


def test_bad_json_is_400_and_logged_raw(form_source):
    response = post_json(Client(), form_source, b"{not json")
    assert response.status_code == 400
    assert SourceSubmission.objects.get().payload == {"_raw": "{not json"}


def test_unknown_token_is_404_and_get_is_405(form_source):
    assert Client().post("/in/" + "x" * 43, {"email": "a@example.com"}).status_code == 404
    assert Client().get(url(form_source)).status_code == 405
    assert not SourceSubmission.objects.exists()


# --- limits ----------------------------------------------------------------------------


def test_a_body_over_the_limit_is_413_and_logged_without_reading_it(settings, form_source):
    settings.SOURCE_MAX_BODY_BYTES = 100
    response = post_json(Client(), form_source, {"email": "a@example.com", "x": "y" * 200})
    assert response.status_code == 413
    submission = SourceSubmission.objects.get()
    assert (submission.status_code, submission.payload) == (413, {})
    assert not Lead.objects.exists()


def test_more_posts_than_the_rate_limit_get_429_and_only_the_first_is_logged(
    settings, form_source
):
    settings.SOURCE_RATE_LIMIT = "3/m"
    client = Client()
    with time_machine.travel("2026-11-30 12:00:05", tick=False):
        codes = [post_json(client, form_source, {"email": f"a{i}@example.com"}).status_code
                 for i in range(5)]
        assert codes == [201, 201, 201, 429, 429]
        over = post_json(client, form_source, {"email": "z@example.com"})
        assert int(over["Retry-After"]) == 55
    assert SourceSubmission.objects.filter(status_code=429).count() == 1
    assert Lead.objects.count() == 3
    with time_machine.travel("2026-11-30 12:01:01", tick=False):
        assert post_json(client, form_source, {"email": "n@example.com"}).status_code == 201


def test_the_log_keeps_only_the_newest_submissions_of_each_source(settings, org, form_source):
    settings.SOURCE_LOG_KEEP = 3
    other = source_create(organization=org, name="Other")
    for i in range(5):
        post_json(Client(), form_source, {"email": f"a{i}@example.com"})
    post_json(Client(), other, {"email": "o@example.com"})
    kept = SourceSubmission.objects.filter(source=form_source).order_by("received_at", "id")
    assert [s.payload["email"] for s in kept] == ["a2@example.com", "a3@example.com",
                                                   "a4@example.com"]
    assert SourceSubmission.objects.filter(source=other).count() == 1
    assert submissions_prune(source=form_source, keep=1) == 2
    assert Lead.objects.count() == 6  # pruning the log never touches leads


# --- CORS ------------------------------------------------------------------------------


def test_cors_preflight_is_allowed_only_for_the_sources_origins(form_source):
    form_source.allowed_origins = ["https://www.example.com"]
    form_source.save()
    client = Client()
    allowed = client.options(url(form_source), HTTP_ORIGIN="https://www.example.com",
                             HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                             HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type")
    assert allowed.status_code == 204
    assert allowed["Access-Control-Allow-Origin"] == "https://www.example.com"
    assert "POST" in allowed["Access-Control-Allow-Methods"]
    assert allowed["Access-Control-Allow-Headers"] == "content-type"
    refused = client.options(url(form_source), HTTP_ORIGIN="https://evil.example",
                             HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused
    assert not SourceSubmission.objects.exists()  # a preflight is not a submission


def test_a_post_from_an_allowed_origin_is_readable_and_others_are_refused(form_source):
    form_source.allowed_origins = ["https://www.example.com"]
    form_source.save()
    ok = post_json(Client(), form_source, {"email": "a@example.com"},
                   HTTP_ORIGIN="https://www.example.com")
    assert ok.status_code == 201
    assert ok["Access-Control-Allow-Origin"] == "https://www.example.com"
    refused = post_json(Client(), form_source, {"email": "b@example.com"},
                        HTTP_ORIGIN="https://evil.example")
    assert refused.status_code == 403
    assert refused.json()["code"] == "origin"
    assert Lead.objects.count() == 1


def test_without_allowed_origins_any_page_may_post_a_plain_form(form_source):
    response = Client().post(url(form_source), {"email": "a@example.com"},
                             HTTP_ORIGIN="https://landing.example")
    assert response.status_code == 201
    assert "Access-Control-Allow-Origin" not in response


# --- google_ads ------------------------------------------------------------------------


@pytest.fixture
def google_source(org, team):
    return source_create(organization=org, name="Google Ads", kind=Source.Kind.GOOGLE_ADS,
                         google_key="my-google-key")


def test_google_ads_test_lead_with_the_right_key_becomes_a_lead_once(google_source):
    data = json.loads((FIXTURES / "google_ads.json").read_text())
    first = post_json(Client(), google_source, data)
    assert first.status_code == 200 and first.json() == {}
    retry = post_json(Client(), google_source, data)
    assert retry.status_code == 200
    lead = Lead.objects.get()
    assert lead.external_id == f"google_ads:{data['lead_id']}"
    assert lead.email == "maria.souza@example.com"
    assert [s.outcome for s in SourceSubmission.objects.order_by("id")] == [
        Outcome.CREATED, Outcome.DUPLICATE]


def test_google_ads_with_a_wrong_key_is_refused_and_visible_in_the_log(google_source):
    data = json.loads((FIXTURES / "google_ads.json").read_text())
    data["google_key"] = "guessed"
    response = post_json(Client(), google_source, data)
    assert response.status_code == 403
    assert response.json()["code"] == "google_key"
    assert not Lead.objects.exists()
    submission = SourceSubmission.objects.get()
    assert submission.outcome == Outcome.REFUSED
    assert submission.payload["lead_id"] == data["lead_id"]


# --- rd_station ------------------------------------------------------------------------


def test_rd_station_conversion_webhook_creates_one_lead_per_entry_idempotently(org, team):
    source = source_create(organization=org, name="RD", kind=Source.Kind.RD_STATION)
    body = (FIXTURES / "rd_station_legacy.json").read_bytes()
    assert post_json(Client(), source, body).status_code == 201
    assert post_json(Client(), source, body).status_code == 200  # RD retried
    leads = Lead.objects.order_by("id")
    assert [lead.email for lead in leads] == ["joao@example.com.br", "ana@example.com.br"]
    assert leads[0].custom["cf_interesse"] == "Franquia"
    assert SourceSubmission.objects.order_by("id").first().leads.count() == 2


def test_rd_station_event_shape(org, team):
    source = source_create(organization=org, name="RD", kind=Source.Kind.RD_STATION)
    response = post_json(Client(), source, (FIXTURES / "rd_station_event.json").read_bytes())
    assert response.status_code == 201
    assert Lead.objects.get().name == "Carla Dias"


# --- typeform --------------------------------------------------------------------------


def test_typeform_signed_response_becomes_a_lead_and_a_wrong_signature_is_refused(org, team):
    source = source_create(organization=org, name="Typeform", kind=Source.Kind.TYPEFORM,
                           typeform_secret="tf-secret")
    body = (FIXTURES / "typeform.json").read_bytes()
    bad = post_json(Client(), source, body, HTTP_TYPEFORM_SIGNATURE=sign("nope", body))
    assert bad.status_code == 403 and bad.json()["code"] == "signature"
    ok = post_json(Client(), source, body, HTTP_TYPEFORM_SIGNATURE=sign("tf-secret", body))
    assert ok.status_code == 201
    again = post_json(Client(), source, body, HTTP_TYPEFORM_SIGNATURE=sign("tf-secret", body))
    assert again.status_code == 200
    lead = Lead.objects.get()
    assert lead.external_id == "typeform:a3a12ec67a1365927098a606107fac15"
    assert lead.custom["orcamento"] == 15000
    assert [s.outcome for s in SourceSubmission.objects.order_by("id")] == [
        Outcome.REFUSED, Outcome.CREATED, Outcome.DUPLICATE]


# --- generic ---------------------------------------------------------------------------


def test_generic_json_with_a_path_mapping(org, team):
    source = source_create(organization=org, name="CRM", kind=Source.Kind.GENERIC,
                           field_mapping={"name": "data.contact.full_name",
                                          "email": "data.contact.mail", "external_id": "id"})
    body = (FIXTURES / "generic.json").read_bytes()
    assert post_json(Client(), source, body).status_code == 201
    assert post_json(Client(), source, body).status_code == 200
    lead = Lead.objects.get()
    assert (lead.name, lead.email, lead.external_id) == (
        "Lucas Rocha", "lucas@example.com", "generic:evt_000123")


def test_the_source_may_say_its_leads_are_bot_leads(org, team):
    source = source_create(organization=org, name="Chat", lead_source=Lead.Source.BOT)
    post_json(Client(), source, {"email": "b@example.com"})
    assert Lead.objects.get().source == Lead.Source.BOT


# --- rotation and tenancy --------------------------------------------------------------


def test_after_rotation_the_old_url_is_404_and_the_new_one_works(org, form_source):
    old = url(form_source)
    rotated = source_rotate_token(organization=org, source_id=form_source.pk)
    assert rotated.token != form_source.token and len(rotated.token) >= 43
    assert Client().post(old, {"email": "a@example.com"}).status_code == 404
    assert Client().post(url(rotated), {"email": "a@example.com"}).status_code == 201


def test_a_token_of_one_organization_never_creates_a_lead_in_another(
    org, other_org, form_source, globex_team
):
    other_org.default_team = globex_team
    other_org.save()
    post_json(Client(), form_source, {"email": "a@example.com"})
    lead = Lead.objects.get()
    assert lead.organization == org
    assert not Lead.objects.filter(organization=other_org).exists()
    assert SourceSubmission.objects.get().organization == org


def test_without_a_team_the_organizations_default_team_takes_the_lead(org, team):
    org.default_team = team
    org.save()
    source = source_create(organization=org, name="No team")
    post_json(Client(), source, {"email": "a@example.com"})
    assert Lead.objects.get().team == team


# --- the token never reaches logs ------------------------------------------------------


def test_redact_hides_intake_tokens_in_paths_urls_and_messages():
    token = "AbC-123_xyz" * 4
    assert redact(f"/in/{token}") == "/in/[redacted]"
    assert redact(f"https://x.example/in/{token}/?a=1") == "https://x.example/in/[redacted]/?a=1"
    assert redact(f"Internal Server Error: /in/{token}") == (
        "Internal Server Error: /in/[redacted]")
    assert redact("/manage/sources/1/") == "/manage/sources/1/"


def test_the_request_log_line_of_an_intake_post_has_no_token(form_source, caplog):
    with caplog.at_level(logging.DEBUG, logger="transbordo.request"):
        Client().post(url(form_source), {"name": "no contact"})  # a 400: logged at WARNING
    lines = [r.getMessage() for r in caplog.records if r.name == "transbordo.request"]
    assert lines and all(form_source.token not in line for line in lines)
    assert any("/in/[redacted]" in line for line in lines)


def test_no_log_record_leaves_the_handler_with_a_token(form_source):
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1,
                               "Internal Server Error: %s", (url(form_source),), None)
    assert RedactSecrets().filter(record)
    line = JsonFormatter().format(record)
    assert form_source.token not in line
    assert "/in/[redacted]" in json.loads(line)["message"]


def test_sentry_events_are_scrubbed_of_tokens(form_source):
    event = {"request": {"url": f"https://app.example{url(form_source)}", "method": "POST"},
             "transaction": url(form_source),
             "breadcrumbs": {"values": [{"message": f"POST {url(form_source)} 400"}]}}
    assert form_source.token not in json.dumps(before_send(event, {}))


def test_pages_and_log_reasons_speak_the_organizations_language(org, form_source):
    org.language = "pt-br"
    org.save()
    response = Client().post(url(form_source), {"email": "a@example.com"},
                             HTTP_ACCEPT_LANGUAGE="en")
    assert "Recebemos seu contato" in response.content.decode()
    refused = Client().post(url(form_source), {"nome": "x"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "Sem e-mail e sem telefone" in refused.content.decode()
    assert SourceSubmission.objects.get(outcome=Outcome.REFUSED).reason.startswith(
        "Sem e-mail e sem telefone")


def test_a_form_post_stays_within_its_query_budget(form_source):
    """The intake's hot path: the source by token (with its team and overflow policy),
    lead_create as the API's single POST does it (retry and returning-customer lookups in
    one, [team lock, the rotation with the waiting queue's answer, the cursor and
    last-assigned UPDATE, lead and events INSERTs]), the log row and its lead link, the
    prune's boundary read, and two savepoint pairs."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.post(url(form_source), {"email": "warm@example.com"})  # the rotation's cursor
    with CaptureQueriesContext(connection) as ctx:
        assert client.post(url(form_source), {"email": "b@example.com"}).status_code == 201
    assert len(ctx.captured_queries) == SOURCE_POST_QUERIES, "\n".join(
        q["sql"][:120] for q in ctx.captured_queries)


SOURCE_POST_QUERIES = 14


@pytest.mark.parametrize("body", [
    b'{"email": "a@example.com", "name": "Ana\\u0000"}',   # NUL: PostgreSQL refuses it
    b'{"email": "a@example.com", "name": "Ana\\ud800"}',   # a lone surrogate
])
def test_text_no_column_can_keep_is_cleaned_not_a_500(form_source, body):
    response = post_json(Client(), form_source, body)
    assert response.status_code == 201
    assert Lead.objects.get().name.startswith("Ana")


@pytest.mark.parametrize("body", [b'{"email": "a@example.com", "score": NaN}',
                                  b"[" * 100000 + b"]" * 100000, b"\x00\xff{"])
def test_json_no_column_can_keep_is_refused_with_400_and_logged(settings, form_source, body):
    settings.SOURCE_MAX_BODY_BYTES = 300000
    response = post_json(Client(), form_source, body)
    assert response.status_code == 400
    assert SourceSubmission.objects.get().status_code == 400


def test_nul_in_a_form_field_is_dropped(form_source):
    response = Client().post(url(form_source), "email=a%40example.com&nome=A%00na",
                             content_type="application/x-www-form-urlencoded")
    assert response.status_code == 201
    assert Lead.objects.get().name == "Ana"


# --- the lead source in routing rules, scoring and the dashboard ---------------------------


def test_a_routing_rule_on_the_origin_sends_a_sources_leads_to_its_team(
    org, api, team, make_team
):
    from routing.services_rules import routing_rule_create

    org.default_team = team
    org.save(update_fields=["default_team"])
    # Without a team of its own, the source's leads are the routing rules' to place.
    source = source_create(organization=org, name="Landing page")
    ads_team = make_team(org, size=1, slug="ads")
    routing_rule_create(organization=org, name="From the landing page", team=ads_team,
                        conditions=[{"field": "origin", "op": "eq", "value": "landing PAGE"}])

    by_form = Client().post(url(source), {"email": "ana@example.com"})
    by_api = api.post("/api/v1/leads", {"email": "bia@example.com"}, format="json")

    assert by_form.status_code == 201 and by_api.status_code == 201
    assert Lead.objects.get(email="ana@example.com").team == ads_team
    assert Lead.objects.get(email="bia@example.com").team != ads_team


def test_a_scoring_rule_on_the_origin_scores_its_leads_and_the_preview_agrees(
    org, api, form_source
):
    from funnel.selectors import score_preview
    from funnel.services import scoring_rule_create

    scoring_rule_create(organization=org, name="Landing page visitors", points=15,
                        conditions=[{"field": "origin", "op": "eq", "value": "Landing page"}])

    Client().post(url(form_source), {"email": "ana@example.com"})
    api.post("/api/v1/leads", {"email": "bia@example.com"}, format="json")

    assert Lead.objects.get(email="ana@example.com").score == 15
    assert Lead.objects.get(email="bia@example.com").score == 0
    assert score_preview(organization=org, email="x@example.com",
                         origin="Landing page").score.total == 15
    answer = api.post("/api/v1/scoring-rules/preview",
                      {"email": "x@example.com", "origin": "Landing page"}, format="json")
    assert answer.status_code == 200 and answer.json()["score"] == 15


def test_the_dashboard_counts_leads_per_lead_source(org, alice, api, form_source, team):
    from reports.api import SummarySerializer
    from reports.definitions import DateRange
    from reports.selectors import summary

    from .helpers import client_for

    for n in range(2):
        Client().post(url(form_source), {"email": f"form{n}@example.com"})
    api.post("/api/v1/leads", {"email": "bia@example.com"}, format="json")
    today = Lead.objects.get(email="bia@example.com").created_at.date()

    figures = summary(organization=org, date_range=DateRange(today, today))
    data = SummarySerializer(figures).data

    assert [(row["origin"], row["name"], row["received"]) for row in data["by_origin"]] == [
        (form_source.pk, "Landing page", 2), (None, "", 1)]
    page = client_for(alice).get("/manage/", HTTP_ACCEPT_LANGUAGE="en")
    assert b'id="table-origins"' in page.content and b"Landing page" in page.content
