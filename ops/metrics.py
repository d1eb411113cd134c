"""Prometheus metrics: what happened (counters, histograms) and what stands now (gauges).

Counters and histograms are kept by each process; under gunicorn or Celery's prefork pool
set ``PROMETHEUS_MULTIPROC_DIR`` to a directory shared by the processes of one host (empty
at start), and ``/metrics`` adds them up (prometheus-client's multiprocess mode). Gauges of
the database (the sweep's lag, the queue, pending webhooks) are read at scrape time, so they
are true whichever process answers.

No label names an organization: the number of series stays bounded however many tenants.
"""

from __future__ import annotations

import os
from datetime import datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

# Multiprocess mode writes a file per process as soon as a metric exists: the directory
# must be there first (gunicorn.conf.py and scripts/run_dev.sh also empty it at start).
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

LEADS_RECEIVED = Counter(
    "transbordo_leads_received", "Leads created, by source kind and what happened on arrival.",
    ["source", "outcome"],
)
ASSIGNMENTS = Counter(
    "transbordo_lead_assignments", "Leads given to an attendant (on arrival, from the queue, "
    "by hand), by how the attendant was chosen.", ["how"],
)
OVERFLOW_TRANSFERS = Counter(
    "transbordo_overflow_transfers", "Leads passed on by the sweep (transbordo).",
)
OVERFLOW_STOPS = Counter(
    "transbordo_overflow_stops", "Leads that stopped overflowing, by reason.", ["reason"],
)
WEBHOOK_DELIVERIES = Counter(
    "transbordo_webhook_deliveries", "Webhook delivery attempts, by outcome "
    "(delivered, retrying, failed, stale).", ["outcome"],
)
TASKS = Counter(
    "transbordo_celery_tasks", "Celery tasks run, by task and final state.", ["task", "state"],
)
TASK_DURATION = Histogram(
    "transbordo_celery_task_duration_seconds",
    "Run time of Celery tasks; the sweep's is task=\"leads.tasks.overflow_sweep\".", ["task"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
HTTP_DURATION = Histogram(
    "transbordo_http_request_duration_seconds",
    "Time to answer HTTP requests, by view, method and status class.",
    ["view", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class DatabaseGauges:
    """What an operator alerts on, read from the database when Prometheus scrapes.

    Each read is one short indexed query: the first entry of the sweep's partial index
    ``lead_overflow_due`` for the lag, the waiting queue's partial index ``lead_queue``,
    and the pending deliveries' partial index ``webhook_delivery_due``.
    """

    def collect(self):
        from .selectors import operational_gauges

        gauges = operational_gauges()
        for name, help_text, value in (
            ("transbordo_overflow_sweep_lag_seconds",
             "Age of the oldest lead whose service time ran out and that the sweep has not "
             "passed on yet; 0 when none is due. Alert on this.", gauges.sweep_lag),
            ("transbordo_overflow_due_leads",
             "Leads due for overflow now (the sweep's backlog).", gauges.due_leads),
            ("transbordo_queue_length",
             "Leads waiting in the teams' queues for someone who can take them.",
             gauges.queue_length),
            ("transbordo_webhook_pending_deliveries",
             "Webhook deliveries not sent yet (first try or retry due).",
             gauges.pending_deliveries),
            ("transbordo_webhook_oldest_pending_seconds",
             "Age of the oldest webhook delivery still pending; 0 when none.",
             gauges.oldest_pending_delivery),
        ):
            family = GaugeMetricFamily(name, help_text)
            family.add_metric([], value)
            yield family


def age_seconds(since: datetime | None, now: datetime) -> float:
    return max(0.0, (now - since).total_seconds()) if since else 0.0


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def process_registry() -> CollectorRegistry:
    """Counters and histograms of this host's processes (multiprocess) or of this one."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def exposition(*, with_database: bool = True) -> tuple[bytes, str]:
    """The text format Prometheus scrapes, and its content type."""
    body = generate_latest(process_registry())
    if with_database:
        database = CollectorRegistry(auto_describe=False)
        database.register(DatabaseGauges())
        body += generate_latest(database)
    return body, CONTENT_TYPE_LATEST
