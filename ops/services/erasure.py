"""Erasure of a person's data (LGPD): on request, by e-mail or phone, and by retention.

Each app that keeps personal data about leads has an eraser; ``ERASERS`` runs them all in
one transaction, and an ``ErasureRecord`` says who erased what and when. A new app that
keeps such data (as the lead sources' submission logs do) adds its eraser to ``ERASERS``:
a function ``(organization, lead_ids, contact, now) -> int`` that erases what it holds of
those leads or of that contact (which is None for retention) and returns how many rows it
changed. ``tests/test_ops_erasure.py`` scans every text and JSON column of every table for
the erased contact, so a forgotten eraser fails there.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import Action, Area, actor_of, audit_record, created
from history.services import Actor, events_erase_personal_data
from integrations.services import deliveries_purge_for_leads
from leads.erasure import ERASED, lead_ids_for_contact, leads_erase_personal_data
from leads.models import Lead
from leads.normalize import normalize_email, normalize_phone
from sources.services import submissions_erase
from teams.models import Organization

from ..models import ErasureRecord
from .exports import exports_discard


@dataclass(frozen=True)
class Contact:
    """A person as the request names them, normalized as leads store it."""

    email: str = ""
    phone: str = ""

    def hashes(self) -> list[str]:
        return [contact_hash(value) for value in (self.email, self.phone) if value]


def contact_hash(value: str) -> str:
    """A keyed hash of a normalized contact: checkable later, not reversible."""
    return hmac.new(settings.SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def _leads(organization, lead_ids, contact, now) -> int:
    return leads_erase_personal_data(organization=organization, lead_ids=lead_ids, now=now)


def _history(organization, lead_ids, contact, now) -> int:
    return events_erase_personal_data(organization=organization, lead_ids=lead_ids)


def _webhook_deliveries(organization, lead_ids, contact, now) -> int:
    return deliveries_purge_for_leads(organization=organization, lead_ids=lead_ids)


def _source_submissions(organization, lead_ids, contact, now) -> int:
    """The raw payloads sources logged: of these leads, and, on request, of this person's
    refused posts that never became a lead."""
    return submissions_erase(organization=organization, lead_ids=lead_ids,
                             email=contact.email if contact else "",
                             phone=contact.phone if contact else "", now=now)


def _admin_log(organization, lead_ids, contact, now) -> int:
    """Django admin's log names the objects it changed: a lead's name, for one."""
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Lead),
        object_id__in=[str(pk) for pk in lead_ids],
    ).update(object_repr=ERASED, change_message="")


def _exports(organization, lead_ids, contact, now) -> int:
    """Earlier exports are snapshots that still hold the person: their files go."""
    return exports_discard(organization=organization, now=now) if lead_ids else 0


Eraser = Callable[[Organization, list[int], "Contact | None", datetime], int]
# Every place that keeps personal data of leads, by name (the keys of ErasureRecord.counts).
ERASERS: dict[str, Eraser] = {
    "leads": _leads,
    "history": _history,
    "webhook_deliveries": _webhook_deliveries,
    "admin_log": _admin_log,
    "exports": _exports,
    "source_submissions": _source_submissions,
}


def contact_erase(*, organization: Organization, actor: Actor, email: str = "",
                  phone: str = "", now: datetime | None = None) -> ErasureRecord:
    """Erase every lead of this e-mail or phone, everywhere; returns the audit record."""
    contact = Contact(email=normalize_email(email), phone=normalize_phone(phone))
    if not contact.email and not contact.phone:
        raise ValidationError({"email": [_("Give the e-mail or the phone to erase.")]})
    now = now or timezone.now()
    with transaction.atomic():
        lead_ids = lead_ids_for_contact(organization=organization, email=contact.email,
                                        phone=contact.phone)
        return _erase(organization=organization, lead_ids=lead_ids, contact=contact,
                      kind=ErasureRecord.Kind.REQUEST, actor=actor, now=now)


def leads_erase(*, organization: Organization, lead_ids: list[int], actor: Actor,
                kind: str, now: datetime) -> ErasureRecord:
    """Erase these leads (retention); the caller holds the transaction."""
    return _erase(organization=organization, lead_ids=lead_ids, contact=None, kind=kind,
                  actor=actor, now=now)


def _erase(*, organization, lead_ids, contact, kind, actor, now) -> ErasureRecord:
    counts = {name: eraser(organization, lead_ids, contact, now)
              for name, eraser in ERASERS.items()}
    record = ErasureRecord.objects.create(
        organization=organization, kind=kind, actor_user=actor.user,
        actor_api_key=actor.api_key, contact_hashes=contact.hashes() if contact else [],
        leads=len(lead_ids), counts=counts, created_at=now,
    )
    # The managers' audit log says who erased how much, when; never whom (the record keeps
    # only a keyed hash of the contact).
    audit_record(organization=organization, actor=actor_of(actor), area=Area.PRIVACY,
                 action=Action.ERASED, target=record, target_label=f"#{record.pk}",
                 changes=created({"kind": kind, "leads": len(lead_ids), **counts}))
    return record
