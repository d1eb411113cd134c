"""Retention: concluded leads older than an organization's limit lose their personal data."""

from __future__ import annotations

import calendar
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from history.services import Actor
from leads.models import Lead
from teams.models import Organization

from ..models import ErasureRecord, RetentionPolicy
from .erasure import leads_erase

BATCH = 500


def retention_set(*, organization: Organization, concluded_lead_months: int | None
                  ) -> RetentionPolicy:
    if concluded_lead_months is not None and not 1 <= concluded_lead_months <= 120:
        raise ValidationError(
            {"concluded_lead_months": [_("Give a number of months from 1 to 120, or none.")]})
    policy, _created = RetentionPolicy.objects.update_or_create(
        organization=organization,
        defaults={"concluded_lead_months": concluded_lead_months},
    )
    return policy


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (the month's last day
    when that month is shorter: 31 March less one month is 28 or 29 February)."""
    years, month_index = divmod(moment.month - 1 - months, 12)
    year, month = moment.year + years, month_index + 1
    return moment.replace(year=year, month=month,
                          day=min(moment.day, calendar.monthrange(year, month)[1]))


def retention_apply(*, organization: Organization, months: int, now: datetime) -> int:
    """Erase this organization's concluded leads past the limit, batch by batch."""
    cutoff = months_before(now, months)
    erased = 0
    while True:
        with transaction.atomic():
            ids = list(
                Lead.objects.for_org(organization)
                .filter(status=Lead.Status.CONCLUDED, concluded_at__lt=cutoff,
                        erased_at__isnull=True)
                .order_by("pk").select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:BATCH]
            )
            if not ids:
                return erased
            leads_erase(organization=organization, lead_ids=ids, actor=Actor.system(),
                        kind=ErasureRecord.Kind.RETENTION, now=now)
            erased += len(ids)


def retention_run(*, now: datetime | None = None) -> int:
    """Every organization with a limit (daily, by beat); returns how many leads were erased."""
    now = now or timezone.now()
    total = 0
    policies = RetentionPolicy.objects.filter(concluded_lead_months__isnull=False)
    for policy in policies.select_related("organization"):
        total += retention_apply(organization=policy.organization,
                                 months=policy.concluded_lead_months, now=now)
    return total
