"""The batch's bulk path routes exactly as single POSTs in the same order (issue 13, 3).

Each test builds the same organization twice: one gets the leads as single POSTs, one by
one, the other as one batch. Their leads must come out the same: the same attendants (by
their place in the team), queue positions, customer messages, history events and
announced events (webhooks).
"""

from datetime import time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from history.models import LeadEvent
from history.signals import events_written
from leads.batch import BATCH_CHUNK
from leads.models import Lead
from routing.models import RoutingRule
from teams.models import Membership, Skill, Team, TeamMember
from teams.services.keys import api_key_create

from .factories import OrganizationFactory
from .races import run_at_once

BATCH = "/api/v1/leads/batch"
LEADS = "/api/v1/leads"


@pytest.fixture
def twins(db, make_team):
    """Two organizations built alike by ``build(org)``; ``run(items)`` posts them singly
    to one and as a batch to the other and returns both outcomes."""

    class Twins:
        def __init__(self):
            self.orgs = []

        def setup(self, build):
            for name in ("single", "batch"):
                org = OrganizationFactory(name=name.title(), slug=name)
                build(org, make_team)
                _key, raw = api_key_create(organization=org, name="k")
                client = APIClient()
                client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
                self.orgs.append((org, client))

        def before(self, items):
            """Leads that exist before: posted one by one to both."""
            for _org, client in self.orgs:
                for item in items:
                    assert client.post(LEADS, item, format="json").status_code in (200, 201)

        def run(self, items, *, key=None):
            (single_org, single), (batch_org, batch) = self.orgs
            extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
            with announced() as single_events:
                answers = []
                for n, item in enumerate(items):
                    headers = {"HTTP_IDEMPOTENCY_KEY": f"{key}#{n}"} if key else {}
                    response = single.post(LEADS, item, format="json", **headers)
                    answers.append((response.status_code, response.json()))
            with announced() as batch_events:
                response = batch.post(BATCH, {"leads": items}, format="json", **extra)
            assert response.status_code == 200, response.content
            results = [(r["status"], r["lead"] if r["lead"] else r["error"])
                       for r in response.json()["results"]]
            return (outcome(single_org, answers, single_events),
                    outcome(batch_org, results, batch_events))

    return Twins()


class announced:
    """What ``events_written`` announces (outbound webhooks listen to it)."""

    def __enter__(self):
        self.events = []
        events_written.connect(self.receive, dispatch_uid="test-batch-announced")
        return self.events

    def receive(self, sender, events, **kwargs):
        self.events.extend(events)

    def __exit__(self, *exc):
        events_written.disconnect(dispatch_uid="test-batch-announced")


def label(org, membership_id):
    """An attendant by their team and place in it, alike in both organizations."""
    if membership_id is None:
        return None
    member = TeamMember.objects.filter(membership_id=membership_id).order_by("team_id").first()
    return f"{member.team.slug}:{member.order}"


def outcome(org, answers, announced_events):
    teams = {t.pk: t.slug for t in Team.objects.filter(organization=org)}
    rules = {r.pk: r.name for r in RoutingRule.objects.filter(organization=org)}
    ids = {}
    shown = []
    for n, (status, body) in enumerate(answers):
        if status >= 400:
            shown.append((status, body.get("code")))
            continue
        ids.setdefault(body["id"], f"lead{n}")
        shown.append((status, ids[body["id"]], body["team"] and body["team"]["slug"],
                      label(org, body["assignee"] and body["assignee"]["id"]),
                      body["queue_position"], body["customer_message"], body["is_returning"],
                      body["status"], body["score"], body["overflow"]["reason"],
                      body["overflow"]["active"], body["external_id"]))

    def event(e):
        data = dict(e.data)
        if "team_id" in data:
            data["team_id"] = teams.get(data["team_id"])
        if data.get("rule_id"):
            data["rule_id"] = rules[data["rule_id"]]
        return (ids.get(e.lead_id), e.type, e.actor_kind, label(org, e.to_member_id),
                e.reason, data)

    stored = Lead.objects.filter(organization=org)
    history = [event(e) for e in LeadEvent.objects.filter(lead__in=stored).order_by("id")]
    skills = sorted((ids[lead.pk], s.slug) for lead in stored for s in lead.required_skills.all()
                    if lead.pk in ids)
    people = sorted(
        (label(org, m.pk), m.last_assigned_at is not None)
        for m in Membership.objects.filter(organization=org))
    cursors = sorted((t.slug, t.rr_last_member and t.rr_last_member.order)
                     for t in Team.objects.filter(organization=org))
    return {"answers": shown, "history": history, "skills": skills, "people": people,
            "cursors": cursors, "announced": [event(e) for e in announced_events]}


def assert_same(twins, items, **kwargs):
    single, batch = twins.run(items, **kwargs)
    for part in ("answers", "history", "skills", "people", "cursors", "announced"):
        assert batch[part] == single[part], part
    return batch


def named(team, slug):
    for n, membership in enumerate(team.attendants):
        membership.user.first_name = f"{slug.title()}{n}"
        membership.user.save(update_fields=["first_name"])
    return team


def default_team(org, make_team, **fields):
    team = named(make_team(org, size=3, slug="sales", **fields), "sales")
    org.default_team = team
    org.save(update_fields=["default_team"])
    return team


# --- the same attendants as single POSTs --------------------------------------------------


def test_round_robin_over_two_teams_as_single_posts(twins):
    def build(org, make_team):
        default_team(org, make_team)
        named(make_team(org, size=2, slug="support"), "support")

    twins.setup(build)
    twins.before([{"email": "first@example.com"}])
    batch = assert_same(twins, [
        {"email": f"b{i}@example.com", **({"team": "support"} if i % 3 == 0 else {})}
        for i in range(10)
    ])
    assert [a[3] for a in batch["answers"]] == [
        "support:0", "sales:1", "sales:2", "support:1", "sales:0", "sales:1", "support:0",
        "sales:2", "sales:0", "support:1"]


def test_least_open_with_capacity_as_single_posts(twins):
    def build(org, make_team):
        team = default_team(org, make_team, strategy=Team.Strategy.LEAST_OPEN)
        TeamMember.objects.filter(team=team, order=0).update(capacity=2)
        TeamMember.objects.filter(team=team, order=1).update(capacity=4)

    twins.setup(build)
    twins.before([{"email": f"old{i}@example.com"} for i in range(2)])
    batch = assert_same(twins, [{"email": f"b{i}@example.com"} for i in range(8)])
    assert sorted(a[3] for a in batch["answers"]).count("sales:0") == 1  # 2 with the one before


def test_required_skills_as_single_posts(twins):
    def build(org, make_team):
        team = default_team(org, make_team)
        english = Skill.objects.create(organization=org, name="English", slug="en")
        team.attendants[1].skills.add(english)
        team.attendants[2].skills.add(english)

    twins.setup(build)
    batch = assert_same(twins, [
        {"email": f"b{i}@example.com", **({"required_skills": ["en"]} if i % 2 else {})}
        for i in range(8)
    ])
    assert {a[3] for a in batch["answers"][1::2]} <= {"sales:1", "sales:2"}


def test_a_returning_customer_goes_back_to_their_attendant_as_single_posts(twins):
    def build(org, make_team):
        default_team(org, make_team, sticky_returning=True)

    twins.setup(build)
    twins.before([{"email": "known@example.com"}, {"phone": "+55 11 99999-0000"}])
    batch = assert_same(twins, [
        {"email": "new@example.com"},
        {"email": "known@example.com"},  # returning, from before the batch
        {"email": "other@example.com", "phone": "+55 11 99999-0000"},  # returning by phone
        {"email": "new@example.com"},  # returning, from earlier in the batch
        {"email": "NEW@example.com", "phone": "+55 11 98888-0000"},
        {"phone": "+55 11 98888-0000"},
    ])
    returning = [a[6] for a in batch["answers"]]
    assert returning == [False, True, True, True, True, True]
    assert batch["answers"][3][3] == batch["answers"][0][3]


def test_a_dedicated_rule_as_single_posts(twins):
    def build(org, make_team):
        team = default_team(org, make_team)
        rule = RoutingRule.objects.create(
            organization=org, name="VIP", position=0, attendant=team.attendants[2],
            conditions=[{"field": "custom.plan", "op": "eq", "value": "vip"}])
        rule.full_clean()
        RoutingRule.objects.create(organization=org, name="Elsewhere", position=1,
                                   redirect_to="https://wa.me/5511999990000",
                                   conditions=[{"field": "custom.plan", "op": "eq",
                                                "value": "whatsapp"}])

    twins.setup(build)
    batch = assert_same(twins, [
        {"email": f"b{i}@example.com",
         "custom": {"plan": ("vip", "free", "whatsapp", "free")[i % 4]}}
        for i in range(8)
    ])
    assert [a[3] for a in batch["answers"][0::4]] == ["sales:2", "sales:2"]
    assert [a[7] for a in batch["answers"][2::4]] == ["concluded", "concluded"]


def test_a_closed_team_with_business_hours_as_single_posts(twins):
    """Out of hours: the same messages with the next opening, the same overflow state."""
    tomorrow = (timezone.localdate() + timedelta(days=1)).weekday()

    def build(org, make_team):
        team = default_team(org, make_team, hours={tomorrow: [(time(8), time(9))]})
        team.members.filter(order=2).update(capacity=1)

    twins.setup(build)
    batch = assert_same(twins, [{"email": f"b{i}@example.com"} for i in range(5)])
    assert {a[5]["kind"] for a in batch["answers"]} == {"out_of_hours"}
    assert {a[9] for a in batch["answers"]} == {"out_of_hours"}


def test_a_full_team_queues_the_rest_in_order_as_single_posts(twins):
    def build(org, make_team):
        team = default_team(org, make_team)
        team.members.update(capacity=1)

    twins.setup(build)
    batch = assert_same(twins, [{"email": f"b{i}@example.com"} for i in range(7)])
    assert [a[4] for a in batch["answers"]] == [None, None, None, 1, 2, 3, 4]
    assert {a[5]["kind"] for a in batch["answers"][3:]} == {"queued"}


def test_a_full_team_queues_across_chunks_as_single_posts(twins):
    """The second chunk finds the first one's leads waiting: it drains first (nobody can
    take them) and numbers its own from where the queue ends."""
    def build(org, make_team):
        team = default_team(org, make_team)
        team.members.update(capacity=1)

    twins.setup(build)
    batch = assert_same(twins, [{"email": f"b{i}@example.com"} for i in range(BATCH_CHUNK + 20)])
    assert [a[4] for a in batch["answers"]] == [None] * 3 + list(range(1, BATCH_CHUNK + 18))


def test_a_person_in_two_teams_is_counted_once_as_single_posts(twins):
    """Open counts and last assignments belong to the person: a pick in one team counts in
    the other's least-open choice."""
    def build(org, make_team):
        sales = default_team(org, make_team, strategy=Team.Strategy.LEAST_OPEN)
        support = named(make_team(org, size=1, slug="support",
                                  strategy=Team.Strategy.LEAST_OPEN), "support")
        TeamMember.objects.create(team=support, membership=sales.attendants[0], order=1)
        TeamMember.objects.filter(team=sales).update(capacity=3)

    twins.setup(build)
    assert_same(twins, [{"email": f"b{i}@example.com", **({"team": "support"} if i % 3 else {})}
                        for i in range(12)])


def test_a_waiting_queue_goes_first_as_single_posts(twins):
    def build(org, make_team):
        team = default_team(org, make_team, online_only=True)
        Membership.objects.filter(pk__in=[m.pk for m in team.attendants]).update(
            presence=Membership.Presence.OFFLINE)

    twins.setup(build)
    twins.before([{"email": f"old{i}@example.com"} for i in range(2)])
    for org, _client in twins.orgs:
        Membership.objects.filter(organization=org, team_memberships__order=1).update(
            presence=Membership.Presence.ONLINE)
    assert_same(twins, [{"email": f"b{i}@example.com"} for i in range(3)])


def test_external_ids_repeated_and_known_as_single_posts(twins):
    def build(org, make_team):
        default_team(org, make_team)

    twins.setup(build)
    twins.before([{"email": "old@example.com", "external_id": "crm-0"}])
    batch = assert_same(twins, [
        {"email": "a@example.com", "external_id": "crm-1"},
        {"email": "b@example.com", "external_id": "crm-0"},
        {"email": "c@example.com", "external_id": "crm-1"},
        {"name": "no contact"},
        {"email": "d@example.com"},
    ])
    assert [a[0] for a in batch["answers"]] == [201, 200, 200, 400, 201]
    assert batch["answers"][2][1] == batch["answers"][0][1]


def test_a_batch_retried_with_its_idempotency_key_as_single_posts(twins):
    def build(org, make_team):
        default_team(org, make_team)

    twins.setup(build)
    items = [{"email": f"b{i}@example.com"} for i in range(4)]
    assert_same(twins, items, key="upload-1")
    batch = assert_same(twins, items + [{"email": "more@example.com"}], key="upload-1")
    assert [a[0] for a in batch["answers"]] == [200, 200, 200, 200, 201]


def test_an_external_id_an_earlier_item_took_comes_before_the_item_key(twins):
    """As ``lead_find_existing``: the external id first, even when an earlier item of the
    same request created it and the item's own key answers another lead."""
    def build(org, make_team):
        default_team(org, make_team)

    twins.setup(build)
    assert_same(twins, [{"name": "refused"}, {"email": "a@example.com"}], key="upload-2")
    batch = assert_same(twins, [{"email": "c@example.com", "external_id": "x"},
                                {"email": "d@example.com", "external_id": "x"}],
                        key="upload-2")
    assert [a[0] for a in batch["answers"]] == [201, 200]
    assert batch["answers"][1][1] == batch["answers"][0][1]


# --- what a chunk costs -------------------------------------------------------------------

# A chunk of new leads to one round-robin team: the existing-lead lookup, the contacts'
# previous leads, the team lock, its queue count, its members, lead INSERT, events INSERT,
# the cursor UPDATE, last_assigned_at UPDATE, + the chunk's savepoint pair (the API key,
# the rules and the webhook endpoints come from this process's copy).
BATCH_CHUNK_QUERIES = 11


def test_a_chunk_to_one_team_costs_a_fixed_number_of_queries(
    api, org, make_team, django_assert_max_num_queries
):
    default_team(org, make_team)
    api.post(BATCH, {"leads": [{"email": "warm@example.com"}]}, format="json")  # warm caches
    items = [{"email": f"b{i}@example.com", "external_id": f"x{i}", "custom": {"n": i}}
             for i in range(BATCH_CHUNK)]

    with django_assert_max_num_queries(BATCH_CHUNK_QUERIES):
        response = api.post(BATCH, {"leads": items}, format="json")

    assert {r["status"] for r in response.json()["results"]} == {201}


def test_chunks_cost_the_same_whatever_their_size(api, org, make_team):
    default_team(org, make_team)
    api.post(BATCH, {"leads": [{"email": "warm@example.com"}]}, format="json")

    def queries(n, tag):
        items = [{"email": f"{tag}{i}@example.com"} for i in range(n)]
        with CaptureQueriesContext(connection) as ctx:
            api.post(BATCH, {"leads": items}, format="json")
        return len(ctx.captured_queries)

    assert queries(5, "a") == queries(BATCH_CHUNK, "b")


# --- where the bulk path steps aside --------------------------------------------------------


def test_queues_waiting_in_two_teams_route_item_by_item_as_single_posts(twins):
    def build(org, make_team):
        for slug in ("sales", "support"):
            team = named(make_team(org, size=2, slug=slug, online_only=True), slug)
            Membership.objects.filter(pk__in=[m.pk for m in team.attendants]).update(
                presence=Membership.Presence.OFFLINE)
        org.default_team = Team.objects.get(organization=org, slug="sales")
        org.save(update_fields=["default_team"])

    twins.setup(build)
    twins.before([{"email": "s@example.com"}, {"email": "t@example.com", "team": "support"}])
    for org, _client in twins.orgs:
        Membership.objects.filter(organization=org).update(presence=Membership.Presence.ONLINE)
    assert_same(twins, [{"email": f"b{i}@example.com", **({"team": "support"} if i % 2 else {})}
                        for i in range(4)])


def test_a_lead_created_meanwhile_with_the_same_external_id_is_answered_not_duplicated(
    api, org, make_team, monkeypatch
):
    """A concurrent request inserts the external id after the chunk looked: the INSERT fails
    on the unique constraint and the chunk goes item by item, which answers that lead."""
    default_team(org, make_team)
    first = api.post(LEADS, {"email": "a@example.com", "external_id": "crm-1"}, format="json")
    from leads import batch

    monkeypatch.setattr(batch, "_find_existing", lambda organization, items: {})

    response = api.post(BATCH, {"leads": [{"email": "b@example.com"},
                                          {"email": "c@example.com", "external_id": "crm-1"}]},
                        format="json")

    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 200]
    assert results[1]["lead"]["id"] == first.json()["id"]
    assert Lead.objects.filter(organization=org).count() == 2


# --- races ----------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_batches_and_single_posts_at_once_stay_fair_without_duplicates_or_deadlocks(
    org, make_team, api_key
):
    """Two batches naming two teams in opposite orders, sharing external ids, race two
    threads of single POSTs: the teams are locked in id order (no deadlock), a shared
    external id makes one lead (the losing chunk goes item by item), and each team's round
    robin stays fair."""
    sales = default_team(org, make_team)
    support = named(make_team(org, size=2, slug="support"), "support")

    def batch(first, second, tag):
        items = [{"email": f"{tag}{i}@example.com", "team": (first, second)[i % 2],
                  **({"external_id": f"shared-{i}"} if i % 10 == 0 else {})}
                 for i in range(120)]
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key.raw}")
        response = client.post(BATCH, {"leads": items}, format="json")
        assert response.status_code == 200, response.content
        return [r["status"] for r in response.json()["results"]]

    def singles(team, tag):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key.raw}")
        return [client.post(LEADS, {"email": f"{tag}{i}@example.com", "team": team},
                            format="json").status_code for i in range(15)]

    answers = run_at_once(lambda: batch("sales", "support", "a"),
                          lambda: batch("support", "sales", "b"),
                          lambda: singles("sales", "s"), lambda: singles("support", "t"))

    shared = [answers[0][i] + answers[1][i] for i in range(0, 120, 10)]
    assert shared == [401] * 12  # one 201 and one 200 each
    assert {code for codes in answers for code in codes} <= {200, 201}
    leads = Lead.objects.for_org(org)
    assert leads.count() == 120 + 120 - 12 + 30
    assert leads.filter(assignee__isnull=True).count() == 0
    for team in (sales, support):
        held = [leads.filter(assignee=m).count() for m in team.attendants]
        assert max(held) - min(held) <= 1, (team.slug, held)
    events = LeadEvent.objects.for_org(org)
    assert events.filter(type=LeadEvent.Type.CREATED).count() == leads.count()
    assert events.filter(type=LeadEvent.Type.ASSIGNED).count() == leads.count()
