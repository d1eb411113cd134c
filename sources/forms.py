"""The managers' source form. It parses; sources.services checks and writes."""

from django import forms
from django.utils.translation import gettext_lazy as _

from leads.models import Lead
from teams.models import Team

from .models import Source

LEAD_SOURCES = [(v, label) for v, label in Lead.Source.choices if v != Lead.Source.IMPORT]


class SourceForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("e.g. “Landing page”, “Google Ads – campaign X”."))
    kind = forms.ChoiceField(label=_("Kind"), choices=Source.Kind.choices,
                             initial=Source.Kind.FORM)
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.none(), required=False,
        empty_label=_("Routing rules, else the default team"),
    )
    is_active = forms.BooleanField(label=_("Enabled"), required=False, initial=True)
    lead_source = forms.ChoiceField(
        label=_("Leads arrive as"), choices=LEAD_SOURCES, initial=Lead.Source.API,
        help_text=_("API leads are external leads that must be answered: they overflow."),
    )
    map_name = forms.CharField(label=_("Field with the name"), max_length=200, required=False)
    map_email = forms.CharField(label=_("Field with the e-mail"), max_length=200,
                                required=False)
    map_phone = forms.CharField(label=_("Field with the phone"), max_length=200,
                                required=False)
    map_external_id = forms.CharField(
        label=_("Field with the platform's id"), max_length=200, required=False,
        help_text=_("Empty fields use the defaults: name/nome, email/e-mail, "
                    "phone/telefone/celular/whatsapp. Typeform: the field's ref; generic "
                    "JSON: a path such as data.contact.email."),
    )
    honeypot_field = forms.CharField(
        label=_("Honeypot field"), max_length=100, required=False,
        help_text=_("A hidden field people never fill in; a post that fills it is spam."),
    )
    allowed_origins = forms.CharField(
        label=_("Allowed origins"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, like https://www.example.com, or *: the sites whose "
                    "pages may post here. Empty: any plain form post, no fetch()."),
    )
    thank_you_url = forms.CharField(
        label=_("Thank-you page"), max_length=2000, required=False,
        widget=forms.TextInput(attrs={"inputmode": "url", "class": "full"}),
        help_text=_("Where a form post lands (303). Empty: a short “received” page."),
    )
    google_key = forms.CharField(label=_("Google Ads key"), max_length=200, required=False,
                                 help_text=_("Google Ads only: the key of the lead form's "
                                             "webhook."))
    typeform_secret = forms.CharField(label=_("Typeform secret"), max_length=200,
                                      required=False,
                                      help_text=_("Typeform only: the webhook's secret."))

    def __init__(self, data=None, *, organization, source=None):
        initial = {}
        if source is not None:
            mapping = source.field_mapping or {}
            initial = {
                "name": source.name, "kind": source.kind, "team": source.team,
                "is_active": source.is_active, "lead_source": source.lead_source,
                **{f"map_{k}": mapping.get(k, "") for k in ("name", "email", "phone",
                                                             "external_id")},
                "honeypot_field": source.honeypot_field,
                "allowed_origins": "\n".join(source.allowed_origins),
                "thank_you_url": source.thank_you_url, "google_key": source.google_key,
                "typeform_secret": source.typeform_secret,
            }
        super().__init__(data, initial=initial)
        self.fields["team"].queryset = Team.objects.for_org(organization).filter(
            is_archived=False).order_by("name")

    @property
    def source_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["field_mapping"] = {k: data.pop(f"map_{k}") for k in ("name", "email", "phone",
                                                                     "external_id")}
        data["allowed_origins"] = [line.strip() for line in data["allowed_origins"].splitlines()
                                   if line.strip()]
        return data
