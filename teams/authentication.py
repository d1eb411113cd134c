"""API-key authentication: resolves the organization once, at the edge."""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions, permissions

from core.context import bind

from .config_cache import api_key_cached
from .models import ApiKey
from .throttling import ClientAddressThrottle

KEYWORD = "Api-Key"
# last_used_at is written at most this often per key, to keep it off the hot path.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class OrganizationSuspended(exceptions.PermissionDenied):
    default_detail = _(
        "This organization is suspended: it receives no leads and its API keys are refused "
        "until the platform operator reactivates it."
    )
    default_code = "organization_suspended"


def ensure_not_suspended(organization) -> None:
    """Every intake path (API keys, intake URLs) calls this once it knows the organization:
    a suspended organization answers 403 with a message saying so."""
    if organization.suspended_at is not None:
        raise OrganizationSuspended()


class ApiKeyPrincipal:
    """Stands in for ``request.user`` on API-key requests."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key
        self.organization = api_key.organization

    def __str__(self):
        return f"api-key:{self.api_key.prefix}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _sep, raw = header.partition(" ")
        if keyword.lower() != KEYWORD.lower():
            return None
        raw = raw.strip()
        if not raw:
            raise exceptions.AuthenticationFailed(_("The API key is missing."))
        # Before the key costs a database lookup: made-up keys are throttled per address too.
        throttle = ClientAddressThrottle()
        if not throttle.allow_request(request, None):
            raise exceptions.Throttled(throttle.wait())
        # A slice, not .first(): the hash is unique, and ORDER BY would cost its compile.
        key_hash = ApiKey.hash(raw)

        def load():
            found = list(
                ApiKey.objects.select_related(
                    "organization", "organization__default_team__overflow_policy"
                ).filter(key_hash=key_hash)[:1]
            )
            return found[0] if found else None

        # From this process's short-lived copy (teams.config_cache, API_KEY_CACHE_SECONDS).
        key = api_key_cached(key_hash, load)
        if key is None or not key.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API key."))
        ensure_not_suspended(key.organization)
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
            key.last_used_at = now
        request.organization = key.organization
        bind(organization_id=key.organization_id)  # log lines name it from here on
        return ApiKeyPrincipal(key), key

    def authenticate_header(self, request):
        return KEYWORD


class HasOrganization(permissions.BasePermission):
    """Every API request must carry a valid organization key."""

    def has_permission(self, request, view):
        return isinstance(request.user, ApiKeyPrincipal)
