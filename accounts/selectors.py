"""Reads for the ways in: invitations, the organizations a person can switch between, and
whether a signed-up organization may receive leads yet."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from teams.models import Membership, Organization

from .models import Invitation, SignUp

# Organizations known to receive leads (no sign-up waiting for its confirmation). Once true
# it stays true, so each process asks the database once per organization, not per lead.
_receiving: set[int] = set()


def invitation_list(*, organization: Organization):
    return (Invitation.objects.for_org(organization).select_related("invited_by")
            .prefetch_related("teams").order_by("-created_at", "-id"))


def invitation_get(*, organization: Organization, invitation_id: int) -> Invitation:
    return Invitation.objects.for_org(organization).get(pk=invitation_id)


def memberships_of(*, user) -> list[Membership]:
    """The organizations a person may switch between: their active places."""
    return list(Membership.objects.filter(user=user, is_active=True)
                .select_related("organization").order_by("organization__name", "pk"))


# What every intake path (API, batch, intake URLs) answers, with code ``not_confirmed``.
NOT_CONFIRMED_MESSAGE = _(
    "This organization does not receive leads yet: its owner must first confirm their e-mail "
    "address with the link sent at sign-up.")


def organization_receives_leads(organization: Organization) -> bool:
    """False while the owner who signed it up has not confirmed their e-mail address."""
    if organization.pk in _receiving:
        return True
    waiting = SignUp.objects.filter(organization_id=organization.pk,
                                    confirmed_at__isnull=True).exists()
    if not waiting:
        _receiving.add(organization.pk)
    return not waiting


def forget() -> None:
    """Tests: ids can come back after a rollback (SQLite)."""
    _receiving.clear()
