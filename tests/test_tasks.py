"""The sweep as Celery runs it (rule 9): the task, its schedule, a real worker, the command."""

import io
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import timezone

from config.celery import app
from history.models import LeadEvent
from leads.models import Lead
from leads.tasks import sweep

from .workers import real_worker, wait_for

SWEEP = "leads.tasks.overflow_sweep"


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
    with real_worker(settings) as send:
        send(sweep)
        wait_for(lambda: Lead.objects.filter(pk=due.lead.pk, transfer_count=1).exists(),
                 "transfer the lead")
    due.assert_transferred_once()


def test_overflow_sweep_command_prints_the_count_and_transfers(due):
    out = io.StringIO()

    call_command("overflow_sweep", stdout=out)

    assert out.getvalue().strip() == "transferred 1 leads"
    due.assert_transferred_once()
    out = io.StringIO()
    call_command("overflow_sweep", stdout=out)
    assert out.getvalue().strip() == "transferred 0 leads"
