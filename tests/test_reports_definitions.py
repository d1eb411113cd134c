"""The reports' definitions (reports/definitions.py), one test each, against hand-made histories.

Every history is written through the real services with explicit times, under a frozen
clock: the organization is in São Paulo (UTC-3), the team opens on weekdays 08:00-18:00
with a 10-minute overflow. The same figures come from SQL on PostgreSQL (percentile_cont)
and from Python on SQLite: both must give these numbers.
"""

from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from history.services import Actor
from leads.services import lead_conclude, lead_mark_accessed
from leads.sweep import overflow_sweep
from reports import definitions as d
from reports.selectors import own_numbers, summary
from teams.hours import team_schedule

from .conftest import WEEKDAYS_8_TO_18

SP = ZoneInfo("America/Sao_Paulo")
MON = date(2026, 11, 23)
TUE = MON + timedelta(days=1)


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=SP)


def open_lead(lead, when):
    lead.refresh_from_db()
    assert lead_mark_accessed(organization=lead.organization, lead_id=lead.pk,
                              membership=lead.assignee, actor=Actor.system(), now=when)


def sweep(when):
    return overflow_sweep(now=when)


@pytest.fixture
def frozen():
    with time_machine.travel(at(MON, 13), tick=False):
        yield


@pytest.fixture
def sales(org, make_team):
    return make_team(org, size=3, slug="sales", hours=WEEKDAYS_8_TO_18, service_minutes=10)


@pytest.fixture
def monday(frozen, org, sales, new_lead):
    """Monday's leads, in the order they arrived:

    D 07:00, out of hours, opened at 08:05 (65 minutes, 5 of them in business hours);
    A 10:00, opened after 3 minutes; B 10:10, by hand (no overflow), never opened;
    C 11:00, overflowed at 11:10 and 11:20, opened by its third holder at 11:25;
    E 12:00, opened after a minute, concluded at 12:30.
    """
    leads = {}
    leads["D"] = new_lead(org, team=sales, now=at(MON, 7))
    open_lead(leads["D"], at(MON, 8, 5))
    leads["A"] = new_lead(org, team=sales, now=at(MON, 10))
    open_lead(leads["A"], at(MON, 10, 3))
    leads["B"] = new_lead(org, team=sales, source="manual", now=at(MON, 10, 10))
    leads["C"] = new_lead(org, team=sales, now=at(MON, 11))
    holders_c = [leads["C"].assignee_id]
    for when in (at(MON, 11, 10), at(MON, 11, 20)):
        assert sweep(when) == 1
        leads["C"].refresh_from_db()
        holders_c.append(leads["C"].assignee_id)
    open_lead(leads["C"], at(MON, 11, 25))
    leads["E"] = new_lead(org, team=sales, now=at(MON, 12))
    open_lead(leads["E"], at(MON, 12, 1))
    lead_conclude(organization=org, lead_id=leads["E"].pk, membership=leads["E"].assignee,
                  now=at(MON, 12, 30))
    for lead in leads.values():
        lead.refresh_from_db()
    leads["holders_c"] = holders_c
    return leads


def monday_summary(org, team=None):
    return summary(organization=org, date_range=d.DateRange(MON, MON), team=team,
                   now=at(MON, 13))


def test_received(org, monday):
    result = monday_summary(org)

    assert result.leads_received == 5
    assert [(day.date, day.received, day.opened, day.overflowed)
            for day in result.leads_by_day] == [(MON, 5, 4, 1)]
    assert {row.source: row.received for row in result.by_source} == {
        "api": 4, "manual": 1, "bot": 0, "import": 0}
    assert result.by_team == [(monday["A"].team_id, 5)]


def test_opened_and_never_opened_are_counted_apart(org, monday):
    first = monday_summary(org).time_to_first_access

    assert (first.opened, first.never_opened) == (4, 1)


def test_wall_seconds_time_to_first_access(org, monday):
    # D 3,900 s, A 180, C 1,500, E 60: interpolated between ranks, as percentile_cont does.
    first = monday_summary(org).time_to_first_access

    assert first.p50_seconds == pytest.approx((180 + 1500) / 2)
    assert first.p90_seconds == pytest.approx(1500 + 0.7 * (3900 - 1500))


def test_service_seconds_time_to_first_access(org, monday):
    # D arrived at 07:00 and was opened at 08:05: 300 s inside business hours.
    first = monday_summary(org).time_to_first_access

    assert first.p50_service_seconds == pytest.approx((180 + 300) / 2)
    assert first.p90_service_seconds == pytest.approx(300 + 0.7 * (1500 - 300))


def test_service_seconds_of_a_lead_that_arrived_out_of_hours(org, sales, new_lead, frozen):
    lead = new_lead(org, team=sales, now=at(MON, 6, 30))
    open_lead(lead, at(MON, 8, 5))

    first = monday_summary(org).time_to_first_access

    assert first.p50_seconds == 95 * 60
    assert first.p50_service_seconds == 300


def test_overflowed(org, monday):
    overflow = monday_summary(org).overflow

    assert overflow.leads_overflowed == 1
    assert overflow.rate == pytest.approx(1 / 5)
    assert overflow.transfers == 2
    assert overflow.all_tried == 0


def test_lost_to_the_rotation_all_tried(org, sales, new_lead, frozen):
    lead = new_lead(org, team=sales, now=at(MON, 10))
    for minute in (10, 20, 30):
        sweep(at(MON, 10, minute))
    lead.refresh_from_db()
    assert lead.overflow_reason == "all_tried"

    overflow = monday_summary(org).overflow

    assert (overflow.leads_overflowed, overflow.transfers, overflow.all_tried) == (1, 2, 1)


def test_arrived_opened_and_waits_per_attendant(org, sales, monday):
    c0, c1, c2 = monday["holders_c"]
    received = Counter([monday[k].assignee_id for k in "DABE"] + [c0, c1, c2])
    opened = Counter(monday[k].assignee_id for k in "DAE") + Counter([c2])

    rows = {a.id: a for a in monday_summary(org).attendants}

    assert set(rows) == {m.pk for m in sales.attendants}
    assert {pk: rows[pk].received for pk in rows} == {pk: received[pk] for pk in rows}
    assert {pk: rows[pk].opened for pk in rows} == {pk: opened[pk] for pk in rows}
    # From reaching them to their opening it: C's third holder waited from 11:20 to 11:25;
    # D reached its holder at 07:00, out of hours, and waited 300 s of business hours.
    waits, service = {}, {}
    for key, wall, in_hours in (("D", 3900, 300), ("A", 180, 180), ("E", 60, 60)):
        waits.setdefault(monday[key].assignee_id, []).append(wall)
        service.setdefault(monday[key].assignee_id, []).append(in_hours)
    waits.setdefault(c2, []).append(300)
    service.setdefault(c2, []).append(300)
    for pk in waits:
        assert rows[pk].p50_seconds == pytest.approx(d.percentile(waits[pk], 0.5))
        assert rows[pk].p90_seconds == pytest.approx(d.percentile(waits[pk], 0.9))
        assert rows[pk].p50_service_seconds == pytest.approx(d.percentile(service[pk], 0.5))


def test_missed_per_attendant(org, monday):
    c0, c1, _c2 = monday["holders_c"]

    rows = {a.id: a for a in monday_summary(org).attendants}

    assert {pk: row.missed for pk, row in rows.items()} == {
        pk: Counter([c0, c1])[pk] for pk in rows
    }
    assert rows[c0].overflow_rate == pytest.approx(1 / rows[c0].received)


def test_concluded_and_open_now_per_attendant(org, monday):
    rows = {a.id: a for a in monday_summary(org).attendants}

    holding = Counter(monday[k].assignee_id for k in "DABC")
    assert {pk: row.concluded for pk, row in rows.items()} == {
        pk: int(pk == monday["E"].assignee_id) for pk in rows
    }
    assert {pk: row.open_now for pk, row in rows.items()} == {pk: holding[pk] for pk in rows}


def test_waiting_now_and_longest_wait(org, make_team, new_lead, frozen):
    desk = make_team(org, size=0, slug="desk", policy=None)
    new_lead(org, team=desk, now=at(MON, 12, 40))
    new_lead(org, team=desk, now=at(MON, 12, 50))

    queue = monday_summary(org).queue

    assert (queue.waiting_now, queue.longest_wait_seconds) == (2, 20 * 60)


def test_received_boundaries_are_midnight_in_the_organizations_time_zone(
    org, sales, new_lead, frozen
):
    # 23:59:59 on Monday in São Paulo is 02:59:59 on Tuesday in UTC: still Monday's.
    new_lead(org, team=sales, now=at(MON, 23, 59, 59))
    new_lead(org, team=sales, now=at(TUE, 0, 0, 0))
    new_lead(org, team=sales, now=at(MON, 0, 0, 0))
    new_lead(org, team=sales, now=at(MON, 0, 0, 0) - timedelta(seconds=1))

    both = summary(organization=org, date_range=d.DateRange(MON, TUE), now=at(TUE, 1))

    assert [(day.date, day.received) for day in both.leads_by_day] == [(MON, 2), (TUE, 1)]
    assert monday_summary(org).leads_received == 2


def test_team_filter_counts_the_leads_of_that_team(org, sales, make_team, new_lead, monday):
    other = make_team(org, size=2, slug="other")
    new_lead(org, team=other, now=at(MON, 9))

    assert monday_summary(org).leads_received == 6
    only_sales = monday_summary(org, team=sales)
    assert only_sales.leads_received == 5
    assert {a.id for a in only_sales.attendants} == {m.pk for m in sales.attendants}


def test_own_numbers_are_the_attendants_row_for_the_last_seven_days(org, monday):
    c0, _c1, c2 = monday["holders_c"]

    with time_machine.travel(at(MON, 13), tick=False):
        rows = {a.id: a for a in summary(
            organization=org, date_range=d.preset_range("7d", today=MON), now=at(MON, 13)
        ).attendants}
        for membership in {monday[k].assignee for k in "DABCE"}:
            mine = own_numbers(membership=membership, now=at(MON, 13))
            assert mine.p50_seconds == rows[membership.pk].p50_seconds
            assert mine.missed == rows[membership.pk].missed
    assert rows[c0].missed == 1


# --- the pure functions -------------------------------------------------------------------


def test_percentile_interpolates_like_percentile_cont():
    assert d.percentile([], 0.5) is None
    assert d.percentile([7], 0.9) == 7
    assert d.percentile([10, 20, 30, 40], 0.5) == 25
    assert d.percentile([40, 10, 30, 20], 0.9) == pytest.approx(37)


def test_service_seconds_counts_only_business_hours(org, sales):
    schedule = team_schedule(sales)
    friday_evening, monday_morning = at(MON - timedelta(days=3), 17, 50), at(MON, 8, 10)

    assert d.service_seconds(schedule, at(MON, 7), at(MON, 8, 5)) == 300
    assert d.service_seconds(schedule, friday_evening, monday_morning) == 20 * 60
    assert d.service_seconds(schedule, at(MON, 9), at(MON, 9)) == 0
    assert d.service_seconds(None, at(MON, 7), at(MON, 8, 5)) == 65 * 60


def test_wall_seconds_never_negative():
    assert d.wall_seconds(at(MON, 9), at(MON, 9, 1)) == 60
    assert d.wall_seconds(at(MON, 9, 1), at(MON, 9)) == 0


def test_overflow_rate():
    assert d.overflow_rate(1, 4) == 0.25
    assert d.overflow_rate(0, 0) is None


def test_date_range_refuses_to_before_from_and_more_than_366_days():
    with pytest.raises(d.RangeError) as before:
        d.date_range(TUE, MON)
    with pytest.raises(d.RangeError) as long:
        d.date_range(MON, MON + timedelta(days=366))

    assert before.value.parameter == "to"
    assert long.value.parameter == "to"
    assert d.date_range(MON, MON + timedelta(days=365)).days == 366


def test_presets_end_today_in_the_organizations_calendar():
    assert d.preset_range("today", today=TUE) == d.DateRange(TUE, TUE)
    assert d.preset_range("7d", today=TUE) == d.DateRange(TUE - timedelta(days=6), TUE)
    assert d.preset_range("30d", today=TUE).days == 30
    assert d.preset_range("month", today=TUE) == d.DateRange(date(2026, 11, 1), TUE)
    # 01:30 UTC on Tuesday is still Monday in São Paulo.
    assert d.local_today(SP, datetime(2026, 11, 24, 1, 30, tzinfo=ZoneInfo("UTC"))) == MON


def test_range_bounds_are_local_midnights():
    start, end = d.DateRange(MON, TUE).bounds(SP)

    assert (start.isoformat(), end.isoformat()) == (
        "2026-11-23T03:00:00+00:00", "2026-11-25T03:00:00+00:00")


def test_team_filter_follows_a_lead_moved_by_hand_to_another_team(
    org, sales, make_team, new_lead, frozen
):
    from leads.services import lead_transfer

    other = make_team(org, size=2, slug="other")
    lead = new_lead(org, team=sales, now=at(MON, 10))
    open_lead(lead, at(MON, 10, 4))
    lead.refresh_from_db()
    lead_transfer(organization=org, lead_id=lead.pk, membership=lead.assignee, to_team=other,
                  now=at(MON, 11))

    moved = monday_summary(org, team=other)
    left = monday_summary(org, team=sales)

    assert (moved.leads_received, moved.time_to_first_access.p50_seconds) == (1, 240)
    assert (left.leads_received, left.time_to_first_access.p50_seconds) == (0, None)
