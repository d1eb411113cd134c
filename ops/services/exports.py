"""An organization's data as one ZIP of CSV and JSON Lines files, written as a stream.

Rows are read in keyset pages (``id > last ORDER BY id LIMIT n``) and written at once, so
memory stays flat however many leads there are, and no server-side cursor is needed (they
do not survive PgBouncer's transaction pooling). Each table is written as JSON Lines into
the ZIP while its CSV goes to a temporary file on disk, copied in afterwards: one read of
the database per table. A manager asks for an export (``export_request``), a Celery task
builds it (``export_build``) and the link works until ``expires_at``; operators run
``manage.py export_org``.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from audit.services import Action, Area, actor_of, audit_record
from history.models import LeadEvent
from history.services import Actor
from integrations.models import WebhookEndpoint
from leads.models import Lead
from overflow.models import OverflowPolicy
from routing.models import RoutingRule
from teams.models import (
    ApiKey,
    BusinessHoursException,
    BusinessHoursInterval,
    Membership,
    Organization,
    Skill,
    Team,
    TeamMember,
)

from ..models import DataExport, RetentionPolicy

log = logging.getLogger(__name__)

PAGE = 2000
PROGRESS_EVERY = 20_000  # rows between progress updates of a running export

# Columns never exported: secrets, hashes, and what is only derived from other columns.
NEVER = {"organization", "password", "key_hash", "secret", "previous_secret",
         "email_normalized", "phone_normalized", "idempotency_key", "assignee_notified_at",
         "config_version", "rr_last_member"}


@dataclass(frozen=True)
class Table:
    name: str
    rows: Callable[[Organization], QuerySet]
    keyset: bool = False  # large tables: read in pages by id


def _fields(model: type[Model], *extra: str) -> list[str]:
    names = [f.attname for f in model._meta.concrete_fields if f.name not in NEVER]
    return names + list(extra)


TABLES = [
    Table("leads", lambda org: Lead.objects.for_org(org).values(*_fields(Lead)), keyset=True),
    Table("history", lambda org: LeadEvent.objects.for_org(org).values(*_fields(LeadEvent)),
          keyset=True),
    Table("teams", lambda org: Team.objects.filter(organization=org).values(*_fields(Team))),
    Table("team_members", lambda org: TeamMember.objects.filter(team__organization=org)
          .values(*_fields(TeamMember))),
    Table("business_hours", lambda org: BusinessHoursInterval.objects.filter(
        team__organization=org).values(*_fields(BusinessHoursInterval))),
    Table("business_hours_exceptions", lambda org: BusinessHoursException.objects.filter(
        team__organization=org).values(*_fields(BusinessHoursException))),
    Table("overflow_policies", lambda org: OverflowPolicy.objects.filter(
        team__organization=org).values(*_fields(OverflowPolicy))),
    # People: who they are and their role here; never a password hash.
    Table("people", lambda org: Membership.objects.filter(organization=org).values(
        *_fields(Membership), "user__username", "user__first_name", "user__last_name",
        "user__email", "user__last_login")),
    Table("skills", lambda org: Skill.objects.filter(organization=org).values(*_fields(Skill))),
    Table("routing_rules", lambda org: RoutingRule.objects.filter(organization=org)
          .values(*_fields(RoutingRule))),
    Table("webhook_endpoints", lambda org: WebhookEndpoint.objects.filter(organization=org)
          .values(*_fields(WebhookEndpoint))),
    Table("api_keys", lambda org: ApiKey.objects.filter(organization=org)
          .values(*_fields(ApiKey))),
]


def _settings(organization: Organization) -> dict[str, Any]:
    policy = RetentionPolicy.objects.filter(organization=organization).first()
    return {
        "organization": {
            "name": organization.name, "slug": organization.slug,
            "time_zone": organization.time_zone, "language": organization.language,
            "default_team_id": organization.default_team_id,
            "attendants_see_all": organization.attendants_see_all,
            "created_at": organization.created_at,
        },
        "retention": {
            "concluded_lead_months": policy.concluded_lead_months if policy else None,
        },
        "exported_at": timezone.now(),
        "files": {t.name: [f"{t.name}.csv", f"{t.name}.jsonl"] for t in TABLES},
    }


def _pages(queryset: QuerySet) -> Iterator[dict]:
    last = 0
    while True:
        page = list(queryset.filter(pk__gt=last).order_by("pk")[:PAGE])
        if not page:
            return
        yield from page
        last = page[-1]["id"]


# One encoder for every row: json.dumps(cls=...) builds a new one per call, and rows are
# made plain (times as ISO 8601 text) before, so no per-value fallback is needed.
_JSON = json.JSONEncoder(ensure_ascii=False, default=str)


def _plain(row: dict) -> dict:
    return {name: value.isoformat() if isinstance(value, datetime | date | time) else value
            for name, value in row.items()}


def _cell(value: Any) -> Any:
    """A CSV cell: JSON for custom fields and other structures, empty for None."""
    if isinstance(value, dict | list):
        return _JSON.encode(value)
    return "" if value is None else value


def _count(organization: Organization) -> int:
    return sum(t.rows(organization).order_by().count() for t in TABLES)


def export_write(*, organization: Organization, out: IO[bytes],
                 progress: Callable[[int, int], None] | None = None) -> int:
    """Write the organization's ZIP to ``out``; returns the number of rows written.

    ``progress(rows, total)`` is called every ``PROGRESS_EVERY`` rows.
    """
    total = _count(organization) if progress else 0
    written = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("settings.json", json.dumps(
            _settings(organization), cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))
        for table in TABLES:
            queryset = table.rows(organization)
            rows: Iterable[dict] = _pages(queryset) if table.keyset else queryset.order_by("pk")
            header = list(queryset.query.values_select) + list(queryset.query.annotation_select)
            with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as csv_file:
                writer = csv.writer(csv_file)
                writer.writerow(header)
                with archive.open(f"{table.name}.jsonl", "w", force_zip64=True) as jsonl:
                    text = io.TextIOWrapper(jsonl, encoding="utf-8", newline="\n")
                    for row in rows:
                        row = _plain(row)
                        writer.writerow([_cell(row[name]) for name in header])
                        text.write(_JSON.encode(row))
                        text.write("\n")
                        written += 1
                        if progress and written % PROGRESS_EVERY == 0:
                            progress(written, total)
                    text.flush()
                    text.detach()
                csv_file.seek(0)
                with archive.open(f"{table.name}.csv", "w", force_zip64=True) as target:
                    shutil.copyfileobj(_Utf8(csv_file), target, length=1 << 20)
    return written


class _Utf8(io.RawIOBase):
    """A text file read back as UTF-8 bytes, in chunks (for ``copyfileobj``)."""

    def __init__(self, text: IO[str]):
        self.text = text

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self.text.read(size if size and size > 0 else -1).encode("utf-8")


# --- the managers' exports ------------------------------------------------------------------


def export_request(*, organization: Organization, actor: Actor) -> DataExport:
    """A new export, built by a worker once this commits."""
    export = DataExport.objects.create(
        organization=organization, requested_by=actor.user, requested_by_api_key=actor.api_key,
    )
    audit_record(organization=organization, actor=actor_of(actor), area=Area.PRIVACY,
                 action=Action.EXPORTED, target=export, target_label=f"#{export.pk}",
                 changes={})
    from ..tasks import build_export

    transaction.on_commit(lambda: build_export.delay(export.pk))
    return export


def export_build(*, export_id: int, now: datetime | None = None) -> DataExport:
    """Build a requested export (the task); a second run of a finished one does nothing."""
    claimed = DataExport.objects.filter(
        pk=export_id, status__in=[DataExport.Status.PENDING, DataExport.Status.FAILED]
    ).update(status=DataExport.Status.RUNNING, progress=0, error="")
    export = DataExport.objects.select_related("organization").get(pk=export_id)
    if not claimed:
        return export
    organization = export.organization

    def progress(rows: int, total: int) -> None:
        DataExport.objects.filter(pk=export.pk).update(
            rows=rows, progress=min(99, rows * 100 // max(total, 1)))

    name = f"exports/{organization.pk}/{export.pk}-{uuid.uuid4().hex}.zip"
    try:
        with tempfile.TemporaryFile() as archive:
            rows = export_write(organization=organization, out=archive, progress=progress)
            size = archive.tell()
            archive.seek(0)
            name = default_storage.save(name, File(archive))
    except Exception as exc:
        log.exception("export %s of organization %s failed", export.pk, organization.pk)
        DataExport.objects.filter(pk=export.pk).update(
            status=DataExport.Status.FAILED, error=type(exc).__name__[:300],
            finished_at=timezone.now())
        raise
    now = now or timezone.now()
    DataExport.objects.filter(pk=export.pk).update(
        status=DataExport.Status.DONE, progress=100, rows=rows, size=size, file_name=name,
        finished_at=now, expires_at=now + timedelta(hours=settings.EXPORT_LINK_HOURS),
    )
    log.info("export %s of organization %s ready: %d rows, %d bytes", export.pk,
             organization.pk, rows, size, extra={"organization_id": organization.pk})
    export.refresh_from_db()
    return export


def _discard(exports: QuerySet) -> int:
    count = 0
    for export in exports.exclude(file_name=""):
        default_storage.delete(export.file_name)
        DataExport.objects.filter(pk=export.pk).update(file_name="")
        count += 1
    return count


def exports_discard(*, organization: Organization, now: datetime) -> int:
    """Delete every export file of the organization (an erasure makes them out of date)."""
    return _discard(DataExport.objects.for_org(organization))


def exports_prune(*, now: datetime | None = None) -> int:
    """Delete the files of expired exports (hourly); their rows stay, as a record."""
    now = now or timezone.now()
    return _discard(DataExport.objects.filter(expires_at__lt=now))
