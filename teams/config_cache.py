"""Per-process copies of an organization's slow-changing configuration.

Every request loads its organization fresh (API key or session), and with it
``Organization.config_version``. A copy built at another version is rebuilt,
so a change saved by any process is seen by every other on its next request.
``config_changed`` bumps the version in the transaction of the change and drops
this process's copies at once.

Copies hold plain, immutable data (ids, not model instances), so nothing
cached can carry a stale related object such as a team or a person.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from django.conf import settings
from django.db.models import F

from .models import Organization

if TYPE_CHECKING:
    from .models import ApiKey

T = TypeVar("T")

_copies: dict[tuple[int, str], tuple[int, object]] = {}


def org_cached(organization: Organization, name: str, build: Callable[[], T]) -> T:
    """``build()``'s value for this organization, reused while its version holds."""
    key = (organization.pk, name)
    version = organization.config_version
    found = _copies.get(key)
    if found is not None and found[0] == version:
        return found[1]  # type: ignore[return-value]
    value = build()
    _copies[key] = (version, value)
    return value


# API keys by hash: (expires at, time.time(); the key with its organization loaded). The
# wall clock (not monotonic) so tests move it with time_machine; a copy that seems to
# expire further away than the cache's seconds (the clock went back) is not trusted.
_keys: dict[str, tuple[float, ApiKey]] = {}
_KEYS_MAX = 10_000


def api_key_cached(key_hash: str, load: Callable[[], ApiKey | None]) -> ApiKey | None:
    """The active key with this hash, from this process's copy for up to
    ``API_KEY_CACHE_SECONDS``, else ``load()``'s (unknown and revoked keys are never kept).

    The copy carries the organization as it was loaded (its ``config_version`` too), so
    a change saved in another process is seen here within those seconds; one saved in
    this process (``config_changed``, an organization, team or key saved) drops the
    organization's keys at once. A revoked key stops working within the same seconds.
    """
    ttl = settings.API_KEY_CACHE_SECONDS
    now = time.time()
    found = _keys.get(key_hash)
    if found is not None and now < found[0] <= now + ttl:
        return found[1]
    key = load()
    if ttl > 0 and key is not None and key.is_active:
        if len(_keys) >= _KEYS_MAX:
            for stale in [h for h, (until, _k) in list(_keys.items()) if until <= now]:
                _keys.pop(stale, None)
            if len(_keys) >= _KEYS_MAX:
                _keys.clear()
        _keys[key_hash] = (now + ttl, key)
    elif found is not None:
        _keys.pop(key_hash, None)
    return key


def config_changed(organization_id: int) -> None:
    """Call in the transaction that changes cached configuration of the organization."""
    Organization.objects.filter(pk=organization_id).update(
        config_version=F("config_version") + 1
    )
    forget(organization_id)


def forget(organization_id: int | None = None) -> None:
    """Drop this process's copies (of one organization, or all)."""
    for key in [k for k in _copies if organization_id is None or k[0] == organization_id]:
        _copies.pop(key, None)
    for key_hash, (_until, key) in list(_keys.items()):
        if organization_id is None or key.organization_id == organization_id:
            _keys.pop(key_hash, None)
