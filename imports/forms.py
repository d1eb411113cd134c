from django import forms
from django.utils.translation import gettext_lazy as _

from teams.models import Team

from .models import FIELDS

FIELD_LABELS = {"name": _("Name"), "email": _("E-mail"), "phone": _("Phone"),
                "external_id": _("External id")}


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8 or Latin-1 (Excel), separated by commas or semicolons; the first "
                    "row names the columns."),
    )


class MappingForm(forms.Form):
    """Which column fills each lead field, and where the leads go."""

    def __init__(self, *args, lead_import, organization, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("— not imported —"))] + [
            (str(i), name or _("column %(n)d") % {"n": i + 1})
            for i, name in enumerate(lead_import.columns)
        ]
        for field in FIELDS:
            initial = lead_import.mapping.get(field)
            self.fields[field] = forms.TypedChoiceField(
                label=FIELD_LABELS[field], choices=choices, required=False, coerce=int,
                empty_value=None, initial="" if initial is None else str(initial),
            )
        self.fields["team"] = forms.ModelChoiceField(
            label=_("Distribute to"), required=False,
            queryset=Team.objects.for_org(organization).filter(is_archived=False)
            .order_by("name"),
            empty_label=_("Nobody: leave them unassigned"),
            help_text=_("The team's rotation takes the leads one after the other. Imported "
                        "leads never overflow."),
        )

    def mapping(self) -> dict[str, int]:
        return {f: self.cleaned_data[f] for f in FIELDS if self.cleaned_data.get(f) is not None}
