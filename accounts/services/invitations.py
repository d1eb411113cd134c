"""Invitations: a manager asks someone by e-mail to join with a role and teams; the link
(single use, seven days) lets them choose a password or join with the account they have.

Writes lock the invitation row; the e-mail leaves after the commit, carrying the raw token
(which is stored nowhere else than in the link).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import BaseUserManager
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.services import Action, Area, audit_record, created
from teams.models import Membership, Organization, Team
from teams.services.people import attendant_limit_check, check_role_change_allowed
from teams.services.teams import team_member_add

from ..models import INVITATION_VALID_FOR, Invitation, token_generate, token_hash

log = logging.getLogger(__name__)


def invitation_url(raw_token: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("invitation-accept", args=[raw_token])


def _label(invitation: Invitation) -> str:
    return _("Invitation to %(email)s") % {"email": invitation.email}


def _send_later(invitation: Invitation, raw_token: str) -> None:
    transaction.on_commit(lambda: invitation_mail(invitation_id=invitation.pk,
                                                  raw_token=raw_token))


def invitation_mail(*, invitation_id: int, raw_token: str) -> None:
    """E-mail the link, in the organization's language."""
    invitation = (Invitation.objects.select_related("organization", "invited_by")
                  .filter(pk=invitation_id).first())
    if invitation is None:
        return
    with translation.override(invitation.organization.language):
        context = {
            "invitation": invitation, "organization": invitation.organization,
            "role": invitation.get_role_display(), "url": invitation_url(raw_token),
            "inviter": (invitation.invited_by.get_full_name() or invitation.invited_by.username)
            if invitation.invited_by else "",
            "days": INVITATION_VALID_FOR.days,
        }
        subject = render_to_string("accounts/invitation_subject.txt", context).strip()
        body = render_to_string("accounts/invitation_email.txt", context)
    if not send_mail(subject, body, None, [invitation.email], fail_silently=True):
        log.warning("could not send invitation %s", invitation.pk)


def _teams_of(organization: Organization, teams: Iterable[Team | int]) -> list[Team]:
    ids = {getattr(team, "pk", team) for team in teams}
    found = list(Team.objects.for_org(organization).filter(pk__in=ids, is_archived=False))
    if len(found) != len(ids):
        raise ValidationError({"teams": _("Choose teams of this organization.")})
    return found


@transaction.atomic
def invitation_create(
    *,
    organization: Organization,
    actor: Membership | None,
    email: str,
    role: str,
    teams: Iterable[Team | int] = (),
) -> tuple[Invitation, str]:
    """Invite ``email``; returns the invitation and the raw token (in the e-mail's link).

    ``actor`` ``None`` is the operator (``create_org``), who may invite an owner.
    """
    email = BaseUserManager.normalize_email((email or "").strip())
    if not email:
        raise ValidationError({"email": _("Enter an e-mail address.")})
    if role not in Membership.Role.values:
        raise ValidationError({"role": _("Choose one of the offered roles.")})
    if actor is not None:
        check_role_change_allowed(actor=actor, current_role=None, new_role=role)
    chosen = _teams_of(organization, teams)
    # The organization row serializes invitations with each other and with acceptances.
    Organization.objects.select_for_update().get(pk=organization.pk)
    if Membership.objects.for_org(organization).filter(user__email__iexact=email).exists():
        raise ValidationError({"email": _("Someone with this e-mail is already a member.")})
    now = timezone.now()
    open_ones = Invitation.objects.for_org(organization).filter(
        email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True)
    if open_ones.filter(expires_at__gt=now).exists():
        raise ValidationError({"email": _(
            "This address has a pending invitation already: resend it from the list.")})
    open_ones.update(revoked_at=now)  # expired ones give way to the new invitation
    raw = token_generate()
    invitation = Invitation.objects.create(
        organization=organization, email=email, role=role, token_hash=token_hash(raw),
        invited_by=actor.user if actor else None, sent_at=now,
        expires_at=now + INVITATION_VALID_FOR,
    )
    invitation.teams.set(chosen)
    audit_record(organization=organization, actor=actor, area=Area.PERSON,
                 action=Action.CREATED, target=invitation, target_label=_label(invitation),
                 changes=created({"email": email, "role": role,
                                  "teams": sorted(team.slug for team in chosen)}))
    _send_later(invitation, raw)
    return invitation, raw


def _lock(organization: Organization, invitation_id: int) -> Invitation:
    return Invitation.objects.for_org(organization).select_for_update().get(pk=invitation_id)


@transaction.atomic
def invitation_resend(*, organization: Organization, actor: Membership,
                      invitation_id: int) -> tuple[Invitation, str]:
    """A new link, valid for seven days from now; the previous link stops working."""
    invitation = _lock(organization, invitation_id)
    if invitation.accepted_at is not None:
        raise ValidationError(_("This invitation was accepted already."))
    if invitation.revoked_at is not None:
        raise ValidationError(_("This invitation was revoked; invite the person again."))
    raw = token_generate()
    now = timezone.now()
    invitation.token_hash = token_hash(raw)
    invitation.sent_at = now
    invitation.expires_at = now + INVITATION_VALID_FOR
    invitation.save(update_fields=["token_hash", "sent_at", "expires_at"])
    audit_record(organization=organization, actor=actor, area=Area.PERSON,
                 action=Action.CHANGED, target=invitation, target_label=_label(invitation),
                 changes={"sent_at": {"from": None, "to": now.isoformat()}})
    _send_later(invitation, raw)
    return invitation, raw


@transaction.atomic
def invitation_revoke(*, organization: Organization, actor: Membership,
                      invitation_id: int) -> Invitation:
    invitation = _lock(organization, invitation_id)
    if invitation.accepted_at is not None:
        raise ValidationError(_("This invitation was accepted already."))
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(organization=organization, actor=actor, area=Area.PERSON,
                     action=Action.REVOKED, target=invitation, target_label=_label(invitation))
    return invitation


def invitation_by_token(raw_token: str) -> Invitation | None:
    """The invitation this link names, whatever its state (the page says which)."""
    return (Invitation.objects.select_related("organization")
            .filter(token_hash=token_hash(raw_token or "")).first())


def refusal(invitation: Invitation | None) -> str | None:
    """Why this link cannot be used now, or ``None`` when it can."""
    if invitation is None:
        return _("This invitation link is not valid. Ask for a new invitation.")
    state = invitation.state
    if state == Invitation.State.ACCEPTED:
        return _("This invitation was used already. Log in to continue.")
    if state == Invitation.State.REVOKED:
        return _("This invitation was withdrawn. Ask for a new invitation.")
    if state == Invitation.State.EXPIRED:
        return _("This invitation has expired. Ask for a new one.")
    return None


def _take(raw_token: str) -> Invitation:
    invitation = (Invitation.objects.select_for_update().select_related("organization")
                  .filter(token_hash=token_hash(raw_token or "")).first())
    reason = refusal(invitation)
    if reason:
        raise ValidationError(reason)
    return invitation


def _join(invitation: Invitation, user) -> Membership:
    organization = invitation.organization
    Organization.objects.select_for_update().get(pk=organization.pk)
    existing = Membership.objects.for_org(organization).filter(user=user).first()
    if existing is not None:
        if existing.is_active:
            raise ValidationError(_("You are a member of %(org)s already.")
                                  % {"org": organization.name})
        raise ValidationError(_("Your place in %(org)s is deactivated; ask a manager to "
                                "reactivate it.") % {"org": organization.name})
    attendant_limit_check(organization=organization)  # the operator's seats, if any
    membership = Membership.objects.create(organization=organization, user=user,
                                           role=invitation.role)
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(organization=organization, actor=membership, area=Area.PERSON,
                 action=Action.CREATED, target=membership, target_label=membership.display_name,
                 changes=created({"username": user.get_username(), "role": membership.role,
                                  "invitation": invitation.email}))
    for team in invitation.teams.filter(is_archived=False).order_by("pk"):
        team_member_add(organization=organization, team_id=team.pk,
                        membership_id=membership.pk, actor=membership)
    return membership


@transaction.atomic
def invitation_accept(*, raw_token: str, user) -> Membership:
    """Join with an account this installation has (signed in)."""
    return _join(_take(raw_token), user)


@transaction.atomic
def invitation_accept_new_account(
    *, raw_token: str, password: str, first_name: str = "", last_name: str = "",
) -> Membership:
    """Make an account for the invited address (it signs in with the address) and join."""
    invitation = _take(raw_token)
    User = get_user_model()
    username = invitation.email.lower()  # signs in with the address
    if User.objects.filter(Q(username__iexact=username) | Q(email__iexact=username)).exists():
        raise ValidationError(_("An account with this e-mail exists already: log in to join "
                                "with it."))
    user = User(username=username, email=invitation.email, first_name=first_name,
                last_name=last_name)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password1": exc.messages}) from None
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise ValidationError(_("An account with this e-mail exists already: log in to "
                                "join with it.")) from None
    return _join(invitation, user)
