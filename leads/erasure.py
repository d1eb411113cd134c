"""A lead's personal data, erased on request (LGPD) or when its retention period ends.

The lead stays (its team, holders, times and transfers feed the managers' numbers); its
name, e-mail, phone and custom field values become a marker, and its normalized contact
is cleared, so returning-customer matching no longer finds the person.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from teams.models import Organization

from .models import Lead
from .normalize import normalize_email, normalize_phone

ERASED = "[erased]"
BATCH = 500


def lead_ids_for_contact(*, organization: Organization, email: str = "", phone: str = ""
                         ) -> list[int]:
    """Every lead of the organization with this e-mail or phone, however it was typed,
    locked until the caller's transaction ends."""
    email, phone = normalize_email(email), normalize_phone(phone)
    leads = Lead.objects.for_org(organization).order_by("pk")
    matches = leads.none()
    if email:
        matches |= leads.filter(email_normalized=email)
    if phone:
        matches |= leads.filter(phone_normalized=phone)
    return list(matches.select_for_update().values_list("pk", flat=True))


def leads_erase_personal_data(*, organization: Organization, lead_ids: Iterable[int],
                              now: datetime) -> int:
    """Replace the leads' personal data by the marker; returns how many leads changed."""
    ids = list(lead_ids)
    erased = 0
    for start in range(0, len(ids), BATCH):
        leads = list(Lead.objects.for_org(organization).filter(pk__in=ids[start:start + BATCH])
                     .only("pk", "custom"))
        for lead in leads:
            lead.name = lead.email = lead.phone = ERASED
            lead.email_normalized = lead.phone_normalized = ""
            lead.custom = {key: ERASED for key in (lead.custom or {})}
            lead.erased_at = now
        Lead.objects.bulk_update(leads, ["name", "email", "phone", "email_normalized",
                                         "phone_normalized", "custom", "erased_at"])
        erased += len(leads)
    return erased
