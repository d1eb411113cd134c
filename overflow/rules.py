"""The overflow rules of PRODUCT.md, one function each.

Pure decisions: they read what they are given and write nothing. The sweep in
``overflow.services`` and lead intake in ``leads.services`` apply them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from teams.hours import Schedule

from .models import MAX_SERVICE_MINUTES, MIN_SERVICE_MINUTES, OverflowPolicy

# Rule 1: the sources that overflow. Bot handoffs only when the team opts in.
OVERFLOW_SOURCES = frozenset({"api"})


def source_overflows(*, source: str, policy: OverflowPolicy) -> bool:
    """Rule 1: only API leads overflow (bot handoffs when the team opts them in)."""
    return source in OVERFLOW_SOURCES or (source == "bot" and policy.include_bot_leads)


def validate_service_minutes(minutes: int) -> None:
    """Rule 4: the service time is at least ten minutes (and at most a week)."""
    if minutes is None or minutes < MIN_SERVICE_MINUTES:
        raise ValidationError(
            _("The service time must be at least %(min)d minutes.") % {"min": MIN_SERVICE_MINUTES},
            code="min_service_minutes",
        )
    if minutes > MAX_SERVICE_MINUTES:
        raise ValidationError(
            _("The service time may be at most %(max)d minutes (a week).")
            % {"max": MAX_SERVICE_MINUTES},
            code="max_service_minutes",
        )


MIN_ACTIVE_ATTENDANTS = 2


def has_enough_attendants(active_membership_ids: Iterable[int]) -> bool:
    """Rule 3: overflow needs at least two active attendants in its pool."""
    return len(set(active_membership_ids)) >= MIN_ACTIVE_ATTENDANTS


def too_few_attendants_error(count: int) -> ValidationError:
    return ValidationError(
        _(
            "Overflow needs at least %(min)d active attendants in the team (or in its "
            "further teams); there are %(count)d."
        )
        % {"min": MIN_ACTIVE_ATTENDANTS, "count": count},
        code="too_few_attendants",
    )


def arrives_in_hours(*, schedule: Schedule, at: datetime) -> bool:
    """Rule 6: leads that arrive outside business hours are not overflowed."""
    return schedule.is_open(at)


def service_deadline(*, schedule: Schedule, start: datetime, policy: OverflowPolicy):
    """Rule 6: the service clock runs only inside business hours."""
    return schedule.add_open_minutes(start, policy.service_minutes)


@dataclass(frozen=True)
class PoolMember:
    membership_id: int
    team_id: int


def next_attendant(
    *,
    pool: list[list[PoolMember]],
    current_id: int | None,
    held: set[int],
    can_take: Callable[[PoolMember], bool] = lambda _m: True,
) -> PoolMember | None:
    """Rules 2 and 7: the next attendant who has never held the lead.

    ``pool`` is the lead's own team first, then the further teams in the
    manager's order (cross-team). Inside the team that holds the lead now, the
    walk starts right after the current holder and wraps around.
    """
    for members in pool:
        ids = [m.membership_id for m in members]
        if current_id in ids:
            at = ids.index(current_id) + 1
            members = members[at:] + members[:at]
        for member in members:
            if member.membership_id not in held and can_take(member):
                return member
    return None


def all_tried(*, pool_ids: Iterable[int], held: set[int]) -> bool:
    """Rule 5: the lead has passed through every active attendant of its pool."""
    return set(pool_ids) <= held


def limit_reached(*, transfer_count: int, policy: OverflowPolicy) -> bool:
    """Rule 5: the team's transfer limit stops the lead where it is."""
    return policy.max_transfers is not None and transfer_count >= policy.max_transfers
