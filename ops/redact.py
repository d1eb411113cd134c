"""Secrets that travel in URLs, kept out of logs and error reports.

A lead source's intake URL (``/in/<token>``) carries its token: whoever reads a log line or
a Sentry event holding it could post leads. Loaded by the settings before Django's apps
(ops.sentry) and by logging: it imports nothing.
"""

import re

REDACTED = "[redacted]"
# /in/<token> anywhere in a text: a path, a full URL, a log message.
_INTAKE = re.compile(r"(/in/)[^/?#\s\"']+")


def redact(text: str) -> str:
    """The text with every intake token replaced."""
    if not text or "/in/" not in text:
        return text
    return _INTAKE.sub(rf"\g<1>{REDACTED}", text)
