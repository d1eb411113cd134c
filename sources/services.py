"""Every write of the sources app: managers' changes (audited) and what the intake URL
receives (a lead per contact, and always a row in the source's log)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import Action, Area, audit_record, created, diff
from history.services import Actor
from leads.models import Lead
from leads.normalize import normalize_email, normalize_phone
from leads.services import lead_create
from teams.models import Organization, Team

from . import payloads
from .models import Source, SourceSubmission, generate_token

Outcome = SourceSubmission.Outcome
# What managers may set; ``lead_source`` may name any Lead.Source but ``import`` is the
# CSV import's, and ``api`` (the default) is what external leads are.
EDITABLE = ("name", "kind", "team", "is_active", "lead_source", "field_mapping",
            "honeypot_field", "allowed_origins", "thank_you_url", "google_key",
            "typeform_secret")
MAPPING_KEYS = ("name", "email", "phone", "external_id")
# Kept in a submission's log row at most (the body limit is SOURCE_MAX_BODY_BYTES).
PAYLOAD_LOG_MAX = 64 * 1024


def _snapshot(source: Source) -> dict[str, Any]:
    """What the audit log records of a source (never its token or secrets)."""
    return {"name": source.name, "kind": source.kind, "team": source.team.slug if source.team
            else None, "is_active": source.is_active, "lead_source": source.lead_source,
            "field_mapping": dict(source.field_mapping), "honeypot_field": source.honeypot_field,
            "allowed_origins": list(source.allowed_origins),
            "thank_you_url": source.thank_you_url,
            "google_key": "…" if source.google_key else "",
            "typeform_secret": "…" if source.typeform_secret else ""}


def _record(organization, actor, source: Source, action: str, changes=None) -> None:
    audit_record(organization=organization, actor=actor, area=Area.SOURCE, action=action,
                 target=source, target_label=source.name, changes=changes)


def _clean(organization: Organization, values: dict[str, Any]) -> dict[str, Any]:
    """Check what a manager gave; errors name the field."""
    errors: dict[str, list[str]] = {}
    if "name" in values:
        values["name"] = (values["name"] or "").strip()
        if not values["name"]:
            errors["name"] = [_("Give the source a name.")]
    if "kind" in values and values["kind"] not in Source.Kind.values:
        errors["kind"] = [_("Unknown kind.")]
    team = values.get("team")
    if isinstance(team, Team) and team.organization_id != organization.pk:
        errors["team"] = [_("Unknown team.")]
    if "lead_source" in values and values["lead_source"] not in (
        Lead.Source.API, Lead.Source.MANUAL, Lead.Source.BOT
    ):
        errors["lead_source"] = [_("Leads from a source arrive as api, manual or bot.")]
    mapping = values.get("field_mapping")
    if mapping is not None:
        if not isinstance(mapping, dict) or any(
            k not in MAPPING_KEYS or not isinstance(v, str) or len(v) > 200
            for k, v in mapping.items()
        ):
            errors["field_mapping"] = [_("Map name, email, phone or external_id to a field "
                                         "name (or a JSON path).")]
        else:
            values["field_mapping"] = {k: v.strip() for k, v in mapping.items() if v.strip()}
    origins = values.get("allowed_origins")
    if origins is not None:
        cleaned = []
        for origin in origins if isinstance(origins, list) else [None]:
            origin = origin.strip().rstrip("/") if isinstance(origin, str) else ""
            parts = urlsplit(origin)
            if origin != "*" and not (parts.scheme in ("http", "https") and parts.netloc
                                      and not parts.path and not parts.query):
                errors["allowed_origins"] = [_("Each origin is “*” or a scheme and host, "
                                               "like https://www.example.com.")]
                break
            cleaned.append(origin)
        values["allowed_origins"] = list(dict.fromkeys(cleaned))[:50]
    url = values.get("thank_you_url")
    if url:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            errors["thank_you_url"] = [_("An http:// or https:// address.")]
        values["thank_you_url"] = url.strip()
    if errors:
        raise ValidationError(errors)
    return values


def _check_kind_settings(source: Source) -> None:
    if source.kind == Source.Kind.GOOGLE_ADS and not source.google_key:
        raise ValidationError({"google_key": [
            _("Google Ads sends this key with each lead: set the same key here and there.")]})
    if source.kind == Source.Kind.TYPEFORM and not source.typeform_secret:
        raise ValidationError({"typeform_secret": [
            _("Typeform signs each lead with this secret: set the same secret here and "
              "in the form's webhook.")]})


def source_create(*, organization: Organization, actor=None, name: str,
                  kind: str = Source.Kind.FORM, **values: Any) -> Source:
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    values = _clean(organization, {"name": name, "kind": kind, **values})
    source = Source(organization=organization, **values)
    _check_kind_settings(source)
    with transaction.atomic():
        source.save()
        _record(organization, actor, source, Action.CREATED, created(_snapshot(source)))
    return source


def source_update(*, organization: Organization, source_id: int, actor=None,
                  **values: Any) -> Source:
    """Change the fields given (the others stay)."""
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    values = _clean(organization, values)
    with transaction.atomic():
        source = Source.objects.for_org(organization).select_for_update().get(pk=source_id)
        before = _snapshot(source)
        for name, value in values.items():
            setattr(source, name, value)
        _check_kind_settings(source)
        source.save()
        _record(organization, actor, source, Action.CHANGED, diff(before, _snapshot(source)))
    return source


def source_delete(*, organization: Organization, source_id: int, actor=None) -> None:
    with transaction.atomic():
        source = Source.objects.for_org(organization).select_for_update().get(pk=source_id)
        _record(organization, actor, source, Action.DELETED)
        source.delete()


def source_rotate_token(*, organization: Organization, source_id: int, actor=None) -> Source:
    """A new intake URL; the old one answers 404 from now on."""
    with transaction.atomic():
        source = Source.objects.for_org(organization).select_for_update().get(pk=source_id)
        source.token = generate_token()
        source.token_rotated_at = timezone.now()
        source.save(update_fields=["token", "token_rotated_at"])
        _record(organization, actor, source, Action.SECRET_ROTATED)
    return source


# --- intake ----------------------------------------------------------------------------


@dataclass
class Received:
    """What the intake view answers: the status, the log's outcome and reason, the leads."""

    status: int
    outcome: str
    code: str = ""
    reason: str = ""
    leads: list[Lead] = field(default_factory=list)


def source_settings(source: Source) -> payloads.Settings:
    return payloads.Settings(
        field_mapping=source.field_mapping or {}, honeypot_field=source.honeypot_field,
        google_key=source.google_key, typeform_secret=source.typeform_secret,
    )


def submission_receive(*, source: Source, request: payloads.Request, content_type: str = "",
                       refusal: payloads.Refused | None = None,
                       now: datetime | None = None) -> Received:
    """Turn one POST into leads and log it; ``refusal`` is a refusal found before parsing
    (source off, origin not allowed, too large, too fast), logged the same way."""
    now = now or timezone.now()
    contacts: list[payloads.Contact] = []
    if refusal is None and payloads.is_spam(source_settings(source), request.data):
        result = Received(status=200, outcome=Outcome.SPAM, reason=_("Honeypot field filled in."))
    elif refusal is None:
        try:
            contacts = payloads.contacts_from(source.kind, source_settings(source), request)
        except payloads.Refused as exc:
            refusal = exc
    if refusal is not None:
        result = Received(status=refusal.status, outcome=Outcome.REFUSED, code=refusal.code,
                          reason=refusal.reason)
    elif contacts:
        result = _create_leads(source=source, contacts=contacts, now=now)
    _log(source=source, request=request, content_type=content_type, result=result,
         contacts=contacts, now=now)
    return result


def _create_leads(*, source: Source, contacts: list[payloads.Contact], now) -> Received:
    organization = source.organization
    leads, created_any = [], False
    for contact in contacts:
        lead, created = lead_create(
            organization=organization, data=contact.as_data(), actor=Actor.system(),
            source=source.lead_source or Lead.Source.API, team=source.team, origin=source,
        )
        leads.append(lead)
        created_any |= created
    if created_any:
        return Received(status=201, outcome=Outcome.CREATED, leads=leads)
    return Received(status=200, outcome=Outcome.DUPLICATE, leads=leads,
                    reason=_("Sent before (same platform id): no new lead."))


def _loggable(request: payloads.Request) -> Any:
    data = request.data
    if data is None:
        text = payloads.storable(request.body[:PAYLOAD_LOG_MAX].decode("utf-8", "replace"))
        return {"_raw": text} if text else {}
    if len(request.body) > PAYLOAD_LOG_MAX:
        return {"_truncated": payloads.storable(
            request.body[:PAYLOAD_LOG_MAX].decode("utf-8", "replace"))}
    return data


def _log(*, source, request, content_type, result: Received, contacts, now) -> None:
    first = contacts[0] if contacts else None
    email = normalize_email(first.email) if first else ""
    phone = normalize_phone(first.phone) if first else ""
    if not first and isinstance(request.data, dict):
        # A refused form still names its person: erasure must find this row.
        email = normalize_email(payloads._text(_find(request.data, "email")))
        phone = normalize_phone(payloads._text(_find(request.data, "phone")))
    with transaction.atomic():
        submission = SourceSubmission.objects.create(
            organization_id=source.organization_id, source=source, received_at=now,
            outcome=result.outcome, status_code=result.status, reason=result.reason[:500],
            content_type=content_type[:200], payload=_loggable(request),
            email_normalized=email[:254], phone_normalized=phone[:32],
        )
        if result.leads:  # new rows: no need to read the links first, as .set() would
            SourceSubmission.leads.through.objects.bulk_create(
                SourceSubmission.leads.through(sourcesubmission=submission, lead=lead)
                for lead in result.leads)
    submissions_prune(source=source)


def _find(data: dict, wanted: str) -> Any:
    name = payloads._pick(data, wanted, {})
    return data.get(name) if name else None


def submissions_prune(*, source: Source, keep: int | None = None) -> int:
    """Keep the newest ``SOURCE_LOG_KEEP`` submissions of a source; returns how many went.

    Run on every write, so the log never grows past its bound; cheap (one indexed read of
    the boundary row, one delete of what is older)."""
    keep = settings.SOURCE_LOG_KEEP if keep is None else keep
    boundary = (SourceSubmission.objects.filter(source=source)
                .order_by("-received_at", "-id").values_list("received_at", "id")[keep:keep + 1])
    boundary = list(boundary)
    if not boundary:
        return 0
    at, pk = boundary[0]
    older = SourceSubmission.objects.filter(source=source, received_at__lt=at)
    same_time = SourceSubmission.objects.filter(source=source, received_at=at, id__lte=pk)
    label = SourceSubmission._meta.label
    return sum(rows.delete()[1].get(label, 0) for rows in (older, same_time))


# --- erasure (ops.services.erasure.ERASERS) --------------------------------------------

ERASED_PAYLOAD = {"_erased": True}


def submissions_erase(*, organization: Organization, lead_ids: Iterable[int],
                      email: str = "", phone: str = "", now: datetime) -> int:
    """Forget the raw payloads that named these leads or this contact (LGPD); the rows stay,
    so the log still shows that something arrived and what became of it."""
    rows = SourceSubmission.objects.for_org(organization).filter(erased_at__isnull=True)
    lead_ids = list(lead_ids)
    matched = rows.filter(leads__id__in=lead_ids).values_list("pk", flat=True) if lead_ids \
        else []
    ids = set(matched)
    if email:
        ids |= set(rows.filter(email_normalized=email).values_list("pk", flat=True))
    if phone:
        ids |= set(rows.filter(phone_normalized=phone).values_list("pk", flat=True))
    if not ids:
        return 0
    return SourceSubmission.objects.filter(pk__in=ids).update(
        payload=ERASED_PAYLOAD, email_normalized="", phone_normalized="", erased_at=now,
    )
