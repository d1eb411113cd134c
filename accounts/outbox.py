"""Development e-mail: printed to the console as before, and kept in ``var/outbox/`` so that
the ``/dev/outbox/`` page (DEBUG only) shows the links of invitations, confirmations and
resets without a terminal. ``make run`` uses it unless ``EMAIL_URL`` says otherwise."""

from __future__ import annotations

import email
import email.policy
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.console import EmailBackend as ConsoleBackend

KEEP = 50  # messages kept; older ones are deleted as new ones come


def _folder() -> Path:
    return Path(settings.EMAIL_OUTBOX_DIR)


class OutboxBackend(ConsoleBackend):
    def __init__(self, *args, **kwargs):
        # On standard error: a command's standard output stays its own (create_org prints
        # only the link there).
        kwargs.setdefault("stream", sys.stderr)
        super().__init__(*args, **kwargs)

    def send_messages(self, email_messages):
        sent = super().send_messages(email_messages)
        folder = _folder()
        folder.mkdir(parents=True, exist_ok=True)
        for n, message in enumerate(email_messages or ()):
            name = f"{time.time_ns()}-{n}.eml"
            (folder / name).write_bytes(message.message().as_bytes())
        for old in sorted(folder.glob("*.eml"))[:-KEEP]:
            old.unlink(missing_ok=True)
        return sent


def outbox_messages(limit: int = 20) -> list[dict]:
    """The newest messages first: to, subject, date and plain-text body."""
    messages = []
    for path in sorted(_folder().glob("*.eml"), reverse=True)[:limit]:
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = parsed.get_body(preferencelist=("plain",))
        messages.append({
            "to": parsed["To"], "subject": parsed["Subject"], "date": parsed["Date"],
            "body": body.get_content() if body is not None else "",
        })
    return messages
