from django import forms
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from teams.models import Team

from . import definitions as d
from . import exports

PRESET_LABELS = {
    "today": _("Today"),
    "7d": _("7 days"),
    "30d": _("30 days"),
    "month": _("This month"),
}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class ReportFilterForm(forms.Form):
    """The dashboard's range (a preset, or from/to) and team, read from the URL.

    ``default_preset=None`` (exports from the inbox) means no range unless one is given.
    """

    preset = forms.ChoiceField(
        label=_("Period"), required=False,
        choices=[*PRESET_LABELS.items(), ("custom", _("Custom"))],
    )
    to = forms.DateField(label=_("To"), required=False, widget=DateInput())
    team = forms.ChoiceField(label=_("Team"), required=False)

    def __init__(self, data, *, organization, default_preset: str | None = d.DEFAULT_PRESET,
                 **kwargs):
        super().__init__(data, **kwargs)
        self.organization = organization
        self.default_preset = default_preset
        # "from" is a Python keyword; the URL says from/to, as the API does.
        self.fields = {"preset": self.fields["preset"],
                       "from": forms.DateField(label=_("From"), required=False,
                                               widget=DateInput()),
                       **{k: v for k, v in self.fields.items() if k != "preset"}}
        self.teams = list(Team.objects.for_org(organization).order_by("is_archived", "name"))
        self.fields["team"].choices = [("", _("All teams"))] + [
            (t.slug, t.name) for t in self.teams]

    def clean(self):
        data = super().clean()
        start, end, preset = data.get("from"), data.get("to"), data.get("preset")
        today = d.local_today(self.organization.tzinfo, timezone.now())
        data["date_range"] = None
        if start or end or preset == "custom":
            if start is None or end is None:
                missing = "from" if start is None else "to"
                if missing not in self.errors:
                    self.add_error(missing, _("Give both days of a custom range."))
                return data
            try:
                data["date_range"] = d.date_range(
                    start, end, max_days=d.MAX_RANGE_DAYS if self.default_preset else None)
            except d.RangeError as exc:
                self.add_error(exc.parameter, exc.message)
            data["preset"] = "custom"
        elif preset or self.default_preset:
            data["preset"] = preset or self.default_preset
            data["date_range"] = d.preset_range(data["preset"], today=today)
        data["team"] = next((t for t in self.teams if t.slug == data.get("team")), None)
        return data

    def query(self, **extra) -> str:
        """This form's range and team as a query string (for links that keep them)."""
        params = QueryDict(mutable=True)
        data = self.cleaned_data
        if data.get("preset") == "custom":
            params["from"] = data["date_range"].start.isoformat()
            params["to"] = data["date_range"].end.isoformat()
        elif data.get("preset"):
            params["preset"] = data["preset"]
        if data.get("team"):
            params["team"] = data["team"].slug
        for key, value in extra.items():
            if value:
                params[key] = value
        return params.urlencode()


class LeadExportForm(ReportFilterForm):
    """The inbox's filters (tab, search, status) on top of the range and team."""

    tab = forms.ChoiceField(required=False, choices=[("mine", "mine"),
                                                     ("unassigned", "unassigned"),
                                                     ("all", "all")])
    q = forms.CharField(required=False, max_length=100)
    status = forms.ChoiceField(required=False, choices=[("open", "open"),
                                                        ("concluded", "concluded")])
    separator = forms.ChoiceField(required=False, choices=[(k, k) for k in exports.SEPARATORS])


class AttendantExportForm(ReportFilterForm):
    separator = forms.ChoiceField(required=False, choices=[(k, k) for k in exports.SEPARATORS])
