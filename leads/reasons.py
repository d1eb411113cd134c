"""Why an event happened, in words: the codes stored in the history, translated.

The history stores short codes (``attendant_offline``, ``all_tried``); pages show the
sentence. A code nobody listed yet is shown humanised, never raw.
"""

from django.utils.translation import gettext_lazy as _

from .models import Lead
from .queue import AWAY, IDLE, OFFLINE

EVENT_REASONS = {
    **dict(Lead.OverflowReason.choices),
    OFFLINE: _("the attendant went offline"),
    AWAY: _("the attendant went away"),
    IDLE: _("the attendant was idle too long"),
    "redirected": _("sent to another channel by a rule"),
}

# What a bot sends as a transcript author; anything else (a bot's or person's name) stays.
TRANSCRIPT_AUTHORS = {
    "customer": _("Customer"),
    "client": _("Customer"),
    "user": _("Customer"),
    "bot": _("Bot"),
    "assistant": _("Bot"),
    "agent": _("Attendant"),
    "attendant": _("Attendant"),
    "system": _("System"),
}


def event_reason_label(code: str) -> str:
    if not code:
        return ""
    label = EVENT_REASONS.get(code)
    return str(label) if label is not None else code.replace("_", " ")


def transcript_author_label(author: str) -> str:
    label = TRANSCRIPT_AUTHORS.get((author or "").strip().casefold())
    return str(label) if label is not None else author
