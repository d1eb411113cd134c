from django import forms
from django.utils.translation import gettext_lazy as _

from .models import AuditEvent


class AuditFilterForm(forms.Form):
    """The audit page's filters; an unreadable one is shown as an error and ignored."""

    area = forms.ChoiceField(label=_("Area"), required=False,
                             choices=[("", _("All areas")), *AuditEvent.Area.choices])
    person = forms.TypedChoiceField(label=_("Person"), required=False, coerce=int,
                                    empty_value=None)
    since = forms.DateField(label=_("From"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data=None, *, people: list[tuple[int, str]]):
        super().__init__(data)
        self.fields["person"].choices = [("", _("Everyone")), *people]

    def filters(self) -> dict:
        """The filters that could be read (the form shows why the others could not)."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}
