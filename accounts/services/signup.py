"""A new organization: the public sign-up (owner confirms their address by e-mail before
the organization receives leads) and the operator's ``create_org`` (owner invited by link).

The sign-up answers the same whether or not the address has an account: with one, nothing
is made and the address is told that someone tried (and how to sign in instead).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import BaseUserManager
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from teams.models import Membership, Organization, validate_time_zone

from ..models import Invitation, SignUp, token_generate, token_hash
from ..throttle import Bucket
from .invitations import invitation_create

log = logging.getLogger(__name__)
SLUG_MAX = 60


def signup_bucket() -> Bucket:
    return Bucket.from_rate("signup-address", settings.SIGNUP_RATE)


def signup_try(*, address: str) -> float:
    """Take a sign-up try for this client address: 0 when it may go ahead, else the wait."""
    return signup_bucket().take(address)


def slug_propose(name: str) -> str:
    """A free slug made from ``name``: ``acme``, else ``acme-2``, ``acme-3``…"""
    base = slugify(name)[:SLUG_MAX - 4].strip("-") or "org"
    taken = set(Organization.objects.filter(
        Q(slug=base) | Q(slug__startswith=f"{base}-")).values_list("slug", flat=True))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def organization_create(*, name: str, slug: str = "", time_zone: str = "",
                        language: str = "") -> Organization:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the organization a name.")})
    slug = slug or slug_propose(name)
    try:
        validate_slug(slug)
    except ValidationError:
        raise ValidationError({"slug": _("Letters, digits, hyphens and underscores only.")}) \
            from None
    time_zone = time_zone or settings.TIME_ZONE
    validate_time_zone(time_zone)
    if language and language not in Organization.Language.values:
        raise ValidationError({"language": _("Choose one of the offered languages.")})
    if Organization.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": _("This address name is taken; choose another.")})
    try:
        with transaction.atomic():
            return Organization.objects.create(
                name=name[:120], slug=slug, time_zone=time_zone,
                language=language or Organization.Language.PT_BR,
            )
    except IntegrityError:
        raise ValidationError(
            {"slug": _("This address name is taken; choose another.")}) from None


def _mail(template: str, context: dict, to: str, language: str) -> None:
    with translation.override(language):
        subject = render_to_string(f"accounts/{template}_subject.txt", context).strip()
        body = render_to_string(f"accounts/{template}_email.txt", context)
    if not send_mail(subject, body, None, [to], fail_silently=True):
        log.warning("could not send the %s e-mail", template)


def _site() -> str:
    return settings.SITE_URL.rstrip("/")


@transaction.atomic
def signup_create(
    *, organization_name: str, slug: str, time_zone: str, language: str, first_name: str,
    email: str, password: str,
) -> SignUp | None:
    """Make the organization and its owner, and e-mail the owner a link to confirm their
    address. An address that has an account already gets an e-mail saying so instead, and
    nothing is made (``None``); the person asking sees the same answer either way."""
    email = BaseUserManager.normalize_email(email.strip())
    User = get_user_model()
    if User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).exists():
        context = {"site_url": _site(), "login_url": _site() + reverse("login"),
                   "reset_url": _site() + reverse("password-reset"), "email": email}
        transaction.on_commit(lambda: _mail("signup_exists", context, email, language))
        return None
    user = User(username=email.lower(), email=email, first_name=first_name)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password1": exc.messages}) from None
    organization = organization_create(name=organization_name, slug=slug, time_zone=time_zone,
                                       language=language)
    user.set_password(password)
    user.save()
    # The language chosen on the sign-up page is the owner's own too (not only the browser's).
    Membership.objects.create(organization=organization, user=user, role=Membership.Role.OWNER,
                              language=language)
    raw = token_generate()
    signup = SignUp.objects.create(organization=organization, user=user,
                                   token_hash=token_hash(raw))
    _confirm_mail_later(signup, raw)
    return signup


def _confirm_mail_later(signup: SignUp, raw: str) -> None:
    context = {"organization": signup.organization, "user": signup.user, "site_url": _site(),
               "url": _site() + reverse("signup-confirm", args=[raw])}
    transaction.on_commit(lambda: _mail("signup_confirm", context, signup.user.email,
                                        signup.organization.language))


@transaction.atomic
def signup_confirmation_resend(*, organization: Organization, user) -> SignUp | None:
    """A new confirmation link for the owner who signed ``organization`` up (the previous
    link stops working); ``None`` when there is nothing to confirm."""
    signup = (SignUp.objects.select_for_update().select_related("organization", "user")
              .filter(organization=organization, user=user, confirmed_at__isnull=True).first())
    if signup is None:
        return None
    raw = token_generate()
    signup.token_hash = token_hash(raw)
    signup.save(update_fields=["token_hash"])
    _confirm_mail_later(signup, raw)
    return signup


@transaction.atomic
def signup_confirm(*, raw_token: str) -> SignUp | None:
    """The owner opened the link: the organization receives leads from now on. ``None`` for
    a link that names no sign-up; confirming twice changes nothing."""
    signup = (SignUp.objects.select_for_update().select_related("organization", "user")
              .filter(token_hash=token_hash(raw_token or "")).first())
    if signup is not None and signup.confirmed_at is None:
        signup.confirmed_at = timezone.now()
        signup.save(update_fields=["confirmed_at"])
    return signup


@transaction.atomic
def org_create_with_owner_invitation(
    *, name: str, slug: str, owner_email: str, time_zone: str = "", language: str = "",
) -> tuple[Organization, Invitation, str]:
    """The operator's way (sign-up closed): the organization, and an invitation for its
    owner, whose link is returned to be handed over (and e-mailed)."""
    if not slug:
        raise ValidationError({"slug": _("Give the organization a slug.")})
    organization = organization_create(name=name, slug=slug, time_zone=time_zone,
                                       language=language)
    invitation, raw = invitation_create(organization=organization, actor=None,
                                        email=owner_email, role=Membership.Role.OWNER)
    return organization, invitation, raw
