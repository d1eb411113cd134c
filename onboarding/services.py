"""The first steps' writes: finishing the checklist, and the test lead."""

from __future__ import annotations

from django.utils.translation import gettext as _

from history.services import Actor
from leads.models import Lead
from leads.services import lead_create
from teams.authentication import ensure_not_suspended
from teams.models import Membership, Organization

from .selectors import Step, checklist

TEST_LEAD_EMAIL = "test-lead@example.com"


def first_steps_open(*, organization: Organization | None) -> list[Step] | None:
    """The checklist while it is pending and not all done, else None. Once every step is
    done the organization's flag turns off for good (the checklist does not come back)."""
    if organization is None or not organization.first_steps_pending:
        return None
    steps = checklist(organization=organization)
    if all(step.done for step in steps):
        first_steps_finish(organization=organization)
        return None
    return steps


def first_steps_finish(*, organization: Organization) -> None:
    """Done, or hidden by a manager: the checklist, its banner and the landing go away."""
    Organization.objects.filter(pk=organization.pk).update(first_steps_pending=False)
    organization.first_steps_pending = False


def test_lead_send(*, organization: Organization, membership: Membership) -> Lead:
    """A test lead through the organization's own intake (``leads.services.lead_create``, as
    the API calls it, source "api"): scored, matched against the routing rules, given to
    the default team or the rule's, assigned, with overflow armed like any other lead."""
    ensure_not_suspended(organization)
    lead, _created = lead_create(
        organization=organization,
        data={"name": _("Test lead"), "email": TEST_LEAD_EMAIL,
              "custom": {"test": True, "sent_by": membership.display_name}},
        actor=Actor.for_user(membership.user),
        source=Lead.Source.API,
    )
    return lead
