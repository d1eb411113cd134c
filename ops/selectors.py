"""Reads of the operations app: the gauges operators alert on, across organizations."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.db.models import Min
from django.utils import timezone

from integrations.models import WebhookDelivery
from leads.models import Lead

from .metrics import age_seconds
from .models import DataExport, ErasureRecord, RetentionPolicy


@dataclass(frozen=True)
class Gauges:
    sweep_lag: float
    due_leads: int
    queue_length: int
    pending_deliveries: int
    oldest_pending_delivery: float


def operational_gauges(*, now=None) -> Gauges:
    """Every organization together: these describe the installation, not a tenant."""
    now = now or timezone.now()
    overflowing = Lead.objects.filter(overflow_active=True).order_by()
    oldest_due = overflowing.aggregate(oldest=Min("overflow_due_at"))["oldest"]
    due = overflowing.filter(overflow_due_at__lte=now).count() if oldest_due and (
        oldest_due <= now) else 0
    pending = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).order_by()
    pending_stats = pending.aggregate(oldest=Min("created_at"))
    return Gauges(
        sweep_lag=age_seconds(oldest_due, now),
        due_leads=due,
        queue_length=Lead.objects.filter(
            assignee__isnull=True, status=Lead.Status.OPEN, team__isnull=False
        ).order_by().count(),
        pending_deliveries=pending.count() if pending_stats["oldest"] else 0,
        oldest_pending_delivery=age_seconds(pending_stats["oldest"], now),
    )


def export_file(export):
    return default_storage.open(export.file_name, "rb")


def export_download_name(export) -> str:
    return f"transbordo-{export.organization.slug}-{export.created_at:%Y-%m-%d}-{export.pk}.zip"


def retention_of(organization):
    return (RetentionPolicy.objects.filter(organization=organization).first()
            or RetentionPolicy(organization=organization))


def exports_recent(*, organization, limit: int = 10):
    return DataExport.objects.for_org(organization).select_related("requested_by")[:limit]


def erasures_recent(*, organization, limit: int = 20):
    return ErasureRecord.objects.for_org(organization).select_related("actor_user",
                                                                       "actor_api_key")[:limit]
