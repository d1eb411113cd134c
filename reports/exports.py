"""CSV exports that open correctly in a spreadsheet, Brazilian Excel included.

UTF-8 with a byte-order mark (Excel otherwise reads UTF-8 as Windows-1252), the
separator of the reader's choice (``;`` is what Excel expects where the decimal mark
is a comma), times in the organization's time zone, and cells that a spreadsheet
would run as a formula neutralised. Rows are written as they are read, a few
thousand at a time, so an export of any size holds only a chunk in memory.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.http import StreamingHttpResponse
from django.utils.translation import gettext_lazy as _

BOM = "\ufeff"
SEPARATORS = {"semicolon": ";", "comma": ","}
# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets
# (OWASP's CSV injection list): such text is written after an apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 2000


def neutralise(value: str) -> str:
    """Text a spreadsheet would run as a formula, made plain text."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    value: Callable


def _cell(value, tz: ZoneInfo, decimal_mark: str):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", decimal_mark)
    if isinstance(value, str):
        return neutralise(value)
    return value


class _Line:
    """csv.writer writes into this and gets the line back (Django's streaming recipe)."""

    def write(self, value):
        return value


def csv_lines(*, columns: list[Column], rows: Iterable, tz: ZoneInfo, separator: str = ",",
              labels: bool = True) -> Iterator[str]:
    """The BOM and the header, then one line per row, lazily. With ``;`` between cells
    the decimal mark is a comma, as a spreadsheet set up that way reads numbers.

    The header is worked out now, in the request's language: the lines are written
    later, while the response streams.
    """
    writer = csv.writer(_Line(), delimiter=separator, lineterminator="\r\n")
    decimal_mark = "," if separator == ";" else "."
    header = BOM + writer.writerow([str(c.label) if labels else c.key for c in columns])

    def lines():
        yield header
        for row in rows:
            yield writer.writerow([_cell(c.value(row), tz, decimal_mark) for c in columns])

    return lines()


def csv_response(lines: Iterator[str], *, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        (line.encode("utf-8") for line in lines), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _whole(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds)


def _percent(rate: float | None) -> float | None:
    return None if rate is None else 100.0 * rate


def _seconds_to_first_access(lead) -> int | None:
    if lead.first_accessed_at is None:
        return None
    return max(0, round((lead.first_accessed_at - lead.created_at).total_seconds()))


LEAD_COLUMNS = [
    Column("id", _("Id"), lambda lead: lead.pk),
    Column("created_at", _("Received at"), lambda lead: lead.created_at),
    Column("name", _("Name"), lambda lead: lead.name),
    Column("email", _("E-mail"), lambda lead: lead.email),
    Column("phone", _("Phone"), lambda lead: lead.phone),
    Column("source", _("Source"), lambda lead: lead.source),
    Column("external_id", _("External id"), lambda lead: lead.external_id),
    Column("team", _("Team"), lambda lead: lead.team.name if lead.team else None),
    Column("status", _("Status"), lambda lead: lead.status),
    Column("assignee_id", _("Attendant id"), lambda lead: lead.assignee_id),
    Column("assignee", _("Attendant"),
           lambda lead: lead.assignee.display_name if lead.assignee else None),
    Column("first_accessed_at", _("First opened at"), lambda lead: lead.first_accessed_at),
    Column("seconds_to_first_access", _("Seconds to first opening"), _seconds_to_first_access),
    Column("transfers", _("Overflow transfers"), lambda lead: lead.transfer_count),
    Column("overflow_state", _("Overflow state"), lambda lead: lead.overflow_reason),
    Column("concluded_at", _("Concluded at"), lambda lead: lead.concluded_at),
    Column("stage", _("Stage"), lambda lead: lead.stage),
    Column("lost_reason", _("Lost reason"), lambda lead: lead.lost_reason or None),
    Column("score", _("Score"), lambda lead: lead.score),
]

ATTENDANT_COLUMNS = [
    Column("id", _("Id"), lambda a: a.id),
    Column("name", _("Attendant"), lambda a: a.name),
    Column("received", _("Received"), lambda a: a.received),
    Column("opened", _("Opened"), lambda a: a.opened),
    Column("p50_seconds", _("Median seconds to open"), lambda a: _whole(a.p50_seconds)),
    Column("p90_seconds", _("p90 seconds to open"), lambda a: _whole(a.p90_seconds)),
    Column("p50_service_seconds", _("Median seconds to open, business hours"),
           lambda a: _whole(a.p50_service_seconds)),
    Column("p90_service_seconds", _("p90 seconds to open, business hours"),
           lambda a: _whole(a.p90_service_seconds)),
    Column("missed", _("Missed (overflowed away)"), lambda a: a.missed),
    Column("overflow_rate_percent", _("Overflow rate (%)"), lambda a: _percent(a.overflow_rate)),
    Column("concluded", _("Concluded"), lambda a: a.concluded),
    Column("open_now", _("Open now"), lambda a: a.open_now),
]


def lead_rows(leads) -> Iterator:
    """The leads, read a chunk at a time (a server-side cursor on PostgreSQL)."""
    return leads.select_related("team", "assignee__user").iterator(chunk_size=CHUNK_ROWS)
