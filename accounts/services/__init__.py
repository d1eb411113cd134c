"""Signing in: login tries and password reset requests under limits, the lockout e-mail, and
the e-mailed link that sets a password (password reset; invitations can send the same)."""

from __future__ import annotations

import logging
import math

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from teams.models import Membership

from ..throttle import Bucket

log = logging.getLogger(__name__)


def login_account_bucket() -> Bucket:
    return Bucket.from_rate("login-account", settings.LOGIN_RATE_ACCOUNT)


def login_address_bucket() -> Bucket:
    return Bucket.from_rate("login-address", settings.LOGIN_RATE_ADDRESS)


def password_reset_bucket() -> Bucket:
    return Bucket.from_rate("password-reset", settings.PASSWORD_RESET_RATE)


def _account(username: str) -> str:
    return (username or "").strip().casefold()


def login_try(*, username: str, address: str) -> float:
    """Take a try for this sign-in: 0 when it may check the password, else the seconds to
    wait. Counted before the password is checked, so the right password is refused too
    while the account or the address is out of tries; a person is e-mailed once when their
    account runs out (``lockout_notify``)."""
    wait = login_address_bucket().take(address)
    if wait:
        return wait
    account = login_account_bucket()
    wait = account.take(_account(username))
    if wait and cache.add(f"lockout-mailed:{account.key(_account(username))}", 1,
                          timeout=math.ceil(account.full_after)):
        lockout_notify(username=username, address=address, wait=wait)
    return wait


def password_reset_try(*, email: str, address: str) -> float:
    """Take a try for a reset e-mail: the login's per-address bucket, and a bucket per
    e-mail address so that nobody can flood someone's mailbox. The same answer whether
    or not anyone has that address."""
    return login_address_bucket().take(address) or password_reset_bucket().take(
        (email or "").strip().casefold()
    )


def login_tries_reset(*, username: str) -> None:
    """The person set a new password: their account's tries are theirs again at once."""
    login_account_bucket().reset(_account(username))


def _language_of(user) -> str:
    membership = (
        Membership.objects.filter(user=user, is_active=True).select_related("organization")
        .order_by("created_at", "id").first()
    )
    return membership.language_or_default if membership else settings.LANGUAGE_CODE


def lockout_notify(*, username: str, address: str, wait: float) -> None:
    """Tell the person that sign-ins to their account are paused, and how to end the pause
    (a new password). Nothing is said to whoever was trying."""
    user = get_user_model()._default_manager.filter(username__iexact=username.strip()).first()
    if user is None or not user.email or not user.is_active:
        return
    with translation.override(_language_of(user)):
        context = {
            "user": user, "address": address, "minutes": max(1, math.ceil(wait / 60)),
            "reset_url": settings.SITE_URL.rstrip("/") + reverse("password-reset"),
        }
        subject = render_to_string("accounts/lockout_subject.txt", context).strip()
        body = render_to_string("accounts/lockout_email.txt", context)
    send_mail(subject, body, None, [user.email], fail_silently=True)


def password_link_send(
    *, user, template_prefix: str = "registration/password_reset", language: str | None = None,
) -> None:
    """E-mail ``user`` a one-time link to set their password (``/reset/<uid>/<token>/``).

    Password reset sends it with its own wording; another flow (an invitation) can pass its
    own ``template_prefix`` (``<prefix>_subject.txt`` and ``<prefix>_email.txt``, given
    ``user``, ``url`` and ``site_url``). The link stops working once the password changes.
    """
    path = reverse("password-reset-confirm", kwargs={
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    })
    site = settings.SITE_URL.rstrip("/")
    with translation.override(language or _language_of(user)):
        context = {"user": user, "url": site + path, "site_url": site}
        subject = render_to_string(f"{template_prefix}_subject.txt", context).strip()
        body = render_to_string(f"{template_prefix}_email.txt", context)
    sent = send_mail(subject, body, None, [user.email], fail_silently=True)
    if not sent:
        log.warning("could not send the password e-mail to user %s", user.pk)
