from collections import Counter

from routing.selectors import available_members
from teams.models import Membership


def test_round_robin_counts_differ_by_at_most_one_over_any_run(org, make_team, new_lead):
    team = make_team(org, size=4, policy=None)
    counts = Counter({m.pk: 0 for m in team.attendants})
    for _ in range(22):
        counts[new_lead(org, team=team).assignee_id] += 1
        assert max(counts.values()) - min(counts.values()) <= 1
    assert sum(counts.values()) == 22 and len(counts) == 4


def test_round_robin_follows_the_team_order(org, make_team, new_lead):
    team = make_team(org, size=3, policy=None)
    got = [new_lead(org, team=team).assignee_id for _ in range(6)]
    ids = [m.pk for m in team.attendants]
    assert got == ids + ids


def test_round_robin_skips_inactive_members_without_losing_its_place(org, make_team, new_lead):
    team = make_team(org, size=3, policy=None)
    a, b, c = team.attendants
    assert new_lead(org, team=team).assignee_id == a.pk
    team.members.filter(membership=b).update(is_active=False)
    assert new_lead(org, team=team).assignee_id == c.pk
    assert new_lead(org, team=team).assignee_id == a.pk
    team.members.filter(membership=b).update(is_active=True)
    assert new_lead(org, team=team).assignee_id == b.pk


def test_deactivated_person_receives_no_leads(org, make_team, new_lead):
    team = make_team(org, size=2, policy=None)
    a, b = team.attendants
    Membership.objects.filter(pk=a.pk).update(is_active=False)
    assert {new_lead(org, team=team).assignee_id for _ in range(3)} == {b.pk}


def test_lead_waits_unassigned_when_nobody_can_take_it(org, make_team, new_lead):
    team = make_team(org, size=1, policy=None)
    team.members.update(capacity=1)
    first = new_lead(org, team=team)
    second = new_lead(org, team=team)
    assert first.assignee_id == team.attendants[0].pk
    second.refresh_from_db()
    assert second.assignee_id is None
    assert second.overflow_reason == "unassigned"
    assert list(second.events.values_list("type", flat=True)) == ["created", "queued"]


def test_online_only_team_never_picks_an_offline_attendant(org, make_team, new_lead):
    team = make_team(org, size=3, policy=None, online_only=True)
    a, b, c = team.attendants
    Membership.objects.filter(pk__in=[a.pk, c.pk]).update(presence=Membership.Presence.OFFLINE)
    assert [m.membership_id for m in available_members(team=team)] == [b.pk]
    assert {new_lead(org, team=team).assignee_id for _ in range(3)} == {b.pk}
