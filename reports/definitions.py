"""What each figure of the managers' reports means: one definition each, as a pure function
or as the filter (``Q``) that picks its rows.

The page, the API and the CSV export all read ``reports.selectors.summary``, which
applies these definitions in SQL; tests/test_reports_definitions.py has one test per
definition, named after it.

The population of every figure is a cohort: the leads **received** (created) in the
date range, in the organization's time zone, dates inclusive, optionally of one team
(the lead's team). What happened to those leads counts whenever it happened, and
"open now" is their state now. One figure is about **now** whatever the range: the
waiting queue. The funnel (conversion) reads the same cohort: how far each lead got,
and whether it was won or lost.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils.translation import gettext as _

from funnel.models import Stage
from history.models import LeadEvent
from leads.models import Lead
from teams.hours import Schedule

# --- the date range ------------------------------------------------------------------

MAX_RANGE_DAYS = 366
DEFAULT_PRESET = "30d"


@dataclass(frozen=True)
class DateRange:
    """Dates ``start`` to ``end``, both included, as days of the organization's calendar."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range(self.days)]

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The UTC instants [from, to) of the range: midnight to midnight in ``tz``."""
        return (
            datetime.combine(self.start, time(0), tzinfo=tz).astimezone(UTC),
            datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC),
        )


class RangeError(ValueError):
    """A range the reports refuse; ``parameter`` names the offending one (from, to)."""

    def __init__(self, parameter: str, message: str):
        super().__init__(message)
        self.parameter = parameter
        self.message = message


def date_range(start: date, end: date, *, max_days: int | None = MAX_RANGE_DAYS) -> DateRange:
    """A valid range, or ``RangeError``: ``to`` before ``from``, or over 366 days."""
    if end < start:
        raise RangeError("to", _("“to” must not be before “from”."))
    if max_days is not None and (end - start).days + 1 > max_days:
        raise RangeError(
            "to", _("The range may span at most %(days)d days.") % {"days": max_days}
        )
    return DateRange(start, end)


def preset_range(preset: str, *, today: date) -> DateRange:
    """today; 7d and 30d: the last 7 or 30 days, today included; month: this month so far."""
    if preset == "today":
        return DateRange(today, today)
    if preset == "7d":
        return DateRange(today - timedelta(days=6), today)
    if preset == "30d":
        return DateRange(today - timedelta(days=29), today)
    if preset == "month":
        return DateRange(today.replace(day=1), today)
    raise ValueError(f"unknown preset {preset!r}")


def local_today(tz: ZoneInfo, now: datetime) -> date:
    return now.astimezone(tz).date()


# --- the figures -----------------------------------------------------------------------

# A lead reaches an attendant when it is assigned to them (on arrival, from the queue, by
# taking it, or passed on by presence), overflows to them, or is transferred to them by
# hand: each such event with a ``to_member`` is one arrival.
ARRIVAL_EVENTS = (
    LeadEvent.Type.ASSIGNED, LeadEvent.Type.OVERFLOWED, LeadEvent.Type.TRANSFERRED,
)


def received(organization, bounds: tuple[datetime, datetime], *, team=None,
             through: str = "") -> Q:
    """Leads received: the organization's leads created in the range, of ``team`` if given
    (the lead's team): the population of every cohort figure. ``through="lead__"`` filters
    rows that point at a lead.
    """
    filters = {
        f"{through}organization": organization,
        f"{through}created_at__gte": bounds[0],
        f"{through}created_at__lt": bounds[1],
    }
    if team is not None:
        filters[f"{through}team"] = team
    return Q(**filters)


# Opened: its holder opened it in the inbox or accepted it through the API, at any time
# after it arrived. Leads never opened are counted apart (``never_opened``), not dropped.
OPENED = Q(first_accessed_at__isnull=False)
# Overflowed: passed on by overflow (transbordo) at least once; transfers by hand and
# presence hand-offs do not count. Transfers: every overflow transfer of those leads.
OVERFLOWED = Q(transfer_count__gt=0)
# Per attendant, over the history of the leads received:
# an arrival (received) is an event that brought the lead to them,
ARRIVED = Q(type__in=ARRIVAL_EVENTS, to_member__isnull=False)
# missed: the lead overflowed away from them,
MISSED = Q(type=LeadEvent.Type.OVERFLOWED, from_member__isnull=False)
# lost to the rotation (all_tried): the overflow stopped because every attendant had held it.
LOST = Q(type=LeadEvent.Type.OVERFLOW_STOPPED, reason=Lead.OverflowReason.ALL_TRIED)
# Concluded and open now: of the leads received, those concluded and those still open,
# credited to the attendant who holds them.
CONCLUDED = Q(status=Lead.Status.CONCLUDED)
OPEN = Q(status=Lead.Status.OPEN)
# The queue, now: open leads nobody holds, whenever they arrived.
WAITING_NOW = Q(status=Lead.Status.OPEN, assignee__isnull=True)


def wall_seconds(start: datetime, end: datetime) -> int:
    """Time to first access in wall-clock seconds (creation to first opening by its holder);
    for an attendant, from the lead reaching them to their opening it."""
    return max(0, round((end - start).total_seconds()))


def service_seconds(schedule: Schedule | None, start: datetime, end: datetime) -> int:
    """The same span counted only inside the team's business hours: the clock the overflow
    uses (teams.hours). A lead that arrived at night and was opened at 08:05 with the team
    opening at 08:00 counts 300. Without a team or with hours off: wall-clock seconds."""
    if end <= start:
        return 0
    if schedule is None or not schedule.enabled:
        return wall_seconds(start, end)
    total = timedelta(0)
    day = start.astimezone(schedule.tz).date() - timedelta(days=1)  # a span may start yesterday
    last = end.astimezone(schedule.tz).date()
    while day <= last:
        for begin, finish in schedule.openings_on(day):
            overlap = min(finish, end) - max(begin, start)
            if overlap > timedelta(0):
                total += overlap
        day += timedelta(days=1)
    return round(total.total_seconds())


def percentile(values: Iterable[float], fraction: float) -> float | None:
    """Median (0.5) and p90 (0.9), interpolated between ranks as PostgreSQL's
    ``percentile_cont`` does; ``None`` without values."""
    ordered: Sequence[float] = sorted(values)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def overflow_rate(overflowed: int, received: int) -> float | None:
    """Overflow rate: leads overflowed at least once over leads received (for an attendant:
    leads that overflowed away from them over leads that reached them); ``None`` for none."""
    if not received:
        return None
    return overflowed / received


def wait_seconds_now(oldest: datetime | None, now: datetime) -> int | None:
    """Queue: the longest wait is from the oldest waiting lead's arrival until now."""
    return None if oldest is None else wall_seconds(oldest, now)


# --- conversion: the funnel ---------------------------------------------------------------

# The population is the same cohort: the leads received in the range (of the team).
# Stage changes: the history of those leads moving between stages (leads.services).
STAGE_CHANGES = Q(type=LeadEvent.Type.STAGE_CHANGED)


def reached(keys: Iterable[str]) -> Q:
    """A lead reached a step of the funnel when it was ever moved into that step or one past
    it (``keys``: the step and the steps after it, in the funnel's order now, lost left
    out). Every lead received reached the first step, ``new``: it starts there."""
    return STAGE_CHANGES & Q(data__to__in=list(keys))


# Won and lost: of the leads received, those in the customer (won) or the lost stage now;
# an attendant's are the ones they hold, a team's and a source's the lead's own.
WON = Q(stage=Stage.CUSTOMER)
LOST_NOW = Q(stage=Stage.LOST)


def conversion(reached_next: int, reached_here: int) -> float | None:
    """From one step to the next: the leads that reached the next over those that reached
    this one; ``None`` when none reached this one."""
    if not reached_here:
        return None
    return reached_next / reached_here


def win_rate(won: int, lost: int) -> float | None:
    """Of the leads with an outcome, the share won: won / (won + lost); ``None`` for none.
    Leads still open, or concluded without an outcome, do not count either way."""
    if not won + lost:
        return None
    return won / (won + lost)
