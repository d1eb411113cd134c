"""The API key's short-lived per-process copy (teams.config_cache.api_key_cached, issue 13, 3):
a revoked key stops working within API_KEY_CACHE_SECONDS even when revoked elsewhere."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from teams.models import ApiKey, Organization

LEADS = "/api/v1/leads"


@pytest.fixture
def sales(org, make_team):
    team = make_team(org, size=2, slug="sales")
    org.default_team = team
    org.save(update_fields=["default_team"])
    return team


def key_lookups(queries):
    return [q for q in queries if 'FROM "teams_apikey"' in q["sql"] and "key_hash" in q["sql"]]


def test_a_key_is_looked_up_once_then_reused_from_memory(api, sales):
    with CaptureQueriesContext(connection) as first:
        assert api.get(LEADS).status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert api.get(LEADS).status_code == 200

    assert len(key_lookups(first.captured_queries)) == 1
    assert key_lookups(second.captured_queries) == []


def test_a_key_revoked_by_another_process_stops_working_within_the_cache_seconds(
    api, api_key, sales, settings
):
    settings.API_KEY_CACHE_SECONDS = 2
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert api.get(LEADS).status_code == 200
        # Another process revokes it: nothing here is told (no signal from update()).
        ApiKey.objects.filter(pk=api_key.pk).update(revoked_at=timezone.now())

        clock.shift(timedelta(seconds=1))
        assert api.get(LEADS).status_code == 200  # still this process's copy

        clock.shift(timedelta(seconds=1.5))
        response = api.get(LEADS)

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_a_key_revoked_in_this_process_stops_working_at_once(api, api_key, org, sales):
    from teams.services.keys import api_key_revoke

    assert api.get(LEADS).status_code == 200

    api_key_revoke(organization=org, key_id=api_key.pk)

    assert api.get(LEADS).status_code == 401


def test_a_revoked_key_is_never_kept(api, api_key, sales):
    api_key.revoke()
    assert api.get(LEADS).status_code == 401

    ApiKey.objects.filter(pk=api_key.pk).update(revoked_at=None)  # (no key comes back; a test)

    assert api.get(LEADS).status_code == 200


def test_with_zero_seconds_every_request_looks_the_key_up(api, sales, settings):
    settings.API_KEY_CACHE_SECONDS = 0
    api.get(LEADS)

    with CaptureQueriesContext(connection) as ctx:
        assert api.get(LEADS).status_code == 200

    assert len(key_lookups(ctx.captured_queries)) == 1


def test_a_new_default_team_saved_here_is_used_by_the_next_post(api, org, sales, make_team):
    assert api.post(LEADS, {"email": "a@example.com"}, format="json").json()["team"][
        "slug"] == "sales"
    support = make_team(org, size=1, slug="support")

    org.default_team = support
    org.save(update_fields=["default_team"])

    answer = api.post(LEADS, {"email": "b@example.com"}, format="json").json()
    assert answer["team"]["slug"] == "support"


def test_a_configuration_change_in_another_process_is_seen_within_the_cache_seconds(
    api, org, sales, make_team, settings
):
    settings.API_KEY_CACHE_SECONDS = 2
    support = make_team(org, size=1, slug="support")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        api.post(LEADS, {"email": "a@example.com"}, format="json")
        Organization.objects.filter(pk=org.pk).update(default_team=support)

        clock.shift(timedelta(seconds=3))
        answer = api.post(LEADS, {"email": "b@example.com"}, format="json").json()

    assert answer["team"]["slug"] == "support"
