"""Who can take a lead right now."""

from django.db.models import Count, Q

from teams.models import Membership, Team, TeamMember


def active_members(*, team: Team) -> list[TeamMember]:
    """The team's rotation: active members of active memberships, in the manager's order."""
    return list(
        TeamMember.objects.filter(team=team, is_active=True, membership__is_active=True)
        .select_related("membership")
        .order_by("order", "id")
    )


def open_lead_counts(*, membership_ids) -> dict[int, int]:
    """Open leads held by each membership (for capacity)."""
    ids = list(membership_ids)
    if not ids:
        return {}
    rows = (
        Membership.objects.filter(id__in=ids)
        .annotate(n=Count("assigned_leads", filter=Q(assigned_leads__status="open")))
        .values_list("id", "n")
    )
    return dict(rows)


def can_take(*, member: TeamMember, team: Team, open_counts: dict[int, int]) -> bool:
    """Presence (when the team is online-only) and capacity (when set)."""
    if team.online_only and member.membership.presence != Membership.Presence.ONLINE:
        return False
    if member.capacity is not None and open_counts.get(member.membership_id, 0) >= member.capacity:
        return False
    return True


def available_members(*, team: Team) -> list[TeamMember]:
    members = active_members(team=team)
    with_capacity = [m.membership_id for m in members if m.capacity is not None]
    counts = open_lead_counts(membership_ids=with_capacity)
    return [m for m in members if can_take(member=m, team=team, open_counts=counts)]
