from teams.models import Organization

from .models import Lead


def lead_list(*, organization: Organization, filters: dict | None = None):
    """An organization's leads with what their rows display, newest first."""
    qs = Lead.objects.for_org(organization).select_related("team", "assignee__user")
    filters = filters or {}
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("team"):
        qs = qs.filter(team__slug=filters["team"])
    if filters.get("assignee"):
        qs = qs.filter(assignee_id=filters["assignee"])
    if filters.get("external_id"):
        qs = qs.filter(external_id=filters["external_id"])
    return qs.order_by("-created_at", "-id")


def lead_get(*, organization: Organization, lead_id: int) -> Lead:
    """Raises ``Lead.DoesNotExist`` for another organization's lead, as for a missing one."""
    return lead_list(organization=organization).get(pk=lead_id)
