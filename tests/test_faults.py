"""Faults found by probing from outside (issue 12, section 1), each pinned by its test.

- Query parameters: bad values answer 400 or are ignored, never 500.
- A body sent chunked (no Content-Length) is refused with 411, not read as empty.
- Accepting a lead through the API decides under the lead's lock; a refusal is 409.
- Notes: anyone who may see a lead may add a note to it; nobody else may.
"""

import http.client
import threading
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from history.models import LeadEvent
from leads.models import Lead
from overflow.services import overflow_sweep

from .helpers import client_for

Type = LeadEvent.Type
JOIN_TIMEOUT = 60


# --- query parameters ----------------------------------------------------------------------

IMPOSSIBLE_SINCE = [
    "2026-02-30T10:00:00",  # the probe's: well formed, no such day
    "2026-13-01T00:00:00",
    "2026-01-01T25:00:00",
    "2026-01-01T10:00:00+99:00",  # an offset beyond a day
    "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
    "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
    "yesterday",
    "",
]


@pytest.mark.parametrize("since", IMPOSSIBLE_SINCE)
def test_inbox_ignores_a_since_it_cannot_read(org, make_team, new_lead, since):
    team = make_team(org, size=2)
    lead = new_lead(org, team=team)
    client = client_for(team.attendants[0])

    for params in ({"since": since}, {"since": since, "partial": "1"}):
        response = client.get("/inbox/", params)
        assert response.status_code == 200, params
        assert lead.pk in [row.pk for row in response.context["page"].object_list]
        assert response.context["moved_away"] == []


def test_inbox_since_without_an_offset_is_read_in_the_organizations_time(
    org, make_team, new_lead
):
    """The page sends back its own aware ``data-now``; a naive one still works."""
    team = make_team(org, size=2)
    first, second = team.attendants
    now = timezone.now()
    new_lead(org, team=team, now=now - timedelta(minutes=11))
    overflow_sweep(now=now)
    naive = timezone.make_naive(now - timedelta(seconds=30), org.tzinfo).isoformat()

    response = client_for(first).get("/inbox/", {"partial": "1", "since": naive})

    assert [e.to_member_id for e in response.context["moved_away"]] == [second.pk]


NASTY_VALUES = ["abc", "-1", "0", "99999999999999999999999", "1e9", "%00", "\x00", "é" * 300]
PAGE_PARAMS = ["page", "tab", "q", "team", "status", "since", "partial", "archived", "next", "n"]


@pytest.fixture
def pages(org, make_team, new_lead):
    team = make_team(org, size=2)
    lead = new_lead(org, team=team)
    return [
        "/inbox/", f"/leads/{lead.pk}/", "/preferences/", "/manage/teams/",
        f"/manage/teams/{team.pk}/", f"/manage/teams/{team.pk}/hours/",
        f"/manage/teams/{team.pk}/overflow/", f"/manage/teams/{team.pk}/preview/",
        "/manage/people/", "/manage/api-keys/", "/manage/webhooks/", "/manage/routing-rules/",
        "/manage/settings/",
    ]


@pytest.mark.parametrize("value", NASTY_VALUES)
def test_no_page_answers_500_to_a_bad_query_parameter(alice, pages, value):
    client = client_for(alice)
    for page in pages:
        response = client.get(page, {name: value for name in PAGE_PARAMS})
        assert response.status_code < 500, (page, value)


API_LIST_PARAMS = ["page", "status", "team", "assignee", "external_id", "n"]


@pytest.mark.parametrize("value", NASTY_VALUES)
def test_no_api_list_answers_500_to_a_bad_query_parameter(api, org, make_team, value):
    team = make_team(org, size=2)
    for path in ("/api/v1/leads", "/api/v1/teams", f"/api/v1/teams/{team.slug}/preview",
                 "/api/v1/webhooks", "/api/v1/routing-rules", "/api/v1/skills"):
        response = api.get(path, {name: value for name in API_LIST_PARAMS})
        assert response.status_code in (200, 400, 404), (path, value, response.status_code)


def test_api_paths_with_ids_past_any_integer_are_404(api):
    huge = "9" * 30
    for path in (f"/api/v1/leads/{huge}", f"/api/v1/leads/{huge}/history",
                 f"/api/v1/webhooks/{huge}", f"/api/v1/webhook-deliveries/{huge}",
                 f"/api/v1/routing-rules/{huge}", f"/api/v1/skills/{huge}"):
        assert api.get(path).status_code == 404, path
