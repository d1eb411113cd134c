"""``POST /in/<token>``: the public intake URL of a source. No API key, no CSRF token.

Landing pages post HTML forms (urlencoded or multipart) and get a 303 to their thank-you
page, or a small "received" page; platforms and ``fetch()`` post JSON and get JSON. Every
POST to a known token is logged (sources.models.SourceSubmission), accepted or not; the
token never reaches the logs (ops.redact).
"""

from __future__ import annotations

import json
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from accounts.selectors import NOT_CONFIRMED_MESSAGE, organization_receives_leads
from teams.authentication import OrganizationSuspended

from . import payloads, selectors, services
from .models import Source, SourceSubmission

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400,
           "day": 86400}
PREFLIGHT_MAX_AGE = 86400


def parse_rate(rate: str) -> tuple[int, int] | None:
    """``"60/m"`` → (60, 60 seconds); empty: no limit."""
    if not rate:
        return None
    count, _slash, period = rate.partition("/")
    return int(count), PERIODS[period.strip().lower() or "m"]


def rate_exceeded(source: Source) -> tuple[bool, bool, int]:
    """A fixed window per source on the cache: (over the limit, first request over it in this
    window, seconds until the window ends). Only the first refusal of a window is logged,
    so a flood does not write a row per request."""
    limit = parse_rate(settings.SOURCE_RATE_LIMIT)
    if limit is None:
        return False, False, 0
    count, period = limit
    now = time.time()
    window = int(now // period)
    key = f"sources:rate:{source.pk}:{window}"
    cache.add(key, 0, timeout=period + 1)
    try:
        seen = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=period + 1)
        seen = 1
    retry_after = max(1, math.ceil((window + 1) * period - now))
    return seen > count, seen == count + 1, retry_after


def _origin_allowed(source: Source, origin: str) -> bool:
    return "*" in source.allowed_origins or origin.rstrip("/") in source.allowed_origins


def _cors(response: HttpResponse, source: Source | None, origin: str) -> HttpResponse:
    if source is not None and origin and _origin_allowed(source, origin):
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    return response


def _is_form(request) -> bool:
    return request.content_type in FORM_TYPES


def _wants_html(request) -> bool:
    """A browser's form post, which lands on a page; ``fetch()`` asking for JSON gets JSON."""
    accept = request.headers.get("Accept", "")
    return _is_form(request) and "application/json" not in accept


def _answer(request, source: Source | None, result: services.Received) -> HttpResponse:
    if _wants_html(request):
        if result.status < 300 and source is not None and source.thank_you_url:
            return HttpResponseRedirect(source.thank_you_url, status=303)
        template = "sources/received.html" if result.status < 300 else "sources/refused.html"
        return render(request, template, {"result": result}, status=result.status)
    if source is not None and source.kind == Source.Kind.GOOGLE_ADS and result.status < 300:
        return JsonResponse({}, status=200)  # Google Ads wants a 200 and nothing else
    if result.status >= 400:
        body = {"detail": result.reason, "code": result.code or "invalid"}
    elif result.outcome == SourceSubmission.Outcome.SPAM:
        body = {"status": "received"}  # a bot learns nothing
    else:
        body = {"status": result.outcome, "leads": [lead.pk for lead in result.leads]}
    return JsonResponse(body, status=result.status)


def _refuse(request, source, status, code, reason, *, log=True, body_data=None):
    refusal = payloads.Refused(status, code, reason)
    if log:
        result = services.submission_receive(
            source=source, request=payloads.Request(data=body_data, body=b""),
            content_type=request.content_type or "", refusal=refusal,
        )
    else:
        result = services.Received(status=status, outcome=SourceSubmission.Outcome.REFUSED,
                                   code=code, reason=str(reason))
    return _answer(request, source, result)


def _no_constant(name):
    raise ValueError(f"{name} is not a number JSON allows")  # NaN, Infinity: no column takes them


def _parse(request) -> tuple[object, payloads.Refused | None]:
    """The body as data: a dict of the form's fields, or the decoded JSON."""
    # Read (bounded by the 413 check) before the form parser streams it: Typeform's
    # signature and the log need the raw bytes.
    request.body  # noqa: B018
    if _is_form(request):
        fields = {}
        for name, values in request.POST.lists():
            fields[name] = values[0] if len(values) == 1 else values
        return payloads.storable(fields), None
    body = request.body
    if not body.strip():
        return None, payloads.Refused(400, "payload", _("The body is empty."))
    try:
        return payloads.storable(json.loads(body, parse_constant=_no_constant)), None
    except RecursionError:
        return None, payloads.Refused(400, "payload", _("The JSON is nested too deeply."))
    except (ValueError, UnicodeDecodeError):
        return None, payloads.Refused(
            400 if "json" in (request.content_type or "") else 415, "payload",
            _("Send JSON, or a form (application/x-www-form-urlencoded or multipart)."),
        )


@csrf_exempt
def intake(request, token: str):
    source = selectors.source_for_token(token=token)
    if source is None:
        return _intake(request, None)
    # The organization's language: its visitors read the page in the language of its
    # landing pages, and its managers read the log's reasons in theirs.
    with translation.override(source.organization.language):
        return _intake(request, source)


def _intake(request, source: Source | None):
    origin = request.headers.get("Origin", "")
    if request.method == "OPTIONS":
        return _preflight(request, source, origin)
    if request.method != "POST":
        response = HttpResponse(status=405)
        response["Allow"] = "POST, OPTIONS"
        return response
    if source is None:
        result = services.Received(status=404, outcome=SourceSubmission.Outcome.REFUSED,
                                   code="not_found", reason=_("No such source."))
        return _answer(request, None, result)
    over, first_over, retry_after = rate_exceeded(source)
    if over:
        response = _refuse(request, source, 429, "throttled",
                           _("Too many posts to this source: try again in a moment."),
                           log=first_over)
        response["Retry-After"] = str(retry_after)
        return _cors(response, source, origin)
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > settings.SOURCE_MAX_BODY_BYTES:
        return _cors(_refuse(request, source, 413, "payload_too_large", _(
            "The body is larger than %(n)d bytes.") % {"n": settings.SOURCE_MAX_BODY_BYTES}),
            source, origin)
    data, problem = _parse(request)
    if source.organization.suspended_at is not None:
        problem = payloads.Refused(403, OrganizationSuspended.default_code,
                                   str(OrganizationSuspended.default_detail))
    elif not organization_receives_leads(source.organization):
        problem = payloads.Refused(403, "not_confirmed", str(NOT_CONFIRMED_MESSAGE))
    elif not source.is_active:
        problem = payloads.Refused(403, "source_disabled", _("The source is switched off."))
    elif origin and source.allowed_origins and not _origin_allowed(source, origin):
        problem = payloads.Refused(403, "origin", _("Posts from %(origin)s are not allowed.")
                                   % {"origin": origin[:200]})
    result = services.submission_receive(
        source=source, request=payloads.Request(data=data, body=request.body,
                                                headers=request.headers),
        content_type=request.content_type or "", refusal=problem,
    )
    return _cors(_answer(request, source, result), source, origin)


def _preflight(request, source, origin):
    """CORS preflight of a ``fetch()`` post: allowed only for the source's origins."""
    if source is None or not source.is_active or not origin or not _origin_allowed(
        source, origin
    ):
        return HttpResponse(status=403)
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Origin"] = origin
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = request.headers.get(
        "Access-Control-Request-Headers", "Content-Type")[:500] or "Content-Type"
    response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
    response["Vary"] = "Origin"
    return response
