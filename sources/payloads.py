"""Each kind of source turns its platform's payload into leads: pure functions, no database.

One function per kind (``KINDS``), each tested with the platform's documented sample payload
(tests/fixtures/sources/, tests/test_sources_payloads.py). A function returns the contacts
the payload holds, or raises ``Refused`` with the HTTP status and a reason for the log.
Unknown fields are never an error: they go to ``custom``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

# What the lead's columns hold at most (leads.models.Lead), and the API's custom limits.
NAME_MAX, EMAIL_MAX, PHONE_MAX, EXTERNAL_ID_MAX = 200, 254, 32, 128
CUSTOM_MAX_KEYS = 100
CUSTOM_VALUE_MAX = 2000
MAX_DEPTH = 32
PHONE_RE = re.compile(r"^\+?[0-9 ()\-.]{6,32}$")

# Form fields that mean the name, e-mail and phone when the source maps none (lowercase).
DEFAULT_FORM_FIELDS = {
    "name": ("name", "nome", "full_name", "fullname", "nome_completo", "your-name"),
    "email": ("email", "e-mail", "e_mail", "mail", "your-email"),
    "phone": ("phone", "telefone", "celular", "whatsapp", "tel", "fone", "mobile",
              "mobile_phone", "personal_phone", "your-phone"),
}
# Form fields that never become custom fields: the honeypot and browser/CSRF noise.
IGNORED_FORM_FIELDS = frozenset({"csrfmiddlewaretoken", "submit", "_redirect"})


class Refused(Exception):
    """A payload that cannot become a lead: ``status`` is the answer, ``code`` its key."""

    def __init__(self, status: int, code: str, reason: str):
        super().__init__(reason)
        self.status, self.code, self.reason = status, code, str(reason)


@dataclass
class Contact:
    """One lead as a payload gives it (leads.services.lead_create's ``data``)."""

    name: str = ""
    email: str = ""
    phone: str = ""
    external_id: str | None = None
    custom: dict[str, Any] = field(default_factory=dict)

    def as_data(self) -> dict[str, Any]:
        return {"name": self.name, "email": self.email, "phone": self.phone,
                "external_id": self.external_id, "custom": self.custom}


@dataclass(frozen=True)
class Settings:
    """What a payload function reads of its source (sources.models.Source)."""

    field_mapping: Mapping[str, str] = field(default_factory=dict)
    honeypot_field: str = ""
    google_key: str = ""
    typeform_secret: str = ""


@dataclass(frozen=True)
class Request:
    """The parts of the HTTP request the functions need: parsed body, raw body, headers."""

    data: Any
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


def storable(value: Any, depth: int = 0) -> Any:
    """The payload as the database can keep it: text without NUL characters or lone
    surrogates (PostgreSQL refuses both), nesting cut at ``MAX_DEPTH``. A platform's odd
    byte never turns a lead away."""
    if isinstance(value, str):
        return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    if depth >= MAX_DEPTH:
        return None
    if isinstance(value, dict):
        return {storable(k, depth + 1): storable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v, depth + 1) for v in value]
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value).strip()


def _custom_value(value: Any) -> Any:
    if isinstance(value, str):
        return value[:CUSTOM_VALUE_MAX]
    if isinstance(value, bool | int | float) or value is None:
        return value
    text = json.dumps(value, ensure_ascii=False, default=str)
    return value if len(text) <= CUSTOM_VALUE_MAX else text[:CUSTOM_VALUE_MAX]


def _external_id(prefix: str, value: Any) -> str | None:
    """The platform's id, prefixed by the kind (ids of two platforms never collide); a hash
    when too long for the column."""
    text = _text(value)
    if not text:
        return None
    full = f"{prefix}:{text}"
    if len(full) <= EXTERNAL_ID_MAX:
        return full
    return f"{prefix}:sha256:{hashlib.sha256(text.encode()).hexdigest()}"


def finish(contact: Contact) -> Contact:
    """Fit the contact to the lead's columns; a contact with neither a valid e-mail nor a
    phone is refused. An invalid e-mail or phone is kept in ``custom``, not lost."""
    contact.name = contact.name[:NAME_MAX]
    email = contact.email.strip().lower()
    if email:
        try:
            validate_email(email)
            if len(email) > EMAIL_MAX:
                raise ValidationError("too long")
        except ValidationError:
            contact.custom.setdefault("invalid_email", contact.email[:CUSTOM_VALUE_MAX])
            email = ""
    contact.email = email
    phone = contact.phone.strip()
    if phone and not PHONE_RE.match(phone):
        contact.custom.setdefault("invalid_phone", phone[:CUSTOM_VALUE_MAX])
        phone = ""
    contact.phone = phone[:PHONE_MAX]
    if len(contact.custom) > CUSTOM_MAX_KEYS:
        contact.custom = dict(list(contact.custom.items())[:CUSTOM_MAX_KEYS])
    contact.custom = {str(k)[:100]: _custom_value(v) for k, v in contact.custom.items()}
    if not contact.email and not contact.phone:
        raise Refused(400, "contact", _("No e-mail and no phone: give at least one."))
    return contact


# --- form ------------------------------------------------------------------------------


def _pick(fields: Mapping[str, Any], wanted: str, mapping: Mapping[str, str]) -> str | None:
    """The incoming field name that holds ``wanted`` (name, email, phone), if any."""
    by_lower = {str(k).lower(): k for k in fields}
    names = [mapping[wanted]] if mapping.get(wanted) else DEFAULT_FORM_FIELDS[wanted]
    for candidate in names:
        if candidate.lower() in by_lower:
            return by_lower[candidate.lower()]
    return None


def is_spam(settings: Settings, data: Any) -> bool:
    """The honeypot: a field people never see; a bot that fills it in is not a lead."""
    if not settings.honeypot_field or not isinstance(data, Mapping):
        return False
    return bool(_text(data.get(settings.honeypot_field)))


def form(settings: Settings, request: Request) -> list[Contact]:
    """A landing page's form (urlencoded, multipart or a flat JSON object)."""
    data = request.data
    if not isinstance(data, Mapping):
        raise Refused(400, "payload", _("Send the form's fields as an object."))
    chosen = {key: _pick(data, key, settings.field_mapping) for key in DEFAULT_FORM_FIELDS}
    contact = Contact(**{key: _text(data[name]) if name else "" for key, name in chosen.items()})
    skip = set(chosen.values()) | IGNORED_FORM_FIELDS | {settings.honeypot_field}
    contact.custom = {k: v for k, v in data.items() if k not in skip and _text(v) != ""}
    return [finish(contact)]


# --- google_ads ------------------------------------------------------------------------

GOOGLE_FIELDS = {"FULL_NAME": "name", "EMAIL": "email", "WORK_EMAIL": "email",
                 "PHONE_NUMBER": "phone", "WORK_PHONE": "phone"}
GOOGLE_EXTRAS = ("campaign_id", "adgroup_id", "creative_id", "form_id", "gcl_id",
                 "api_version", "asset_group_id", "lead_submit_time", "is_test")


def google_ads(settings: Settings, request: Request) -> list[Contact]:
    """Google Ads lead form webhook: ``user_column_data`` (``column_id``/``string_value``),
    ``lead_id`` (the external id), and ``google_key``, which must match the source's."""
    data = request.data
    if not isinstance(data, Mapping):
        raise Refused(400, "payload", _("Expected Google Ads' JSON object."))
    given = _text(data.get("google_key"))
    if not settings.google_key or not hmac.compare_digest(
        given.encode(), settings.google_key.encode()
    ):
        raise Refused(403, "google_key", _("Wrong google_key: it must be the key set on the "
                                          "source."))
    columns = data.get("user_column_data")
    if not isinstance(columns, list):
        raise Refused(400, "payload", _("No user_column_data in the payload."))
    contact = Contact(external_id=_external_id("google_ads", data.get("lead_id")))
    first, last = "", ""
    for column in columns:
        if not isinstance(column, Mapping):
            continue
        column_id = _text(column.get("column_id")).upper()
        value = _text(column.get("string_value"))
        target = GOOGLE_FIELDS.get(column_id)
        if target and not getattr(contact, target):
            setattr(contact, target, value)
        elif column_id == "FIRST_NAME":
            first = value
        elif column_id == "LAST_NAME":
            last = value
        elif value:
            key = column_id.lower() or _text(column.get("column_name"))
            contact.custom[key] = value
    if not contact.name:
        contact.name = f"{first} {last}".strip()
    contact.custom.update({k: data[k] for k in GOOGLE_EXTRAS if data.get(k) not in (None, "")})
    return [finish(contact)]


# --- rd_station ------------------------------------------------------------------------

RD_CONTACT_FIELDS = {"name", "email", "personal_phone", "mobile_phone", "uuid", "id",
                     "custom_fields", "last_conversion", "first_conversion"}


def _rd_contact(entry: Mapping[str, Any], *, at: Any) -> Contact:
    uuid = entry.get("uuid") or entry.get("id")
    contact = Contact(
        name=_text(entry.get("name")),
        email=_text(entry.get("email")),
        phone=_text(entry.get("mobile_phone") or entry.get("personal_phone")),
        external_id=_external_id("rd_station", f"{uuid}:{at}") if uuid else None,
    )
    custom = entry.get("custom_fields")
    if isinstance(custom, Mapping):
        contact.custom.update(custom)
    for key, value in entry.items():
        if key not in RD_CONTACT_FIELDS and value not in (None, "", [], {}):
            contact.custom[key] = value
    return contact


def rd_station(settings: Settings, request: Request) -> list[Contact]:
    """RD Station Marketing: the conversion webhook (``{"leads": [...]}``, one lead each)
    and the newer event (``{"event_type": "WEBHOOK.CONVERTED", "contact": {...}}``)."""
    data = request.data
    if not isinstance(data, Mapping):
        raise Refused(400, "payload", _("Expected RD Station's JSON object."))
    if isinstance(data.get("leads"), list):
        contacts = []
        for entry in data["leads"]:
            if not isinstance(entry, Mapping):
                continue
            conversion = entry.get("last_conversion") or {}
            at = conversion.get("created_at") if isinstance(conversion, Mapping) else None
            contact = _rd_contact(entry, at=at or entry.get("created_at"))
            if isinstance(conversion, Mapping) and conversion.get("source"):
                contact.custom.setdefault("conversion", conversion.get("source"))
            contacts.append(contact)
        if not contacts:
            raise Refused(400, "payload", _("The leads list is empty."))
        return _finish_all(contacts)
    if isinstance(data.get("contact"), Mapping):
        contact = _rd_contact(data["contact"], at=data.get("event_timestamp"))
        for key in ("event_type", "event_identifier"):
            if data.get(key):
                contact.custom[key] = data[key]
        return [finish(contact)]
    raise Refused(400, "payload", _("Expected RD Station's “leads” list or “contact”."))


def _finish_all(contacts: list[Contact]) -> list[Contact]:
    """Every contact of a list that can become a lead; refused only when none can."""
    done, refusal = [], None
    for contact in contacts:
        try:
            done.append(finish(contact))
        except Refused as exc:
            refusal = exc
    if not done and refusal is not None:
        raise refusal
    return done


# --- typeform --------------------------------------------------------------------------

TYPEFORM_ANSWER = {"text": "text", "email": "email", "phone_number": "phone_number",
                   "number": "number", "boolean": "boolean", "date": "date", "url": "url",
                   "file_url": "file_url", "payment": "payment"}


def typeform_signature_ok(secret: str, body: bytes, header: str) -> bool:
    """``Typeform-Signature: sha256=<base64 of HMAC-SHA256(secret, raw body)>``."""
    expected = "sha256=" + base64.b64encode(
        hmac.new(secret.encode(), body, hashlib.sha256).digest()
    ).decode()
    return hmac.compare_digest(expected.encode(), (header or "").encode())


def _typeform_value(answer: Mapping[str, Any]) -> Any:
    kind = answer.get("type")
    if kind == "choice":
        choice = answer.get("choice") or {}
        return choice.get("label") or choice.get("other")
    if kind == "choices":
        choices = answer.get("choices") or {}
        return [*(choices.get("labels") or []), *([choices["other"]] if choices.get("other")
                                                 else [])]
    return answer.get(TYPEFORM_ANSWER.get(kind, kind))


def typeform(settings: Settings, request: Request) -> list[Contact]:
    """Typeform's ``form_response`` webhook, signed with the source's secret; answers are
    read by their field's ``ref`` (the mapping names refs), else by their type."""
    if not settings.typeform_secret or not typeform_signature_ok(
        settings.typeform_secret, request.body, request.headers.get("Typeform-Signature", "")
    ):
        raise Refused(403, "signature", _("Wrong or missing Typeform-Signature."))
    data = request.data
    response = data.get("form_response") if isinstance(data, Mapping) else None
    if not isinstance(response, Mapping):
        raise Refused(400, "payload", _("No form_response in the payload."))
    mapping = settings.field_mapping
    contact = Contact(external_id=_external_id("typeform", response.get("token")))
    wanted = {mapping[k]: k for k in ("name", "email", "phone") if mapping.get(k)}
    for answer in response.get("answers") or []:
        if not isinstance(answer, Mapping):
            continue
        ref = _text((answer.get("field") or {}).get("ref")) or _text(
            (answer.get("field") or {}).get("id"))
        value = _typeform_value(answer)
        target = wanted.get(ref)
        if target is None and ref not in wanted:
            kind = answer.get("type")
            if kind == "email" and not contact.email and "email" not in mapping:
                target = "email"
            elif kind == "phone_number" and not contact.phone and "phone" not in mapping:
                target = "phone"
            elif ("name" in ref.lower() or "nome" in ref.lower()) and not contact.name and (
                "name" not in mapping
            ):
                target = "name"
        if target and not getattr(contact, target):
            setattr(contact, target, _text(value))
        elif value not in (None, "", []):
            contact.custom[ref] = value
    hidden = response.get("hidden")
    if isinstance(hidden, Mapping):
        contact.custom.update({f"hidden_{k}": v for k, v in hidden.items()})
    if response.get("form_id"):
        contact.custom["form_id"] = response["form_id"]
    return [finish(contact)]


# --- generic ---------------------------------------------------------------------------

GENERIC_TARGETS = ("name", "email", "phone", "external_id")


def json_path(data: Any, path: str) -> Any:
    """``data.contact.email`` or ``items.0.email``: keys and list indexes, dot-separated."""
    value = data
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def generic(settings: Settings, request: Request) -> list[Contact]:
    """Any JSON object: the mapping names the JSON path of each lead field (defaults: the
    form's field names at the top level); the other top-level fields go to ``custom``."""
    data = request.data
    if not isinstance(data, Mapping):
        raise Refused(400, "payload", _("Send a JSON object."))
    mapping = settings.field_mapping
    contact = Contact()
    used = set()
    for target in GENERIC_TARGETS:
        path = mapping.get(target)
        if not path and target != "external_id":
            path = _pick(data, target, {})
        if not path:
            continue
        value = json_path(data, path)
        if value is not None:
            used.add(path)  # a top-level field; a nested one leaves its parent in custom
            if target == "external_id":
                contact.external_id = _external_id("generic", value)
            else:
                setattr(contact, target, _text(value))
    contact.custom = {k: v for k, v in data.items() if k not in used and v not in (None, "")}
    return [finish(contact)]


KINDS: dict[str, Callable[[Settings, Request], list[Contact]]] = {
    "form": form,
    "google_ads": google_ads,
    "rd_station": rd_station,
    "typeform": typeform,
    "generic": generic,
}


def contacts_from(kind: str, settings: Settings, request: Request) -> list[Contact]:
    return KINDS[kind](settings, request)
