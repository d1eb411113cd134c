"""Races with real threads on PostgreSQL: one runner for every race test, a row held locked
from another thread, and waiting for other connections to block on a lock.

Each job runs on a thread of its own with its own database connection, connected before
the start line and closed when done. Jobs that must overlap wait at a shared barrier;
the first error of any thread is re-raised in the test's thread, and a thread still
alive after ``JOIN_TIMEOUT`` fails the test as a deadlock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.db import connection, transaction

from teams.models import Membership

JOIN_TIMEOUT = 120  # seconds; a thread still alive after this is a deadlock, not slowness


class Threads:
    """Jobs on threads of their own: results by name, the first error re-raised on ``join``.

    ``parties``: how many jobs wait at ``self.barrier`` (``wait()``) to start together.
    """

    def __init__(self, *, parties: int = 0):
        self.barrier = threading.Barrier(parties) if parties else None
        self.threads: dict[object, threading.Thread] = {}
        self.results: dict[object, object] = {}
        self.errors: list[BaseException] = []

    def wait(self) -> None:
        """The start line: returns when every party has reached it."""
        self.barrier.wait(timeout=JOIN_TIMEOUT)

    def start(self, name, job: Callable[[], object]) -> threading.Thread:
        def run():
            try:
                connection.ensure_connection()  # connect before the start line, not after it
                self.results[name] = job()
            except BaseException as exc:  # re-raised by join
                if self.barrier is not None:
                    self.barrier.abort()
                self.errors.append(exc)
            finally:
                connection.close()

        thread = self.threads[name] = threading.Thread(target=run)
        thread.start()
        return thread

    def join(self) -> None:
        for thread in self.threads.values():
            thread.join(JOIN_TIMEOUT)
        assert not any(t.is_alive() for t in self.threads.values()), "a thread is stuck (deadlock?)"
        real = [e for e in self.errors if not isinstance(e, threading.BrokenBarrierError)]
        if real or self.errors:
            raise (real or self.errors)[0]


def run_at_once(*calls: Callable[[], object]) -> list:
    """Run each callable in its own thread, released together; their results in order."""
    threads = Threads(parties=len(calls))
    for i, call in enumerate(calls):
        threads.start(i, lambda call=call: (threads.wait(), call())[1])
    threads.join()
    return [threads.results[i] for i in range(len(calls))]


def in_rounds(jobs: list[Callable[[], object]], *, workers: int) -> list:
    """Run ``jobs`` on ``workers`` threads, ``workers`` at a time released together by a
    barrier; returns their results in order."""
    rounds = [jobs[i: i + workers] for i in range(0, len(jobs), workers)]
    results = [None] * len(jobs)
    threads = Threads(parties=workers)

    def worker(slot):
        for r, batch in enumerate(rounds):
            threads.wait()
            if slot < len(batch):
                results[r * workers + slot] = batch[slot]()

    for slot in range(workers):
        threads.start(slot, lambda slot=slot: worker(slot))
    threads.join()
    return results


def hold_row(threads: Threads, membership) -> threading.Event:
    """Lock the person's row from another thread until the returned event is set."""
    holding, release = threading.Event(), threading.Event()

    def hold():
        with transaction.atomic():
            list(Membership.objects.select_for_update().filter(pk=membership.pk))
            holding.set()
            release.wait(JOIN_TIMEOUT)

    threads.start("holder", hold)
    assert holding.wait(JOIN_TIMEOUT)
    return release


def backends_waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0]


def until(condition, what: str) -> None:
    """Poll for a state other connections reach (not a clock: no deadline is awaited)."""
    give_up = time.monotonic() + JOIN_TIMEOUT
    while not condition():
        assert time.monotonic() < give_up, f"never happened: {what}"
        time.sleep(0.01)
