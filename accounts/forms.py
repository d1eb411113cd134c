from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from teams.forms import role_choices
from teams.models import Membership, Organization, Team, validate_time_zone
from teams.selectors import SUSPENDED_LOGIN_MESSAGE, only_suspended_memberships

from . import services


class LoginForm(AuthenticationForm):
    """Django's login form. People who signed up or came by invitation sign in with their
    e-mail address; people whose organizations are all suspended are refused, saying why
    (only after the right password, so it tells a stranger nothing)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("E-mail or username")

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


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    role = forms.ChoiceField(label=_("Role"), initial=Membership.Role.ATTENDANT)
    teams = forms.ModelMultipleChoiceField(
        label=_("Teams"), queryset=Team.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("They join these teams' rotation when they accept."),
    )

    def __init__(self, *args, actor: Membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices(actor)
        self.fields["teams"].queryset = Team.objects.for_org(actor.organization).filter(
            is_archived=False).order_by("name")


class _PasswordPair(forms.Form):
    password1 = forms.CharField(
        label=_("Password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data


class InvitationAccountForm(_PasswordPair):
    """A new account for an invited address: a name and a password of their own."""

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    field_order = ["first_name", "last_name", "password1", "password2"]


class SignUpForm(_PasswordPair):
    organization_name = forms.CharField(label=_("Organization name"), max_length=120)
    slug = forms.SlugField(
        label=_("Address name (slug)"), max_length=60, required=False,
        help_text=_("Short name for links and the API; proposed from the name."),
    )
    time_zone = forms.CharField(
        label=_("Time zone"), max_length=64, validators=[validate_time_zone],
        help_text=_("Business hours and every time shown are in this zone."),
        widget=forms.TextInput(attrs={"list": "time-zones"}),
    )
    language = forms.ChoiceField(label=_("Language"), choices=Organization.Language.choices)
    first_name = forms.CharField(label=_("Your name"), max_length=150)
    email = forms.EmailField(label=_("Your e-mail"),
                             help_text=_("You sign in with it; we send a link to confirm it."))
    # The honeypot: hidden from people by the stylesheet, filled by bots.
    website = forms.CharField(required=False, label=_("Leave this empty"))
    field_order = ["organization_name", "slug", "time_zone", "language", "first_name",
                   "email", "password1", "password2", "website"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].widget.attrs["data-slug-from"] = "id_organization_name"
        if not self.is_bound:  # a first visit: the browser's zone, once
            self.fields["time_zone"].widget.attrs["data-browser-time-zone"] = ""
        self.fields["website"].widget.attrs.update(tabindex="-1", autocomplete="off")
        self.fields["email"].widget.attrs["autocomplete"] = "email"

    def clean_slug(self):
        slug = self.cleaned_data.get("slug", "")
        if slug and Organization.objects.filter(slug=slug).exists():
            raise ValidationError(_("This address name is taken; choose another."))
        return slug
