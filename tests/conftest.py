"""Shared fixtures: alice (manager) and bob (attendant) of one organization, charlie outside.

Tests marked ``postgres`` or ``redis`` skip without those services, except when
``TRANSBORDO_REQUIRE_SERVICES=1`` (CI), where a missing service fails them.
"""

import os
import shutil
import uuid
from datetime import time

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from accounts.selectors import forget as receiving_forget
from history.services import Actor
from leads.services import lead_create
from teams import config_cache
from teams.models import Membership
from teams.services.keys import api_key_create

from .factories import (
    BusinessHoursIntervalFactory,
    MembershipFactory,
    OrganizationFactory,
    OverflowPolicyFactory,
    TeamFactory,
    TeamMemberFactory,
    UserFactory,
)

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def _service_missing(marker: str) -> str | None:
    if marker == "gettext":
        if shutil.which("msgfmt") is None:
            return "needs msgfmt (apt-get install gettext)"
        return None
    if marker == "browser":
        if not os.path.exists(CHROMIUM):
            return f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
        try:
            import playwright  # noqa: F401
        except ImportError:
            return "needs Playwright for Python (pip install -e '.[dev]')"
        return None
    if marker == "postgres" and connection.vendor != "postgresql":
        return "needs PostgreSQL (set DATABASE_URL=postgres://...)"
    if marker == "redis":
        url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
        try:
            import redis

            redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        except Exception as exc:  # any failure means: no usable Redis
            return f"needs Redis at {url} ({exc})"
    return None


@pytest.fixture(autouse=True)
def _fresh_config_copies():
    """Each test's organizations start with their configuration read from the database.

    A rolled-back test takes its version bumps with it, and SQLite hands the same
    ids to the next test's organizations: copies kept by this process would match.
    """
    config_cache.forget()
    receiving_forget()
    yield
    config_cache.forget()
    receiving_forget()


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    """Each test counts throttles and login tries from zero, under a key prefix of its own.

    The cache may be a Redis shared with other runs and with the Celery broker, so it is
    never flushed.
    """
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": uuid.uuid4().hex}}


@pytest.fixture(autouse=True)
def _require_services(request):
    for marker in ("postgres", "redis", "browser", "gettext"):
        if request.node.get_closest_marker(marker):
            missing = _service_missing(marker)
            if missing:
                if settings.REQUIRE_SERVICES:
                    pytest.fail(f"TRANSBORDO_REQUIRE_SERVICES=1 but the test {missing}")
                pytest.skip(missing)


@pytest.fixture
def org(db):
    return OrganizationFactory(name="Acme", slug="acme")


@pytest.fixture
def other_org(db):
    return OrganizationFactory(name="Globex", slug="globex")


@pytest.fixture
def alice(org):
    """A manager of ``org``."""
    return MembershipFactory(
        organization=org, user=UserFactory(username="alice", first_name="Alice"),
        role=Membership.Role.MANAGER,
    )


@pytest.fixture
def bob(org):
    """An attendant of ``org``."""
    return MembershipFactory(organization=org, user=UserFactory(username="bob", first_name="Bob"))


@pytest.fixture
def charlie(other_org):
    """A manager of another organization: sees nothing of ``org``."""
    return MembershipFactory(
        organization=other_org, user=UserFactory(username="charlie", first_name="Charlie"),
        role=Membership.Role.MANAGER,
    )


@pytest.fixture
def dave(org):
    """Bob's colleague, an attendant of ``org``."""
    return MembershipFactory(
        organization=org, user=UserFactory(username="dave", first_name="Dave", last_name="Day")
    )


@pytest.fixture
def globex_team(other_org, charlie):
    """A team of the other organization, for tenant-isolation tests."""
    return TeamFactory(organization=other_org, name="Globex Squad", slug="squad")


@pytest.fixture
def make_team(db):
    """A team with ``size`` active attendants and, unless ``policy=None``, an overflow policy.

    Usage: ``team = make_team(org, size=3, service_minutes=10, max_transfers=None,
    hours={0: [(time(8), time(18))]})``. ``team.attendants`` lists the memberships
    in rotation order.
    """

    def build(organization, *, size=3, slug=None, policy=True, service_minutes=10,
              max_transfers=None, hours=None, include_bot_leads=False, **team_fields):
        kwargs = {"organization": organization, **team_fields}
        if slug:
            kwargs.update(slug=slug, name=slug.title())
        if hours is not None:
            kwargs["business_hours_enabled"] = True
        team = TeamFactory(**kwargs)
        team.attendants = [
            TeamMemberFactory(team=team, order=i).membership for i in range(size)
        ]
        for weekday, intervals in (hours or {}).items():
            for start, end in intervals:
                BusinessHoursIntervalFactory(team=team, weekday=weekday, start=start, end=end)
        if policy:
            OverflowPolicyFactory(
                team=team, service_minutes=service_minutes, max_transfers=max_transfers,
                include_bot_leads=include_bot_leads,
            )
        return team

    return build


WEEKDAYS_8_TO_18 = {d: [(time(8), time(18))] for d in range(5)}


@pytest.fixture
def api_key(org):
    key, raw = api_key_create(organization=org, name="test")
    key.raw = raw
    return key


@pytest.fixture
def api(api_key):
    """An API client authenticated with ``org``'s key."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key.raw}")
    return client


@pytest.fixture
def outsider_api(other_org):
    """An API client authenticated with the other organization's key."""
    _key, raw = api_key_create(organization=other_org, name="outsider")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


@pytest.fixture
def new_lead(db):
    """Create a lead through the real service: ``new_lead(org, team=..., source="api")``."""
    counter = iter(range(10**6))

    def create(organization, *, team=None, source="api", now=None, **data):
        n = next(counter)
        data.setdefault("name", f"Lead {n}")
        data.setdefault("email", f"lead{n}@example.com")
        lead, _created = lead_create(
            organization=organization, data=data, team=team, source=source,
            actor=Actor.system(), now=now,
        )
        return lead

    return create
