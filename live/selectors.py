"""What the live stream watches: a small, cheap picture of one person's inbox."""

from django.db.models import Count, Max, Q

from leads.models import Lead
from teams.models import Membership

# The newest unread leads the stream names (for the desktop notification).
NEWEST = 5


def inbox_state(*, membership: Membership) -> dict:
    """The person's open leads, those they have not opened yet, the queue, and the newest
    arrival: one aggregate over the ``lead_inbox`` index. Any lead that reaches them, leaves
    them, is opened, concluded or queued changes it; the stream sends it only when it does."""
    mine = Q(assignee=membership)
    state = (
        Lead.objects.for_org(membership.organization)
        .filter(status=Lead.Status.OPEN)
        .filter(mine | Q(assignee__isnull=True))
        .aggregate(
            mine=Count("id", filter=mine),
            unread=Count("id", filter=mine & Q(assignee_accessed_at__isnull=True)),
            unassigned=Count("id", filter=Q(assignee__isnull=True)),
            latest=Max("assigned_at", filter=mine),
        )
    )
    state["latest"] = state["latest"].isoformat() if state["latest"] else None
    return state


def newest_unread(*, membership: Membership, limit: int = NEWEST) -> list[dict]:
    """The person's newest leads they have not opened: id and what the inbox calls them
    (name, else e-mail, else phone), newest arrival first."""
    rows = (
        Lead.objects.for_org(membership.organization)
        .filter(assignee=membership, status=Lead.Status.OPEN, assignee_accessed_at__isnull=True)
        .order_by("-assigned_at", "-id")
        .only("id", "name", "email", "phone")[:limit]
    )
    return [{"id": lead.pk, "name": str(lead)} for lead in rows]
