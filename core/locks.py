"""A PostgreSQL advisory lock that makes a periodic job run at most once at a time.

Two Celery beats deployed by mistake send every tick twice; with this, the second run finds
the lock taken and returns at once. The lock is transaction-level, taken on a connection of
its own that holds one open transaction for the job's duration: it works through PgBouncer
in transaction pooling mode (a session-level lock would be taken on one server connection
and released on another), and it is released when that connection closes, also when the
worker dies. The job itself runs on the ordinary connection, with its own transactions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (the same in every process and release)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big",
                          signed=True)


@contextmanager
def advisory_lock(name: str, *, using: str = "default") -> Iterator[bool]:
    """Yields True while this process holds the lock ``name``, False when another holds it.

    Elsewhere than PostgreSQL (SQLite: one machine, the development setup) always True.
    """
    wrapper = connections[using]
    if wrapper.vendor != "postgresql":
        yield True
        return
    own = wrapper.get_new_connection(wrapper.get_connection_params())
    try:
        with own.cursor() as cursor:  # psycopg2 opens a transaction here and holds it
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_key(name)])
            acquired = cursor.fetchone()[0]
        yield acquired
    finally:
        own.close()  # ends the transaction, and with it the lock
