from datetime import timedelta

from django.conf import settings
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect, resolve_url
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import trans_real

from .models import Membership
from .selectors import only_suspended_memberships

# last_seen_at (for the teams' idle limit) is written at most this often.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


def _touch_last_seen(membership: Membership) -> None:
    now = timezone.now()
    if membership.last_seen_at is None or now - membership.last_seen_at > LAST_SEEN_RESOLUTION:
        Membership.objects.filter(pk=membership.pk).update(last_seen_at=now)
        membership.last_seen_at = now


def browser_language(request) -> str | None:
    """The first language of the browser's ``Accept-Language`` that we speak, if any."""
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    for code, _quality in trans_real.parse_accept_lang_header(header):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return None


def _language_for(request, membership: Membership) -> str:
    """The person's own choice (kept on their profile); else one made in this browser
    (the language cookie, as on the login page); else the browser's language if we speak
    it; else the organization's."""
    if membership.language:
        return membership.language
    cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if cookie and translation.check_for_language(cookie):
        try:
            return translation.get_supported_language_variant(cookie)
        except LookupError:
            pass
    return browser_language(request) or membership.organization.language


class CurrentMembershipMiddleware:
    """Resolve the signed-in user's organization once per request.

    Sets ``request.membership`` and ``request.organization`` (``None`` for
    anonymous users and users without an active membership), shows times in
    the organization's time zone and pages in the person's language.
    """

    SESSION_KEY = "membership_id"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = None
        request.organization = None
        if request.user.is_authenticated:
            memberships = Membership.objects.filter(
                user=request.user, is_active=True, organization__suspended_at__isnull=True
            ).select_related("organization", "user")
            chosen = request.session.get(self.SESSION_KEY)
            membership = (
                memberships.filter(pk=chosen).first() if chosen else None
            ) or memberships.order_by("created_at", "id").first()
            if membership is not None:
                _touch_last_seen(membership)
                request.membership = membership
                request.organization = membership.organization
                timezone.activate(membership.organization.tzinfo)
                translation.activate(_language_for(request, membership))
                request.LANGUAGE_CODE = translation.get_language()
            elif only_suspended_memberships(request.user):
                # Signed in before the suspension: out, with the reason on the login page.
                logout(request)
                return redirect(f"{resolve_url(settings.LOGIN_URL)}?suspended=1")
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class RequireContentLengthMiddleware:
    """A body sent without ``Content-Length`` (``Transfer-Encoding: chunked``) answers 411.

    Django reads a request body only as far as its Content-Length: a chunked body
    arrives as an empty one, and a lead POSTed that way was refused as if it had
    no e-mail or phone. Saying what is missing is the honest answer.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.META.get("HTTP_TRANSFER_ENCODING") and not request.META.get("CONTENT_LENGTH"):
            return JsonResponse(
                {"detail": _("Send the request body with a Content-Length header; "
                             "chunked transfer encoding is not accepted.")},
                status=411,
            )
        return self.get_response(request)
