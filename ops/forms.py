from django import forms
from django.utils.translation import gettext_lazy as _

from .models import RetentionPolicy


class ErasureForm(forms.Form):
    email = forms.CharField(label=_("E-mail"), required=False, max_length=254)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=32)
    confirm = forms.BooleanField(
        label=_("I understand that this cannot be undone."), required=True,
    )

    def clean(self):
        data = super().clean()
        if not (data.get("email") or "").strip() and not (data.get("phone") or "").strip():
            raise forms.ValidationError(_("Give the e-mail or the phone to erase."))
        return data


class RetentionForm(forms.ModelForm):
    class Meta:
        model = RetentionPolicy
        fields = ["concluded_lead_months"]
