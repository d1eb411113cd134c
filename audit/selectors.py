"""Reads of the audit log, always inside one organization."""

from datetime import date, datetime, time, timedelta

from django.db.models import Max, QuerySet

from .models import AuditEvent


def audit_list(
    *,
    organization,
    area: str | None = None,
    person_id: int | None = None,
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEvent]:
    """Newest first. ``person_id`` is the acting membership; ``since``/``until`` are days of
    the organization's calendar, both included."""
    events = AuditEvent.objects.for_org(organization)
    if area:
        events = events.filter(area=area)
    if person_id:
        events = events.filter(actor_membership_id=person_id)
    tz = organization.tzinfo
    if since:
        events = events.filter(created_at__gte=datetime.combine(since, time(0), tz))
    if until:
        events = events.filter(
            created_at__lt=datetime.combine(until + timedelta(days=1), time(0), tz))
    return events.order_by("-created_at", "-id")


def audit_people(*, organization) -> list[tuple[int, str]]:
    """The people who changed something, as (membership id, name as last recorded)."""
    latest = (
        AuditEvent.objects.for_org(organization)
        .filter(actor_membership__isnull=False)
        .values("actor_membership_id").annotate(latest=Max("id")).values("latest")
    )
    people = AuditEvent.objects.filter(pk__in=latest).values_list(
        "actor_membership_id", "actor_label")
    return sorted(people, key=lambda item: item[1].lower())
