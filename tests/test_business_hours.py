"""Business hours (teams.hours.Schedule), loaded through team_schedule, and their validation."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from teams.hours import team_schedule
from teams.models import BusinessHoursException, BusinessHoursInterval
from teams.services.hours import team_hours_replace

from .conftest import WEEKDAYS_8_TO_18
from .factories import (
    BusinessHoursExceptionFactory,
    BusinessHoursIntervalFactory,
    OrganizationFactory,
    TeamFactory,
)

SP = ZoneInfo("America/Sao_Paulo")
LISBON = ZoneInfo("Europe/Lisbon")

MON = date(2026, 11, 23)
TUE = MON + timedelta(days=1)
WED = MON + timedelta(days=2)
THU = MON + timedelta(days=3)
FRI = MON + timedelta(days=4)
SAT = MON + timedelta(days=5)
SUN = MON + timedelta(days=6)


def at(day: date, hour: int, minute: int = 0, second: int = 0, tz=SP) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=tz)


@pytest.fixture
def schedule_of(org):
    """Store a team's hours and load them back: ``schedule_of(hours, exceptions=[...])``.

    ``exceptions`` holds ``(date, None)`` for a closed day or ``(date, (start, end))`` for a
    special opening.
    """

    def build(hours, *, exceptions=(), organization=None, enabled=True):
        team = TeamFactory(organization=organization or org, business_hours_enabled=enabled)
        for weekday, intervals in hours.items():
            for start, end in intervals:
                BusinessHoursIntervalFactory(team=team, weekday=weekday, start=start, end=end)
        for day, interval in exceptions:
            if interval is None:
                BusinessHoursExceptionFactory(team=team, date=day, is_closed=True)
            else:
                BusinessHoursExceptionFactory(
                    team=team, date=day, is_closed=False, start=interval[0], end=interval[1]
                )
        return team_schedule(team)

    return build


# --- is_open --------------------------------------------------------------------------


def test_opening_time_is_inclusive_and_closing_time_exclusive(schedule_of):
    schedule = schedule_of(WEEKDAYS_8_TO_18)

    assert not schedule.is_open(at(MON, 7, 59, 59))
    assert schedule.is_open(at(MON, 8))
    assert schedule.is_open(at(MON, 17, 59, 59))
    assert not schedule.is_open(at(MON, 18))
    assert not schedule.is_open(at(SAT, 10))
    assert not schedule.is_open(at(SUN, 10))


def test_the_instant_is_judged_the_same_whatever_zone_it_is_given_in(schedule_of):
    schedule = schedule_of(WEEKDAYS_8_TO_18)

    # 08:00 in São Paulo is 11:00 UTC; 21:30 UTC on Monday is 18:30 there.
    assert schedule.is_open(datetime(2026, 11, 23, 11, 0, tzinfo=UTC))
    assert not schedule.is_open(datetime(2026, 11, 23, 10, 59, tzinfo=UTC))
    assert not schedule.is_open(datetime(2026, 11, 23, 21, 30, tzinfo=UTC))
    # 01:00 UTC on Tuesday is still Monday 22:00 in São Paulo: closed.
    assert not schedule.is_open(datetime(2026, 11, 24, 1, 0, tzinfo=UTC))


def test_several_intervals_a_day_are_closed_between_them(schedule_of):
    schedule = schedule_of({0: [(time(14), time(18)), (time(8), time(12))]})

    assert schedule.is_open(at(MON, 11, 59))
    assert not schedule.is_open(at(MON, 12))
    assert not schedule.is_open(at(MON, 13))
    assert schedule.is_open(at(MON, 14))
    assert not schedule.is_open(at(MON, 18))
    assert schedule.next_opening(at(MON, 12, 30)) == at(MON, 14)
    # The lunch break does not count: 10 minutes before it plus 20 after it.
    assert schedule.add_open_minutes(at(MON, 11, 50), 30) == at(MON, 14, 20)


def test_interval_ending_at_midnight_runs_to_the_end_of_the_day(schedule_of):
    schedule = schedule_of({0: [(time(18), time(0))]})

    assert not schedule.is_open(at(MON, 17, 59))
    assert schedule.is_open(at(MON, 18))
    assert schedule.is_open(at(MON, 23, 59, 59))
    assert not schedule.is_open(at(TUE, 0))
    # Ten minutes before midnight, then the rest at the next Monday's opening.
    assert schedule.add_open_minutes(at(MON, 23, 50), 30) == at(MON + timedelta(days=7), 18, 20)


def test_interval_ending_at_midnight_continues_into_next_days_early_opening(schedule_of):
    schedule = schedule_of({0: [(time(18), time(0))], 1: [(time(0), time(6))]})

    assert schedule.is_open(at(MON, 23, 59))
    assert schedule.is_open(at(TUE, 0))
    assert schedule.is_open(at(TUE, 5, 59))
    assert not schedule.is_open(at(TUE, 6))
    assert schedule.add_open_minutes(at(MON, 23, 50), 30) == at(TUE, 0, 20)


def test_closed_exception_closes_the_whole_day(schedule_of):
    schedule = schedule_of(WEEKDAYS_8_TO_18, exceptions=[(TUE, None)])

    assert schedule.is_open(at(MON, 10))
    assert not schedule.is_open(at(TUE, 8))
    assert not schedule.is_open(at(TUE, 12))
    assert schedule.is_open(at(WED, 8))
    assert schedule.next_opening(at(MON, 18)) == at(WED, 8)
    assert schedule.add_open_minutes(at(MON, 17, 50), 30) == at(WED, 8, 20)


def test_special_opening_replaces_the_weekly_hours_of_its_date(schedule_of):
    schedule = schedule_of(
        WEEKDAYS_8_TO_18,
        exceptions=[(TUE, (time(14), time(16))), (SAT, (time(9), time(12)))],
    )

    # Tuesday: only 14:00-16:00, although the week says 08:00-18:00.
    assert not schedule.is_open(at(TUE, 8))
    assert not schedule.is_open(at(TUE, 13, 59))
    assert schedule.is_open(at(TUE, 14))
    assert not schedule.is_open(at(TUE, 16))
    assert not schedule.is_open(at(TUE, 17))
    # Saturday has no weekly hours, the special opening opens it.
    assert schedule.is_open(at(SAT, 9))
    assert not schedule.is_open(at(SAT, 12))
    # Other days keep the weekly hours.
    assert schedule.is_open(at(WED, 8))
    assert schedule.add_open_minutes(at(MON, 17, 50), 30) == at(TUE, 14, 20)
    assert schedule.add_open_minutes(at(FRI, 17, 50), 30) == at(SAT, 9, 20)


def test_add_open_minutes_spans_several_intervals_and_days(schedule_of):
    schedule = schedule_of(
        {
            0: [(time(8), time(9)), (time(10), time(11))],
            1: [(time(8), time(9))],
            3: [(time(8), time(18))],
        }
    )

    start = at(MON, 8, 30)
    # Monday 30 + 60, Tuesday 60: 150 minutes run out exactly at Tuesday's closing.
    assert schedule.add_open_minutes(start, 150) == at(TUE, 9)
    # 20 more: Wednesday is closed, so Thursday 08:20.
    assert schedule.add_open_minutes(start, 170) == at(THU, 8, 20)
    # Starting while closed counts from the next opening.
    assert schedule.add_open_minutes(at(MON, 7), 10) == at(MON, 8, 10)
    assert schedule.add_open_minutes(at(MON, 9, 30), 10) == at(MON, 10, 10)
    assert schedule.add_open_minutes(at(SUN - timedelta(days=7), 12), 10) == at(MON, 8, 10)
    # Friday evening to the next week's Monday.
    assert schedule.add_open_minutes(at(FRI, 17), 10) == at(MON + timedelta(days=7), 8, 10)


def test_never_open_gives_no_opening_and_no_deadline(schedule_of):
    schedule = schedule_of({})

    assert not schedule.is_open(at(MON, 10))
    assert schedule.next_opening(at(MON, 10)) is None
    assert schedule.add_open_minutes(at(MON, 10), 10) is None


def test_deadline_is_none_when_the_last_opening_runs_out(schedule_of):
    schedule = schedule_of({}, exceptions=[(TUE, (time(10), time(10, 15)))])

    assert schedule.is_open(at(TUE, 10, 5))
    assert schedule.add_open_minutes(at(TUE, 10), 15) == at(TUE, 10, 15)
    assert schedule.add_open_minutes(at(TUE, 10, 5), 30) is None


def test_hours_are_evaluated_in_the_organizations_own_time_zone(schedule_of):
    lisbon = OrganizationFactory(time_zone="Europe/Lisbon")
    hours = {d: [(time(9), time(17))] for d in range(5)}
    in_lisbon = schedule_of(hours, organization=lisbon)
    in_sao_paulo = schedule_of(hours)

    # November: Lisbon is on UTC+0, São Paulo on UTC-3.
    assert in_lisbon.is_open(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    assert not in_lisbon.is_open(datetime(2026, 11, 23, 8, 59, tzinfo=UTC))
    assert not in_lisbon.is_open(datetime(2026, 11, 23, 17, 0, tzinfo=UTC))
    assert not in_sao_paulo.is_open(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    assert in_sao_paulo.is_open(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    # July: Lisbon is on summer time (UTC+1), so it opens at 08:00 UTC.
    assert in_lisbon.is_open(datetime(2026, 7, 6, 8, 0, tzinfo=UTC))
    assert not in_lisbon.is_open(datetime(2026, 7, 6, 7, 59, tzinfo=UTC))
    # The clock pauses over Lisbon's night, not São Paulo's.
    assert in_lisbon.add_open_minutes(at(MON, 16, 50, tz=LISBON), 30) == at(TUE, 9, 20, tz=LISBON)
    assert in_lisbon.next_opening(datetime(2026, 11, 23, 20, 0, tzinfo=UTC)) == at(
        TUE, 9, tz=LISBON
    )


def test_service_clock_counts_real_minutes_across_a_daylight_saving_change(schedule_of):
    lisbon = OrganizationFactory(time_zone="Europe/Lisbon")
    # Sunday 2026-03-29: Lisbon's clocks jump from 01:00 to 02:00.
    schedule = schedule_of({6: [(time(0), time(6))]}, organization=lisbon)
    sunday = date(2026, 3, 29)

    assert schedule.is_open(datetime(2026, 3, 29, 0, 30, tzinfo=UTC))
    assert not schedule.is_open(datetime(2026, 3, 29, 5, 0, tzinfo=UTC))  # 06:00 local
    # 00:30 local (UTC+0) plus 60 minutes is 02:30 local (UTC+1).
    assert schedule.add_open_minutes(at(sunday, 0, 30, tz=LISBON), 60) == datetime(
        2026, 3, 29, 1, 30, tzinfo=UTC
    )


def test_business_hours_switched_off_means_always_open(schedule_of):
    schedule = schedule_of(WEEKDAYS_8_TO_18, exceptions=[(MON, None)], enabled=False)

    for instant in (at(MON, 10), at(MON, 3), at(SAT, 23, 59), at(SUN, 0)):
        assert schedule.is_open(instant)
        assert schedule.next_opening(instant) == instant
    assert schedule.add_open_minutes(at(FRI, 17, 50), 30) == at(FRI, 18, 20)
    assert schedule.add_open_minutes(at(SAT, 3), 10) == at(SAT, 3, 10)


# --- validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"), [(time(18), time(8)), (time(9), time(9)), (time(9), time(8, 59))]
)
def test_weekly_interval_closing_before_opening_is_refused(org, start, end):
    team = TeamFactory(organization=org)
    interval = BusinessHoursInterval(team=team, weekday=0, start=start, end=end)

    with pytest.raises(ValidationError) as exc:
        interval.full_clean()
    assert "end" in exc.value.message_dict

    with pytest.raises(IntegrityError), transaction.atomic():
        BusinessHoursInterval.objects.create(team=team, weekday=0, start=start, end=end)
    assert not BusinessHoursInterval.objects.filter(team=team).exists()


def test_weekly_interval_ending_at_midnight_is_valid(org):
    team = TeamFactory(organization=org)
    interval = BusinessHoursInterval(team=team, weekday=4, start=time(18), end=time(0))

    interval.full_clean()
    interval.save()
    interval.refresh_from_db()
    assert (interval.start, interval.end) == (time(18), time(0))


def test_weekday_out_of_range_is_refused_by_the_database(org):
    team = TeamFactory(organization=org)

    with pytest.raises(IntegrityError), transaction.atomic():
        BusinessHoursInterval.objects.create(team=team, weekday=7, start=time(8), end=time(9))


def test_special_opening_closing_before_opening_is_refused(org):
    team = TeamFactory(organization=org)
    special = BusinessHoursException(
        team=team, date=TUE, is_closed=False, start=time(16), end=time(14)
    )

    with pytest.raises(ValidationError) as exc:
        special.full_clean()
    assert "end" in exc.value.message_dict

    with pytest.raises(IntegrityError), transaction.atomic():
        BusinessHoursException.objects.create(
            team=team, date=TUE, is_closed=False, start=time(16), end=time(14)
        )
    assert not BusinessHoursException.objects.filter(team=team).exists()


def test_special_opening_without_times_is_refused(org):
    team = TeamFactory(organization=org)

    with pytest.raises(ValidationError):
        BusinessHoursException(team=team, date=TUE, is_closed=False, start=time(9)).full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        BusinessHoursException.objects.create(team=team, date=TUE, is_closed=False, start=time(9))


def test_closed_day_needs_no_times(org):
    team = TeamFactory(organization=org)
    holiday = BusinessHoursException(team=team, date=TUE, is_closed=True, note="Holiday")

    holiday.full_clean()
    holiday.save()
    holiday.refresh_from_db()
    assert holiday.is_closed and holiday.start is None and holiday.end is None


# --- intake's copy of the hours follows every change ---------------------------------------


@pytest.fixture
def desk(org, make_team):
    """``org``'s default team, open weekdays 8-18 in São Paulo."""
    team = make_team(org, size=2, hours=WEEKDAYS_8_TO_18)
    org.default_team = team
    org.save(update_fields=["default_team"])
    return team


def message_kind(api, n) -> str:
    answer = api.post("/api/v1/leads", {"email": f"lead{n}@example.com"}, format="json")
    assert answer.status_code == 201, answer.content
    return answer.json()["customer_message"]["kind"]


def test_hours_replaced_after_leads_arrived_apply_to_the_very_next_lead(org, desk, api):
    def replace(weekly):
        team_hours_replace(organization=org, team_id=desk.pk, enabled=True, weekly=weekly,
                           exceptions=[])

    with time_machine.travel(at(MON, 10), tick=False):
        assert message_kind(api, 1) == "assigned"
        replace([(0, time(14), time(18))])  # rows deleted and written
        assert message_kind(api, 2) == "out_of_hours"
        replace([])
        assert message_kind(api, 3) == "out_of_hours"
        replace([(0, time(8), time(18))])  # only written, in bulk: no row signals
        assert message_kind(api, 4) == "assigned"


def test_hours_saved_one_by_one_apply_to_the_very_next_lead(org, desk, api):
    with time_machine.travel(at(SAT, 10), tick=False):
        assert message_kind(api, 1) == "out_of_hours"

        saturday = BusinessHoursIntervalFactory(team=desk, weekday=5, start=time(9),
                                                end=time(13))
        assert message_kind(api, 2) == "assigned"

        saturday.delete()
        assert message_kind(api, 3) == "out_of_hours"


def test_a_new_lead_reads_its_teams_hours_once_per_process(org, desk, api):
    with time_machine.travel(at(MON, 10), tick=False):
        message_kind(api, 1)
        with CaptureQueriesContext(connection) as ctx:
            assert message_kind(api, 2) == "assigned"

    assert not [q for q in ctx.captured_queries if "teams_businesshours" in q["sql"]]
