"""Query budgets of the hot paths, so a change that adds round trips fails here.

Counts include the SAVEPOINT/RELEASE pair Django issues for each
``transaction.atomic()`` inside the test's own transaction; in production those
are BEGIN/COMMIT and not logged. ``docs/benchmarks.md`` measures what each
query costs under load.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads.sweep import overflow_sweep

LEADS = "/api/v1/leads"

# POST /api/v1/leads to the default team, once its rotation has a cursor: API key (with the
# organization, its configuration version and default team), the retry and returning-customer
# lookups (one UNION), [team row lock, the rotation with whether anyone waits in the queue,
# cursor and last_assigned_at UPDATEs (one statement), lead INSERT, events INSERT]; routing
# rules and whether the organization has webhook endpoints come from this process's copy
# (teams.config_cache); answered from memory; + the savepoint pair.
INGEST_QUERIES = 8
# Naming the team in the body adds its lookup.
INGEST_WITH_TEAM_QUERIES = 9
# A retry: API key, the id it finds, the lead as the API shows it.
RETRY_QUERIES = 2
# Sweep, per batch: claim (FOR UPDATE SKIP LOCKED), holders, the teams' locks with their
# round-robin cursors, one UPDATE, one INSERT, the active webhook endpoints of the batch's
# organizations, the moved cursors, who was assigned last, + savepoint pair (the leads'
# required skills only where the organization has skills; presence only in online-only
# teams; open counts only where members have a capacity or the team picks least-open).
# Per team, once per sweep: team, hours, exceptions, chain, members, whether the
# organization has skills. Once per sweep: the empty claim that ends it (+ savepoint pair).
SWEEP_PER_BATCH = 10
SWEEP_PER_TEAM = 6
SWEEP_FINAL = 3


@pytest.fixture
def sales(org, make_team):
    team = make_team(org, size=3, slug="sales")
    org.default_team = team
    org.save(update_fields=["default_team"])
    return team


def body(n, **extra):
    return {"name": f"Lead {n}", "email": f"lead{n}@example.com", "external_id": f"ext-{n}",
            "custom": {"utm_source": "ads"}, **extra}


def test_post_lead_stays_within_its_query_budget(api, sales, django_assert_max_num_queries):
    assert api.post(LEADS, body(0), format="json").status_code == 201  # warm the key

    with django_assert_max_num_queries(INGEST_QUERIES):
        response = api.post(LEADS, body(1), format="json")

    assert response.status_code == 201, response.content


def test_post_lead_naming_its_team_stays_within_its_query_budget(
    api, sales, django_assert_max_num_queries
):
    assert api.post(LEADS, body(0), format="json").status_code == 201

    with django_assert_max_num_queries(INGEST_WITH_TEAM_QUERIES):
        response = api.post(LEADS, body(1, team="sales"), format="json")

    assert response.status_code == 201, response.content


def test_retried_post_stays_within_its_query_budget(api, sales, django_assert_max_num_queries):
    assert api.post(LEADS, body(1), format="json").status_code == 201

    with django_assert_max_num_queries(RETRY_QUERIES):
        response = api.post(LEADS, body(1), format="json")

    assert response.status_code == 200, response.content


def sweep_queries(*, now, batch_size):
    with CaptureQueriesContext(connection) as ctx:
        moved = overflow_sweep(now=now, batch_size=batch_size)
    return moved, len(ctx.captured_queries)


@pytest.mark.parametrize("leads, batch_size", [(5, 5), (40, 40), (40, 10)])
def test_sweep_queries_grow_with_batches_not_with_leads(
    org, make_team, new_lead, leads, batch_size
):
    team = make_team(org, size=4, slug="sales")
    now = timezone.now()
    for _ in range(leads):
        new_lead(org, team=team, now=now - timedelta(hours=1))
    batches = -(-leads // batch_size)

    moved, queries = sweep_queries(now=now, batch_size=batch_size)

    assert moved == leads
    assert queries <= SWEEP_PER_TEAM + batches * SWEEP_PER_BATCH + SWEEP_FINAL, queries


def test_sweep_loads_each_team_once_per_sweep(org, make_team, new_lead):
    teams = [make_team(org, size=3, slug=f"team-{i}") for i in range(3)]
    now = timezone.now()
    for i in range(30):
        new_lead(org, team=teams[i % 3], now=now - timedelta(hours=1))

    moved, queries = sweep_queries(now=now, batch_size=10)

    assert moved == 30
    assert queries <= 3 * SWEEP_PER_TEAM + 3 * SWEEP_PER_BATCH + SWEEP_FINAL, queries
