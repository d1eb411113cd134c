"""What the live stream watches: a small, cheap picture of one person's inbox."""

from django.db import connection

from leads.models import Lead
from teams.models import Membership

# The newest unread leads the stream names (for the desktop notification).
NEWEST = 5


def _state_sql() -> str:
    # One aggregate over the ``lead_inbox`` index (organization, assignee, status). Written
    # out rather than built by the ORM on every check: the ORM's compilation of this
    # aggregate cost about as much as running it (docs/benchmarks.md, "The live inbox
    # stream"), paid every second by every open inbox. FILTER works on PostgreSQL and on
    # SQLite >= 3.30.
    return (
        "SELECT"
        " COUNT(*) FILTER (WHERE assignee_id = %(me)s),"
        " COUNT(*) FILTER (WHERE assignee_id = %(me)s AND assignee_accessed_at IS NULL),"
        " COUNT(*) FILTER (WHERE assignee_id IS NULL),"
        " MAX(assigned_at) FILTER (WHERE assignee_id = %(me)s)"
        f" FROM {Lead._meta.db_table}"
        " WHERE organization_id = %(org)s AND status = %(open)s"
        " AND (assignee_id = %(me)s OR assignee_id IS NULL)"
    )


def inbox_state(*, membership: Membership) -> dict:
    """The person's open leads, those they have not opened yet, the queue, and the newest
    arrival. Any lead that reaches them, leaves them, is opened, concluded or queued changes
    it; the stream sends it only when it does."""
    with connection.cursor() as cursor:
        cursor.execute(_state_sql(), {"me": membership.pk, "org": membership.organization_id,
                                      "open": Lead.Status.OPEN})
        mine, unread, unassigned, latest = cursor.fetchone()
    if latest is not None and not isinstance(latest, str):
        latest = latest.isoformat()  # PostgreSQL gives a datetime, SQLite its text
    return {"mine": mine, "unread": unread, "unassigned": unassigned, "latest": latest}


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
