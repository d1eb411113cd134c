"""The first-steps checklist: each step ticks itself when the thing it asks for exists.

Every read names the organization. An organization past its first steps
(``Organization.first_steps_pending`` off) costs nothing: the flag is on the organization
the middleware loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from leads.models import Lead
from sources.models import Source
from teams.models import ApiKey, Membership, Organization, Team


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    text: str
    url: str
    link: str
    done: bool


def _first_team(organization: Organization) -> Team | None:
    return (Team.objects.for_org(organization).filter(is_archived=False)
            .select_related("overflow_policy").order_by("created_at", "id").first())


def _team_ready(team: Team | None) -> bool:
    policy = getattr(team, "overflow_policy", None) if team else None
    return policy is not None and policy.enabled


def lead_sources_exist(organization: Organization) -> bool:
    """An active API key or a switched-on lead source (an intake URL)."""
    return (ApiKey.objects.for_org(organization).filter(revoked_at__isnull=True).exists()
            or Source.objects.for_org(organization).filter(is_active=True).exists())


def checklist(*, organization: Organization) -> list[Step]:
    team = _first_team(organization)
    people = Membership.objects.for_org(organization).filter(is_active=True).count()
    leads = Lead.objects.for_org(organization)
    has_lead = leads.exists()
    opened = leads.filter(assignee_accessed_at__isnull=False).exists()
    if team is None:
        team_url, team_link = reverse("team-create"), _("Create a team")
    elif not _team_ready(team):
        team_url, team_link = reverse("team-overflow", args=[team.pk]), _("Set its overflow")
    else:
        team_url, team_link = reverse("team-detail", args=[team.pk]), _("Open the team")
    return [
        Step("team", _("Create a team"), _(
            "A team receives leads and shares them among its attendants. Give it business "
            "hours (off: open around the clock) and turn on its overflow policy: the service "
            "time is how many minutes an attendant has to open a new lead before it passes "
            "on to a colleague; the minimum is 10 minutes. Overflow needs two attendants in "
            "the team: invite them first (next step)."),
            team_url, team_link, _team_ready(team)),
        Step("people", _("Invite your attendants"), _(
            "Add the people who will answer the leads and put them in the team."),
            reverse("invitation-list"), _("Invite by e-mail"), people > 1),
        Step("source", _("Create an API key or a lead source"), _(
            "Your forms, chat bots and integrations send leads with it."),
            reverse("api-key-list"), _("Create an API key"), lead_sources_exist(organization)),
        Step("test_lead", _("Send a test lead"), _(
            "The button below sends one through your own intake, routed as a real lead would "
            "be, and shows where it went."),
            reverse("onboarding-start") + "#test-lead", _("Send a test lead"), has_lead),
        Step("opened", _("Open it as an attendant"), _(
            "Sign in as the attendant who received it and open it in the inbox: opening a "
            "lead in time stops it passing on."),
            reverse("inbox"), _("Go to the inbox"), opened),
    ]
