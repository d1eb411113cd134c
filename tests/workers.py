"""One real Celery worker for the tests that send a task through Redis."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import redis
from celery.signals import task_postrun
from django.db import connection

from config.celery import app

WORKER_TIMEOUT = 20  # seconds to wait for the worker's result before failing


@contextmanager
def real_worker(settings) -> Iterator[Callable]:
    """A worker thread consuming from Redis; yields ``send(task, *args)`` to queue a task.

    The app's producer pools keep the broker they were made with: they are made now,
    with the configured one, and tasks go to Redis through an explicit connection. A key
    prefix of the test's own keeps its queue apart from anyone sharing the Redis database,
    and is cleaned up afterwards.
    """
    from celery.contrib.testing.worker import start_worker

    _pools = app.pool, app.amqp.producer_pool
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
    settings.CELERY_BROKER_URL = redis_url
    prefix = f"transbordo-test-{uuid.uuid4().hex}:"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": prefix}
    settings.CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # leave pytest's log capture alone

    def close_worker_connection(**_kwargs):
        connection.close()  # the worker thread's own connection; the test database stays droppable

    def send(task, *args):
        with app.connection_for_write() as conn:
            assert conn.transport.driver_type == "redis"
            task.apply_async(args=args, connection=conn)

    task_postrun.connect(close_worker_connection, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False):
            yield send
    finally:
        task_postrun.disconnect(close_worker_connection)
        client = redis.Redis.from_url(redis_url)
        leftovers = list(client.scan_iter(f"{prefix}*"))
        if leftovers:
            client.delete(*leftovers)


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll for the worker's result, bounded by ``WORKER_TIMEOUT`` (not a clock under test)."""
    deadline = time.monotonic() + WORKER_TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, f"the worker did not {what}"
        time.sleep(0.1)
