"""Helpers for race tests on PostgreSQL: jobs on threads with their own connections, a row
held locked from another thread, and waiting for other connections to block on a lock."""

import threading
import time

from django.db import connection, transaction

from teams.models import Membership

JOIN_TIMEOUT = 120  # seconds; a thread still alive after this is a deadlock, not slowness


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


class Threads:
    """Jobs on threads of their own, each with its own connection: results by name, and the
    first error re-raised in the test's thread on ``join``."""

    def __init__(self):
        self.threads: dict[str, threading.Thread] = {}
        self.results: dict[str, object] = {}
        self.errors: list[BaseException] = []

    def start(self, name, job) -> threading.Thread:
        def run():
            try:
                self.results[name] = job()
            except BaseException as exc:  # re-raised by join
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
        if self.errors:
            raise self.errors[0]


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
