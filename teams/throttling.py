"""API throttles on the cache (DRF): per API key, and per client address.

Rates come from settings (``API_THROTTLE_*``, see .env.example; an empty rate turns that
throttle off). A throttled request is refused before its view runs (429 with
``Retry-After``), so it creates nothing.
"""

from django.conf import settings
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


def client_address(request) -> str:
    """The client's IP address: ``REMOTE_ADDR``, or, behind ``NUM_PROXIES`` trusted proxies,
    the address the outermost of them saw (X-Forwarded-For is otherwise the client's to
    forge). Login throttling and the API's per-address throttle share it."""
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",")]
        return hops[-min(proxies, len(hops))]
    return request.META.get("REMOTE_ADDR", "")


class _RateFromSettings(SimpleRateThrottle):
    """Reads its rate when asked, not once at import, so that settings changes apply."""

    def __init__(self):
        pass

    def allow_request(self, request, view):
        self.rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope) or None
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def throttle_success(self):
        # DRF lets the cache expire the history after one window, on the cache's own clock,
        # while the window itself is measured by the throttle's timer: two clocks deciding
        # one thing (a test with a frozen timer saw its burst forgotten when the machine was
        # slow). The history drops what is older than the window by itself, so keeping the
        # key a minute lets the throttle alone decide, at the cost of a small cache entry.
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, max(self.duration, 60))
        return True


class ApiKeyThrottle(_RateFromSettings):
    """Per API key. A view's ``throttle_scope`` picks the rate: ``intake`` (new leads and
    handoffs, the traffic that must get through) or, by default, ``api``."""

    def allow_request(self, request, view):
        self.api_key = getattr(request.user, "api_key", None)
        if self.api_key is None:
            return True  # no key: the permission check refuses it (or it is the schema)
        self.scope = getattr(view, "throttle_scope", None) or "api"
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.api_key.pk}


class ClientAddressThrottle(_RateFromSettings):
    """Per client address, over every API request. The API-key authentication asks it
    before looking the key up, so a flood of made-up keys is throttled too; a request is
    counted once however often it is asked."""

    scope = "address"
    _counted = "_transbordo_address_counted"

    def allow_request(self, request, view):
        if getattr(request, self._counted, False):
            return True
        setattr(request, self._counted, True)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}
