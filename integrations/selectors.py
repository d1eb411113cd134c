"""Reads of webhook endpoints and their delivery log, always inside one organization."""

from django.db.models import Count, Q, QuerySet

from teams.models import Organization

from .models import WebhookDelivery, WebhookEndpoint

Status = WebhookDelivery.Status


def endpoint_list(*, organization: Organization) -> QuerySet[WebhookEndpoint]:
    """With how many deliveries wait and how many failed, for the managers' list."""
    return WebhookEndpoint.objects.for_org(organization).annotate(
        pending_count=Count("deliveries", filter=Q(deliveries__status=Status.PENDING)),
        failed_count=Count("deliveries", filter=Q(deliveries__status=Status.FAILED)),
    ).order_by("-created_at", "-id")


def endpoint_get(*, organization: Organization, endpoint_id: int) -> WebhookEndpoint:
    return WebhookEndpoint.objects.for_org(organization).get(pk=endpoint_id)


def delivery_list(
    *, organization: Organization, endpoint: WebhookEndpoint | None = None,
    status: str | None = None,
) -> QuerySet[WebhookDelivery]:
    """The log (of one endpoint, or of all), newest first, without the bodies."""
    rows = WebhookDelivery.objects.for_org(organization)
    if endpoint is not None:
        rows = rows.filter(endpoint=endpoint)
    if status:
        rows = rows.filter(status=status)
    return (
        rows.select_related("event")
        .defer("payload", "event__data")
        .order_by("-created_at", "-id")
    )


def delivery_get(*, organization: Organization, delivery_id: int) -> WebhookDelivery:
    return (
        WebhookDelivery.objects.for_org(organization).select_related("event", "endpoint")
        .get(pk=delivery_id)
    )
