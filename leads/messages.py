"""The customer-facing message that goes back with a lead: who answers, and when.

The one place that words it. Intake, the queue and redirects give the facts (team,
schedule, policy, place in line, language) and get a ``CustomerMessage`` back. Teams may
write their own texts with placeholders; the defaults speak the organization's language
(pt-BR or English).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from overflow.models import MIN_SERVICE_MINUTES
from overflow.selectors import policy_of
from routing.selectors import available_count
from teams.hours import Schedule
from teams.models import Membership, Organization, Team

ASSIGNED = "assigned"
OUT_OF_HOURS = "out_of_hours"
QUEUED = "queued"
UNAVAILABLE = "unavailable"
REDIRECTED = "redirected"
KINDS = (ASSIGNED, OUT_OF_HOURS, QUEUED, UNAVAILABLE, REDIRECTED)

DEFAULTS = {
    ASSIGNED: gettext_lazy(
        "Hello! {first_name} will talk to you; we answer within {minutes} minutes."
    ),
    OUT_OF_HOURS: gettext_lazy(
        # No full stop after the date: English formats end in "a.m." already.
        "We are closed right now. {first_name} will answer you when we open: {next_opening}"
    ),
    QUEUED: gettext_lazy(
        "All our attendants are busy. You are number {position} in line; "
        "the estimated wait is {wait_minutes} minutes."
    ),
    # Queued because nobody can receive leads now (an online-only team with nobody online):
    # not "busy", and no estimate nobody would keep.
    UNAVAILABLE: gettext_lazy(
        # No full stop after {when}: it may end in a date, and English dates end in "a.m.".
        "Nobody is available right now. You are number {position} in line; "
        "we will answer {when}"
    ),
    REDIRECTED: gettext_lazy("This channel does not handle your request: please use {target}."),
}
# The teams' templates declare their placeholders (teams sits below routing);
# the redirect text is routing's own.
PLACEHOLDERS = {
    ASSIGNED: Team.MESSAGE_PLACEHOLDERS["message_assigned"],
    OUT_OF_HOURS: Team.MESSAGE_PLACEHOLDERS["message_out_of_hours"],
    QUEUED: Team.MESSAGE_PLACEHOLDERS["message_queued"],
    UNAVAILABLE: ("position", "when", "team"),
    REDIRECTED: ("target", "team"),
}


class _KeepUnknown(dict):
    def __missing__(self, key):
        return "{" + key + "}"


@dataclass(frozen=True)
class CustomerMessage:
    kind: str
    text: str

    def as_dict(self) -> dict:
        return {"kind": self.kind, "text": self.text}


def when_text(moment: datetime, *, now: datetime | None, tz: tzinfo | None = None) -> str:
    """A moment as a customer reads it, in the active language: "today at 08:00",
    "tomorrow at 08:00", else "30 de novembro de 2026 às 08:00" (months in lower case,
    as Portuguese writes them)."""
    local = moment.astimezone(tz) if tz is not None else moment
    time = date_format(local, "TIME_FORMAT")
    if now is not None:
        today = now.astimezone(local.tzinfo).date()
        if local.date() == today:
            return _("today at %(time)s") % {"time": time}
        if local.date() == today + timedelta(days=1):
            return _("tomorrow at %(time)s") % {"time": time}
    day = date_format(local, "DATE_FORMAT")
    if (translation.get_language() or "").startswith("pt"):
        day = day.lower()
    return _("%(date)s at %(time)s") % {"date": day, "time": time}


def render_message(
    *, kind: str, language: str, template: str = "", now: datetime | None = None, **values
) -> CustomerMessage:
    """Fill the team's template (or the default) in the organization's language.

    Unknown placeholders stay as written, so a typo in a template shows rather
    than breaking the answer. ``now`` turns an opening today or tomorrow into words.
    """
    with translation.override(language):
        text = template or str(DEFAULTS[kind])
        opening = values.get("next_opening")
        if isinstance(opening, datetime):
            # The caller gives it in the organization's time zone.
            values["next_opening"] = when_text(opening, now=now)
        elif kind == OUT_OF_HOURS and opening is None:
            values["next_opening"] = _("as soon as we can")
        return CustomerMessage(kind=kind, text=text.format_map(_KeepUnknown(values)))


def _service_minutes(team: Team | None) -> int:
    policy = policy_of(team)
    return policy.service_minutes if policy is not None else MIN_SERVICE_MINUTES


def customer_message_assigned(
    *, team: Team | None, organization: Organization, membership: Membership,
    schedule: Schedule | None, now: datetime,
) -> CustomerMessage:
    """Who answers and within how long; or, when the team is closed, from when."""
    name = team.name if team else ""
    if schedule is not None and not schedule.is_open(now):
        opening = schedule.next_opening(now)
        return render_message(
            kind=OUT_OF_HOURS, language=organization.language,
            template=team.message_out_of_hours, first_name=membership.first_name,
            next_opening=opening.astimezone(organization.tzinfo) if opening else None,
            team=name, now=now,
        )
    return render_message(
        kind=ASSIGNED, language=organization.language,
        template=team.message_assigned if team else "", first_name=membership.first_name,
        minutes=_service_minutes(team), team=name,
    )


def customer_message_queued(
    *, team: Team | None, organization: Organization, position: int,
    schedule: Schedule | None = None, now: datetime | None = None,
    available: int | None = None,
) -> CustomerMessage:
    """The place in line and, while people who can receive leads are busy, an estimate:
    one service time per round of them. When nobody can receive leads now, no estimate:
    when the team opens next, if it is closed, or as soon as someone is available.

    ``available``: the team's ``available_count``, when the caller has counted it already
    (a batch, for many leads of one team)."""
    if available is None:
        available = available_count(team=team) if team is not None else 0
    name = team.name if team else ""
    if not available:
        opening = (
            schedule.next_opening(now) if schedule is not None and now is not None
            and not schedule.is_open(now) else None
        )
        with translation.override(organization.language):
            when = (
                _("when we open: %(opening)s") % {"opening": when_text(
                    opening, now=now, tz=organization.tzinfo)}
                if opening else _("as soon as someone is available.")
            )
        return render_message(
            kind=UNAVAILABLE, language=organization.language, position=position, when=when,
            team=name,
        )
    rounds = math.ceil(position / available)
    return render_message(
        kind=QUEUED, language=organization.language,
        template=team.message_queued, position=position,
        wait_minutes=rounds * _service_minutes(team), team=name,
    )


def customer_message_redirected(
    *, organization: Organization, target: str, team: Team | None
) -> CustomerMessage:
    """A rule sends the customer to another channel."""
    return render_message(
        kind=REDIRECTED, language=organization.language, target=target,
        team=team.name if team else "",
    )
