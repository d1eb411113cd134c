"""Ways in: invitations to an organization, and the sign-up of a new one.

Only a SHA-256 of an invitation's or a confirmation's token is stored; the token itself is
in the e-mailed link only.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from teams.models import Membership, OrganizationScopedQuerySet

INVITATION_VALID_FOR = timedelta(days=7)


def token_generate() -> str:
    return secrets.token_urlsafe(32)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class Invitation(models.Model):
    """A person asked by e-mail to join an organization with a role and teams.

    Pending until accepted (once), revoked or past ``expires_at``; resending makes a new link
    (the previous one stops working) valid for another seven days.
    """

    class State(models.TextChoices):
        PENDING = "pending", pgettext_lazy("invitation", "pending")
        ACCEPTED = "accepted", pgettext_lazy("invitation", "accepted")
        REVOKED = "revoked", pgettext_lazy("invitation", "revoked")
        EXPIRED = "expired", pgettext_lazy("invitation", "expired")

    organization = models.ForeignKey(
        "teams.Organization", on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("e-mail"))
    role = models.CharField(_("role"), max_length=16, choices=Membership.Role.choices,
                            default=Membership.Role.ATTENDANT)
    teams = models.ManyToManyField("teams.Team", verbose_name=_("teams"), blank=True,
                                   related_name="+")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("invited at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"))
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = OrganizationScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One open invitation per address and organization: a second one is a resend.
            models.UniqueConstraint(
                "organization", Lower("email"),
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            ),
        ]

    def __str__(self):
        return self.email

    @property
    def state(self) -> str:
        if self.accepted_at is not None:
            return self.State.ACCEPTED
        if self.revoked_at is not None:
            return self.State.REVOKED
        if self.expires_at <= timezone.now():
            return self.State.EXPIRED
        return self.State.PENDING

    def get_state_display(self) -> str:
        return self.State(self.state).label


class SignUp(models.Model):
    """An organization made through the public sign-up, and whether its owner has confirmed
    their e-mail address. Until then its intake refuses leads; organizations made otherwise
    (admin, ``create_org``, the demo) have no row and receive leads."""

    organization = models.OneToOneField(
        "teams.Organization", on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sign-up")
        verbose_name_plural = _("sign-ups")

    def __str__(self):
        return f"{self.organization_id} ({'confirmed' if self.confirmed_at else 'pending'})"
