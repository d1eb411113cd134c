"""The managers' webhook form. It parses; the services check the URL and write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from history.models import LeadEvent


class WebhookEndpointForm(forms.Form):
    url = forms.CharField(
        label=_("URL"), max_length=2000,
        # A text input, styled like the others; the service checks the URL.
        widget=forms.TextInput(attrs={
            "inputmode": "url", "spellcheck": "false", "class": "full",
            "placeholder": "https://crm.example.com/hooks/transbordo",
        }),
        help_text=_("Where Transbordo POSTs each event, signed with the endpoint's secret. "
                    "http:// or https:// on a public address."),
    )
    description = forms.CharField(
        label=_("Description"), max_length=200, required=False,
        help_text=_("What listens there, e.g. “CRM” or “Chatbot”."),
    )
    event_types = forms.MultipleChoiceField(
        label=_("Events"), required=False, choices=LeadEvent.Type.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every event, including kinds added later."),
    )

    @classmethod
    def for_endpoint(cls, endpoint, data=None):
        return cls(data, initial={
            "url": endpoint.url, "description": endpoint.description,
            "event_types": endpoint.event_types,
        })
