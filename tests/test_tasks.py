"""The sweep as Celery runs it (rule 9): the task, its schedule, a real worker, the command."""

import io
import os
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
import redis
from celery.signals import task_postrun
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from config.celery import app
from history.models import LeadEvent
from leads.models import Lead
from leads.tasks import sweep

SWEEP = "leads.tasks.overflow_sweep"
WORKER_TIMEOUT = 20  # seconds to wait for the worker's transfer before failing


@dataclass
class Due:
    lead: Lead
    holder_id: int
    successor_id: int

    def assert_transferred_once(self):
        self.lead.refresh_from_db()
        assert (self.lead.assignee_id, self.lead.transfer_count) == (self.successor_id, 1)
        event = LeadEvent.objects.get(lead=self.lead, type=LeadEvent.Type.OVERFLOWED)
        assert (event.from_member_id, event.to_member_id, event.sequence) == (
            self.holder_id, self.successor_id, 1,
        )


@pytest.fixture
def due(org, make_team, new_lead):
    """An API lead whose ten-minute service time ran out a minute ago."""
    team = make_team(org, size=3)
    lead = new_lead(org, team=team, now=timezone.now() - timedelta(minutes=11))
    assert lead.assignee_id == team.attendants[0].pk
    return Due(lead=lead, holder_id=lead.assignee_id, successor_id=team.attendants[1].pk)


@pytest.fixture
def eager_celery(settings):
    # The app reads Django's CELERY_* settings live, and they win over
    # ``app.conf.task_always_eager = True``; pytest-django restores them afterwards.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_TASK_EAGER_PROPAGATES = True
    assert app.conf.task_always_eager
    return app


def test_sweep_task_run_through_celery_transfers_due_leads(eager_celery, due):
    result = sweep.delay()

    assert result.get() == "transferred 1 leads"
    due.assert_transferred_once()
    # Run again (a second beat tick): nothing is due any more.
    assert sweep.apply().get() == "transferred 0 leads"
    assert LeadEvent.objects.filter(type=LeadEvent.Type.OVERFLOWED).count() == 1


def test_sweep_task_leaves_leads_that_are_not_due(eager_celery, org, make_team, new_lead):
    lead = new_lead(org, team=make_team(org, size=3), now=timezone.now() - timedelta(minutes=9))

    assert sweep.apply().get() == "transferred 0 leads"
    lead.refresh_from_db()
    assert lead.transfer_count == 0 and lead.overflow_active


def test_beat_schedules_the_sweep_every_configured_interval():
    entries = [e for e in app.conf.beat_schedule.values() if e["task"] == SWEEP]

    assert len(entries) == 1, "the sweep is scheduled in exactly one place"
    [entry] = entries
    assert entry["schedule"] == django_settings.OVERFLOW_SWEEP_INTERVAL > 0
    # A tick older than one interval is dropped: the next one covers the same leads.
    assert 0 < entry["options"]["expires"] <= django_settings.OVERFLOW_SWEEP_INTERVAL


def test_sweep_task_is_acked_late_and_time_limited():
    task = app.tasks[SWEEP]

    assert task.name == sweep.name == SWEEP
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True
    assert task.soft_time_limit and task.time_limit
    assert 0 < task.soft_time_limit < task.time_limit


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_sweep_sent_through_redis(due, settings):
    from celery.contrib.testing.worker import start_worker

    # The app's producer pools keep the broker they were made with: make them now, with
    # the configured one, and talk to Redis through an explicit connection instead.
    _pools = app.pool, app.amqp.producer_pool
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
    settings.CELERY_BROKER_URL = redis_url
    # A key prefix of its own keeps this queue apart from anyone sharing the database.
    prefix = f"transbordo-test-{uuid.uuid4().hex}:"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": prefix}
    settings.CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # leave pytest's log capture alone

    def close_worker_connection(**_kwargs):
        connection.close()  # the worker thread's own connection; the test database stays droppable

    task_postrun.connect(close_worker_connection, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False):
            with app.connection_for_write() as conn:
                assert conn.transport.driver_type == "redis"
                sweep.apply_async(connection=conn)
            deadline = time.monotonic() + WORKER_TIMEOUT
            while not Lead.objects.filter(pk=due.lead.pk, transfer_count=1).exists():
                assert time.monotonic() < deadline, "the worker did not transfer the lead"
                time.sleep(0.1)  # polling for the result, bounded by the deadline
    finally:
        task_postrun.disconnect(close_worker_connection)
        client = redis.Redis.from_url(redis_url)
        leftovers = list(client.scan_iter(f"{prefix}*"))
        if leftovers:
            client.delete(*leftovers)
    due.assert_transferred_once()


def test_overflow_sweep_command_prints_the_count_and_transfers(due):
    out = io.StringIO()

    call_command("overflow_sweep", stdout=out)

    assert out.getvalue().strip() == "transferred 1 leads"
    due.assert_transferred_once()
    out = io.StringIO()
    call_command("overflow_sweep", stdout=out)
    assert out.getvalue().strip() == "transferred 0 leads"
