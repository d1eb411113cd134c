"""Issue 17 §1: /healthz, /readyz and /metrics."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from ops import probes


@pytest.fixture
def client():
    return Client()


def samples(body: bytes) -> dict:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }


def test_healthz_answers_without_touching_the_database(client):
    # No database fixture: pytest-django refuses any query here.
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_probes_answer_any_host_and_no_https_redirect(client, settings, db):
    settings.ALLOWED_HOSTS = ["transbordo.example.com"]
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/healthz", HTTP_HOST="10.0.0.7:8000").status_code == 200
    assert client.get("/readyz", HTTP_HOST="10.0.0.7:8000").status_code == 200


def test_readyz_reports_database_migrations_and_broker(client, db):
    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"] == "ok"
    assert body["checks"]["broker"] in ("ok", "skipped")


def test_readyz_is_503_naming_the_broker_when_it_is_unreachable(client, settings, db):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"].startswith("unreachable")
    assert body["checks"]["database"] == "ok"


def test_readyz_is_503_when_a_migration_is_missing(client, db, monkeypatch):
    from django.db.migrations.recorder import MigrationRecorder

    monkeypatch.setattr(probes, "_migrated", False)  # a process started before the deploy
    # New code whose last migration has not run yet (the test's transaction undoes this).
    MigrationRecorder.Migration.objects.filter(app="ops", name="0001_initial").delete()

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == "1 not applied"


@pytest.mark.redis
def test_readyz_reaches_a_real_broker(client, settings, db):
    import os

    settings.CELERY_BROKER_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == "ok"


def test_metrics_without_a_token_answers_anyone(client, settings, db):
    settings.METRICS_TOKEN = ""

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert b"transbordo_overflow_sweep_lag_seconds" in response.content


def test_metrics_with_a_token_requires_the_bearer(client, settings, db):
    settings.METRICS_TOKEN = "s3cret-token"

    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Api-Key s3cret-token").status_code == 401
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert response.status_code == 200
    assert b"transbordo_queue_length" in response.content


def test_metrics_gauges_read_the_sweep_lag_and_queue_from_the_database(
    client, org, make_team, new_lead
):
    team = make_team(org, size=2, service_minutes=10)
    new_lead(org, team=team, now=timezone.now() - timedelta(minutes=25))  # due 15 min ago
    new_lead(org, team=team)  # not due
    full = make_team(org, size=0, slug="empty")
    new_lead(org, team=full)  # nobody to take it: waits in the queue

    values = samples(client.get("/metrics").content)

    lag = values[("transbordo_overflow_sweep_lag_seconds", ())]
    assert 15 * 60 - 5 < lag < 15 * 60 + 60
    assert values[("transbordo_overflow_due_leads", ())] == 1
    assert values[("transbordo_queue_length", ())] == 1
    assert values[("transbordo_webhook_pending_deliveries", ())] == 0
    assert values[("transbordo_webhook_oldest_pending_seconds", ())] == 0


def test_metrics_have_no_organization_label_and_no_tenant_data(client, org, make_team, new_lead):
    new_lead(org, team=make_team(org, size=2), name="Zed Private", email="zed@private.example")

    body = client.get("/metrics").content.decode()

    assert "zed" not in body.lower() and org.slug not in body
    assert "organization=" not in body and "organization_id" not in body  # no such label


def value(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_counters_count_leads_by_source_and_outcome_after_commit(
    org, make_team, new_lead, django_capture_on_commit_callbacks
):
    team = make_team(org, size=2)
    before = value("transbordo_leads_received_total", source="api", outcome="assigned")
    before_assigned = value("transbordo_lead_assignments_total", how="strategy")

    with django_capture_on_commit_callbacks(execute=True):
        new_lead(org, team=team)
    with django_capture_on_commit_callbacks(execute=False):
        new_lead(org, team=team)  # never committed: not counted

    assert value("transbordo_leads_received_total", source="api", outcome="assigned") == (
        before + 1
    )
    assert value("transbordo_lead_assignments_total", how="strategy") == before_assigned + 1


def test_counters_count_overflow_transfers_and_stops_by_reason(
    org, make_team, new_lead, django_capture_on_commit_callbacks
):
    from leads.sweep import overflow_sweep

    team = make_team(org, size=2, service_minutes=10)
    lead = new_lead(org, team=team, now=timezone.now() - timedelta(minutes=25))
    transfers = value("transbordo_overflow_transfers_total")
    stops = value("transbordo_overflow_stops_total", reason="all_tried")

    with django_capture_on_commit_callbacks(execute=True):
        overflow_sweep()  # to the second attendant, due again in 10 minutes
    with django_capture_on_commit_callbacks(execute=True):
        overflow_sweep(now=timezone.now() + timedelta(minutes=11))  # nobody left

    lead.refresh_from_db()
    assert lead.transfer_count == 1 and lead.overflow_reason == "all_tried"
    assert value("transbordo_overflow_transfers_total") == transfers + 1
    assert value("transbordo_overflow_stops_total", reason="all_tried") == stops + 1


def test_http_latency_is_measured_by_view(client, alice):
    client.force_login(alice.user)
    before = value("transbordo_http_request_duration_seconds_count", view="inbox",
                   method="GET", status="2xx")

    response = client.get("/inbox/")

    assert response.status_code == 200
    assert value("transbordo_http_request_duration_seconds_count", view="inbox",
                 method="GET", status="2xx") == before + 1
