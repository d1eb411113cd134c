"""The overflow rules 1-9 of PRODUCT.md, each through the real services, pages and API."""

import re
from collections import Counter
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from history.models import LeadEvent
from history.services import Actor
from leads.models import Lead
from leads.services import lead_mark_accessed
from leads.sweep import overflow_sweep
from overflow.forms import OverflowPolicyForm
from overflow.models import OverflowPolicy
from overflow.services import policy_save, policy_validate
from teams.models import Membership, Team, TeamMember

from .conftest import WEEKDAYS_8_TO_18
from .factories import BusinessHoursExceptionFactory, TeamMemberFactory
from .races import run_at_once

SP = ZoneInfo("America/Sao_Paulo")
Reason = Lead.OverflowReason
Type = LeadEvent.Type


def sp(year, month, day, hour=0, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SP)


MONDAY_10 = sp(2026, 11, 23, 10)  # a Monday, inside WEEKDAYS_8_TO_18


def events(lead, *types):
    qs = LeadEvent.objects.filter(lead=lead)
    if types:
        qs = qs.filter(type__in=types)
    return list(qs.order_by("created_at", "id"))


def transfers(lead):
    return [(e.from_member_id, e.to_member_id) for e in events(lead, Type.OVERFLOWED)]


def stops(lead):
    return [e.reason for e in events(lead, Type.OVERFLOW_STOPPED)]


def deactivate_in_team(team, membership):
    TeamMember.objects.filter(team=team, membership=membership).update(is_active=False)


def policy_form(team, **data):
    payload = {
        "team": team.pk, "enabled": "on", "service_minutes": "10", "max_transfers": "",
        "further_teams": "",
    }
    payload.update(data)
    if payload["enabled"] is False:
        del payload["enabled"]
    return OverflowPolicyForm(data=payload, organization=team.organization)


# --- Rule 1: only API leads overflow ---------------------------------------------------


@pytest.mark.parametrize("source", ["manual", "import", "bot"])
def test_rule1_non_api_lead_never_overflows(org, make_team, new_lead, source):
    team = make_team(org, size=3)
    lead = new_lead(org, team=team, source=source, now=MONDAY_10)

    lead.refresh_from_db()
    assert lead.assignee_id == team.attendants[0].pk  # still assigned
    assert lead.overflow_active is False
    assert lead.overflow_due_at is None
    assert lead.overflow_reason == Reason.NOT_API

    for days in (1, 7):
        assert overflow_sweep(now=MONDAY_10 + timedelta(days=days)) == 0
    lead.refresh_from_db()
    assert lead.assignee_id == team.attendants[0].pk
    assert lead.transfer_count == 0
    assert transfers(lead) == []


@pytest.mark.parametrize(("source", "overflows"), [
    ("bot", True), ("manual", False), ("import", False), ("api", True),
])
def test_rule1_bot_handoffs_overflow_only_when_the_team_opts_them_in(
    org, make_team, new_lead, source, overflows
):
    team = make_team(org, size=3, include_bot_leads=True)
    lead = new_lead(org, team=team, source=source, now=MONDAY_10)

    lead.refresh_from_db()
    assert lead.overflow_active is overflows
    assert overflow_sweep(now=MONDAY_10 + timedelta(minutes=10)) == int(overflows)
    lead.refresh_from_db()
    expected = team.attendants[1] if overflows else team.attendants[0]
    assert lead.assignee_id == expected.pk
    assert lead.transfer_count == int(overflows)


def test_rule1_lead_posted_through_the_api_overflows(org, make_team, api):
    team = make_team(org, size=2, slug="sales")

    response = api.post(
        "/api/v1/leads", {"name": "Ana", "email": "ana@example.com", "team": "sales"},
        format="json",
    )

    assert response.status_code == 201, response.content
    lead = Lead.objects.get(pk=response.json()["id"])
    assert lead.source == Lead.Source.API
    assert lead.overflow_active is True
    assert overflow_sweep(now=lead.overflow_due_at) == 1
    lead.refresh_from_db()
    assert lead.assignee_id == team.attendants[1].pk


# --- Rule 2: never back to a previous holder -------------------------------------------


def test_rule2_lead_never_returns_to_a_previous_holder_across_many_transfers(
    org, make_team, new_lead
):
    team = make_team(org, size=5, service_minutes=10)
    lead = new_lead(org, team=team, now=MONDAY_10)
    holders = [lead.assignee_id]

    now = MONDAY_10
    for _ in range(10):
        now += timedelta(minutes=10)
        overflow_sweep(now=now)
        lead.refresh_from_db()
        if lead.assignee_id != holders[-1]:
            holders.append(lead.assignee_id)

    assert holders == [m.pk for m in team.attendants]
    assert len(set(holders)) == len(holders)
    assert lead.transfer_count == 4
    assert lead.overflow_active is False
    assert lead.overflow_reason == Reason.ALL_TRIED
    assert stops(lead) == [Reason.ALL_TRIED]
    assert [e.sequence for e in events(lead, Type.OVERFLOWED)] == [1, 2, 3, 4]
    # It stopped right after the last holder's service time, not later.
    stop = events(lead, Type.OVERFLOW_STOPPED)[0]
    assert stop.created_at == MONDAY_10 + timedelta(minutes=50)
    assert stop.to_member_id == team.attendants[4].pk


def test_rule2_walk_wraps_around_the_rotation_without_revisiting_the_first_holder(
    org, make_team, new_lead
):
    team = make_team(org, size=3)
    a1, a2, a3 = team.attendants
    first = new_lead(org, team=team, now=MONDAY_10)  # goes to a1, who opens it
    lead_mark_accessed(organization=org, lead_id=first.pk, membership=a1,
                       actor=Actor.system(), now=MONDAY_10)
    lead = new_lead(org, team=team, now=MONDAY_10)  # goes to a2
    assert lead.assignee_id == a2.pk

    for minutes in (10, 20, 30, 40):
        overflow_sweep(now=MONDAY_10 + timedelta(minutes=minutes))

    lead.refresh_from_db()
    assert transfers(lead) == [(a2.pk, a3.pk), (a3.pk, a1.pk)]
    assert lead.assignee_id == a1.pk
    assert lead.overflow_reason == Reason.ALL_TRIED


def test_rule2_a_member_who_held_the_lead_is_skipped_even_when_next_in_rotation(
    org, make_team, new_lead
):
    team = make_team(org, size=3)
    a1, a2, a3 = team.attendants
    lead = new_lead(org, team=team, now=MONDAY_10)
    overflow_sweep(now=MONDAY_10 + timedelta(minutes=10))  # a1 -> a2
    # A new member joins between a2 and a3 in the order; a1 is after a3 again.
    newcomer = TeamMemberFactory(team=team, order=1).membership
    TeamMember.objects.filter(team=team, membership=a3).update(order=5)

    for minutes in (20, 30, 40, 50):
        overflow_sweep(now=MONDAY_10 + timedelta(minutes=minutes))

    lead.refresh_from_db()
    walked = [to for _from, to in transfers(lead)]
    assert walked[0] == a2.pk
    assert a1.pk not in walked
    assert len(set(walked)) == len(walked)
    assert set(walked) == {a2.pk, newcomer.pk, a3.pk}
    assert lead.overflow_reason == Reason.ALL_TRIED


# --- Rule 3: at least two active attendants --------------------------------------------


def _assert_too_few_message(messages):
    text = " ".join(str(m) for m in messages)
    assert "at least 2 active attendants" in text, text


@pytest.mark.parametrize("how", ["single_member", "team_member_inactive", "membership_inactive"])
def test_rule3_enabling_with_fewer_than_two_active_is_refused(org, make_team, api, how):
    team = make_team(org, size=1 if how == "single_member" else 2, policy=False, slug="solo")
    if how == "team_member_inactive":
        deactivate_in_team(team, team.attendants[1])
    elif how == "membership_inactive":
        Membership.objects.filter(pk=team.attendants[1].pk).update(is_active=False)

    with translation.override("en"):
        with pytest.raises(ValidationError) as exc:
            policy_validate(team=team, enabled=True, service_minutes=10, chain=[])
        _assert_too_few_message(exc.value.message_dict["enabled"])

        with pytest.raises(ValidationError) as exc:
            policy_save(team=team, enabled=True, service_minutes=10)
        _assert_too_few_message(exc.value.message_dict["enabled"])

        form = policy_form(team)
        assert not form.is_valid()
        _assert_too_few_message(form.errors["enabled"])

    response = api.put(
        "/api/v1/teams/solo/overflow-policy",
        {"enabled": True, "service_minutes": 10},
        format="json", HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400, response.content
    _assert_too_few_message(response.json()["enabled"])

    assert not OverflowPolicy.objects.filter(team=team).exists()


def test_rule3_fewer_than_two_may_be_saved_while_overflow_stays_off(org, make_team, api):
    team = make_team(org, size=1, policy=False, slug="solo")

    response = api.put(
        "/api/v1/teams/solo/overflow-policy",
        {"enabled": False, "service_minutes": 15},
        format="json",
    )

    assert response.status_code == 200, response.content
    policy = OverflowPolicy.objects.get(team=team)
    assert (policy.enabled, policy.service_minutes) == (False, 15)


def test_rule3_enabling_with_two_active_is_accepted(org, make_team, api):
    team = make_team(org, size=2, policy=False, slug="duo")

    response = api.put(
        "/api/v1/teams/duo/overflow-policy", {"enabled": True, "service_minutes": 10},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert OverflowPolicy.objects.get(team=team).enabled is True


def test_rule3_enabling_an_existing_policy_with_too_few_leaves_it_unchanged(
    org, make_team, api
):
    team = make_team(org, size=2, slug="duo")
    policy_save(team=team, enabled=False, service_minutes=20)
    deactivate_in_team(team, team.attendants[0])

    response = api.put(
        "/api/v1/teams/duo/overflow-policy", {"enabled": True, "service_minutes": 30},
        format="json",
    )

    assert response.status_code == 400
    policy = OverflowPolicy.objects.get(team=team)
    policy.refresh_from_db()
    assert (policy.enabled, policy.service_minutes) == (False, 20)


@pytest.mark.parametrize("who", ["other_member", "current_holder", "other_membership"])
def test_rule3_sweep_with_fewer_than_two_active_stops_with_reason(
    org, make_team, new_lead, who
):
    team = make_team(org, size=2)
    a1, a2 = team.attendants
    lead = new_lead(org, team=team, now=MONDAY_10)
    assert lead.overflow_active
    if who == "other_member":
        deactivate_in_team(team, a2)
    elif who == "current_holder":
        deactivate_in_team(team, a1)
    else:
        Membership.objects.filter(pk=a2.pk).update(is_active=False)

    assert overflow_sweep(now=MONDAY_10 + timedelta(minutes=10)) == 0

    lead.refresh_from_db()
    assert lead.assignee_id == a1.pk
    assert lead.transfer_count == 0
    assert lead.overflow_active is False
    assert lead.overflow_reason == Reason.TOO_FEW_ATTENDANTS
    assert transfers(lead) == []
    [stop] = events(lead, Type.OVERFLOW_STOPPED)
    assert stop.reason == Reason.TOO_FEW_ATTENDANTS
    assert stop.data == {"active": 1}
    assert stop.created_at == MONDAY_10 + timedelta(minutes=10)
    # Stopped for good: later sweeps leave it alone.
    assert overflow_sweep(now=MONDAY_10 + timedelta(days=1)) == 0
    assert len(events(lead, Type.OVERFLOW_STOPPED)) == 1


# --- Rule 4: service time at least ten minutes -----------------------------------------


def test_rule4_nine_minutes_refused_by_form_and_api(org, make_team, api):
    fresh = make_team(org, size=2, policy=False, slug="fresh")
    existing = make_team(org, size=2, service_minutes=30, slug="existing")

    with translation.override("en"):
        form = policy_form(fresh, service_minutes="9")
        assert not form.is_valid()
        assert "at least 10 minutes" in " ".join(form.errors["service_minutes"])
    assert not OverflowPolicy.objects.filter(team=fresh).exists()

    for slug in ("fresh", "existing"):
        response = api.put(
            f"/api/v1/teams/{slug}/overflow-policy",
            {"enabled": True, "service_minutes": 9},
            format="json", HTTP_ACCEPT_LANGUAGE="en",
        )
        assert response.status_code == 400, response.content
        body = response.json()
        assert "service_minutes" in body
        assert "at least 10 minutes" in " ".join(body["service_minutes"])

    assert not OverflowPolicy.objects.filter(team=fresh).exists()
    policy = OverflowPolicy.objects.get(team=existing)
    policy.refresh_from_db()
    assert policy.service_minutes == 30


def test_rule4_ten_minutes_accepted_by_form_and_api(org, make_team, api):
    fresh = make_team(org, size=2, policy=False, slug="fresh")
    existing = make_team(org, size=2, service_minutes=30, slug="existing")

    form = policy_form(fresh, service_minutes="10")
    assert form.is_valid(), form.errors
    form.save()
    response = api.put(
        "/api/v1/teams/existing/overflow-policy",
        {"enabled": True, "service_minutes": 10},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["service_minutes"] == 10
    for team in (fresh, existing):
        policy = OverflowPolicy.objects.get(team=team)
        assert (policy.enabled, policy.service_minutes) == (True, 10)


@pytest.mark.parametrize("minutes", [9, 0, -5])
def test_rule4_service_time_below_ten_is_refused_by_the_service(org, make_team, minutes):
    team = make_team(org, size=2, policy=False)

    with pytest.raises(ValidationError) as exc:
        policy_save(team=team, enabled=True, service_minutes=minutes)

    assert "service_minutes" in exc.value.message_dict
    assert not OverflowPolicy.objects.filter(team=team).exists()


# --- Rule 5: what stops a lead ---------------------------------------------------------


def test_rule5_access_by_assignee_stops_overflow(org, make_team, new_lead, client):
    team = make_team(org, size=3)
    a1 = team.attendants[0]
    lead = new_lead(org, team=team, now=MONDAY_10)
    opened_at = MONDAY_10 + timedelta(minutes=3)

    with time_machine.travel(opened_at, tick=False):
        client.force_login(a1.user)
        response = client.get(f"/leads/{lead.pk}/")
    assert response.status_code == 200

    lead.refresh_from_db()
    assert lead.assignee_accessed_at == opened_at
    assert lead.first_accessed_at == opened_at
    assert lead.overflow_active is False
    assert lead.overflow_reason == Reason.ACCESSED

    assert overflow_sweep(now=MONDAY_10 + timedelta(minutes=10)) == 0
    assert overflow_sweep(now=MONDAY_10 + timedelta(days=1)) == 0
    lead.refresh_from_db()
    assert lead.assignee_id == a1.pk
    assert lead.transfer_count == 0
    accessed = events(lead, Type.ACCESSED)
    assert [(e.to_member_id, e.actor_user_id) for e in accessed] == [(a1.pk, a1.user_id)]
    [stop] = events(lead, Type.OVERFLOW_STOPPED)
    assert (stop.reason, stop.to_member_id, stop.created_at) == (
        Reason.ACCESSED, a1.pk, opened_at,
    )


def test_rule5_access_by_password_login_stops_overflow(org, make_team, new_lead, client):
    team = make_team(org, size=2)
    a1 = team.attendants[0]
    lead = new_lead(org, team=team, now=MONDAY_10)

    with time_machine.travel(MONDAY_10 + timedelta(minutes=9), tick=False):
        assert client.login(username=a1.user.username, password="secret-pass")
        assert client.get(f"/leads/{lead.pk}/").status_code == 200

    assert overflow_sweep(now=MONDAY_10 + timedelta(minutes=10)) == 0
    lead.refresh_from_db()
    assert lead.overflow_reason == Reason.ACCESSED
    assert stops(lead) == [Reason.ACCESSED]


def test_rule5_new_holder_must_access_again_after_a_transfer(org, make_team, new_lead, client):
    team = make_team(org, size=3)
    a1, a2, _a3 = team.attendants
    lead = new_lead(org, team=team, now=MONDAY_10)
    overflow_sweep(now=MONDAY_10 + timedelta(minutes=10))  # a1 -> a2

    # The first holder has lost the lead: opening it (read only, one of their past leads,
    # issue 14) changes nothing.
    client.force_login(a1.user)
    response = client.get(f"/leads/{lead.pk}/")
    assert response.status_code == 200 and 'id="moved-on"' in response.content.decode()
    lead.refresh_from_db()
    assert lead.overflow_active is True
    assert lead.assignee_accessed_at is None

    with time_machine.travel(MONDAY_10 + timedelta(minutes=12), tick=False):
        client.force_login(a2.user)
        assert client.get(f"/leads/{lead.pk}/").status_code == 200
    assert overflow_sweep(now=MONDAY_10 + timedelta(minutes=20)) == 0
    lead.refresh_from_db()
    assert lead.assignee_id == a2.pk
    assert lead.overflow_reason == Reason.ACCESSED


def test_rule5_manager_viewing_does_not_stop_overflow(org, make_team, new_lead, client, alice,
                                                       api):
    team = make_team(org, size=3)
    lead = new_lead(org, team=team, now=MONDAY_10)

    with time_machine.travel(MONDAY_10 + timedelta(minutes=5), tick=False):
        client.force_login(alice.user)
        assert client.get(f"/leads/{lead.pk}/").status_code == 200
        assert api.get(f"/api/v1/leads/{lead.pk}").status_code == 200
        assert api.get(f"/api/v1/leads/{lead.pk}/history").status_code == 200

    # Nor does the service record an access by anyone but the assignee.
    assert lead_mark_accessed(
        organization=org, lead_id=lead.pk, membership=alice, actor=Actor.for_user(alice.user),
        now=MONDAY_10 + timedelta(minutes=6),
    ) is False

    lead.refresh_from_db()
    assert lead.overflow_active is True
    assert lead.assignee_accessed_at is None
    assert lead.first_accessed_at is None
    assert events(lead, Type.ACCESSED, Type.OVERFLOW_STOPPED) == []

    assert overflow_sweep(now=MONDAY_10 + timedelta(minutes=10)) == 1
    lead.refresh_from_db()
    assert lead.assignee_id == team.attendants[1].pk


def test_rule5_another_attendant_viewing_does_not_stop_overflow(
    org, make_team, new_lead, client
):
    org.attendants_see_all = True
    org.save(update_fields=["attendants_see_all"])
    team = make_team(org, size=3)
    lead = new_lead(org, team=team, now=MONDAY_10)

    with time_machine.travel(MONDAY_10 + timedelta(minutes=5), tick=False):
        client.force_login(team.attendants[2].user)
        assert client.get(f"/leads/{lead.pk}/").status_code == 200

    assert overflow_sweep(now=MONDAY_10 + timedelta(minutes=10)) == 1
    lead.refresh_from_db()
    assert lead.assignee_id == team.attendants[1].pk
    assert events(lead, Type.ACCESSED) == []


def test_rule5_accept_through_the_api_stops_overflow(org, make_team, new_lead, api):
    team = make_team(org, size=3)
    a1 = team.attendants[0]
    lead = new_lead(org, team=team, now=MONDAY_10)
    accepted_at = MONDAY_10 + timedelta(minutes=4)

    with time_machine.travel(accepted_at, tick=False):
        response = api.post(
            f"/api/v1/leads/{lead.pk}/accept", {"attendant": a1.pk}, format="json"
        )

    assert response.status_code == 200, response.content
    assert response.json()["overflow"]["active"] is False
    assert response.json()["overflow"]["reason"] == Reason.ACCESSED
    assert overflow_sweep(now=MONDAY_10 + timedelta(minutes=10)) == 0
    lead.refresh_from_db()
    assert lead.assignee_id == a1.pk
    assert lead.assignee_accessed_at == accepted_at
    assert lead.overflow_reason == Reason.ACCESSED
    [accessed] = events(lead, Type.ACCESSED)
    assert accessed.actor_kind == LeadEvent.ActorKind.API_KEY
    assert stops(lead) == [Reason.ACCESSED]


def test_rule5_accept_by_someone_other_than_the_assignee_does_not_stop_overflow(
    org, make_team, new_lead, api, charlie
):
    team = make_team(org, size=3)
    lead = new_lead(org, team=team, now=MONDAY_10)

    response = api.post(
        f"/api/v1/leads/{lead.pk}/accept", {"attendant": team.attendants[1].pk}, format="json"
    )
    assert response.status_code == 409
    response = api.post(f"/api/v1/leads/{lead.pk}/accept", {"attendant": charlie.pk},
                        format="json")
    assert response.status_code == 404

    lead.refresh_from_db()
    assert lead.overflow_active is True
    assert events(lead, Type.ACCESSED, Type.OVERFLOW_STOPPED) == []
    assert overflow_sweep(now=MONDAY_10 + timedelta(minutes=10)) == 1


def test_rule5_transfer_limit_stops_with_reason(org, make_team, new_lead):
    team = make_team(org, size=4, max_transfers=2)
    a1, a2, a3, _a4 = team.attendants
    lead = new_lead(org, team=team, now=MONDAY_10)

    assert overflow_sweep(now=MONDAY_10 + timedelta(minutes=10)) == 1
    lead.refresh_from_db()
    assert lead.overflow_active is True
    assert overflow_sweep(now=MONDAY_10 + timedelta(minutes=20)) == 1

    lead.refresh_from_db()
    assert lead.assignee_id == a3.pk
    assert lead.transfer_count == 2
    assert lead.overflow_active is False
    assert lead.overflow_due_at is None
    assert lead.overflow_reason == Reason.LIMIT_REACHED
    [stop] = events(lead, Type.OVERFLOW_STOPPED)
    assert (stop.reason, stop.to_member_id) == (Reason.LIMIT_REACHED, a3.pk)
    assert stop.data == {"max_transfers": 2}

    assert overflow_sweep(now=MONDAY_10 + timedelta(days=1)) == 0
    lead.refresh_from_db()
    assert lead.assignee_id == a3.pk
    assert transfers(lead) == [(a1.pk, a2.pk), (a2.pk, a3.pk)]


def test_rule5_exhaustion_stops_with_reason(org, make_team, new_lead):
    team = make_team(org, size=3)
    a1, a2, a3 = team.attendants
    lead = new_lead(org, team=team, now=MONDAY_10)

    moved = [overflow_sweep(now=MONDAY_10 + timedelta(minutes=m)) for m in (10, 20, 30, 40)]

    assert moved == [1, 1, 0, 0]
    lead.refresh_from_db()
    assert lead.assignee_id == a3.pk
    assert lead.transfer_count == 2
    assert lead.overflow_active is False
    assert lead.overflow_reason == Reason.ALL_TRIED
    [stop] = events(lead, Type.OVERFLOW_STOPPED)
    assert (stop.reason, stop.to_member_id) == (Reason.ALL_TRIED, a3.pk)
    assert stop.created_at == MONDAY_10 + timedelta(minutes=30)
    assert transfers(lead) == [(a1.pk, a2.pk), (a2.pk, a3.pk)]


def test_rule5_offline_attendant_of_an_online_only_team_is_not_eligible(
    org, make_team, new_lead
):
    team = make_team(org, size=3, online_only=True)
    a1, a2, a3 = team.attendants
    lead = new_lead(org, team=team, now=MONDAY_10)
    Membership.objects.filter(pk=a2.pk).update(presence=Membership.Presence.OFFLINE)

    assert overflow_sweep(now=MONDAY_10 + timedelta(minutes=10)) == 1
    lead.refresh_from_db()
    assert lead.assignee_id == a3.pk  # a2 skipped while offline

    # a2 has never held it but cannot take it now: a3 keeps it for another service time.
    assert overflow_sweep(now=MONDAY_10 + timedelta(minutes=20)) == 0
    lead.refresh_from_db()
    assert lead.assignee_id == a3.pk
    assert lead.overflow_active is True
    assert lead.overflow_due_at == MONDAY_10 + timedelta(minutes=30)

    Membership.objects.filter(pk=a2.pk).update(presence=Membership.Presence.ONLINE)
    assert overflow_sweep(now=MONDAY_10 + timedelta(minutes=30)) == 1
    assert overflow_sweep(now=MONDAY_10 + timedelta(minutes=40)) == 0
    lead.refresh_from_db()
    assert transfers(lead) == [(a1.pk, a3.pk), (a3.pk, a2.pk)]
    assert lead.overflow_reason == Reason.ALL_TRIED


# --- Rule 6: business hours --------------------------------------------------------------


@pytest.mark.parametrize("arrival", [
    sp(2026, 11, 23, 7, 59),   # Monday before opening
    sp(2026, 11, 23, 18, 0),   # Monday at closing (closing is exclusive)
    sp(2026, 11, 28, 10, 0),   # Saturday
    sp(2026, 11, 24, 10, 0),   # Tuesday, a holiday
])
def test_rule6_out_of_hours_arrival_is_assigned_but_never_overflows(
    org, make_team, new_lead, arrival
):
    team = make_team(org, size=3, service_minutes=30, hours=WEEKDAYS_8_TO_18)
    BusinessHoursExceptionFactory(team=team, date=sp(2026, 11, 24).date(), is_closed=True)

    lead = new_lead(org, team=team, now=arrival)

    lead.refresh_from_db()
    assert lead.assignee_id == team.attendants[0].pk
    assert lead.assigned_at == arrival
    assert lead.overflow_active is False
    assert lead.overflow_reason == Reason.OUT_OF_HOURS
    for later in (timedelta(hours=1), timedelta(days=1), timedelta(days=7)):
        assert overflow_sweep(now=arrival + later) == 0
    lead.refresh_from_db()
    assert lead.assignee_id == team.attendants[0].pk
    assert transfers(lead) == []


def test_rule6_arrival_at_opening_time_overflows(org, make_team, new_lead):
    team = make_team(org, size=2, service_minutes=30, hours=WEEKDAYS_8_TO_18)

    lead = new_lead(org, team=team, now=sp(2026, 11, 23, 8, 0))

    lead.refresh_from_db()
    assert lead.overflow_active is True
    assert lead.overflow_due_at == sp(2026, 11, 23, 8, 30)


def _assert_falls_due_at(org, make_team, new_lead, arrival, due, team=None):
    team = team or make_team(org, size=3, service_minutes=30, hours=WEEKDAYS_8_TO_18)
    lead = new_lead(org, team=team, now=arrival)
    lead.refresh_from_db()
    assert lead.overflow_active is True
    assert lead.overflow_due_at == due

    # Thirty wall-clock minutes are not enough, nor one minute short of the deadline.
    assert overflow_sweep(now=arrival + timedelta(minutes=30)) == 0
    assert overflow_sweep(now=due - timedelta(minutes=1)) == 0
    lead.refresh_from_db()
    assert lead.assignee_id == team.attendants[0].pk
    assert overflow_sweep(now=due) == 1
    lead.refresh_from_db()
    assert lead.assignee_id == team.attendants[1].pk
    return team, lead


def test_rule6_clock_pauses_over_closing_time(org, make_team, new_lead):
    _team, lead = _assert_falls_due_at(
        org, make_team, new_lead, sp(2026, 11, 23, 17, 50), sp(2026, 11, 24, 8, 20)
    )
    # The next holder gets a full service time from the transfer.
    assert lead.overflow_due_at == sp(2026, 11, 24, 8, 50)


def test_rule6_clock_pauses_over_weekend(org, make_team, new_lead):
    _assert_falls_due_at(
        org, make_team, new_lead, sp(2026, 11, 27, 17, 50), sp(2026, 11, 30, 8, 20)
    )


def test_rule6_clock_pauses_over_holiday(org, make_team, new_lead):
    team = make_team(org, size=3, service_minutes=30, hours=WEEKDAYS_8_TO_18)
    BusinessHoursExceptionFactory(team=team, date=sp(2026, 11, 24).date(), is_closed=True)

    _assert_falls_due_at(
        org, make_team, new_lead, sp(2026, 11, 23, 17, 50), sp(2026, 11, 25, 8, 20), team=team
    )


def test_rule6_clock_runs_in_a_special_opening(org, make_team, new_lead):
    team = make_team(org, size=3, service_minutes=30, hours=WEEKDAYS_8_TO_18)
    BusinessHoursExceptionFactory(
        team=team, date=sp(2026, 11, 28).date(), is_closed=False, start=time(9), end=time(12)
    )

    _assert_falls_due_at(
        org, make_team, new_lead, sp(2026, 11, 27, 17, 50), sp(2026, 11, 28, 9, 20), team=team
    )


def test_rule6_special_opening_replaces_the_days_weekly_hours(org, make_team, new_lead):
    team = make_team(org, size=3, service_minutes=30, hours=WEEKDAYS_8_TO_18)
    BusinessHoursExceptionFactory(
        team=team, date=sp(2026, 11, 24).date(), is_closed=False, start=time(14), end=time(16)
    )

    _assert_falls_due_at(
        org, make_team, new_lead, sp(2026, 11, 23, 17, 50), sp(2026, 11, 24, 14, 20), team=team
    )


def test_rule6_transfer_near_closing_gives_the_next_holder_time_after_opening(
    org, make_team, new_lead
):
    team = make_team(org, size=3, service_minutes=30, hours=WEEKDAYS_8_TO_18)
    lead = new_lead(org, team=team, now=sp(2026, 11, 27, 17, 20))  # Friday

    assert overflow_sweep(now=sp(2026, 11, 27, 17, 50)) == 1

    lead.refresh_from_db()
    assert lead.assignee_id == team.attendants[1].pk
    assert lead.overflow_due_at == sp(2026, 11, 30, 8, 20)


# --- Rule 7: cross-team overflow -------------------------------------------------------


def test_rule7_cross_team_chain_walks_teams_in_order(org, make_team, new_lead):
    team_a = make_team(org, size=2, slug="team-a")
    team_b = make_team(org, size=2, slug="team-b")
    policy_save(team=team_a, enabled=True, service_minutes=10, chain=[team_b])
    a1, a2 = team_a.attendants
    b1, b2 = team_b.attendants
    lead = new_lead(org, team=team_a, now=MONDAY_10)

    moved = [overflow_sweep(now=MONDAY_10 + timedelta(minutes=m)) for m in (10, 20, 30, 40)]

    assert moved == [1, 1, 1, 0]
    lead.refresh_from_db()
    assert transfers(lead) == [(a1.pk, a2.pk), (a2.pk, b1.pk), (b1.pk, b2.pk)]
    assert [e.data["team_id"] for e in events(lead, Type.OVERFLOWED)] == [
        team_a.pk, team_b.pk, team_b.pk,
    ]
    assert lead.assignee_id == b2.pk
    assert lead.overflow_reason == Reason.ALL_TRIED


def test_rule7_further_teams_follow_the_managers_order(org, make_team, new_lead):
    team_a = make_team(org, size=1, slug="team-a")
    team_b = make_team(org, size=1, slug="team-b")
    team_c = make_team(org, size=1, slug="team-c")
    policy_save(team=team_a, enabled=True, service_minutes=10, chain=[team_c, team_b])
    lead = new_lead(org, team=team_a, now=MONDAY_10)

    for minutes in (10, 20, 30):
        overflow_sweep(now=MONDAY_10 + timedelta(minutes=minutes))

    lead.refresh_from_db()
    assert [to for _f, to in transfers(lead)] == [
        team_c.attendants[0].pk, team_b.attendants[0].pk,
    ]


def test_rule7_candidate_pool_is_the_union_of_the_teams(org, make_team, new_lead, api):
    team_a = make_team(org, size=1, slug="team-a", policy=False)
    team_b = make_team(org, size=1, slug="team-b")

    # Alone, team A has too few; with team B the union has two.
    with pytest.raises(ValidationError) as exc:
        policy_save(team=team_a, enabled=True, service_minutes=10)
    assert "enabled" in exc.value.message_dict
    assert not policy_form(team_a).is_valid()
    assert policy_form(team_a, further_teams="team-b").is_valid()
    response = api.put(
        "/api/v1/teams/team-a/overflow-policy",
        {"enabled": True, "service_minutes": 10, "further_teams": ["team-b"]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["further_teams"] == ["team-b"]

    lead = new_lead(org, team=team_a, now=MONDAY_10)
    assert lead.overflow_active
    assert overflow_sweep(now=MONDAY_10 + timedelta(minutes=10)) == 1
    lead.refresh_from_db()
    assert lead.assignee_id == team_b.attendants[0].pk
    assert overflow_sweep(now=MONDAY_10 + timedelta(minutes=20)) == 0
    lead.refresh_from_db()
    assert lead.overflow_reason == Reason.ALL_TRIED


def test_rule7_a_person_in_two_teams_of_the_chain_holds_the_lead_once(
    org, make_team, new_lead
):
    team_a = make_team(org, size=2, slug="team-a")
    team_b = make_team(org, size=1, slug="team-b")
    shared = team_a.attendants[1]
    TeamMemberFactory(team=team_b, membership=shared, order=0)
    policy_save(team=team_a, enabled=True, service_minutes=10, chain=[team_b])
    lead = new_lead(org, team=team_a, now=MONDAY_10)

    for minutes in (10, 20, 30, 40):
        overflow_sweep(now=MONDAY_10 + timedelta(minutes=minutes))

    lead.refresh_from_db()
    walked = [to for _f, to in transfers(lead)]
    assert walked == [shared.pk, team_b.attendants[0].pk]
    assert lead.overflow_reason == Reason.ALL_TRIED


def test_rule7_sweep_counts_the_union_when_own_team_falls_to_one(org, make_team, new_lead):
    team_a = make_team(org, size=2, slug="team-a")
    team_b = make_team(org, size=1, slug="team-b")
    policy_save(team=team_a, enabled=True, service_minutes=10, chain=[team_b])
    lead = new_lead(org, team=team_a, now=MONDAY_10)
    deactivate_in_team(team_a, team_a.attendants[1])

    assert overflow_sweep(now=MONDAY_10 + timedelta(minutes=10)) == 1

    lead.refresh_from_db()
    assert lead.assignee_id == team_b.attendants[0].pk


# --- Rule 8: every transfer in the history, seen by the current attendant --------------


def test_rule8_history_shows_every_transfer_to_the_current_attendant(
    org, make_team, new_lead, client
):
    team = make_team(org, size=3)
    names = [("Ana", "Alves"), ("Bruno", "Barros"), ("Carla", "Costa")]
    for membership, (first, last) in zip(team.attendants, names, strict=True):
        membership.user.first_name, membership.user.last_name = first, last
        membership.user.save()
    a1, a2, a3 = team.attendants
    lead = new_lead(org, team=team, now=MONDAY_10)
    overflow_sweep(now=MONDAY_10 + timedelta(minutes=10))
    overflow_sweep(now=MONDAY_10 + timedelta(minutes=20))

    # Stored: one overflowed event per transfer, in order, from and to.
    assert transfers(lead) == [(a1.pk, a2.pk), (a2.pk, a3.pk)]
    assert [e.sequence for e in events(lead, Type.OVERFLOWED)] == [1, 2]

    with time_machine.travel(MONDAY_10 + timedelta(minutes=25), tick=False):
        client.force_login(a3.user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        response = client.get(f"/leads/{lead.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    items = re.findall(r'<li data-event-type="(\w+)">(.*?)</li>', html, re.S)
    types = [t for t, _body in items]
    assert types == [
        "created", "assigned", "overflowed", "overflowed", "accessed", "overflow_stopped",
    ]
    def text(body):
        return " ".join(re.sub(r"<[^>]+>", " ", body).split())

    overflowed = [text(body) for t, body in items if t == "overflowed"]
    assert len(overflowed) == 2
    assert "from Ana Alves to Bruno Barros" in overflowed[0]
    assert "from Bruno Barros to Carla Costa" in overflowed[1]
    assigned = [text(body) for t, body in items if t == "assigned"]
    assert "to Ana Alves" in assigned[0]


def test_rule8_api_history_lists_every_transfer(org, make_team, new_lead, api):
    team = make_team(org, size=3)
    a1, a2, a3 = team.attendants
    lead = new_lead(org, team=team, now=MONDAY_10)
    overflow_sweep(now=MONDAY_10 + timedelta(minutes=10))
    overflow_sweep(now=MONDAY_10 + timedelta(minutes=20))

    response = api.get(f"/api/v1/leads/{lead.pk}/history")

    assert response.status_code == 200
    rows = [row for row in response.json() if row["type"] == "overflowed"]
    assert [(r["from_member"]["id"], r["to_member"]["id"]) for r in rows] == [
        (a1.pk, a2.pk), (a2.pk, a3.pk),
    ]


# --- Rule 10: the next holder by the team's own strategy ---------------------------------


def burst_held_by_first(org, team, new_lead, count):
    """``count`` leads that all reached the team's first attendant (the others were out of
    the rotation while they arrived), then everyone back in."""
    first, *others = team.attendants
    for person in others:
        deactivate_in_team(team, person)
    leads = [new_lead(org, team=team, now=MONDAY_10) for _ in range(count)]
    assert {lead.assignee_id for lead in leads} == {first.pk}
    TeamMember.objects.filter(team=team).update(is_active=True)
    return leads


def test_rule10_a_burst_missed_by_one_attendant_spreads_over_the_rotation(
    org, make_team, new_lead
):
    team = make_team(org, size=4)
    leads = burst_held_by_first(org, team, new_lead, 30)

    assert overflow_sweep(now=MONDAY_10 + timedelta(minutes=10)) == 30

    received = Counter(Lead.objects.filter(pk__in=[lead.pk for lead in leads])
                       .values_list("assignee_id", flat=True))
    assert received == {m.pk: 10 for m in team.attendants[1:]}
    # The same rotation new leads use: it goes on after the last transfer.
    team.refresh_from_db()
    last = events(leads[-1], Type.OVERFLOWED)[-1].to_member_id
    assert team.rr_last_member.membership_id == last
    ids = [m.pk for m in team.attendants]
    assert new_lead(org, team=team, now=MONDAY_10 + timedelta(minutes=11)).assignee_id == (
        ids[(ids.index(last) + 1) % 4]
    )


def test_rule10_a_burst_goes_to_the_least_open_colleagues_first(org, make_team, new_lead):
    team = make_team(org, size=4, strategy=Team.Strategy.LEAST_OPEN)
    first, busy, c, d = team.attendants
    for person in (first, c, d):
        deactivate_in_team(team, person)
    for _ in range(5):
        new_lead(org, team=team, now=MONDAY_10 - timedelta(minutes=5), source="manual")
    TeamMember.objects.filter(team=team).update(is_active=True)
    leads = burst_held_by_first(org, team, new_lead, 30)

    assert overflow_sweep(now=MONDAY_10 + timedelta(minutes=10)) == 30

    received = Counter(Lead.objects.filter(pk__in=[lead.pk for lead in leads])
                       .values_list("assignee_id", flat=True))
    assert sum(received.values()) == 30 and first.pk not in received
    # The colleague with five open leads gets fewer; afterwards all three hold as many
    # open leads as can be, give or take one.
    assert received[busy.pk] < received[c.pk] and received[busy.pk] < received[d.pk]
    open_now = Counter(Lead.objects.filter(team=team, status="open")
                       .values_list("assignee_id", flat=True))
    counts = [open_now[p.pk] for p in (busy, c, d)]
    assert sum(counts) == 35 and max(counts) - min(counts) <= 1, counts


def test_rule10_transfers_and_new_leads_take_turns_in_one_rotation(org, make_team, new_lead):
    team = make_team(org, size=3)
    a, b, c = team.attendants
    due = new_lead(org, team=team, now=MONDAY_10)  # to a
    assert due.assignee_id == a.pk

    overflow_sweep(now=MONDAY_10 + timedelta(minutes=10))  # a's lead: to b, b's turn taken
    fresh = [new_lead(org, team=team, now=MONDAY_10 + timedelta(minutes=11)) for _ in range(3)]

    due.refresh_from_db()
    assert due.assignee_id == b.pk
    assert [lead.assignee_id for lead in fresh] == [c.pk, a.pk, b.pk]


def test_rule10_cross_team_chain_keeps_its_order_each_team_by_its_own_strategy(
    org, make_team, new_lead
):
    own = make_team(org, size=2, slug="own")
    further = make_team(org, size=3, slug="further", strategy=Team.Strategy.LEAST_OPEN)
    policy_save(team=own, enabled=True, service_minutes=10, chain=[further])
    f1, f2, f3 = further.attendants
    for _ in range(2):
        new_lead(org, team=further, now=MONDAY_10, source="manual")  # to f1, then f2
    lead = new_lead(org, team=own, now=MONDAY_10)

    for minutes in (10, 20):
        overflow_sweep(now=MONDAY_10 + timedelta(minutes=minutes))

    lead.refresh_from_db()
    # Its own team first (the other attendant there), then the further team's least open.
    assert [to for _f, to in transfers(lead)] == [own.attendants[1].pk, f3.pk]
    assert lead.team_id == further.pk


def test_rule6_and_rule7_a_further_team_that_is_closed_starts_the_clock_at_its_opening(
    org, make_team, new_lead, api
):
    plantao = make_team(org, size=1, slug="plantao")  # open around the clock
    vendas = make_team(org, size=2, slug="vendas", hours=WEEKDAYS_8_TO_18, service_minutes=30)
    policy_save(team=plantao, enabled=True, service_minutes=10, chain=[vendas])
    # A second plantao attendant, so the policy has two active attendants of its own.
    plantao_2 = TeamMemberFactory(team=plantao, order=1).membership
    night = sp(2026, 11, 24, 6, 50)  # Tuesday 06:50: vendas opens at 08:00
    lead = new_lead(org, team=plantao, now=night)

    overflow_sweep(now=night + timedelta(minutes=10))  # to the other plantao attendant
    overflow_sweep(now=night + timedelta(minutes=20))  # 07:10: every plantao one held it

    lead.refresh_from_db()
    assert lead.assignee_id == vendas.attendants[0].pk
    assert [to for _f, to in transfers(lead)] == [plantao_2.pk, vendas.attendants[0].pk]
    # The team follows its holder; the receiving team's hours and service time apply.
    assert lead.team_id == vendas.pk
    assert lead.overflow_due_at == sp(2026, 11, 24, 8, 30)
    assert overflow_sweep(now=sp(2026, 11, 24, 8, 29)) == 0
    assert api.get(f"/api/v1/leads/{lead.pk}").json()["team"]["slug"] == "vendas"

    assert overflow_sweep(now=sp(2026, 11, 24, 8, 30)) == 1
    lead.refresh_from_db()
    assert lead.assignee_id == vendas.attendants[1].pk


# --- Rule 9: the sweep -----------------------------------------------------------------


# One sweep of one team: claim the batch, holders, team, its hours, its exceptions, further
# teams, members, whether the organization has skills (none here), the team's lock with its
# cursor, bulk update, bulk insert of events, the organization's active webhook endpoints,
# the moved cursor, who was assigned last, and the empty claim that ends it.
SWEEP_QUERIES = 15


def _sweep_queries(now):
    with CaptureQueriesContext(connection) as ctx:
        moved = overflow_sweep(now=now)
    sql = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"].upper()]
    return moved, sql


def test_rule9_sweep_cost_follows_due_leads(org, make_team, new_lead):
    few_team = make_team(org, size=3, service_minutes=10)
    many_team = make_team(org, size=3, service_minutes=60)
    few = [new_lead(org, team=few_team, now=MONDAY_10) for _ in range(2)]
    for _ in range(30):
        new_lead(org, team=many_team, now=MONDAY_10)

    moved_few, few_sql = _sweep_queries(MONDAY_10 + timedelta(minutes=10))
    # Their new holders open them, so only many_team's 30 are due at the next sweep.
    for lead in few:
        lead.refresh_from_db()
        lead_mark_accessed(organization=org, lead_id=lead.pk, membership=lead.assignee,
                           actor=Actor.system(), now=MONDAY_10 + timedelta(minutes=11))
    moved_many, many_sql = _sweep_queries(MONDAY_10 + timedelta(minutes=60))

    assert (moved_few, moved_many) == (2, 30)
    assert len(many_sql) == len(few_sql), "\n".join(many_sql)
    assert len(many_sql) <= SWEEP_QUERIES, "\n".join(many_sql)
    assert Lead.objects.filter(team=many_team, transfer_count=1).count() == 30
    assert LeadEvent.objects.filter(type=Type.OVERFLOWED).count() == 32


def test_rule9_sweep_with_nothing_due_makes_only_the_one_select(org, make_team, new_lead):
    team = make_team(org, size=3, service_minutes=10)
    for i in range(40):
        new_lead(org, team=team, now=MONDAY_10, source="api" if i % 4 else "manual")

    moved, sql = _sweep_queries(MONDAY_10 + timedelta(minutes=9))

    assert moved == 0
    assert len(sql) == 1, sql
    assert sql[0].lstrip().upper().startswith("SELECT")
    if connection.vendor == "postgresql":
        assert "FOR UPDATE SKIP LOCKED" in sql[0]


def test_rule9_sweep_processes_due_leads_in_batches(org, make_team, new_lead):
    team = make_team(org, size=3)
    leads = [new_lead(org, team=team, now=MONDAY_10) for _ in range(7)]

    assert overflow_sweep(now=MONDAY_10 + timedelta(minutes=10), batch_size=3) == 7

    for lead in leads:
        lead.refresh_from_db()
        assert lead.transfer_count == 1
        assert len(transfers(lead)) == 1


def test_rule9_same_sweep_twice_at_same_instant_writes_nothing_the_second_time(
    org, make_team, new_lead
):
    team = make_team(org, size=3)
    leads = [new_lead(org, team=team, now=MONDAY_10) for _ in range(3)]
    due = MONDAY_10 + timedelta(minutes=10)

    assert overflow_sweep(now=due) == 3
    state = [
        (lead.assignee_id, lead.transfer_count, lead.overflow_due_at)
        for lead in Lead.objects.order_by("id")
    ]
    event_count = LeadEvent.objects.count()

    moved, sql = _sweep_queries(due)

    assert moved == 0
    assert not [q for q in sql if not q.lstrip().upper().startswith("SELECT")]
    assert LeadEvent.objects.count() == event_count
    assert [
        (lead.assignee_id, lead.transfer_count, lead.overflow_due_at)
        for lead in Lead.objects.order_by("id")
    ] == state
    for lead in leads:
        lead.refresh_from_db()
        assert lead.transfer_count == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_rule9_concurrent_sweeps_transfer_each_lead_exactly_once(org, make_team, new_lead):
    team = make_team(org, size=4)
    leads = [new_lead(org, team=team, now=MONDAY_10) for _ in range(24)]
    due = MONDAY_10 + timedelta(minutes=10)
    results = run_at_once(*[lambda: overflow_sweep(now=due, batch_size=3)] * 4)

    assert sum(results) == len(leads)
    for lead in leads:
        lead.refresh_from_db()
        assert lead.transfer_count == 1
        assert len(transfers(lead)) == 1
        assert lead.overflow_due_at == due + timedelta(minutes=10)


def test_outsider_cannot_change_or_see_another_organizations_policy(
    org, make_team, outsider_api
):
    team = make_team(org, size=2, service_minutes=30, slug="sales")

    assert outsider_api.get("/api/v1/teams/sales/overflow-policy").status_code == 404
    response = outsider_api.put(
        "/api/v1/teams/sales/overflow-policy", {"enabled": False, "service_minutes": 10},
        format="json",
    )

    assert response.status_code == 404
    policy = OverflowPolicy.objects.get(team=team)
    assert (policy.enabled, policy.service_minutes) == (True, 30)


def test_outsider_cannot_open_a_lead_nor_stop_its_overflow(
    org, make_team, new_lead, client, charlie
):
    team = make_team(org, size=2)
    lead = new_lead(org, team=team, now=MONDAY_10)

    client.force_login(charlie.user)
    assert client.get(f"/leads/{lead.pk}/").status_code == 404

    lead.refresh_from_db()
    assert lead.overflow_active is True
    assert overflow_sweep(now=MONDAY_10 + timedelta(minutes=10)) == 1
