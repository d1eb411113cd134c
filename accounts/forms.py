from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.utils.translation import get_language

from teams.selectors import SUSPENDED_LOGIN_MESSAGE, only_suspended_memberships

from . import services


class LoginForm(AuthenticationForm):
    """Django's login form; people whose organizations are all suspended are refused, saying
    why (only after the right password, so it tells a stranger nothing)."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if only_suspended_memberships(user):
            raise ValidationError(SUSPENDED_LOGIN_MESSAGE, code="organization_suspended")


class PasswordLinkRequestForm(PasswordResetForm):
    """Django's reset form (active people with that e-mail and a usable password), sending
    through ``services.password_link_send`` in the language of the page it was asked from."""

    def save(self, **kwargs):
        for user in self.get_users(self.cleaned_data["email"]):
            services.password_link_send(user=user, language=get_language())
