"""The customer-facing message that goes back with a lead: who answers, and when.

Teams may write their own texts with placeholders; the defaults speak the
organization's language (pt-BR or English).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from teams.models import Team

ASSIGNED = "assigned"
OUT_OF_HOURS = "out_of_hours"
QUEUED = "queued"
REDIRECTED = "redirected"

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
    REDIRECTED: gettext_lazy("This channel does not handle your request: please use {target}."),
}
# The teams' templates declare their placeholders (teams sits below routing);
# the redirect text is routing's own.
PLACEHOLDERS = {
    ASSIGNED: Team.MESSAGE_PLACEHOLDERS["message_assigned"],
    OUT_OF_HOURS: Team.MESSAGE_PLACEHOLDERS["message_out_of_hours"],
    QUEUED: Team.MESSAGE_PLACEHOLDERS["message_queued"],
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


def render_message(
    *, kind: str, language: str, template: str = "", **values
) -> CustomerMessage:
    """Fill the team's template (or the default) in the organization's language.

    Unknown placeholders stay as written, so a typo in a template shows rather
    than breaking the answer.
    """
    with translation.override(language):
        text = template or str(DEFAULTS[kind])
        opening = values.get("next_opening")
        if isinstance(opening, datetime):
            # The caller gives it in the organization's time zone.
            values["next_opening"] = date_format(opening, "DATETIME_FORMAT")
        elif kind == OUT_OF_HOURS and opening is None:
            values["next_opening"] = _("as soon as we can")
        return CustomerMessage(kind=kind, text=text.format_map(_KeepUnknown(values)))
