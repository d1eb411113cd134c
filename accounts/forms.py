from django.contrib.auth.forms import PasswordResetForm
from django.utils.translation import get_language

from . import services


class PasswordLinkRequestForm(PasswordResetForm):
    """Django's reset form (active people with that e-mail and a usable password), sending
    through ``services.password_link_send`` in the language of the page it was asked from."""

    def save(self, **kwargs):
        for user in self.get_users(self.cleaned_data["email"]):
            services.password_link_send(user=user, language=get_language())
