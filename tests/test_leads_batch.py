"""POST /api/v1/leads/batch: many leads in one request, each answered in order (issue 13, 3)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from history.models import LeadEvent
from leads.batch import batch_item_key
from leads.models import Lead

BATCH = "/api/v1/leads/batch"
LEADS = "/api/v1/leads"


@pytest.fixture
def sales(org, make_team):
    team = make_team(org, size=3, slug="sales")
    org.default_team = team
    org.save(update_fields=["default_team"])
    return team


@pytest.fixture
def support(org, make_team):
    return make_team(org, size=2, slug="support")


def post_batch(client, leads, **extra):
    return client.post(BATCH, {"leads": leads}, format="json", **extra)


def test_each_item_is_answered_in_order_created_existing_or_refused(api, sales):
    first = api.post(LEADS, {"email": "old@example.com", "external_id": "crm-1"}, format="json")
    assert first.status_code == 201

    response = post_batch(api, [
        {"name": "Ana", "email": "ana@example.com"},
        {"email": "again@example.com", "external_id": "crm-1"},
        {"name": "no contact"},
        {"email": "not-an-email"},
        {"phone": "+55 11 91234-5678", "custom": {"fair": "2026"}},
        "not an object",
        {"email": "x@example.com", "assignee": 3},
    ])

    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 200, 400, 400, 201, 400, 400]
    assert results[0]["lead"]["email"] == "ana@example.com"
    assert results[0]["error"] is None
    assert results[1]["lead"]["id"] == first.json()["id"]
    assert results[2]["lead"] is None
    assert results[2]["error"]["code"] == "invalid"
    assert "contact" in results[2]["error"]
    assert "email" in results[3]["error"]
    assert "assignee" in results[6]["error"]
    assert results[4]["lead"]["custom"] == {"fair": "2026"}
    assert Lead.objects.count() == 3
    created = Lead.objects.get(pk=results[0]["lead"]["id"])
    assert created.source == Lead.Source.API
    assert [e.type for e in LeadEvent.objects.filter(lead=created).order_by("id")] == [
        LeadEvent.Type.CREATED, LeadEvent.Type.ASSIGNED]


def test_items_take_the_round_robin_turns_single_posts_would(api, sales, support):
    singles = [api.post(LEADS, {"email": f"s{i}@example.com"}, format="json").json()
               for i in range(2)]

    response = post_batch(api, [
        {"email": f"b{i}@example.com", "team": "support" if i % 2 else "sales"}
        for i in range(8)
    ])
    after = api.post(LEADS, {"email": "after@example.com"}, format="json").json()

    results = response.json()["results"]
    sales_ids = [m.pk for m in sales.attendants]
    support_ids = [m.pk for m in support.attendants]
    in_sales = [s["assignee"]["id"] for s in singles] + [
        r["lead"]["assignee"]["id"] for r in results[0::2]] + [after["assignee"]["id"]]
    in_support = [r["lead"]["assignee"]["id"] for r in results[1::2]]
    assert in_sales == [sales_ids[i % 3] for i in range(7)]
    assert in_support == [support_ids[i % 2] for i in range(4)]


def test_a_batch_retried_with_the_same_idempotency_key_creates_nothing_more(api, sales):
    leads = [{"email": f"b{i}@example.com"} for i in range(3)] + [{"name": "bad"}]

    first = post_batch(api, leads, HTTP_IDEMPOTENCY_KEY="upload-7")
    events = LeadEvent.objects.count()
    again = post_batch(api, leads, HTTP_IDEMPOTENCY_KEY="upload-7")
    other = post_batch(api, leads[:1], HTTP_IDEMPOTENCY_KEY="upload-8")

    assert [r["status"] for r in first.json()["results"]] == [201, 201, 201, 400]
    assert [r["status"] for r in again.json()["results"]] == [200, 200, 200, 400]
    assert [r["lead"]["id"] for r in again.json()["results"][:3]] == [
        r["lead"]["id"] for r in first.json()["results"][:3]]
    assert other.json()["results"][0]["status"] == 201
    assert Lead.objects.count() == 4
    assert LeadEvent.objects.count() == events + 2


def test_the_same_external_id_twice_in_one_batch_makes_one_lead(api, sales):
    response = post_batch(api, [{"email": "a@example.com", "external_id": "x"},
                                {"email": "b@example.com", "external_id": "x"}])

    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 200]
    assert results[0]["lead"]["id"] == results[1]["lead"]["id"]
    assert Lead.objects.count() == 1


def test_long_request_keys_give_item_keys_that_fit_the_column():
    assert batch_item_key(None, 3) is None
    assert batch_item_key("k", 3) == "k#3"
    long = batch_item_key("k" * 128, 499)
    assert len(long) <= 128
    assert long != batch_item_key("k" * 127 + "j", 499)


def test_an_empty_list_answers_no_results(api, sales):
    response = api.post(BATCH, {"leads": []}, format="json")

    assert response.status_code == 200
    assert response.json() == {"results": []}


@pytest.mark.parametrize("body", [
    {"leads": "many"},
    {},
    {"leads": [{"email": "a@example.com"}], "extra": 1},
    [{"email": "a@example.com"}],
])
def test_a_body_that_is_not_a_list_of_leads_answers_400_and_creates_nothing(api, sales, body):
    response = api.post(BATCH, body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] in {"invalid", "parse_error"}
    assert Lead.objects.count() == 0


def test_more_than_500_items_answers_400_and_creates_nothing(api, sales):
    response = post_batch(api, [{"email": f"b{i}@example.com"} for i in range(501)])

    assert response.status_code == 400
    assert "leads" in response.json()
    assert Lead.objects.count() == 0


def test_an_idempotency_key_over_128_characters_is_refused(api, sales):
    response = post_batch(api, [{"email": "a@example.com"}], HTTP_IDEMPOTENCY_KEY="k" * 129)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert Lead.objects.count() == 0


def test_500_items_are_all_created(api, sales):
    response = post_batch(api, [{"email": f"b{i}@example.com"} for i in range(500)])

    assert response.status_code == 200
    assert {r["status"] for r in response.json()["results"]} == {201}
    assert Lead.objects.count() == 500


def test_a_batch_commits_once_per_hundred_leads_not_once_per_lead(api, sales, monkeypatch):
    """In the test's transaction each commit is a savepoint: one per chunk, none per item."""
    with CaptureQueriesContext(connection) as ctx:
        response = post_batch(api, [{"email": f"b{i}@example.com"} for i in range(250)])

    assert response.status_code == 200
    savepoints = [q for q in ctx.captured_queries if q["sql"].startswith("SAVEPOINT")]
    assert len(savepoints) == 3


def test_a_foreign_team_is_refused_per_item_and_nothing_lands_in_the_other_org(
    outsider_api, api, sales, other_org, make_team
):
    make_team(other_org, size=1, slug="globex-sales")

    response = post_batch(api, [{"email": "a@example.com", "team": "globex-sales"},
                                {"email": "b@example.com"}])

    results = response.json()["results"]
    assert [r["status"] for r in results] == [400, 201]
    assert "team" in results[0]["error"]
    assert not Lead.objects.filter(organization=other_org).exists()


def test_an_external_id_of_another_organization_is_a_new_lead_here(outsider_api, api, sales,
                                                                   other_org, make_team):
    other_org.default_team = make_team(other_org, size=1, slug="globex-sales")
    other_org.save(update_fields=["default_team"])
    theirs = post_batch(outsider_api, [{"email": "a@example.com", "external_id": "crm-1"}])

    ours = post_batch(api, [{"email": "a@example.com", "external_id": "crm-1"}])

    assert theirs.json()["results"][0]["status"] == 201
    assert ours.json()["results"][0]["status"] == 201
    assert ours.json()["results"][0]["lead"]["id"] != theirs.json()["results"][0]["lead"]["id"]
    assert Lead.objects.filter(organization=other_org).count() == 1


def test_without_a_key_the_batch_answers_401(client, sales):
    response = client.post(BATCH, {"leads": [{"email": "a@example.com"}]},
                           content_type="application/json")

    assert response.status_code == 401
    assert Lead.objects.count() == 0
