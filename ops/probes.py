"""``/healthz``, ``/readyz`` and ``/metrics``: for load balancers, orchestrators, Prometheus.

They answer before every other middleware (``ProbeMiddleware`` is first): no session, no
host check (a probe asks by address, not by the public host name), no HTTPS redirect (the
probe talks to the container, behind the TLS proxy), no tenant data.
"""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpResponse, JsonResponse

from . import metrics

log = logging.getLogger(__name__)

BROKER_TIMEOUT = 2.0  # seconds: a probe must answer well within the prober's own timeout
_migrated = False  # once every migration is applied, it stays so for this process


def healthz(request) -> JsonResponse:
    """Liveness: the process answers. Touches nothing else."""
    return JsonResponse({"status": "ok"})


def readyz(request) -> JsonResponse:
    """Readiness: the database answers, every migration is applied, the broker answers."""
    checks = {"database": _database(), "migrations": "skipped", "broker": _broker()}
    if checks["database"] == "ok":
        checks["migrations"] = _migrations()
    ready = all(result in ("ok", "skipped") for result in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks},
                        status=200 if ready else 503)


def metrics_view(request) -> HttpResponse:
    """Prometheus text format; with ``METRICS_TOKEN`` set, only for ``Bearer <token>``."""
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    body, content_type = metrics.exposition()
    return HttpResponse(body, content_type=content_type)


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:
        log.warning("readyz: database unreachable: %s", exc)
        return f"unreachable ({type(exc).__name__})"


def _migrations() -> str:
    global _migrated
    if not _migrated:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            return f"{len(plan)} not applied"
        _migrated = True
    return "ok"


def _broker() -> str:
    url = settings.CELERY_BROKER_URL
    if not url or url.startswith(("filesystem://", "memory://")) or (
        settings.CELERY_TASK_ALWAYS_EAGER
    ):
        return "skipped"  # no broker server to reach: the embedded one is a folder
    from celery import current_app

    try:
        with current_app.connection_for_write(url) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0,
                                   timeout=BROKER_TIMEOUT)
        return "ok"
    except Exception as exc:
        log.warning("readyz: broker unreachable: %s", exc)
        return f"unreachable ({type(exc).__name__})"


PROBES = {"/healthz": healthz, "/readyz": readyz, "/metrics": metrics_view}


class ProbeMiddleware:
    """First middleware: answers the three probe paths itself; everything else goes on."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        probe = PROBES.get(request.path_info)
        if probe is not None and request.method in ("GET", "HEAD"):
            return probe(request)
        return self.get_response(request)
