"""CSV imports: upload (encoding and separator detected), mapping, and the streamed import.

The file is read as it is imported, ``BATCH_ROWS`` rows at a time, each batch in one
transaction: its duplicates are looked up with one query against the leads already
stored (earlier batches included), its leads written with one INSERT and their history
with another. Memory stays flat whatever the file's length.
"""

from __future__ import annotations

import codecs
import csv
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from funnel import scoring
from funnel.selectors import active_scoring_rules
from history.models import LeadEvent
from history.services import Actor, event_build, events_save
from leads.api.serializers import PHONE_RE
from leads.models import Lead
from leads.normalize import normalize_email, normalize_phone
from overflow.clock import overflow_arm
from routing.services import choose_many, team_lock
from teams.models import Organization, Team

from .models import FIELDS, ImportIssue, LeadImport

BATCH_ROWS = 1000
SNIFF_BYTES = 64 * 1024
PREVIEW_ROWS = 5
# Header names (lower case, accents as Brazilian spreadsheets write them) each field takes
# by default in the mapping step.
DEFAULT_COLUMNS = {
    "name": ("name", "nome", "nome completo", "full name", "cliente"),
    "email": ("email", "e-mail", "e_mail", "mail", "correio eletrônico"),
    "phone": ("phone", "telefone", "celular", "whatsapp", "fone", "tel", "mobile"),
    "external_id": ("external_id", "external id", "id", "código", "codigo", "crm id"),
}
MAX_LENGTHS = {"name": 200, "email": 254, "phone": 32, "external_id": 128}
MAX_CUSTOM_CHARS = 1000


# --- upload ------------------------------------------------------------------------------


def detect_format(head: bytes) -> tuple[str, str]:
    """(encoding, separator) of a CSV file from its first bytes.

    UTF-8 when the bytes decode as UTF-8 (a multi-byte character cut at the end of the
    sample is allowed), else Windows-1252 (Brazilian Excel; a superset of Latin-1's
    printable characters). The separator is the one of ``;`` and ``,`` that the header
    line has more of (Excel in Portuguese writes ``;``).
    """
    encoding = "utf-8"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        encoding = "cp1252"
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    text = head.decode(encoding, errors="replace")
    header = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    delimiter = ";" if header.count(";") > header.count(",") else ","
    return encoding, delimiter


def _reader(stream: IO[bytes], *, encoding: str, delimiter: str) -> Iterator[list[str]]:
    # cp1252 leaves 5 bytes undefined; they are kept (as Latin-1 would) rather than fail.
    text = io.TextIOWrapper(stream, encoding=encoding, newline="",
                            errors="strict" if encoding.startswith("utf-8") else "replace")
    return csv.reader(text, delimiter=delimiter)


def default_mapping(columns: list[str]) -> dict[str, int]:
    names = [c.strip().lower() for c in columns]
    mapping = {}
    for field, candidates in DEFAULT_COLUMNS.items():
        for index, name in enumerate(names):
            if name in candidates and index not in mapping.values():
                mapping[field] = index
                break
    return mapping


def import_upload(*, organization: Organization, uploaded: File, user=None) -> LeadImport:
    """Keep an uploaded CSV and read its header: the import waits for its mapping.

    Refuses (``ValidationError`` on ``file``) an empty file, one over
    ``IMPORT_MAX_BYTES``, one that is not text, or one without a header row.
    """
    size = uploaded.size or 0
    if size == 0:
        raise ValidationError({"file": [_("The file is empty.")]})
    if size > settings.IMPORT_MAX_BYTES:
        raise ValidationError({"file": [
            _("The file is too large: at most %(mb)d MB.")
            % {"mb": settings.IMPORT_MAX_BYTES // 2**20}]})
    uploaded.seek(0)
    head = uploaded.read(SNIFF_BYTES)
    if b"\x00" in head:
        raise ValidationError({"file": [_("This is not a CSV file (it has binary data).")]})
    encoding, delimiter = detect_format(head)
    try:
        # From the sample (a character cut at its end is dropped), not the upload, which a
        # text wrapper would close when it is collected.
        text = head.decode(encoding, errors="ignore" if len(head) == SNIFF_BYTES else "strict")
        columns = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValidationError({"file": [_("The file could not be read as CSV: %(error)s")
                                        % {"error": exc}]}) from exc
    columns = [c.strip().lstrip("\ufeff") for c in columns]
    if not any(columns):
        raise ValidationError({"file": [_("The first row must name the columns.")]})
    uploaded.seek(0)
    name = default_storage.save(f"imports/{organization.pk}/{uuid.uuid4().hex}.csv", uploaded)
    return LeadImport.objects.create(
        organization=organization, uploaded_by=user, original_name=(uploaded.name or "")[-255:],
        file_name=name, size=size, encoding=encoding, delimiter=delimiter, columns=columns,
        mapping=default_mapping(columns),
    )


def import_preview(lead_import: LeadImport, rows: int = PREVIEW_ROWS) -> list[list[str]]:
    """The first rows after the header, as the mapping step shows them."""
    with default_storage.open(lead_import.file_name, "rb") as stream:
        reader = _reader(stream, encoding=lead_import.encoding,
                         delimiter=lead_import.delimiter)
        try:
            next(reader, None)
            return [row for _, row in zip(range(rows), reader, strict=False)]
        except (UnicodeDecodeError, csv.Error):
            return []


def import_start(*, organization: Organization, import_id: int, mapping: dict[str, int],
                 team: Team | None) -> LeadImport:
    """Save the manager's mapping and team, and queue the import (a Celery task)."""
    from .tasks import run_import

    with transaction.atomic():
        lead_import = import_queue(organization=organization, import_id=import_id,
                                   mapping=mapping, team=team)
        transaction.on_commit(lambda: run_import.delay(lead_import.pk))
    return lead_import


def import_queue(*, organization: Organization, import_id: int, mapping: dict[str, int],
                 team: Team | None) -> LeadImport:
    """Check and save the mapping and team: the import is ready to run (``import_run``)."""
    with transaction.atomic():
        lead_import = (LeadImport.objects.for_org(organization).select_for_update()
                       .get(pk=import_id))
        if lead_import.status != LeadImport.Status.UPLOADED:
            raise ValidationError(_("This import has already started."))
        mapping = {f: i for f, i in mapping.items() if i is not None}
        if any(f not in FIELDS or not 0 <= i < len(lead_import.columns)
               for f, i in mapping.items()):
            raise ValidationError({"mapping": [_("Choose columns of the file.")]})
        if len(set(mapping.values())) != len(mapping):
            raise ValidationError({"mapping": [_("Each column can fill one field only.")]})
        if "email" not in mapping and "phone" not in mapping:
            raise ValidationError({"mapping": [
                _("Choose the column with the e-mail or the one with the phone.")]})
        if team is not None and (team.organization_id != organization.pk or team.is_archived):
            raise ValidationError({"team": [_("Choose one of your organization's teams.")]})
        lead_import.mapping = mapping
        lead_import.team = team
        lead_import.status = LeadImport.Status.QUEUED
        lead_import.save(update_fields=["mapping", "team", "status"])
    return lead_import


# --- the import ----------------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    values: list[str]
    data: dict[str, Any]
    email: str = ""
    phone: str = ""


def _parse(row: list[str], number: int, lead_import: LeadImport) -> _Row | ImportIssue:
    """A row's lead fields and custom fields, or why it is rejected."""
    mapping = lead_import.mapping
    columns = lead_import.columns

    def rejected(reason):
        return ImportIssue(lead_import=lead_import, row=number,
                           outcome=ImportIssue.Outcome.REJECTED, reason=reason[:300],
                           values=row)

    data: dict[str, Any] = {}
    for field, index in mapping.items():
        value = row[index].strip() if index < len(row) else ""
        if len(value) > MAX_LENGTHS[field]:
            return rejected(_("%(field)s is longer than %(n)d characters.")
                            % {"field": field, "n": MAX_LENGTHS[field]})
        data[field] = value
    email = data.get("email", "").lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            return rejected(_("“%(value)s” is not an e-mail address.") % {"value": email[:100]})
    data["email"] = email
    phone = data.get("phone", "")
    if phone and not PHONE_RE.match(phone):
        return rejected(_("“%(value)s” is not a phone number.") % {"value": phone[:100]})
    if not email and not phone:
        return rejected(_("No e-mail and no phone."))
    mapped = set(mapping.values())
    data["custom"] = {
        (columns[i] or f"column_{i + 1}"): value[:MAX_CUSTOM_CHARS]
        for i, value in enumerate(row[:len(columns)]) if i not in mapped and value.strip()
    }
    return _Row(number=number, values=row, data=data, email=normalize_email(email),
                phone=normalize_phone(phone))


def _existing(organization: Organization, rows: list[_Row]) -> dict[tuple[str, str], int]:
    """Leads already stored with one of the rows' external ids, e-mails or phones:
    ``{(field, value): lead id}``, in one query."""
    externals = {r.data["external_id"] for r in rows if r.data.get("external_id")}
    emails = {r.email for r in rows if r.email}
    phones = {r.phone for r in rows if r.phone}
    match = Q(pk__in=[])
    if externals:
        match |= Q(external_id__in=externals)
    if emails:
        match |= Q(email_normalized__in=emails)
    if phones:
        match |= Q(phone_normalized__in=phones)
    found: dict[tuple[str, str], int] = {}
    stored = (Lead.objects.for_org(organization).filter(match).order_by("pk")
              .values_list("pk", "external_id", "email_normalized", "phone_normalized"))
    for pk, external_id, email, phone in stored:
        for key in (("external_id", external_id), ("email", email), ("phone", phone)):
            if key[1]:
                found.setdefault(key, pk)
    return found


def _duplicate_reason(row: _Row, seen: dict[tuple[str, str], int | str],
                      labels: dict[str, str]) -> str | None:
    for key in (("external_id", row.data.get("external_id", "")), ("email", row.email),
                ("phone", row.phone)):
        if key[1] and key in seen:
            other = seen[key]
            if isinstance(other, int):
                return _("Same %(field)s as lead #%(id)d.") % {"field": labels[key[0]],
                                                               "id": other}
            return _("Same %(field)s as row %(row)s of this file.") % {
                "field": labels[key[0]], "row": other}
    return None


def _write_batch(lead_import: LeadImport, rows: list[_Row], *, actor: Actor,
                 team: Team | None, now: datetime) -> tuple[int, list[ImportIssue]]:
    """Create the batch's new leads in one transaction; the duplicates' issues."""
    organization = lead_import.organization
    issues: list[ImportIssue] = []
    with transaction.atomic():
        seen: dict[tuple[str, str], int | str] = dict(_existing(organization, rows))
        fresh: list[_Row] = []
        labels = {"external_id": _("external id"), "email": _("e-mail"), "phone": _("phone")}
        for row in rows:
            reason = _duplicate_reason(row, seen, labels)
            if reason:
                issues.append(ImportIssue(
                    lead_import=lead_import, row=row.number, values=row.values,
                    outcome=ImportIssue.Outcome.DUPLICATE, reason=reason))
                continue
            for key in (("external_id", row.data.get("external_id", "")),
                        ("email", row.email), ("phone", row.phone)):
                if key[1]:
                    seen[key] = str(row.number)
            fresh.append(row)
        rules = active_scoring_rules(organization=organization)
        behaviours = scoring.behaviours_seen(returning=False, opened_in_time=False,
                                             reached_qualified=False)
        # The team's rotation, one lead after the other as arrivals are routed, read once
        # for the whole batch (routing.choose_many).
        choices = (choose_many(team=team_lock(team), count=len(fresh), now=now)
                   if team is not None and fresh else [None] * len(fresh))
        leads = []
        for row, choice in zip(fresh, choices, strict=True):
            data = row.data
            facts = scoring.lead_facts(source=Lead.Source.IMPORT, email=row.email,
                                       phone=row.phone, name=data.get("name", ""),
                                       custom=data["custom"], returning=False)
            lead = Lead(
                organization=organization, team=team, name=data.get("name", ""),
                email=data.get("email", ""), phone=data.get("phone", ""),
                email_normalized=row.email, phone_normalized=row.phone,
                external_id=data.get("external_id") or None, custom=data["custom"],
                source=Lead.Source.IMPORT, created_at=now,
                score=scoring.score(rules, facts, behaviours).total,
            )
            if choice is not None:
                lead.assignee = choice.membership
                lead.assigned_at = now
            # Imported leads never overflow (rule 1); without an attendant they wait.
            overflow_arm(lead=lead, team=team, now=now)
            leads.append(lead)
        Lead.objects.bulk_create(leads)
        system = Actor.system()
        events = []
        for lead, choice in zip(leads, choices, strict=True):
            events.append(event_build(lead=lead, type=LeadEvent.Type.CREATED, actor=actor,
                                      at=now, data={"source": Lead.Source.IMPORT,
                                                    "import_id": lead_import.pk}))
            if choice is not None:
                events.append(event_build(
                    lead=lead, type=LeadEvent.Type.ASSIGNED, actor=system, at=now,
                    to_member=choice.membership,
                    data={"how": choice.how, "strategy": team.strategy, "team_id": team.pk}))
            elif team is not None:
                events.append(event_build(lead=lead, type=LeadEvent.Type.QUEUED, actor=system,
                                          at=now, data={"team_id": team.pk}))
        events_save(events)
        ImportIssue.objects.bulk_create(issues)
    return len(leads), issues


def import_run(*, import_id: int) -> LeadImport:
    """Import the file of a queued import: the Celery task's work (and the command's)."""
    claimed = LeadImport.objects.filter(pk=import_id, status=LeadImport.Status.QUEUED).update(
        status=LeadImport.Status.RUNNING, started_at=timezone.now())
    lead_import = LeadImport.objects.select_related("organization", "team", "uploaded_by").get(
        pk=import_id)
    if not claimed:
        return lead_import  # already run (a redelivered task), or not mapped yet
    # The reasons of the report in the organization's language, whoever runs the task.
    with translation.override(lead_import.organization.language):
        _import_rows(lead_import)
    # The file's personal data is not kept past its import; the report keeps only the rows
    # that did not become leads.
    default_storage.delete(lead_import.file_name)
    lead_import.refresh_from_db()
    return lead_import


def _import_rows(lead_import: LeadImport) -> None:
    actor = (Actor.for_user(lead_import.uploaded_by) if lead_import.uploaded_by
             else Actor.system())
    team = lead_import.team
    counts = {"rows": 0, "created": 0, "duplicates": 0, "rejected": 0}
    try:
        with default_storage.open(lead_import.file_name, "rb") as stream:
            reader = _reader(stream, encoding=lead_import.encoding,
                             delimiter=lead_import.delimiter)
            next(reader, None)  # the header
            batch: list[_Row] = []
            rejected: list[ImportIssue] = []
            for number, row in enumerate(reader, start=2):
                if not any(v.strip() for v in row):
                    continue
                counts["rows"] += 1
                parsed = _parse(row, number, lead_import)
                if isinstance(parsed, ImportIssue):
                    rejected.append(parsed)
                else:
                    batch.append(parsed)
                if len(batch) + len(rejected) >= BATCH_ROWS:
                    _flush(lead_import, batch, rejected, counts, actor=actor, team=team,
                           position=stream.tell())
                    batch, rejected = [], []
            _flush(lead_import, batch, rejected, counts, actor=actor, team=team,
                   position=lead_import.size)
    except (UnicodeDecodeError, csv.Error, OSError) as exc:
        LeadImport.objects.filter(pk=lead_import.pk).update(
            status=LeadImport.Status.FAILED, finished_at=timezone.now(),
            error=(_("Stopped after row %(row)d: %(error)s")
                   % {"row": counts["rows"] + 1, "error": exc})[:500], **counts)
    else:
        LeadImport.objects.filter(pk=lead_import.pk).update(
            status=LeadImport.Status.DONE, progress=100, finished_at=timezone.now(), **counts)


def _flush(lead_import, batch, rejected, counts, *, actor, team, position) -> None:
    if batch:
        for attempt in range(2):
            try:
                created, duplicates = _write_batch(lead_import, batch, actor=actor, team=team,
                                                   now=timezone.now())
                break
            except IntegrityError:
                # A lead with one of these external ids arrived meanwhile: look again.
                if attempt:
                    raise
    else:
        created, duplicates = 0, []
    ImportIssue.objects.bulk_create(rejected)
    counts["created"] += created
    counts["duplicates"] += len(duplicates)
    counts["rejected"] += len(rejected)
    progress = min(99, int(position * 100 / lead_import.size)) if lead_import.size else 0
    LeadImport.objects.filter(pk=lead_import.pk).update(progress=progress, **counts)


# --- the report ---------------------------------------------------------------------------


def report_rows(lead_import: LeadImport) -> Iterator[list[str]]:
    """The report as CSV rows: each row of the file that did not become a lead, and why."""
    yield [_("row"), _("outcome"), _("reason"), *lead_import.columns]
    issues = lead_import.issues.order_by("row").values_list("row", "outcome", "reason",
                                                             "values")
    labels = dict(ImportIssue.Outcome.choices)
    for row, outcome, reason, values in issues.iterator(chunk_size=2000):
        yield [str(row), str(labels.get(outcome, outcome)), reason, *values]
