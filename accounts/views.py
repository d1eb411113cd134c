"""Login and password reset: Django's own views, with limits on tries (accounts.services)."""

import math

from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from teams.models import Organization
from teams.services.people import language_set
from teams.throttling import client_address

from . import services
from .forms import LoginForm, PasswordLinkRequestForm


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
