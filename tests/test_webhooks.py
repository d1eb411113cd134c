"""Outbound webhooks: endpoints, the outbox written with each event, the API and the pages.

Sending to a real receiver is in ``test_webhooks_delivery.py``. Nothing here opens a
connection: URLs are checked against literal addresses or a fake ``getaddrinfo``.
"""

import socket
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from history.models import LeadEvent
from integrations import services
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.services import deliveries_claim, endpoint_create
from leads.sweep import overflow_sweep

from .helpers import client_for

Status = WebhookDelivery.Status
PUBLIC_URL = "https://93.184.215.14/hooks"  # a literal public address: no DNS, never contacted
WEBHOOKS = "/api/v1/webhooks"
REAL_GETADDRINFO = socket.getaddrinfo


def fake_dns(monkeypatch, answers: dict[str, list[str]]):
    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port or 0))
                for a in answers[host]
            ]
        return REAL_GETADDRINFO(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English; the product's default language is pt-BR."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def production_rules(settings):
    """Tests run as production does: private addresses refused (DEBUG is off here too)."""
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False


@pytest.fixture
def team(org, make_team):
    return make_team(org, size=3, slug="sales")


@pytest.fixture
def endpoint(org):
    return endpoint_create(organization=org, url=PUBLIC_URL, description="CRM")[0]


def types_of(endpoint) -> list[str]:
    return list(
        WebhookDelivery.objects.filter(endpoint=endpoint).order_by("event_id")
        .values_list("event__type", flat=True)
    )


# --- addresses (SSRF) ----------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hook",
    "http://127.1.2.3:8080/",
    "http://10.0.0.5/",
    "http://172.16.4.1/",
    "http://192.168.1.10/",
    "http://169.254.169.254/latest/meta-data/",
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://100.64.0.1/",  # carrier-grade NAT
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[::]/",
])
def test_private_loopback_and_link_local_addresses_are_refused_outside_debug(org, url):
    with pytest.raises(ValidationError) as exc:
        endpoint_create(organization=org, url=url)

    assert "url" in exc.value.message_dict
    assert "public" in exc.value.message_dict["url"][0]


@pytest.mark.parametrize("address", ["127.0.0.1", "10.20.30.40", "169.254.169.254", "::1"])
def test_names_resolving_to_private_addresses_are_refused(org, monkeypatch, address):
    fake_dns(monkeypatch, {"hooks.example.com": [address]})

    with pytest.raises(ValidationError) as exc:
        endpoint_create(organization=org, url="https://hooks.example.com/in")

    assert address in exc.value.message_dict["url"][0]


def test_a_name_with_one_private_address_among_public_ones_is_refused(org, monkeypatch):
    fake_dns(monkeypatch, {"hooks.example.com": ["93.184.215.14", "10.0.0.1"]})

    with pytest.raises(ValidationError):
        endpoint_create(organization=org, url="https://hooks.example.com/in")


def test_localhost_is_refused(org, monkeypatch):
    fake_dns(monkeypatch, {"localhost": ["127.0.0.1", "::1"]})

    with pytest.raises(ValidationError):
        endpoint_create(organization=org, url="http://localhost:8000/")


@pytest.mark.parametrize("url", [
    "ftp://93.184.215.14/", "file:///etc/passwd", "gopher://93.184.215.14/", "javascript:x",
    "93.184.215.14/hooks", "https://user:pw@93.184.215.14/", "http://93.184.215.14:99999/", "",
])
def test_only_plain_http_and_https_urls_are_taken(org, url):
    with pytest.raises(ValidationError) as exc:
        endpoint_create(organization=org, url=url)

    assert list(exc.value.message_dict) == ["url"]


def test_an_unresolvable_name_is_refused_when_saved(org, monkeypatch):
    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(ValidationError, match="does not resolve"):
        endpoint_create(organization=org, url="https://nowhere.invalid/")


def test_public_names_and_addresses_are_taken(org, monkeypatch):
    fake_dns(monkeypatch, {"crm.example.com": ["93.184.215.14", "2606:2800:220:1::1"]})

    endpoint, secret = endpoint_create(organization=org, url=" https://crm.example.com/in ")

    assert endpoint.url == "https://crm.example.com/in"
    assert secret.startswith("whsec_") and len(secret) > 40
    assert endpoint_create(organization=org, url=PUBLIC_URL)[0].is_active


def test_private_addresses_are_allowed_when_configured_for_development(org, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True

    endpoint, _secret = endpoint_create(organization=org, url="http://127.0.0.1:9000/")

    assert endpoint.pk


def test_private_networks_follow_debug_by_default():
    from config import settings as config_settings

    assert config_settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS == config_settings.DEBUG


# --- the outbox ----------------------------------------------------------------------------------


def test_each_event_gets_one_delivery_per_subscribed_active_endpoint(org, team, new_lead):
    everything = endpoint_create(organization=org, url=PUBLIC_URL)[0]
    overflow_only = endpoint_create(organization=org, url=PUBLIC_URL,
                                    event_types=["overflowed"])[0]
    created_only = endpoint_create(organization=org, url=PUBLIC_URL, event_types=["created"])[0]
    switched_off = endpoint_create(organization=org, url=PUBLIC_URL, is_active=False)[0]

    new_lead(org, team=team)

    assert types_of(everything) == ["created", "assigned"]
    assert types_of(created_only) == ["created"]
    assert types_of(overflow_only) == []
    assert types_of(switched_off) == []


def test_other_organizations_endpoints_hear_nothing(org, other_org, team, new_lead):
    theirs = endpoint_create(organization=other_org, url=PUBLIC_URL)[0]

    new_lead(org, team=team)

    assert types_of(theirs) == []


def test_an_event_rolled_back_leaves_no_delivery(org, team, endpoint, new_lead):
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            new_lead(org, team=team)
            assert WebhookDelivery.objects.count() == 2  # written with the events...
            raise RuntimeError("the state change fails after its events were written")

    assert WebhookDelivery.objects.count() == 0  # ...and gone with them
    assert LeadEvent.objects.count() == 0


def test_deliveries_are_written_in_the_events_transaction_and_sent_after_commit(
    org, team, endpoint, new_lead, django_capture_on_commit_callbacks, monkeypatch
):
    kicked = []
    monkeypatch.setattr(services, "_send_soon", kicked.append)

    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            new_lead(org, team=team)
            assert kicked == [], "nothing is queued before the commit"

    assert kicked == [list(WebhookDelivery.objects.order_by("pk").values_list("pk", flat=True))]


def test_posting_a_lead_and_sweeping_enqueues_created_assigned_and_overflowed(
    org, team, endpoint, api
):
    org.default_team = team
    org.save(update_fields=["default_team"])
    response = api.post("/api/v1/leads", {"name": "Maria Silva", "email": "maria@example.com"},
                        format="json")
    assert response.status_code == 201, response.content
    lead_id = response.json()["id"]

    overflow_sweep(now=timezone.now() + timedelta(minutes=11))

    assert types_of(endpoint) == ["created", "assigned", "overflowed"]
    deliveries = {d.payload["type"]: d for d in WebhookDelivery.objects.filter(endpoint=endpoint)}
    first, second = team.attendants[0], team.attendants[1]
    assigned = deliveries["assigned"].payload
    assert assigned["lead"]["id"] == lead_id
    assert assigned["lead"]["assignee"]["id"] == first.pk
    assert assigned["lead"]["team"] == {"slug": "sales", "name": "Sales"}
    assert assigned["organization"] == {"slug": "acme"}
    assert assigned["customer_message"]["kind"] == "assigned"
    # Frozen when the event happened: the overflow moved the lead on, the body stays.
    overflowed = deliveries["overflowed"].payload
    assert overflowed["lead"]["assignee"]["id"] == second.pk
    assert overflowed["lead"]["overflow"]["transfers"] == 1
    assert overflowed["id"] == deliveries["overflowed"].event_id


def test_payload_carries_event_id_type_time_in_the_organizations_zone(org, team, endpoint,
                                                                       new_lead):
    org.time_zone = "America/Manaus"
    org.save(update_fields=["time_zone"])

    lead = new_lead(org, team=team, name="Ana", email="ana@example.com")

    delivery = WebhookDelivery.objects.get(endpoint=endpoint, event__type="created")
    payload = delivery.payload
    assert set(payload) == {"id", "type", "created_at", "reason", "organization", "lead",
                            "customer_message"}
    assert (payload["id"], payload["type"]) == (delivery.event_id, "created")
    assert payload["created_at"].endswith("-04:00")
    assert payload["lead"]["name"] == "Ana" and payload["lead"]["id"] == lead.pk


def test_a_lead_waiting_in_the_queue_is_sent_with_its_place_in_line(org, make_team, endpoint,
                                                                     new_lead):
    team = make_team(org, size=1, online_only=True)
    team.attendants[0].presence = "offline"
    team.attendants[0].save(update_fields=["presence"])

    new_lead(org, team=team)

    queued = WebhookDelivery.objects.get(endpoint=endpoint, event__type="queued").payload
    assert queued["lead"]["assignee"] is None and queued["lead"]["queue_position"] == 1
    # Nobody online: it waits, without the "everyone is busy" estimate.
    assert queued["customer_message"]["kind"] == "unavailable"


def test_a_lead_without_a_customer_message_is_sent_with_none(org, team, endpoint, new_lead):
    from history.services import Actor, event_record
    from leads.models import Lead

    lead = new_lead(org, team=team)
    Lead.objects.filter(pk=lead.pk).update(customer_message={})
    lead = Lead.objects.get(pk=lead.pk)

    with transaction.atomic():
        event = event_record(lead=lead, type=LeadEvent.Type.NOTE, actor=Actor.system(),
                             data={"text": "called back"})

    payload = WebhookDelivery.objects.get(event=event).payload
    assert payload["customer_message"] is None and payload["lead"]["customer_message"] is None
    assert payload["lead"]["assignee"]["id"] == team.attendants[0].pk


def test_deliveries_are_unique_per_endpoint_and_event(org, team, endpoint, new_lead):
    from django.db import IntegrityError

    new_lead(org, team=team)
    existing = WebhookDelivery.objects.first()

    with pytest.raises(IntegrityError), transaction.atomic():
        WebhookDelivery.objects.create(organization=org, endpoint=endpoint,
                                       event=existing.event, payload={},
                                       next_attempt_at=timezone.now())


# --- hot paths ----------------------------------------------------------------------------------


def queries_on(table: str, ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if table in q["sql"]]


def test_posting_a_lead_without_endpoints_costs_no_query_once_the_process_knows(
    org, team, api, other_org
):
    endpoint_create(organization=other_org, url=PUBLIC_URL)  # someone else's: no effect
    org.default_team = team
    org.save(update_fields=["default_team"])
    with CaptureQueriesContext(connection) as first:
        api.post("/api/v1/leads", {"email": "warm@example.com"}, format="json")

    with CaptureQueriesContext(connection) as ctx:
        api.post("/api/v1/leads", {"email": "a@example.com"}, format="json")

    assert len(queries_on("integrations_webhookendpoint", first)) == 1
    assert queries_on("integrations_webhookendpoint", ctx) == []
    assert queries_on("integrations_webhookdelivery", ctx) == []


def test_an_endpoint_added_after_leads_arrived_hears_the_very_next_lead(org, team, api):
    org.default_team = team
    org.save(update_fields=["default_team"])
    api.post("/api/v1/leads", {"email": "warm@example.com"}, format="json")

    endpoint = endpoint_create(organization=org, url=PUBLIC_URL)[0]
    lead_id = api.post("/api/v1/leads", {"email": "a@example.com"}, format="json").json()["id"]

    assert set(endpoint.deliveries.filter(event__lead_id=lead_id)
               .values_list("event__type", flat=True)) == {"created", "assigned"}


def test_posting_a_lead_with_an_endpoint_adds_only_the_outbox_insert(org, team, api, endpoint):
    org.default_team = team
    org.save(update_fields=["default_team"])
    api.post("/api/v1/leads", {"email": "warm@example.com"}, format="json")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    with CaptureQueriesContext(connection) as without:
        api.post("/api/v1/leads", {"email": "a@example.com"}, format="json")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=True)

    with CaptureQueriesContext(connection) as with_endpoint:
        api.post("/api/v1/leads", {"email": "b@example.com"}, format="json")

    # One INSERT for both events' deliveries (the assignee and team are already loaded).
    extra = [q["sql"] for q in with_endpoint.captured_queries]
    assert len(with_endpoint) - len(without) == 1, extra
    assert len(queries_on('INSERT INTO "integrations_webhookdelivery"', with_endpoint)) == 1


def test_sweep_with_an_endpoint_costs_the_same_for_5_or_40_leads(
    org, make_team, new_lead, endpoint
):
    now = timezone.now()
    teams = [make_team(org, size=4), make_team(org, size=4), make_team(org, size=2)]
    org.refresh_from_db()  # the leads below carry the configuration version the sweep reads
    # The sweep puts the organization on its leads, so whether it has endpoints comes from
    # this process's copy (kept while the configuration does not change): asked once,
    # here, not by the measured sweeps.
    new_lead(org, team=teams[2], now=now - timedelta(hours=1))
    assert overflow_sweep(now=now - timedelta(minutes=1), batch_size=50) == 1
    costs = []
    for team, (leads, at) in zip(teams[:2], ((5, now), (40, now + timedelta(minutes=1))),
                                 strict=True):
        for _ in range(leads):
            new_lead(org, team=team, now=now - timedelta(hours=1))
        with CaptureQueriesContext(connection) as ctx:
            assert overflow_sweep(now=at, batch_size=50) == leads
        costs.append(len(ctx))
        # Per batch: the endpoints, the new assignees with their users, one INSERT.
        assert len(queries_on("integrations_", ctx)) == 2
        assert len(queries_on('FROM "teams_membership"', ctx)) == 1

    assert costs[0] == costs[1]
    assert WebhookDelivery.objects.filter(event__type="overflowed").count() == 1 + 45


# --- the API --------------------------------------------------------------------------------------


def test_api_creates_an_endpoint_and_shows_its_secret_once(api, org):
    response = api.post(WEBHOOKS, {"url": PUBLIC_URL, "description": "CRM",
                                   "event_types": ["created", "overflowed"]}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    endpoint = WebhookEndpoint.objects.get(organization=org)
    assert body["secret"] == endpoint.secret
    assert body["event_types"] == ["created", "overflowed"] and body["is_active"] is True
    listed = api.get(WEBHOOKS).json()
    assert [e["id"] for e in listed["results"]] == [endpoint.pk]
    assert "secret" not in listed["results"][0]
    assert "secret" not in api.get(f"{WEBHOOKS}/{endpoint.pk}").json()


@pytest.mark.parametrize("body, fields", [
    ({"url": "http://10.0.0.1/"}, {"url"}),
    ({"url": "ftp://93.184.215.14/"}, {"url"}),
    ({"url": PUBLIC_URL, "event_types": ["created", "exploded"]}, {"event_types"}),
    ({"url": PUBLIC_URL, "event_types": "created"}, {"event_types"}),
    ({"url": PUBLIC_URL, "secret": "mine"}, {"secret"}),
    ({"url": 42}, {"url"}),
    ({}, {"url"}),
    ({"url": "http://[::1]/", "organization": 2}, {"url", "organization"}),
])
def test_api_refuses_bad_endpoints_naming_the_fields(api, body, fields):
    response = api.post(WEBHOOKS, body, format="json")

    assert response.status_code == 400
    assert set(response.json()) == fields | {"detail", "code"}
    assert WebhookEndpoint.objects.count() == 0


def test_api_updates_deactivates_rotates_and_deletes(api, endpoint):
    url = f"{WEBHOOKS}/{endpoint.pk}"

    response = api.patch(url, {"event_types": ["assigned"], "is_active": False}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["event_types"] == ["assigned"] and not response.json()["is_active"]
    assert api.patch(url, {"url": "http://192.168.0.1/"}, format="json").status_code == 400
    response = api.put(url, {"url": "https://93.184.215.15/x", "description": "New"},
                       format="json")
    assert response.status_code == 200 and response.json()["description"] == "New"

    old = endpoint.secret
    response = api.post(f"{url}/rotate-secret")
    endpoint.refresh_from_db()
    assert response.status_code == 200 and response.json()["secret"] == endpoint.secret != old

    assert api.delete(url).status_code == 204
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_api_delivery_log_is_paginated_newest_first(api, org, team, endpoint, new_lead):
    new_lead(org, team=team)
    new_lead(org, team=team)

    response = api.get(f"{WEBHOOKS}/{endpoint.pk}/deliveries")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    rows = body["results"]
    assert [r["id"] for r in rows] == sorted((r["id"] for r in rows), reverse=True)
    assert set(rows[0]) == {"id", "endpoint", "event", "event_type", "status", "attempts",
                            "last_status_code", "last_error", "created_at", "last_attempt_at",
                            "next_attempt_at", "delivered_at"}
    assert rows[0]["status"] == "pending" and rows[0]["attempts"] == 0


def test_api_resend_makes_a_fresh_attempt_of_the_same_event(api, org, team, endpoint, new_lead):
    new_lead(org, team=team)
    delivery = WebhookDelivery.objects.first()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=Status.FAILED, attempts=8, next_attempt_at=None, last_status_code=500)

    response = api.post(f"/api/v1/webhook-deliveries/{delivery.pk}/resend")

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["status"], body["attempts"], body["event"]) == ("pending", 0, delivery.event_id)
    delivery.refresh_from_db()
    assert delivery.next_attempt_at <= timezone.now()


def test_api_resend_while_in_flight_is_a_conflict(api, org, team, endpoint, new_lead):
    new_lead(org, team=team)
    deliveries_claim(now=timezone.now() + timedelta(seconds=1), limit=1)
    claimed = WebhookDelivery.objects.get(lease_token__isnull=False)

    response = api.post(f"/api/v1/webhook-deliveries/{claimed.pk}/resend")

    assert response.status_code == 409


def test_api_needs_an_api_key(client, endpoint):
    assert client.get(WEBHOOKS).status_code in (401, 403)
    assert client.post(WEBHOOKS, {"url": PUBLIC_URL}).status_code in (401, 403)


def test_api_answers_404_for_another_organizations_endpoints_and_deliveries(
    outsider_api, org, team, endpoint, new_lead
):
    new_lead(org, team=team)
    delivery = WebhookDelivery.objects.first()
    url = f"{WEBHOOKS}/{endpoint.pk}"

    assert outsider_api.get(WEBHOOKS).json()["results"] == []
    assert outsider_api.get(url).status_code == 404
    assert outsider_api.patch(url, {"is_active": False}, format="json").status_code == 404
    assert outsider_api.put(url, {"url": PUBLIC_URL}, format="json").status_code == 404
    assert outsider_api.delete(url).status_code == 404
    assert outsider_api.post(f"{url}/rotate-secret").status_code == 404
    assert outsider_api.get(f"{url}/deliveries").status_code == 404
    assert outsider_api.get(f"/api/v1/webhook-deliveries/{delivery.pk}").status_code == 404
    assert outsider_api.post(
        f"/api/v1/webhook-deliveries/{delivery.pk}/resend").status_code == 404
    assert outsider_api.post("/api/v1/webhook-deliveries/999999999999/resend").status_code == 404
    endpoint.refresh_from_db()
    assert endpoint.is_active


def test_api_schema_lists_the_webhook_endpoints(client):
    schema = client.get("/api/schema/").content.decode()

    assert "/api/v1/webhooks/{id}/deliveries" in schema
    assert "/api/v1/webhook-deliveries/{id}/resend" in schema


# --- the managers' pages --------------------------------------------------------------------------


def page_urls(endpoint, delivery):
    return {
        "get": [
            "/manage/webhooks/", "/manage/webhooks/new/", f"/manage/webhooks/{endpoint.pk}/",
            f"/manage/webhooks/{endpoint.pk}/deliveries/",
        ],
        "post": [
            f"/manage/webhooks/{endpoint.pk}/active/", f"/manage/webhooks/{endpoint.pk}/secret/",
            f"/manage/webhooks/deliveries/{delivery.pk}/resend/",
        ],
    }


@pytest.fixture
def delivery(org, team, endpoint, new_lead):
    new_lead(org, team=team)
    return WebhookDelivery.objects.filter(endpoint=endpoint).first()


def test_managers_open_every_webhook_page(alice, endpoint, delivery):
    client = client_for(alice)
    for url in page_urls(endpoint, delivery)["get"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert endpoint.secret not in response.content.decode(), url


def test_attendants_get_403_on_every_webhook_page(bob, endpoint, delivery):
    client = client_for(bob)
    urls = page_urls(endpoint, delivery)
    for url in urls["get"]:
        assert client.get(url).status_code == 403, url
    for url in urls["post"]:
        assert client.post(url, {"is_active": "0"}).status_code == 403, url
    endpoint.refresh_from_db()
    assert endpoint.is_active


def test_managers_elsewhere_get_404_for_this_organizations_webhooks(charlie, endpoint, delivery):
    client = client_for(charlie)
    urls = page_urls(endpoint, delivery)
    for url in urls["get"][2:]:
        assert client.get(url).status_code == 404, url
    for url in urls["post"]:
        assert client.post(url, {"is_active": "0"}).status_code == 404, url
    assert endpoint.url not in client.get("/manage/webhooks/").content.decode()
    endpoint.refresh_from_db()
    assert endpoint.is_active and WebhookDelivery.objects.get(pk=delivery.pk).attempts == 0


def test_anonymous_visitors_are_sent_to_log_in(client, endpoint):
    response = client.get("/manage/webhooks/")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_manager_creates_an_endpoint_and_sees_the_secret_once(alice, org):
    client = client_for(alice)

    response = client.post("/manage/webhooks/new/", {
        "url": PUBLIC_URL, "description": "Chatbot", "event_types": ["created", "assigned"],
    })

    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get(organization=org)
    assert endpoint.event_types == ["created", "assigned"] and endpoint.description == "Chatbot"
    assert endpoint.secret in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert endpoint.secret not in client.get(f"/manage/webhooks/{endpoint.pk}/").content.decode()


def test_manager_form_shows_why_a_private_url_is_refused(alice, org):
    response = client_for(alice).post("/manage/webhooks/new/", {"url": "http://10.1.1.1/"})

    assert response.status_code == 200
    assert "10.1.1.1" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_manager_edits_an_endpoint(alice, endpoint):
    response = client_for(alice).post(f"/manage/webhooks/{endpoint.pk}/", {
        "url": "https://93.184.215.15/new", "description": "ERP", "event_types": ["concluded"],
    })

    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.description, endpoint.event_types) == (
        "https://93.184.215.15/new", "ERP", ["concluded"])


def test_manager_deactivates_an_endpoint_and_what_waited_fails(alice, endpoint, delivery):
    response = client_for(alice).post(f"/manage/webhooks/{endpoint.pk}/active/",
                                      {"is_active": "0"})

    assert response.status_code == 302
    endpoint.refresh_from_db()
    delivery.refresh_from_db()
    assert not endpoint.is_active and delivery.status == Status.FAILED


def test_manager_rotates_the_secret_and_sees_it_once(alice, endpoint):
    old = endpoint.secret

    response = client_for(alice).post(f"/manage/webhooks/{endpoint.pk}/secret/")

    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret in response.content.decode()
    assert response["Cache-Control"] == "no-store"


def test_delivery_log_page_lists_deliveries_and_sends_again(alice, endpoint, delivery):
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=Status.FAILED, attempts=1, last_status_code=410, next_attempt_at=None,
        last_error="HTTP 410 Gone")
    client = client_for(alice)

    page = client.get(f"/manage/webhooks/{endpoint.pk}/deliveries/").content.decode()
    assert f'data-delivery="{delivery.pk}"' in page and "410" in page

    response = client.post(f"/manage/webhooks/deliveries/{delivery.pk}/resend/")
    assert response.status_code == 302
    assert response["Location"] == f"/manage/webhooks/{endpoint.pk}/deliveries/"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.PENDING, 0)


def test_webhooks_link_in_the_managers_navigation(alice, bob):
    assert 'href="/manage/webhooks/"' in client_for(alice).get("/manage/webhooks/").content.decode()
    assert 'href="/manage/webhooks/"' not in client_for(bob).get("/").content.decode()
