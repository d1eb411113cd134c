"""A team's business hours, replaced as a whole.

Each service takes the organization explicitly and re-reads the rows it changes
inside it, so a foreign id fails with ``DoesNotExist`` (a 404 in the pages).
"""

from dataclasses import dataclass
from datetime import date, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import Action, Area, audit_record, diff

from ..config_cache import config_changed
from ..models import (
    BusinessHoursException,
    BusinessHoursInterval,
    Organization,
    Team,
)
from .teams import lock_team

MIDNIGHT = time(0)


def interval_is_inverted(start: time, end: time) -> bool:
    """Closing must come after opening; closing at 00:00 means midnight."""
    return not (end > start or end == MIDNIGHT)


def _minutes(start: time, end: time) -> tuple[int, int]:
    finish = 24 * 60 if end == MIDNIGHT else end.hour * 60 + end.minute
    return start.hour * 60 + start.minute, finish


def overlapping_pairs(intervals: list[tuple[time, time]]) -> list[tuple[int, int]]:
    """Index pairs of intervals that overlap (touching ends, 08–12 and 12–18, do not)."""
    spans = [
        (*_minutes(start, end), i) for i, (start, end) in enumerate(intervals)
        if not interval_is_inverted(start, end)
    ]
    pairs = []
    for a, (start_a, end_a, i) in enumerate(spans):
        for start_b, end_b, j in spans[a + 1:]:
            if start_a < end_b and start_b < end_a:
                pairs.append((min(i, j), max(i, j)))
    return sorted(pairs)


@dataclass(frozen=True)
class HoursException:
    date: date
    is_closed: bool = True
    start: time | None = None
    end: time | None = None
    note: str = ""


def hours_validate(
    *, weekly: list[tuple[int, time, time]], exceptions: list[HoursException]
) -> None:
    """No inverted intervals and no overlaps on one weekday or one date."""
    errors = []
    labels = dict(BusinessHoursInterval.Weekday.choices)
    for weekday in range(7):
        day = [(start, end) for wd, start, end in weekly if wd == weekday]
        if any(interval_is_inverted(s, e) for s, e in day):
            errors.append(
                _("%(day)s: closing time must be after opening time.") % {"day": labels[weekday]}
            )
        if overlapping_pairs(day):
            errors.append(_("%(day)s: intervals overlap.") % {"day": labels[weekday]})
    if any(wd not in labels for wd, _s, _e in weekly):
        errors.append(_("Unknown weekday."))
    for day in sorted({e.date for e in exceptions}):
        rows = [e for e in exceptions if e.date == day]
        closed = [e for e in rows if e.is_closed]
        special = [(e.start, e.end) for e in rows if not e.is_closed]
        shown = day.isoformat()
        if len(closed) > 1 or (closed and special):
            errors.append(
                _("%(date)s: a date is either closed all day or has special openings, once.")
                % {"date": shown}
            )
        if any(s is None or e is None for s, e in special):
            errors.append(
                _("%(date)s: a special opening needs opening and closing times.")
                % {"date": shown}
            )
            continue
        if any(interval_is_inverted(s, e) for s, e in special):
            errors.append(
                _("%(date)s: closing time must be after opening time.") % {"date": shown}
            )
        if overlapping_pairs(special):
            errors.append(_("%(date)s: intervals overlap.") % {"date": shown})
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def team_hours_replace(
    *,
    organization: Organization,
    team_id: int,
    enabled: bool,
    weekly: list[tuple[int, time, time]],
    exceptions: list[HoursException],
    actor=None,
) -> Team:
    """Replace a team's whole schedule at once: all of it is saved, or none of it."""
    hours_validate(weekly=weekly, exceptions=exceptions)
    team = lock_team(organization, team_id)
    before = hours_snapshot(team)
    team.hours.all().delete()
    team.hour_exceptions.all().delete()
    BusinessHoursInterval.objects.bulk_create(
        BusinessHoursInterval(team=team, weekday=wd, start=start, end=end)
        for wd, start, end in sorted(weekly)
    )
    BusinessHoursException.objects.bulk_create(
        BusinessHoursException(
            team=team, date=e.date, is_closed=e.is_closed,
            start=None if e.is_closed else e.start, end=None if e.is_closed else e.end,
            note=e.note,
        )
        for e in sorted(exceptions, key=lambda e: (e.date, e.start or MIDNIGHT))
    )
    if team.business_hours_enabled != enabled:
        team.business_hours_enabled = enabled
        team.save(update_fields=["business_hours_enabled"])
    config_changed(organization.pk)  # bulk_create sends no signal (teams.receivers)
    audit_record(organization=organization, actor=actor, area=Area.HOURS,
                 action=Action.CHANGED, target=team, target_label=team.name,
                 changes=diff(before, hours_snapshot(team)))
    return team


WEEKDAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _span(start: time | None, end: time | None) -> str:
    return f"{start:%H:%M}–{end:%H:%M}"


def hours_snapshot(team: Team) -> dict:
    """A team's schedule as the audit log shows it."""
    return {
        "business_hours_enabled": team.business_hours_enabled,
        "weekly": [f"{WEEKDAY_CODES[i.weekday]} {_span(i.start, i.end)}"
                   for i in team.hours.order_by("weekday", "start")],
        "exceptions": [
            f"{e.date.isoformat()} " + ("closed" if e.is_closed else _span(e.start, e.end))
            for e in team.hour_exceptions.order_by("date", "start")
        ],
    }
