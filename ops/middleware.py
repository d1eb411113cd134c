"""One middleware at the edge: the request id, the request's log line and its latency."""

from __future__ import annotations

import logging
import re
import time
import uuid

from core.context import bind, unbind

from .metrics import HTTP_DURATION
from .redact import redact

log = logging.getLogger("transbordo.request")

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's id is kept when it is short and plain (it goes into logs and a column);
# anything else is replaced by one of ours.
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def request_id_from(header: str | None) -> str:
    if header and VALID_REQUEST_ID.match(header):
        return header
    return uuid.uuid4().hex


class RequestMiddleware:
    """First in the chain: every log line of the request carries its id.

    The id comes from ``X-Request-ID`` or is made, and is returned in the answer; Celery
    tasks queued by the request carry it too (``ops.receivers``). The organization joins
    the log context once known: signed-in members here (``process_view``), API keys when
    they authenticate (teams.authentication).

    Each request is logged once: a 4xx at WARNING without a traceback, a 5xx by Django
    (ERROR, with its traceback), the rest at DEBUG.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        request.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        token = bind(request_id=request.request_id)
        try:
            response = self.get_response(request)
            elapsed = time.perf_counter() - started
            response[REQUEST_ID_HEADER] = request.request_id
            self._record(request, response.status_code, elapsed)
            return response
        finally:
            unbind(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        organization = getattr(request, "organization", None)
        if organization is not None:
            bind(organization_id=organization.pk)  # undone with the request's token

    @staticmethod
    def _record(request, status: int, elapsed: float) -> None:
        match = request.resolver_match
        view = (match.view_name or match.route) if match else "unmatched"
        method = request.method if request.method in METHODS else "other"
        HTTP_DURATION.labels(view=view, method=method, status=f"{status // 100}xx").observe(
            elapsed
        )
        if status >= 500:
            return  # django.request logs it, with the traceback
        level = logging.WARNING if status >= 400 else logging.DEBUG
        if log.isEnabledFor(level):
            # A source's intake URL carries its secret token: never written to the log.
            log.log(level, "%s %s %s in %.0f ms (%s)", request.method,
                    redact(request.get_full_path()),
                    status, elapsed * 1000, view)
