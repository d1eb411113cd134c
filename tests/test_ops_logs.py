"""Issue 17 §2: JSON logs with request ids, each 4xx once, quiet periodic tasks."""

import io
import json
import logging
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from core.context import bind, log_context, unbind
from leads.models import Lead
from leads.tasks import sweep
from ops.logging import JsonFormatter

from .helpers import client_for

LEADS = "/api/v1/leads"


class JsonLines:
    """Everything logged while the test runs, as LOG_FORMAT=json writes it."""

    def __init__(self):
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(JsonFormatter())

    def attach(self):
        # Again after a worker starts: Celery's Django fixup configures logging anew.
        root = logging.getLogger()
        root.addHandler(self.handler)
        root.setLevel(logging.INFO)

    def __call__(self):
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]


@pytest.fixture
def json_lines():
    lines = JsonLines()
    root = logging.getLogger()
    old_level = root.level
    lines.attach()
    yield lines
    root.removeHandler(lines.handler)
    root.setLevel(old_level)


def test_json_lines_have_the_fields_and_the_bound_context(json_lines):
    token = bind(request_id="req-1", organization_id=7)
    try:
        logging.getLogger("transbordo.test").warning("hello %s", "world", extra={"lead_id": 3})
    finally:
        unbind(token)
    logging.getLogger("transbordo.test").info("outside")

    first, second = json_lines()
    assert first["level"] == "WARNING" and first["logger"] == "transbordo.test"
    assert first["message"] == "hello world"
    assert (first["request_id"], first["organization_id"], first["lead_id"]) == ("req-1", 7, 3)
    assert first["timestamp"].endswith("+00:00")
    assert "request_id" not in second and log_context() == {}


def test_a_request_id_is_taken_from_the_header_or_made_and_returned(api, org, make_team):
    make_team(org, size=2)
    given = api.get(LEADS, HTTP_X_REQUEST_ID="abc-123.x")
    made = api.get(LEADS)
    unsafe = api.get(LEADS, HTTP_X_REQUEST_ID="bad id\nwith newline")

    assert given["X-Request-ID"] == "abc-123.x"
    assert len(made["X-Request-ID"]) == 32
    assert unsafe["X-Request-ID"] != "bad id\nwith newline" and len(unsafe["X-Request-ID"]) == 32


def test_a_lead_keeps_the_request_id_it_arrived_with(api, org, make_team):
    org.default_team = make_team(org, size=2)
    org.save()

    response = api.post(LEADS, {"name": "Ana", "email": "ana@example.com"}, format="json",
                        HTTP_X_REQUEST_ID="arrival-42")

    assert response.status_code == 201, response.content
    assert Lead.objects.get(pk=response.json()["id"]).request_id == "arrival-42"


def test_json_logs_carry_the_request_id_from_the_api_into_the_sweeps_transfer_of_that_lead(
    api, org, make_team, json_lines, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    org.default_team = make_team(org, size=2, service_minutes=10)
    org.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(LEADS, {"name": "Ana", "email": "ana@example.com"}, format="json",
                            HTTP_X_REQUEST_ID="req-from-api")
    lead_id = response.json()["id"]

    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        with django_capture_on_commit_callbacks(execute=True):
            assert sweep.apply().get() == "transferred 1 leads"

    lines = [line for line in json_lines() if line.get("lead_id") == lead_id]
    created = next(line for line in lines if f"lead {lead_id} created" in line["message"])
    transfer = next(line for line in lines if f"lead {lead_id} overflowed" in line["message"])
    assert created["request_id"] == transfer["request_id"] == "req-from-api"
    assert created["organization_id"] == transfer["organization_id"] == org.pk
    # The transfer's line says which task did it, as a worker logs it.
    assert transfer["task"] == "leads.tasks.overflow_sweep"
    assert created["logger"] == transfer["logger"] == "transbordo.events"


def test_a_4xx_is_logged_once_without_a_traceback(bob, caplog):
    client = client_for(bob)  # an attendant on a manager's page: 403

    with caplog.at_level(logging.DEBUG):
        response = client.get("/manage/teams/")

    assert response.status_code == 403
    about = [r for r in caplog.records if "/manage/teams/" in r.getMessage()]
    assert len(about) == 1, [r.getMessage() for r in about]
    [record] = about
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert "403" in record.getMessage()


def test_a_404_and_an_api_400_are_logged_once_too(api, caplog, db):
    with caplog.at_level(logging.INFO):
        assert api.get("/no/such/page/").status_code == 404
        assert api.post(LEADS, {"email": "not-an-email"}, format="json").status_code == 400

    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert len([m for m in messages if "/no/such/page/" in m]) == 1
    assert len([m for m in messages if LEADS in m]) == 1
    assert all(r.exc_info is None for r in caplog.records)


def test_a_5xx_keeps_its_traceback(bob, caplog):
    from unittest import mock

    client = client_for(bob)
    client.raise_request_exception = False
    with caplog.at_level(logging.INFO), mock.patch(
        "leads.views.selectors.inbox_tabs", side_effect=RuntimeError("boom")
    ):
        response = client.get("/inbox/")

    assert response.status_code == 500
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is not None
    assert not [r for r in caplog.records if r.name == "transbordo.request"]


def _celery_record(logger, msg, data):
    record = logging.LogRecord(logger, logging.INFO, __file__, 1, msg, (data,), None)
    record.data = data
    return record


@pytest.mark.parametrize(("result", "quiet"), [
    ("'delivered 0, retrying 0, failed 0 webhook deliveries'", True),
    ("'transferred 0 leads'", True),
    ("'transferred 3 leads'", False),
    ("'delivered 0, retrying 2, failed 0 webhook deliveries'", False),
])
def test_periodic_tasks_that_did_nothing_log_at_debug(caplog, result, quiet):
    succeeded = "Task %(name)s[%(id)s] succeeded in %(runtime)ss: %(return_value)s"
    received = "Task %(name)s[%(id)s] received"
    trace = logging.getLogger("celery.app.trace")
    strategy = logging.getLogger("celery.worker.strategy")
    data = {"name": "integrations.tasks.deliver_due", "id": "x", "runtime": 0.01,
            "return_value": result}

    with caplog.at_level(logging.INFO):
        strategy.handle(_celery_record(strategy.name, received, {"name": data["name"],
                                                                  "id": "x"}))
        trace.handle(_celery_record(trace.name, succeeded, data))
        # Not a periodic task: its lines stay at INFO whatever it returns.
        trace.handle(_celery_record(trace.name, succeeded, {**data, "name": "ops.tasks.x",
                                                            "return_value": "'0'"}))
        logging.getLogger("celery.beat").info("Scheduler: Sending due task %s (%s)",
                                              "webhook-deliveries", data["name"])
        logging.getLogger("celery.worker.request").info(
            "Discarding revoked task: %s[%s]", data["name"], "y")

    shown = [r.getMessage() for r in caplog.records]
    assert not any("received" in m or "Sending due task" in m or "Discarding" in m
                   for m in shown)
    assert any("ops.tasks.x" in m for m in shown)
    assert any(data["name"] in m and "succeeded" in m for m in shown) is not quiet


def test_quiet_lines_show_at_debug(caplog):
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("celery.beat").info("Scheduler: Sending due task %s (%s)",
                                              "overflow-sweep", "leads.tasks.overflow_sweep")

    [record] = caplog.records
    assert record.levelno == logging.DEBUG


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_task_started_by_a_request_carries_its_request_id_to_the_worker(
    org, alice, settings, json_lines, tmp_path
):
    from ops.models import DataExport
    from ops.tasks import build_export

    from .workers import real_worker, wait_for

    settings.MEDIA_ROOT = tmp_path
    export = DataExport.objects.create(organization=org, requested_by=alice.user)
    with real_worker(settings) as send:
        json_lines.attach()
        token = bind(request_id="req-started-it")  # as RequestMiddleware binds it
        try:
            send(build_export, export.pk)
        finally:
            unbind(token)
        wait_for(lambda: DataExport.objects.filter(pk=export.pk, status="done").exists(),
                 "build the export")
        wait_for(lambda: any("ready" in line["message"] for line in json_lines()),
                 "log the export")

    [ready] = [line for line in json_lines() if line["message"].startswith(f"export {export.pk}")]
    assert ready["request_id"] == "req-started-it"
    assert ready["task"] == "ops.tasks.build_export" and ready["organization_id"] == org.pk
