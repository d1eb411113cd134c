"""Log formats and filters, named by ``LOGGING`` in config/settings.py.

``LOG_FORMAT=json`` gives one JSON object per line with the request id, organization id
and lead id where known; plain text stays the default. The filters keep the log to the
events that matter: each 4xx once and without a traceback (``RequestLines``), and a periodic
task that found nothing to do only at DEBUG (``QuietPeriodicTasks``).

This module is loaded by ``logging.config`` before Django's apps are ready: it imports no
models and reads settings only when a record asks for it.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

from core.context import log_context

from .redact import redact

# Fields a record may carry (``extra=``) or the context may bind; the record's win.
CONTEXT_FIELDS = ("request_id", "organization_id", "lead_id", "task", "task_id")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level, logger, message, and the context."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = log_context()
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value in (None, ""):
                value = context.get(name)
            if value not in (None, ""):
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


class RequestLines(logging.Filter):
    """Each request is logged once, by ``ops.middleware.RequestMiddleware``.

    Django logs a 4xx again (``django.request``, a 403 with its whole traceback) and
    runserver logs every request (``django.server``): both are dropped here, except
    Django's 5xx record, which carries the traceback of a real error.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is None:
            return True  # not about one request (runserver's own messages)
        return record.name == "django.request" and status >= 500


class RedactSecrets(logging.Filter):
    """On the handler, last: no record leaves with a source's intake token in it, whoever
    logged it (Django's "Internal Server Error: /in/<token>", runserver, a library)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


# Celery's lines about a periodic run: beat sending it, the worker receiving it, and its
# result. The result says what the task did in counts ("transferred 0 leads").
_SENT = "Scheduler: Sending due task"
_RECEIVED = "Task %(name)s[%(id)s] received"  # celery.app.trace.LOG_RECEIVED
_SUCCEEDED = "Task %(name)s[%(id)s] succeeded in %(runtime)ss: %(return_value)s"
# A tick that waited past its expiry (the next one covers it).
_DISCARDED = "Discarding revoked task"
_NOTHING_DONE = re.compile(r"^[^1-9]*$")


class QuietPeriodicTasks(logging.Filter):
    """Periodic tasks that did nothing log at DEBUG, so that ``make run`` shows real events.

    Beat's "sending due task", the worker's "received" lines of a periodic task and its
    "discarding revoked task" for a tick that expired while waiting, and its "succeeded"
    line when the counts it returned are all zero, become DEBUG records: shown when DEBUG is
    enabled for that logger, dropped otherwise.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not self._is_quiet(record):
            return True
        if not logging.getLogger(record.name).isEnabledFor(logging.DEBUG):
            return False
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True

    @staticmethod
    def _is_quiet(record: logging.LogRecord) -> bool:
        if record.name == "celery.beat":
            return str(record.msg).startswith(_SENT)
        if record.name == "celery.worker.request":
            return (str(record.msg).startswith(_DISCARDED) and bool(record.args)
                    and record.args[0] in periodic_task_names())
        data = getattr(record, "data", None)
        if not isinstance(data, dict) or data.get("name") not in periodic_task_names():
            return False
        if record.msg == _SUCCEEDED:
            return bool(_NOTHING_DONE.match(str(data.get("return_value", ""))))
        return record.msg == _RECEIVED


def periodic_task_names() -> frozenset[str]:
    from django.conf import settings

    return frozenset(
        entry["task"] for entry in getattr(settings, "CELERY_BEAT_SCHEDULE", {}).values()
    )
