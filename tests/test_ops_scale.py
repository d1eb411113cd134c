"""Issue 17 §4: a second beat is harmless, and the sweep has a queue of its own."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.celery import app
from core.locks import advisory_lock, lock_key
from leads.models import Lead
from leads.tasks import SWEEP_LOCK, sweep

from .races import Threads


@pytest.fixture
def due_lead(org, make_team, new_lead):
    return new_lead(org, team=make_team(org, size=3), now=timezone.now() - timedelta(minutes=11))


def test_lock_keys_are_stable_signed_64_bit_numbers():
    assert lock_key(SWEEP_LOCK) == lock_key("leads.tasks.overflow_sweep")
    assert lock_key("a") != lock_key("b")
    assert -(2**63) <= lock_key(SWEEP_LOCK) < 2**63


@pytest.mark.postgres
def test_a_sweep_tick_that_finds_another_running_returns_at_once(due_lead):
    with advisory_lock(SWEEP_LOCK) as held:  # the other beat's sweep, still running
        assert held
        assert sweep.apply().get() == "skipped: another sweep is running"
        due_lead.refresh_from_db()
        assert due_lead.transfer_count == 0

    assert sweep.apply().get() == "transferred 1 leads"  # the next tick does the work


@pytest.mark.postgres
def test_the_lock_is_released_when_its_holder_fails(due_lead):
    with pytest.raises(RuntimeError), advisory_lock(SWEEP_LOCK):
        raise RuntimeError("the worker's job died")

    with advisory_lock(SWEEP_LOCK) as held:
        assert held


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_beats_ticking_at_once_run_one_sweep(org, make_team, new_lead):
    team = make_team(org, size=3)
    leads = [new_lead(org, team=team, now=timezone.now() - timedelta(minutes=11))
             for _ in range(20)]
    threads = Threads(parties=2)

    def tick():
        threads.wait()
        with advisory_lock(SWEEP_LOCK) as held:
            if not held:
                return "skipped"
            threads.results.setdefault("order", []).append("ran")
            from leads.sweep import overflow_sweep

            return overflow_sweep()

    threads.start("first", tick)
    threads.start("second", tick)
    threads.join()

    outcomes = sorted(str(threads.results[name]) for name in ("first", "second"))
    # Either one ran while the other found the lock, or the first finished before the
    # second asked: never both at once, and every lead moved exactly once.
    assert outcomes in (["20", "skipped"], ["0", "20"])
    assert set(Lead.objects.filter(pk__in=[x.pk for x in leads])
               .values_list("transfer_count", flat=True)) == {1}


def test_the_sweep_goes_to_its_own_queue_and_a_plain_worker_consumes_both():
    route = app.amqp.router.route({}, "leads.tasks.overflow_sweep")
    assert route["queue"].name == "sweep"
    assert app.amqp.router.route({}, "leads.tasks.send_notifications")["queue"].name == "celery"
    # A worker started without -Q listens to every declared queue.
    assert {"celery", "sweep"} <= set(app.amqp.queues)
