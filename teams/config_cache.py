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

from collections.abc import Callable
from typing import TypeVar

from django.db.models import F

from .models import Organization

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
