"""A delivery's last error as a manager reads it.

``WebhookDelivery.last_error`` keeps what the worker saw, for the API and for whoever
debugs the receiver (``ConnectionRefusedError: [Errno 111] Connection refused``); the
delivery log shows a sentence in the reader's language instead, with the original kept
beside it. Errors already written for people (an HTTP status and its body, "No answer
within 5 seconds.", an address refused) are shown as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

# "SomeError: detail" as delivery_send writes an OSError or http.client.HTTPException.
TECHNICAL = re.compile(r"^(?P<name>(?=[A-Za-z_])[\w.]*(?:Error|Exception|Disconnected|"
                       r"IncompleteRead|BadStatusLine|LineTooLong|gaierror))\b:?\s*(?P<detail>.*)$",
                       re.S)
ERRNO = re.compile(r"\[Errno (-?\d+)\]")


def _by_name(name: str, detail: str) -> str | None:
    short = name.rsplit(".", 1)[-1]
    if short == "ConnectionRefusedError":
        return _("Connection refused by the receiver: nothing accepts connections at that "
                 "address and port.")
    if short in ("ConnectionResetError", "ConnectionAbortedError", "BrokenPipeError"):
        return _("The receiver dropped the connection before answering.")
    if short == "RemoteDisconnected":
        return _("The receiver closed the connection without answering.")
    if short == "SSLCertVerificationError" or "CERTIFICATE_VERIFY_FAILED" in detail:
        return _("The receiver's HTTPS certificate could not be verified (expired, "
                 "self-signed or for another name).")
    if short.startswith("SSL"):
        return _("The secure (HTTPS) connection to the receiver failed.")
    if short in ("IncompleteRead", "BadStatusLine", "LineTooLong", "HTTPException"):
        return _("The receiver's answer was not valid HTTP.")
    if short == "gaierror":
        return _("The receiver's host name could not be found.")
    return None


def _by_errno(number: int) -> str | None:
    return {
        101: _("The network to the receiver is unreachable."),
        110: _("The connection to the receiver timed out."),
        111: _("Connection refused by the receiver: nothing accepts connections at that "
               "address and port."),
        113: _("No route to the receiver's address."),
    }.get(number)


@dataclass(frozen=True)
class ReadableError:
    text: str
    original: str = ""  # the technical text, when ``text`` replaces it


def readable_error(raw: str) -> ReadableError:
    raw = (raw or "").strip()
    match = TECHNICAL.match(raw)
    if not match:
        return ReadableError(text=raw)
    errno = ERRNO.search(match["detail"])
    text = _by_name(match["name"], match["detail"]) or (
        _by_errno(int(errno.group(1))) if errno else None)
    if text is None:
        text = _("The connection to the receiver failed.")
    return ReadableError(text=text, original=raw)
