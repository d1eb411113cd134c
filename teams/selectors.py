"""Reads for the managers' pages. Every one names the organization; a foreign id is missing."""

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _lazy

from .models import ApiKey, Membership, Organization, Skill, Team, TeamMember


def team_list(*, organization: Organization, archived: bool = False) -> QuerySet[Team]:
    """The organization's teams with their member counts, hours and whether overflow is on."""
    return (
        Team.objects.for_org(organization)
        .filter(is_archived=archived)
        .select_related("overflow_policy")
        .prefetch_related("hours")  # the list sums up each team's hours
        .annotate(
            member_count=Count("members"),
            active_member_count=Count(
                "members",
                filter=Q(members__is_active=True, members__membership__is_active=True),
            ),
        )
        .order_by("name", "id")
    )


def team_get(*, organization: Organization, team_id: int) -> Team:
    """Raises ``Team.DoesNotExist`` for another organization's team, as for a missing one."""
    return Team.objects.for_org(organization).get(pk=team_id)


def team_for_hours(*, organization: Organization, team_id: int) -> Team:
    """A team with its weekly intervals and dated exceptions loaded."""
    return (
        Team.objects.for_org(organization)
        .prefetch_related("hours", "hour_exceptions")
        .get(pk=team_id)
    )


def team_members(*, team: Team) -> list[TeamMember]:
    """The team's rotation in the manager's order, inactive members included."""
    return list(
        TeamMember.objects.filter(team=team)
        .select_related("membership__user")
        .order_by("order", "id")
    )


def team_member_get(*, organization: Organization, team: Team, member_id: int) -> TeamMember:
    return TeamMember.objects.select_related("membership__user", "team").get(
        pk=member_id, team=team, team__organization=organization
    )


def team_active_attendant_count(*, team: Team) -> int:
    return TeamMember.objects.filter(
        team=team, is_active=True, membership__is_active=True
    ).count()


def people_addable_to_team(*, organization: Organization, team: Team) -> QuerySet[Membership]:
    """Active people of the organization who are not in the team yet."""
    return (
        Membership.objects.for_org(organization)
        .filter(is_active=True)
        .exclude(team_memberships__team=team)
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "user__username")
    )


def people_list(*, organization: Organization) -> QuerySet[Membership]:
    """Everyone in the organization, active first, with their teams."""
    return (
        Membership.objects.for_org(organization)
        .select_related("user", "organization")
        .prefetch_related(
            Prefetch(
                "team_memberships",
                queryset=TeamMember.objects.select_related("team").order_by("team__name"),
            )
        )
        .order_by("-is_active", "user__first_name", "user__last_name", "user__username")
    )


def membership_get(*, organization: Organization, membership_id: int) -> Membership:
    """Raises ``Membership.DoesNotExist`` for another organization's person."""
    return (
        Membership.objects.for_org(organization)
        .select_related("user", "organization")
        .get(pk=membership_id)
    )


def active_manager_count(*, organization: Organization) -> int:
    return (
        Membership.objects.for_org(organization)
        .filter(is_active=True, role__in=[Membership.Role.OWNER, Membership.Role.MANAGER])
        .count()
    )


def api_key_list(*, organization: Organization) -> QuerySet[ApiKey]:
    return (
        ApiKey.objects.for_org(organization)
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )


def api_key_get(*, organization: Organization, key_id: int) -> ApiKey:
    return ApiKey.objects.for_org(organization).select_related("created_by").get(pk=key_id)


def skill_list(*, organization: Organization) -> QuerySet[Skill]:
    """The organization's skills by name, each with how many active people hold it."""
    return (
        Skill.objects.for_org(organization)
        .annotate(holder_count=Count("memberships", filter=Q(memberships__is_active=True)))
        .order_by("name", "id")
    )


def skill_get(*, organization: Organization, skill_id: int) -> Skill:
    """Raises ``Skill.DoesNotExist`` for another organization's skill."""
    return Skill.objects.for_org(organization).get(pk=skill_id)


# --- Suspension (the operator's side) -------------------------------------------------------

SUSPENDED_LOGIN_MESSAGE = _lazy(
    "Your organization is suspended, so you cannot sign in for now. Ask its owner to "
    "contact the platform operator."
)


def only_suspended_memberships(user) -> bool:
    """Whether every active membership of the person is in a suspended organization (a person
    without any, such as a platform superuser, is not refused here)."""
    if user.is_superuser:
        return False
    rows = Membership.objects.filter(user=user, is_active=True).values_list(
        "organization__suspended_at", flat=True)
    states = [suspended is not None for suspended in rows]
    return bool(states) and all(states)


# --- Limits an operator sets (issue 15, section 4) -------------------------------------------


def month_start(*, organization: Organization, now=None):
    """The start of the organization's calendar month, in its time zone."""
    local = timezone.localtime(now or timezone.now(), organization.tzinfo)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def organization_limits(*, organization: Organization, now=None) -> dict | None:
    """What the owners see of the operator's limits and their use; None without limits.
    (Leads are read through the reverse relation: teams sits below leads.)"""
    if organization.max_attendants is None and organization.leads_per_month is None:
        return None
    people = Membership.objects.for_org(organization).filter(is_active=True).count()
    leads = None
    if organization.leads_per_month is not None:
        leads = organization.leads.filter(
            created_at__gte=month_start(organization=organization, now=now)).order_by().count()
    return {"max_attendants": organization.max_attendants, "active_people": people,
            "leads_per_month": organization.leads_per_month, "leads_this_month": leads}
