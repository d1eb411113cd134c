"""Ways in: login and password reset (Django's views, with limits on tries), invitations, the
organization switch and the sign-up."""

import math

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from teams.middleware import CurrentMembershipMiddleware
from teams.models import Organization
from teams.permissions import manager_required
from teams.services.organization import time_zone_names
from teams.services.people import language_set
from teams.throttling import client_address
from teams.web import add_errors, or_404, posted

from . import selectors, services
from .forms import (
    InvitationAccountForm,
    InvitationForm,
    LoginForm,
    PasswordLinkRequestForm,
    SignUpForm,
)
from .outbox import outbox_messages
from .services import invitations
from .services import signup as signup_services


def _too_many(wait: float) -> str:
    minutes = max(1, math.ceil(wait / 60))
    return ngettext(
        "Too many tries. Try again in %(n)d minute.",
        "Too many tries. Try again in %(n)d minutes.",
        minutes,
    ) % {"n": minutes}


class _Refusal:
    """Answer a refused try with the form and the reason, as 429 with Retry-After."""

    def refuse(self, form, wait: float):
        form.add_error(None, _too_many(wait))
        response = self.render_to_response(self.get_context_data(form=form), status=429)
        response["Retry-After"] = str(math.ceil(wait))
        return response


class LoginView(_Refusal, auth_views.LoginView):
    form_class = LoginForm

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "signup_open": settings.SIGNUP_OPEN}

    def post(self, request, *args, **kwargs):
        username = request.POST.get("username", "")
        wait = services.login_try(username=username, address=client_address(request))
        if wait:
            # An unbound form: a bound one would check the password on its way to the error.
            form = self.form_class(request, initial={"username": username[:150]})
            form.cleaned_data = {}  # what add_error expects of a form that was cleaned
            return self.refuse(form, wait)
        return super().post(request, *args, **kwargs)


class PasswordResetView(_Refusal, auth_views.PasswordResetView):
    form_class = PasswordLinkRequestForm
    success_url = reverse_lazy("password-reset-done")

    def form_valid(self, form):
        wait = services.password_reset_try(email=form.cleaned_data["email"],
                                           address=client_address(self.request))
        if wait:
            return self.refuse(form, wait)
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("password-reset-complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.login_tries_reset(username=form.user.get_username())
        return response


@require_POST
def language(request):
    """The language picked in the header. Django's ``set_language`` checks the language and
    the return address and sets the cookie (kept a year, LANGUAGE_COOKIE_AGE); a signed-in
    person's choice is also kept on their profile, so it follows them to any browser."""
    response = set_language(request)
    code = request.POST.get("language", "")
    membership = getattr(request, "membership", None)
    if membership is not None and translation.check_for_language(code):
        try:
            code = translation.get_supported_language_variant(code)
        except LookupError:
            return response
        if code in Organization.Language.values:
            language_set(membership=membership, language=code)
    return response


# --- invitations ------------------------------------------------------------------------------


def _invitation_page(request, form=None, status=200):
    page = Paginator(selectors.invitation_list(organization=request.organization), 50)
    return render(request, "accounts/invitation_list.html", {
        "form": form or InvitationForm(actor=request.membership),
        "page": page.get_page(request.GET.get("page")),
        "dev_outbox": settings.DEBUG,
    }, status=status)


@manager_required
def invitation_list(request):
    """The invitations of the organization, and the form that sends a new one."""
    if request.method != "POST":
        return _invitation_page(request)
    form = InvitationForm(request.POST, actor=request.membership)
    if form.is_valid():
        try:
            invitation, _raw = invitations.invitation_create(
                organization=request.organization, actor=request.membership,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("Invitation sent to %(email)s. The link works for "
                                        "seven days.") % {"email": invitation.email})
            return redirect("invitation-list")
    return _invitation_page(request, form, status=400)


def _invitation_act(request, invitation_id: int, act, done: str):
    """Resend or revoke: the service refuses with a message, or ``done`` names the address."""
    invitation = or_404(selectors.invitation_get, organization=request.organization,
                        invitation_id=invitation_id)
    try:
        act(organization=request.organization, actor=request.membership,
            invitation_id=invitation.pk)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done % {"email": invitation.email})
    return redirect("invitation-list")


@require_POST
@manager_required
def invitation_resend(request, invitation_id: int):
    return _invitation_act(request, invitation_id, invitations.invitation_resend, _(
        "A new link was sent to %(email)s; the previous one no longer works."))


@require_POST
@manager_required
def invitation_revoke(request, invitation_id: int):
    return _invitation_act(request, invitation_id, invitations.invitation_revoke, _(
        "Invitation to %(email)s revoked: its link no longer works."))


def _switch_to(request, membership) -> None:
    request.session[CurrentMembershipMiddleware.SESSION_KEY] = membership.pk


@never_cache
def invitation_accept(request, token: str):
    """The invitation's link: join with the account signed in, or make one (the invited
    address signs in with a password of its own)."""
    invitation = invitations.invitation_by_token(token)
    refusal = invitations.refusal(invitation)
    context = {"invitation": invitation, "refusal": refusal}
    if refusal:
        return render(request, "accounts/invitation_accept.html", context, status=410
                      if invitation else 404)
    form = None
    if not request.user.is_authenticated:
        form = InvitationAccountForm(posted(request))
    if request.method == "POST":
        try:
            if request.user.is_authenticated:
                membership = invitations.invitation_accept(raw_token=token, user=request.user)
            elif form.is_valid():
                membership = invitations.invitation_accept_new_account(
                    raw_token=token, password=form.cleaned_data["password1"],
                    first_name=form.cleaned_data["first_name"],
                    last_name=form.cleaned_data["last_name"],
                )
                auth_login(request, membership.user,
                           backend="django.contrib.auth.backends.ModelBackend")
            else:
                membership = None
        except ValidationError as exc:
            if form is not None:
                add_errors(form, exc)
            else:
                context["refusal"] = " ".join(exc.messages)
            membership = None
        if membership is not None:
            _switch_to(request, membership)
            messages.success(request, _("Welcome to %(org)s!")
                             % {"org": membership.organization.name})
            return redirect("home")
    context.update(form=form, login_url=f"{reverse('login')}?next={request.path}")
    return render(request, "accounts/invitation_accept.html", context,
                  status=400 if request.method == "POST" else 200)


# --- several organizations --------------------------------------------------------------------


@require_POST
@login_required
def organization_switch(request):
    """Choose which of one's organizations the pages show; kept in the session."""
    chosen = request.POST.get("membership", "")
    membership = next((m for m in selectors.memberships_of(user=request.user)
                       if str(m.pk) == chosen), None)
    if membership is None:
        raise Http404
    _switch_to(request, membership)
    # Home, not the page it came from: that page may show a thing of the other organization.
    return redirect("home")


# --- sign-up ----------------------------------------------------------------------------------


def _signup_open():
    if not settings.SIGNUP_OPEN:
        raise Http404


def _signup_page(request, form, status=200):
    return render(request, "accounts/signup.html", {
        "form": form, "time_zones": time_zone_names(),
    }, status=status)


@never_cache
def signup(request):
    """A new organization and its owner. The answer is the same page ("check your e-mail")
    whether or not the address has an account; bots filling the hidden field get it too."""
    _signup_open()
    if request.method != "POST":
        return _signup_page(request, SignUpForm(initial={
            "time_zone": settings.TIME_ZONE, "language": get_language()}))
    form = SignUpForm(request.POST)
    wait = signup_services.signup_try(address=client_address(request))
    if wait:
        form.is_valid()
        form.add_error(None, _too_many(wait))
        response = _signup_page(request, form, status=429)
        response["Retry-After"] = str(math.ceil(wait))
        return response
    if request.POST.get("website"):
        return redirect("signup-sent")  # the honeypot: nothing is made, nothing is said
    if form.is_valid():
        data = form.cleaned_data
        try:
            signup_services.signup_create(
                organization_name=data["organization_name"], slug=data["slug"],
                time_zone=data["time_zone"], language=data["language"],
                first_name=data["first_name"], email=data["email"],
                password=data["password1"],
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            return redirect("signup-sent")
    return _signup_page(request, form, status=400)


@require_POST
@login_required
def signup_confirmation_resend(request):
    """The banner's button: the owner who signed up asks for the confirmation link again."""
    if request.organization is None:
        raise Http404
    wait = services.password_reset_try(email=request.user.email,
                                       address=client_address(request))
    if wait:
        messages.error(request, _too_many(wait))
    elif signup_services.signup_confirmation_resend(organization=request.organization,
                                                    user=request.user):
        messages.success(request, _("A new confirmation link was sent to %(email)s.")
                         % {"email": request.user.email})
    return redirect("home")


def signup_sent(request):
    _signup_open()
    return render(request, "accounts/signup_sent.html", {"dev_outbox": settings.DEBUG})


@never_cache
def signup_confirm(request, token: str):
    """The link in the owner's e-mail. Works while sign-up is closed too (it was open when
    the organization was made)."""
    confirmed = signup_services.signup_confirm(raw_token=token)
    if confirmed is None:
        return render(request, "accounts/signup_confirmed.html", {"invalid": True}, status=404)
    messages.success(request, _("Your e-mail address is confirmed: %(org)s receives leads now.")
                     % {"org": confirmed.organization.name})
    return redirect("home" if request.user.is_authenticated else "login")


# --- development ------------------------------------------------------------------------------


def dev_outbox(request):
    """The e-mails ``make run`` did not send (DEBUG only): their links, without a terminal."""
    if not settings.DEBUG:
        raise Http404
    return render(request, "accounts/dev_outbox.html", {"messages_sent": outbox_messages()})
