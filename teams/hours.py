"""Business hours, evaluated in the organization's time zone.

A team with business hours switched off is open around the clock. Otherwise a
day's openings are its weekly intervals, unless the date has exceptions: a
closed exception closes the whole day, special openings replace the weekly
intervals of that date.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from .config_cache import org_cached

# How far ahead to look for an opening before deciding there is none.
HORIZON_DAYS = 400

Interval = tuple[time, time]


# Frozen: intake shares one per team across requests (team_schedule_cached).
@dataclass(frozen=True)
class Schedule:
    tz: zoneinfo.ZoneInfo
    enabled: bool
    weekly: dict[int, list[Interval]] = field(default_factory=dict)
    closed_dates: set[date] = field(default_factory=set)
    special: dict[date, list[Interval]] = field(default_factory=dict)

    def openings_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's open intervals as UTC datetimes, sorted and merged."""
        if day in self.closed_dates:
            return []
        local = self.special.get(day, self.weekly.get(day.weekday(), []))
        spans = []
        for start, end in sorted(local):
            begin = datetime.combine(day, start, tzinfo=self.tz).astimezone(UTC)
            if end == time(0):
                finish = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz)
            else:
                finish = datetime.combine(day, end, tzinfo=self.tz)
            finish = finish.astimezone(UTC)
            if spans and begin <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(spans[-1][1], finish))
            else:
                spans.append((begin, finish))
        return spans

    def _local_day(self, at: datetime) -> date:
        return at.astimezone(self.tz).date()

    def is_open(self, at: datetime) -> bool:
        if not self.enabled:
            return True
        day = self._local_day(at)
        # An interval that started yesterday may still run (closing at midnight).
        for check in (day - timedelta(days=1), day):
            for begin, finish in self.openings_on(check):
                if begin <= at < finish:
                    return True
        return False

    def next_opening(self, at: datetime) -> datetime | None:
        """``at`` itself when open, else the start of the next opening."""
        if self.is_open(at):
            return at
        day = self._local_day(at)
        for offset in range(HORIZON_DAYS):
            for begin, _finish in self.openings_on(day + timedelta(days=offset)):
                if begin >= at:
                    return begin
        return None

    def add_open_minutes(self, start: datetime, minutes: int) -> datetime | None:
        """The instant when ``minutes`` of open time have passed since ``start``.

        The clock runs only while the team is open: ten minutes before closing
        with a thirty-minute budget falls due twenty minutes after the next opening.
        ``None`` when the team does not open again within the horizon.
        """
        remaining = timedelta(minutes=minutes)
        if not self.enabled:
            try:
                return start + remaining
            except OverflowError:
                return None
        cursor = start.astimezone(UTC)
        day = self._local_day(start) - timedelta(days=1)
        for offset in range(HORIZON_DAYS + 1):
            for begin, finish in self.openings_on(day + timedelta(days=offset)):
                if finish <= cursor:
                    continue
                begin = max(begin, cursor)
                available = finish - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
                cursor = finish
        return None


def team_schedule(team, *, organization=None) -> Schedule:
    """Load a team's hours with two queries (none when hours are off).

    Pass the team's ``organization`` when the caller already has it loaded.
    """
    organization = organization or team.organization
    if organization.pk != team.organization_id:
        raise ValueError("the team belongs to another organization")
    tz = zoneinfo.ZoneInfo(organization.time_zone)
    if not team.business_hours_enabled:
        return Schedule(tz=tz, enabled=False)
    weekly: dict[int, list[Interval]] = defaultdict(list)
    for row in team.hours.all():
        weekly[row.weekday].append((row.start, row.end))
    closed: set[date] = set()
    special: dict[date, list[Interval]] = defaultdict(list)
    for row in team.hour_exceptions.all():
        if row.is_closed:
            closed.add(row.date)
        else:
            special[row.date].append((row.start, row.end))
    return Schedule(tz=tz, enabled=True, weekly=dict(weekly), closed_dates=closed,
                    special=dict(special))


def team_schedule_cached(team, *, organization) -> Schedule:
    """``team_schedule`` from this process's copy, for intake, which asks on every lead.

    Rebuilt when the organization's configuration version moves: every change of
    hours bumps it (teams.apps, teams.services.hours.team_hours_replace). Whether hours
    are on, and the time zone, come from the rows the caller just loaded.
    """
    if not team.business_hours_enabled:
        return team_schedule(team, organization=organization)  # no queries
    return org_cached(
        organization, f"teams.schedule.{team.pk}.{organization.time_zone}",
        lambda: team_schedule(team, organization=organization),
    )
