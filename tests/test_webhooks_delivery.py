"""Sending webhooks to a real HTTP receiver on 127.0.0.1: signatures, retries, leases, SSRF.

The receiver is a threaded ``http.server`` on a free local port. It checks every
signature with the endpoint's secret and answers from a script (``500, 500, 200``,
``"hang"``, …). Time is frozen and moved with time-machine: retries are run by
calling the delivery function at the moment they fall due, never by sleeping.
All traffic stays on 127.0.0.1.
"""

import base64
import dataclasses
import hashlib
import hmac
import json
import re
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path

import pytest
import standardwebhooks
import time_machine
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone, translation

from config.celery import app
from history.models import LeadEvent
from integrations import services
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.services import (
    deliveries_claim,
    deliveries_run,
    delivery_record,
    delivery_resend,
    delivery_send,
    endpoint_create,
    endpoint_rotate_secret,
    retry_after_seconds,
    retry_delay,
)
from integrations.tasks import deliver, deliver_due, prune_deliveries

from .workers import real_worker, wait_for

Status = WebhookDelivery.Status
START = datetime(2025, 6, 2, 13, 0, tzinfo=UTC)
REAL_GETADDRINFO = socket.getaddrinfo


class Receiver:
    """A local webhook receiver that answers from a script and records what it got."""

    def __init__(self):
        self.secret = ""
        self.script: list = []
        self.requests: list[dict] = []
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                timestamp = self.headers["X-Transbordo-Timestamp"]
                expected = "sha256=" + hmac.new(
                    receiver.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
                ).hexdigest()
                try:  # as a receiver does it: the maintained Standard Webhooks library
                    standardwebhooks.Webhook(receiver.secret).verify(body, dict(self.headers))
                    standard_ok = True
                except standardwebhooks.WebhookVerificationError:
                    standard_ok = False
                receiver.requests.append({
                    "headers": dict(self.headers), "body": body, "path": self.path,
                    "signature_ok": standard_ok,
                    "legacy_signature_ok": hmac.compare_digest(
                        expected, self.headers["X-Transbordo-Signature"]
                    ),
                })
                action = receiver.script.pop(0) if receiver.script else 200
                if action == "hang":
                    receiver.release.wait(10)  # until the test ends: the sender must give up
                    return
                self.send_response(action)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/transbordo?source=test"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def event_ids(self) -> list[str]:
        return [r["headers"]["X-Transbordo-Event-Id"] for r in self.requests]


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English; the product's default language is pt-BR."""
    with translation.override("en"):
        yield


@pytest.fixture
def receiver():
    r = Receiver()
    r.thread.start()
    yield r
    r.release.set()
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def local_network(settings):
    """The receiver lives on 127.0.0.1, which production refuses (see the SSRF tests)."""
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    settings.WEBHOOK_TIMEOUT = 2.0
    settings.WEBHOOK_RETRY_BASE = 60.0
    settings.WEBHOOK_RETRY_MAX_DELAY = 12 * 3600.0
    settings.WEBHOOK_MAX_ATTEMPTS = 8
    settings.WEBHOOK_LEASE = 360.0


@pytest.fixture
def no_jitter(monkeypatch):
    """Every back-off takes its full ceiling, so the delays can be asserted exactly."""
    monkeypatch.setattr(services, "full_jitter", lambda ceiling: ceiling)


@pytest.fixture
def hook(org, receiver, local_network):
    """An endpoint of ``org`` pointing at the receiver, subscribed to ``created`` only."""
    endpoint, secret = endpoint_create(
        organization=org, url=receiver.url, event_types=["created"], description="CRM"
    )
    receiver.secret = secret
    return endpoint


@pytest.fixture
def delivery(hook, org, make_team, new_lead):
    """One pending delivery: a lead's ``created`` event, not tried yet."""
    with time_machine.travel(START, tick=False):
        lead = new_lead(org, team=make_team(org, size=2))
    [row] = WebhookDelivery.objects.filter(endpoint=hook)
    assert row.event.lead_id == lead.pk and row.status == Status.PENDING
    return row


def fake_dns(monkeypatch, answers: dict[str, list[str]]):
    """``socket.getaddrinfo`` answering ``answers`` for those names, the real one otherwise."""

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port) if ":" not in a else (a, port, 0, 0))
                for a in answers[host]
            ]
        return REAL_GETADDRINFO(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


# --- a delivery as it arrives ---------------------------------------------------------------------


def test_delivery_arrives_signed_with_event_headers_and_the_frozen_body(delivery, receiver):
    with time_machine.travel(START, tick=False):
        counts = deliveries_run()

    assert counts == {"delivered": 1}
    [request] = receiver.requests
    headers = request["headers"]
    assert request["signature_ok"] and request["legacy_signature_ok"]
    assert request["path"] == "/hooks/transbordo?source=test"
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith("Transbordo-Webhooks/")
    assert headers["webhook-id"] == str(delivery.event_id)
    assert headers["webhook-timestamp"] == str(int(START.timestamp()))
    assert re.fullmatch(r"v1,[A-Za-z0-9+/]{43}=", headers["webhook-signature"])
    assert headers["X-Transbordo-Event-Id"] == str(delivery.event_id)
    assert headers["X-Transbordo-Event-Type"] == "created"
    assert headers["X-Transbordo-Timestamp"] == str(int(START.timestamp()))
    assert re.fullmatch(r"sha256=[0-9a-f]{64}", headers["X-Transbordo-Signature"])
    assert json.loads(request["body"]) == delivery.payload
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        Status.DELIVERED, 1, 200)
    assert delivery.delivered_at == START and delivery.lease_token is None


def test_delivered_webhook_is_not_sent_again(delivery, receiver):
    with time_machine.travel(START, tick=False) as traveller:
        deliveries_run()
        traveller.shift(timedelta(days=2))
        assert deliveries_run() == {}

    assert len(receiver.requests) == 1


# --- retries --------------------------------------------------------------------------------------


def test_receiver_failing_is_retried_with_growing_delays_until_delivered_once(
    delivery, receiver, no_jitter
):
    receiver.script = [500, 503, 500, 200]
    delays = []
    with time_machine.travel(START, tick=False) as traveller:
        deliveries_run()
        for _ in range(3):
            delivery.refresh_from_db()
            assert delivery.status == Status.PENDING
            delay = delivery.next_attempt_at - timezone.now()
            delays.append(delay.total_seconds())
            # A second before it falls due nothing is sent.
            traveller.move_to(delivery.next_attempt_at - timedelta(seconds=1))
            assert deliveries_run() == {}
            traveller.move_to(delivery.next_attempt_at)
            deliveries_run()
        traveller.shift(timedelta(days=2))
        assert deliveries_run() == {}

    assert delays == [60.0, 240.0, 960.0]  # base x4 per try: growing, from WEBHOOK_RETRY_BASE
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        Status.DELIVERED, 4, 200)
    assert [r["signature_ok"] for r in receiver.requests] == [True] * 4
    # The same event each time: the receiver deduplicates by its id.
    assert receiver.event_ids() == [str(delivery.event_id)] * 4
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [str(delivery.event_id)] * 4
    assert len({r["headers"]["webhook-timestamp"] for r in receiver.requests}) == 4
    assert len({r["body"] for r in receiver.requests}) == 1


@pytest.mark.parametrize("code", [408, 429, 500, 502])
def test_timeouts_throttling_and_server_errors_are_retried(delivery, receiver, code):
    receiver.script = [code]
    with time_machine.travel(START, tick=False):
        assert deliveries_run() == {"retrying": 1}

    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code) == (Status.PENDING, code)
    assert delivery.next_attempt_at > START and delivery.lease_token is None


@pytest.mark.parametrize("code", [410, 400, 401, 404, 301])
def test_other_client_errors_fail_at_once_without_retry(delivery, receiver, code):
    receiver.script = [code]
    with time_machine.travel(START, tick=False) as traveller:
        assert deliveries_run() == {"failed": 1}
        traveller.shift(timedelta(days=3))
        assert deliveries_run() == {}

    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        Status.FAILED, 1, code)
    assert delivery.next_attempt_at is None
    assert delivery.last_error.startswith(f"HTTP {code}")


def test_a_receiver_that_hangs_hits_the_timeout_and_is_retried(delivery, receiver, settings):
    settings.WEBHOOK_TIMEOUT = 0.3
    receiver.script = ["hang"]
    started = time.perf_counter()
    with time_machine.travel(START, tick=False):
        assert deliveries_run() == {"retrying": 1}
    elapsed = time.perf_counter() - started

    assert elapsed < 5, "the per-request timeout bounded the wait"
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and delivery.last_status_code is None
    assert "0.3" in delivery.last_error


def test_a_closed_port_is_a_network_error_and_retried(org, make_team, new_lead, local_network):
    with socket.socket() as s:  # a port nobody listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    endpoint_create(organization=org, url=f"http://127.0.0.1:{port}/", event_types=["created"])
    new_lead(org, team=make_team(org, size=2))
    [claim] = deliveries_claim(now=timezone.now() + timedelta(seconds=1))

    outcome = delivery_send(claim)

    assert outcome.retryable and not outcome.delivered and outcome.status_code is None
    assert "Connection" in outcome.error


def test_delivery_gives_up_after_the_configured_attempts(delivery, receiver, settings,
                                                         no_jitter):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    receiver.script = [500] * 10
    with time_machine.travel(START, tick=False) as traveller:
        for _ in range(5):
            deliveries_run()
            traveller.shift(timedelta(days=1))

    assert len(receiver.requests) == 3
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.FAILED, 3)


def test_default_back_off_spreads_eight_tries_over_about_a_day(no_jitter):
    assert django_settings.WEBHOOK_MAX_ATTEMPTS == 8
    ceilings = [retry_delay(attempt=n).total_seconds() for n in range(1, 8)]

    assert ceilings == sorted(ceilings)
    assert 20 * 3600 <= sum(ceilings) <= 36 * 3600, sum(ceilings) / 3600


def test_back_off_has_full_jitter_below_a_growing_ceiling():
    for attempt in range(1, 8):
        ceiling = min(django_settings.WEBHOOK_RETRY_BASE * 4 ** (attempt - 1),
                      django_settings.WEBHOOK_RETRY_MAX_DELAY)
        samples = [retry_delay(attempt=attempt).total_seconds() for _ in range(200)]
        assert all(1 <= s <= ceiling for s in samples)
        assert max(samples) - min(samples) > ceiling / 4, "jittered, not fixed"


def test_retry_after_is_honoured_up_to_the_maximum(no_jitter, settings):
    settings.WEBHOOK_RETRY_BASE = 10.0
    assert retry_delay(attempt=1, retry_after=120).total_seconds() == 120
    assert retry_delay(attempt=1, retry_after=10**9).total_seconds() == (
        settings.WEBHOOK_RETRY_MAX_DELAY)


@pytest.mark.parametrize("header, seconds", [
    ("120", 120.0),
    ("Mon, 23 Nov 2026 12:02:00 GMT", 120.0),  # an HTTP date, as RFC 9110 allows
    ("Mon, 23 Nov 2026 11:00:00 GMT", 0.0),  # already past: no extra wait
    ("-5", 0.0),
    ("soon", None),
    ("", None),
    (None, None),
])
def test_retry_after_is_read_as_seconds_or_as_an_http_date(header, seconds):
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert retry_after_seconds(header, now=now) == seconds


# --- at least once: leases ------------------------------------------------------------------------


def test_worker_killed_between_sending_and_marking_sends_again_with_the_same_event_id(
    delivery, receiver, monkeypatch, settings
):
    real_record = services.delivery_record

    def crash(*args, **kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(services, "delivery_record", crash)
    with time_machine.travel(START, tick=False) as traveller:
        with pytest.raises(SystemExit):
            deliveries_run()
        assert len(receiver.requests) == 1  # it was sent, but the result never written
        monkeypatch.setattr(services, "delivery_record", real_record)
        delivery.refresh_from_db()
        assert delivery.status == Status.PENDING and delivery.lease_token is not None

        # Another worker leaves it alone while the dead one's lease lasts...
        traveller.shift(timedelta(seconds=settings.WEBHOOK_LEASE - 1))
        assert deliveries_run() == {}
        # ...and sends it again once the lease has run out.
        traveller.shift(timedelta(seconds=2))
        assert deliveries_run() == {"delivered": 1}

    assert receiver.event_ids() == [str(delivery.event_id)] * 2
    assert receiver.requests[0]["body"] == receiver.requests[1]["body"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.DELIVERED, 2)


def test_a_worker_whose_lease_ran_out_cannot_overwrite_the_new_holders_result(
    delivery, receiver, settings
):
    with time_machine.travel(START, tick=False) as traveller:
        [slow] = deliveries_claim(now=timezone.now())
        traveller.shift(timedelta(seconds=settings.WEBHOOK_LEASE + 1))
        [fresh] = deliveries_claim(now=timezone.now())
        assert fresh.token != slow.token and fresh.attempt == 2

        assert delivery_record(fresh, delivery_send(fresh)) == "delivered"
        late = services.Outcome(retryable=True, error="late answer")
        assert delivery_record(slow, late) == "stale"

    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED and delivery.last_error == ""


def test_claimed_deliveries_are_not_claimed_again_while_leased(delivery):
    with time_machine.travel(START, tick=False):
        first = deliveries_claim(now=timezone.now())
        second = deliveries_claim(now=timezone.now())

    assert len(first) == 1 and second == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_claim_disjoint_deliveries(
    org, make_team, new_lead, settings, monkeypatch
):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    # These commits are real: keep their first tries out of the broker, the claims are the test.
    monkeypatch.setattr(services, "_send_soon", lambda ids: None)
    endpoint_create(organization=org, url="http://127.0.0.1:9/")
    team = make_team(org, size=2)
    for _ in range(30):
        new_lead(org, team=team)  # created + assigned: 60 deliveries
    now = timezone.now() + timedelta(seconds=1)
    claimed: list[list[int]] = []
    barrier = threading.Barrier(4)

    def worker():
        try:
            barrier.wait()
            mine = []
            while batch := deliveries_claim(now=now, limit=3):
                mine += [c.delivery_id for c in batch]
            claimed.append(mine)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    everything = [i for mine in claimed for i in mine]
    assert len(everything) == len(set(everything)) == 60
    assert sum(1 for mine in claimed if mine) > 1, "SKIP LOCKED let several workers in"


# --- SSRF at send time ----------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1"])
def test_a_name_that_turned_private_after_saving_is_refused_at_send_time(
    org, make_team, new_lead, receiver, monkeypatch, settings, address
):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    fake_dns(monkeypatch, {"hooks.example.com": ["93.184.215.14"]})
    endpoint, _secret = endpoint_create(
        organization=org, url=f"http://hooks.example.com:{receiver.port}/", event_types=["created"]
    )
    new_lead(org, team=make_team(org, size=2))
    fake_dns(monkeypatch, {"hooks.example.com": [address]})  # DNS rebinding

    with time_machine.travel(timezone.now() + timedelta(seconds=1)):
        assert deliveries_run() == {"failed": 1}

    assert receiver.requests == []
    row = WebhookDelivery.objects.get(endpoint=endpoint)
    assert "private" in row.last_error and address in row.last_error


def test_send_connects_to_the_address_that_was_checked_with_the_host_name_kept(
    org, make_team, new_lead, receiver, monkeypatch, settings
):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    fake_dns(monkeypatch, {"hooks.example.com": ["127.0.0.1"]})
    endpoint, receiver.secret = endpoint_create(
        organization=org, url=f"http://hooks.example.com:{receiver.port}/in",
        event_types=["created"],
    )
    new_lead(org, team=make_team(org, size=2))

    with time_machine.travel(timezone.now() + timedelta(seconds=1)):
        assert deliveries_run() == {"delivered": 1}

    [request] = receiver.requests
    assert request["headers"]["Host"] == f"hooks.example.com:{receiver.port}"
    assert request["signature_ok"]


def test_a_name_that_stopped_resolving_is_retried(delivery, monkeypatch):
    def no_dns(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with time_machine.travel(START, tick=False):
        [claim] = deliveries_claim(now=timezone.now())
        monkeypatch.setattr(socket, "getaddrinfo", no_dns)
        outcome = delivery_send(dataclasses.replace(claim, url="http://gone.example.com/"))

    assert outcome.retryable and "does not resolve" in outcome.error


# --- the README's verification snippet ------------------------------------------------------------


def readme_snippet() -> str:
    readme = (Path(django_settings.BASE_DIR) / "README.md").read_text()
    section = readme.split("## Outbound webhooks", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_snippet_verifies_a_real_delivery(delivery, receiver):
    namespace: dict = {}
    exec(readme_snippet(), namespace)  # noqa: S102  (our own README)
    verify = namespace["verify"]

    deliveries_run()  # real time: the library also checks that the timestamp is recent

    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    assert verify(receiver.secret, headers, body) == json.loads(body)
    wrong = "whsec_" + base64.b64encode(b"w" * 32).decode()
    for secret, sent, raw in ((wrong, headers, body), (receiver.secret, headers, body + b" "),
                              (receiver.secret, {**headers, "webhook-timestamp":
                                                 str(int(time.time()) - 3600)}, body)):
        with pytest.raises(standardwebhooks.WebhookVerificationError):
            verify(secret, sent, raw)


# --- Standard Webhooks: secrets and rotation ----------------------------------------------------


def test_new_secrets_are_whsec_and_base64_of_random_bytes(org, local_network):
    _endpoint, secret = endpoint_create(organization=org, url="http://127.0.0.1:9/")
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", secret)
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32


def test_after_rotation_both_secrets_verify_for_24_hours_then_only_the_new(
    delivery, receiver, hook, org
):
    old = receiver.secret
    with time_machine.travel(START, tick=False) as traveller:
        _endpoint, new = endpoint_rotate_secret(organization=org, endpoint_id=hook.pk)
        deliveries_run()
        [request] = receiver.requests
        signatures = request["headers"]["webhook-signature"].split(" ")
        assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures)
        for secret in (old, new):  # a receiver holding either one accepts the delivery
            standardwebhooks.Webhook(secret).verify(request["body"], request["headers"])

        delivery_resend(organization=org, delivery_id=delivery.pk)
        traveller.shift(timedelta(hours=24, seconds=1))
        deliveries_run()
        [_, later] = receiver.requests
        assert len(later["headers"]["webhook-signature"].split(" ")) == 1
        standardwebhooks.Webhook(new).verify(later["body"], later["headers"])
        with pytest.raises(standardwebhooks.WebhookVerificationError):
            standardwebhooks.Webhook(old).verify(later["body"], later["headers"])


def test_a_secret_made_before_standard_webhooks_keeps_working(delivery, receiver, hook):
    """Old secrets are the URL-safe base64 of 32 random bytes: the legacy signature is made
    with the text the receiver holds, and the Standard one with the same key, which the
    library takes once the text is in the standard alphabet (README)."""
    key = bytes(range(32))
    legacy = "whsec_" + base64.urlsafe_b64encode(key).rstrip(b"=").decode()
    assert "-" in legacy or "_" in legacy  # the library could not read it as it is
    WebhookEndpoint.objects.filter(pk=hook.pk).update(secret=legacy)
    receiver.secret = legacy

    with time_machine.travel(START, tick=False):
        deliveries_run()
        [request] = receiver.requests
        assert request["legacy_signature_ok"]
        converted = "whsec_" + base64.b64encode(
            base64.urlsafe_b64decode(legacy.removeprefix("whsec_") + "==")).decode()
        standardwebhooks.Webhook(converted).verify(request["body"], request["headers"])


# --- sending again --------------------------------------------------------------------------------


def test_send_again_after_failure_sends_the_same_event_with_fresh_tries(
    delivery, receiver, org
):
    receiver.script = [410, 200]
    with time_machine.travel(START, tick=False) as traveller:
        deliveries_run()
        delivery.refresh_from_db()
        assert delivery.status == Status.FAILED
        traveller.shift(timedelta(hours=1))
        resent = delivery_resend(organization=org, delivery_id=delivery.pk)
        assert (resent.status, resent.attempts) == (Status.PENDING, 0)
        assert deliveries_run() == {"delivered": 1}

    assert receiver.event_ids() == [str(delivery.event_id)] * 2
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.DELIVERED, 1)


def test_send_again_is_refused_while_the_delivery_is_in_flight(delivery, org):
    with time_machine.travel(START, tick=False):
        deliveries_claim(now=timezone.now())
        with pytest.raises(services.DeliveryInFlight):
            delivery_resend(organization=org, delivery_id=delivery.pk)


def test_deactivating_an_endpoint_fails_what_waits_and_stops_sending(delivery, receiver, org):
    services.endpoint_set_active(organization=org, endpoint_id=delivery.endpoint_id,
                                 is_active=False)

    with time_machine.travel(START + timedelta(minutes=1), tick=False):
        assert deliveries_run() == {}
    assert receiver.requests == []
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED and "deactivated" in delivery.last_error


# --- through Celery -------------------------------------------------------------------------------


@pytest.fixture
def eager_celery(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_TASK_EAGER_PROPAGATES = True
    return app


def test_new_deliveries_are_tried_at_once_after_commit(
    eager_celery, hook, receiver, org, make_team, new_lead, django_capture_on_commit_callbacks
):
    team = make_team(org, size=2)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            lead = new_lead(org, team=team)
            assert receiver.requests == [], "nothing leaves before the commit"

    assert callbacks, "the first attempt waits for the commit"
    [request] = receiver.requests
    created = LeadEvent.objects.get(lead=lead, type="created")
    assert request["headers"]["X-Transbordo-Event-Id"] == str(created.pk)
    assert WebhookDelivery.objects.get(event=created).status == Status.DELIVERED


def test_periodic_task_sends_what_is_due_and_says_how_many(eager_celery, delivery, receiver):
    receiver.script = [200]
    with time_machine.travel(START + timedelta(seconds=1), tick=False):
        assert deliver_due.delay().get() == (
            "delivered 1, retrying 0, failed 0 webhook deliveries")
        assert deliver_due.delay().get() == (
            "delivered 0, retrying 0, failed 0 webhook deliveries")
        assert deliver.delay([delivery.pk]).get().startswith("delivered 0")


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_due_deliveries_queued_through_redis(
    org, make_team, new_lead, receiver, settings, monkeypatch
):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    monkeypatch.setattr(services, "_send_soon", lambda ids: None)  # the periodic task sends
    endpoint, receiver.secret = endpoint_create(organization=org, url=receiver.url,
                                                event_types=["created"])
    lead = new_lead(org, team=make_team(org, size=2))
    with real_worker(settings) as send:
        send(deliver_due)
        wait_for(lambda: WebhookDelivery.objects.filter(
            endpoint=endpoint, status=Status.DELIVERED).exists(), "deliver")

    [request] = receiver.requests
    created = LeadEvent.objects.get(lead=lead, type="created")
    assert request["signature_ok"]
    assert request["headers"]["X-Transbordo-Event-Id"] == str(created.pk)


def test_beat_schedules_the_delivery_task_every_configured_interval():
    entries = [e for e in app.conf.beat_schedule.values()
               if e["task"] == "integrations.tasks.deliver_due"]

    assert len(entries) == 1
    [entry] = entries
    assert entry["schedule"] == django_settings.WEBHOOK_DELIVERY_INTERVAL > 0
    assert 0 < entry["options"]["expires"] <= django_settings.WEBHOOK_DELIVERY_INTERVAL


@pytest.mark.parametrize("name", ["integrations.tasks.deliver_due", "integrations.tasks.deliver"])
def test_delivery_tasks_are_acked_late_and_time_limited(name):
    task = app.tasks[name]

    assert task.acks_late is True and task.reject_on_worker_lost is True
    assert 0 < task.soft_time_limit < task.time_limit
    # A claim outlives the longest run, so a live worker never loses its lease.
    assert django_settings.WEBHOOK_LEASE > task.time_limit


# --- retention --------------------------------------------------------------------------------


def test_old_finished_deliveries_are_deleted_and_pending_ones_stay(hook, org, make_team,
                                                                   new_lead, settings):
    settings.WEBHOOK_RETENTION_DAYS = 30
    team = make_team(org, size=2)
    with time_machine.travel(START, tick=False):
        for _ in range(5):
            new_lead(org, team=team)
    with time_machine.travel(START + timedelta(days=29), tick=False):
        recent = new_lead(org, team=team)
    rows = list(WebhookDelivery.objects.filter(endpoint=hook).order_by("id"))
    old_pending, *old_done, recent_row = rows
    WebhookDelivery.objects.filter(pk__in=[r.pk for r in old_done[:2]]).update(
        status=Status.DELIVERED, next_attempt_at=None)
    WebhookDelivery.objects.filter(pk__in=[r.pk for r in old_done[2:]]).update(
        status=Status.FAILED, next_attempt_at=None)
    WebhookDelivery.objects.filter(pk=recent_row.pk).update(
        status=Status.DELIVERED, next_attempt_at=None)

    deleted = services.deliveries_prune(now=START + timedelta(days=31), batch_size=2)

    assert deleted == 4
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {
        old_pending.pk, recent_row.pk}
    assert recent_row.event.lead_id == recent.pk
    assert services.deliveries_prune(now=START + timedelta(days=31)) == 0


def test_beat_prunes_every_hour_and_the_command_prunes_now(delivery, settings):
    entries = [e for e in app.conf.beat_schedule.values()
               if e["task"] == "integrations.tasks.prune_deliveries"]
    assert [e["schedule"] for e in entries] == [3600.0]
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=Status.FAILED,
                                                          next_attempt_at=None)
    settings.WEBHOOK_RETENTION_DAYS = 1
    out = StringIO()

    with time_machine.travel(START + timedelta(days=2), tick=False):
        call_command("webhooks_prune", stdout=out)

    assert "Deleted 1 webhook deliveries" in out.getvalue()
    assert not WebhookDelivery.objects.exists()
    assert prune_deliveries() == "deleted 0 old webhook deliveries"
