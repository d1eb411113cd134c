"""What the operations app hears: history's events, Celery's task signals, webhook outcomes.

Lower apps never import ops; they announce (``history.signals.events_written``,
``integrations.signals.deliveries_recorded``) and Celery signals every task. Counters move
and event lines are logged after the transaction that wrote the events commits: a rolled
back transfer neither counts nor is logged.
"""

from __future__ import annotations

import logging
import time
from functools import partial
from typing import NamedTuple

from django.db import transaction

from core.context import bind, current_request_id, log_context, unbind
from history.models import LeadEvent

from . import metrics

log = logging.getLogger("transbordo.events")
Type = LeadEvent.Type

REQUEST_ID_HEADER = "request_id"  # the Celery message header carrying it


class EventLine(NamedTuple):
    type: str
    lead_id: int
    organization_id: int
    request_id: str
    from_member: int | None
    to_member: int | None
    reason: str
    detail: str


def _arrival_outcome(types: set[str]) -> str:
    if Type.ASSIGNED in types:
        return "assigned"
    if Type.QUEUED in types:
        return "queued"
    if Type.CONCLUDED in types:
        return "redirected"
    return "created"


def events_announced(sender, events, **kwargs):
    """Inside the writing transaction: note what to count and log once it commits."""
    in_request = current_request_id()
    types_by_lead: dict[int, set[str]] = {}
    for event in events:
        types_by_lead.setdefault(event.lead_id, set()).add(event.type)
    lines = []
    for event in events:
        lead = event.lead if LeadEvent.lead.is_cached(event) else None
        detail = ""
        if event.type == Type.CREATED:
            detail = (event.data or {}).get("source") or getattr(lead, "source", "") or "?"
            detail = f"{detail},{_arrival_outcome(types_by_lead[event.lead_id])}"
        elif event.type == Type.ASSIGNED:
            detail = (event.data or {}).get("how") or "?"
        lines.append(EventLine(
            type=event.type, lead_id=event.lead_id, organization_id=event.organization_id,
            # The request at work, or else the one the lead arrived with: a sweep's
            # transfer is traced back to the API call that brought the lead in.
            request_id=in_request or getattr(lead, "request_id", "") or "",
            from_member=event.from_member_id, to_member=event.to_member_id,
            reason=event.reason, detail=detail,
        ))
    # The task that wrote them, as it was when they were written (the commit may come after).
    context = {k: v for k, v in log_context().items() if k in ("task", "task_id")}
    transaction.on_commit(partial(_committed, lines, context))


def _committed(lines: list[EventLine], context: dict) -> None:
    info = log.isEnabledFor(logging.INFO)
    for line in lines:
        _count(line)
        if info:
            log.info(_describe(line), extra={
                **context, "lead_id": line.lead_id, "organization_id": line.organization_id,
                "request_id": line.request_id,
            })


def _count(line: EventLine) -> None:
    if line.type == Type.CREATED:
        source, outcome = line.detail.split(",")
        metrics.LEADS_RECEIVED.labels(source=source, outcome=outcome).inc()
    elif line.type == Type.ASSIGNED:
        metrics.ASSIGNMENTS.labels(how=line.detail).inc()
    elif line.type == Type.OVERFLOWED:
        metrics.OVERFLOW_TRANSFERS.inc()
    elif line.type == Type.OVERFLOW_STOPPED:
        metrics.OVERFLOW_STOPS.labels(reason=line.reason or "unknown").inc()


def _describe(line: EventLine) -> str:
    text = f"lead {line.lead_id} {line.type}"
    if line.detail:
        text += f" ({line.detail.replace(',', ', ')})"
    if line.from_member:
        text += f" from member {line.from_member}"
    if line.to_member:
        text += f" to member {line.to_member}"
    if line.reason:
        text += f": {line.reason}"
    return text


def deliveries_recorded(sender, counts, **kwargs):
    for outcome, n in counts.items():
        if n:
            metrics.WEBHOOK_DELIVERIES.labels(outcome=outcome).inc(n)


# --- Celery ---------------------------------------------------------------------------------

_started: dict[str, tuple[float, object]] = {}


def task_publishing(sender=None, headers=None, **kwargs):
    """A task queued during a request carries the request's id to the worker."""
    request_id = current_request_id()
    if request_id and headers is not None:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


def task_starting(sender=None, task_id=None, task=None, **kwargs):
    request_id = getattr(task.request, REQUEST_ID_HEADER, None) or ""
    fields = {"task": task.name, "task_id": task_id}
    if request_id:
        fields["request_id"] = request_id
    _started[task_id] = (time.perf_counter(), bind(**fields))


def task_finished(sender=None, task_id=None, task=None, state=None, **kwargs):
    started = _started.pop(task_id, None)
    if started is None:
        return
    began, token = started
    metrics.TASK_DURATION.labels(task=task.name).observe(time.perf_counter() - began)
    metrics.TASKS.labels(task=task.name, state=state or "UNKNOWN").inc()
    if log_context().get("task_id") == task_id:
        try:
            unbind(token)
        except ValueError:  # bound in another context (thread): nothing of ours to undo
            pass


def worker_metrics_server(sender=None, **kwargs):
    """A worker host without a web process serves its own counters (``WORKER_METRICS_PORT``).

    The pool's processes write to ``PROMETHEUS_MULTIPROC_DIR``; this, in the worker's main
    process, adds them up. Database gauges stay with the web's ``/metrics``.
    """
    from django.conf import settings
    from prometheus_client import start_http_server

    port = settings.WORKER_METRICS_PORT
    if port:
        start_http_server(port, registry=metrics.process_registry())
        logging.getLogger(__name__).info("worker metrics on port %s", port)
