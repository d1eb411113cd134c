"""Middleware at the edge: the request id, the request's log line and its latency; the
site's Content-Security-Policy header, built once."""

from __future__ import annotations

import logging
import re
import time
import uuid

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware, PolicyParts
from csp.utils import build_policy
from django.conf import settings

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


# What a view's django-csp decorators leave on its answer: a policy of its own.
_OWN_POLICY = ("_csp_config", "_csp_update", "_csp_replace", "_csp_exempt",
               "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro", "_csp_exempt_ro")


class SitePolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the site's policy built once per settings value.

    Every answer carries the policy, JSON ones too, and django-csp builds it from the
    settings for each (2-3% of a new lead's CPU). An answer with a policy of its own (a
    view's ``csp_update``, ``csp_replace`` or ``csp_exempt``, a page that used a nonce,
    excluded URL prefixes, Django's debug pages) is left to django-csp as before.
    """

    _built: tuple = (None, None, "", "")  # the two settings it was built from, and headers

    def process_response(self, request, response):
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", None)
        report_only = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
        if (
            getattr(request, "_csp_nonce", None) is not None
            or any(getattr(response, name, None) is not None for name in _OWN_POLICY)
            or (policy or {}).get("EXCLUDE_URL_PREFIXES")
            or (report_only or {}).get("EXCLUDE_URL_PREFIXES")
            or settings.DEBUG
        ):
            return super().process_response(request, response)
        built_policy, built_report_only, header, header_ro = self._built
        if built_policy is not policy or built_report_only is not report_only:
            header = build_policy(**vars(PolicyParts()))
            header_ro = build_policy(**vars(PolicyParts()), report_only=True)
            type(self)._built = (policy, report_only, header, header_ro)
        if header and HEADER not in response:
            response[HEADER] = header
        if header_ro and HEADER_REPORT_ONLY not in response:
            response[HEADER_REPORT_ONLY] = header_ro
        # As django-csp does: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
