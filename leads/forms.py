from django import forms
from django.utils.translation import gettext_lazy as _

from funnel.models import Stage
from funnel.selectors import funnel_of
from teams.models import Membership, Team

from .models import Lead


class InboxFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    # The inbox shows these without a visible label: the label is given to screen readers.
    team = forms.ChoiceField(label=_("Team"), required=False,
                             widget=forms.Select(attrs={"aria-label": _("Team")}))
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        widget=forms.Select(attrs={"aria-label": _("Status")}),
        choices=[(Lead.Status.OPEN, _("Open")), (Lead.Status.CONCLUDED, _("Concluded"))],
    )

    stage = forms.ChoiceField(label=_("Stage"), required=False)
    min_score = forms.IntegerField(
        label=_("Minimum score"), required=False, min_value=-(2**31), max_value=2**31 - 1,
        widget=forms.NumberInput(attrs={"placeholder": _("Min. score"), "class": "narrow"}),
    )
    sort = forms.ChoiceField(
        label=_("Order"), required=False,
        choices=[("", _("Most urgent first")), ("score", _("Highest score first"))],
    )
    received_from = forms.DateField(
        label=_("Received from"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    received_to = forms.DateField(
        label=_("Received until"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    assignee = forms.TypedChoiceField(label=_("Attendant"), required=False, coerce=int,
                                      empty_value=None)

    def __init__(self, *args, organization, manager: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if manager:
            people = Membership.objects.filter(organization=organization, is_active=True)\
                .select_related("user").order_by("user__first_name", "user__username")
            self.fields["assignee"].choices = [("", _("Every attendant"))] + [
                (m.pk, m.display_name) for m in people]
        else:
            del self.fields["assignee"]  # filtering by person is the managers' view
        teams = Team.objects.for_org(organization).filter(is_archived=False).order_by("name")
        self.fields["team"].choices = [("", _("All teams"))] + [(t.slug, t.name) for t in teams]
        stages = funnel_of(organization=organization).stages
        self.fields["stage"].choices = [("", _("All stages"))] + [
            (s.key, s.label) for s in stages if s.is_active]
        for name in ("stage", "min_score", "sort", "received_from", "received_to", "assignee"):
            if name in self.fields:
                self.fields[name].widget.attrs.setdefault("aria-label", self.fields[name].label)

    @property
    def has_filters(self) -> bool:
        return any(self[name].value() for name in self.fields)


class TransferForm(forms.Form):
    to_member = forms.ModelChoiceField(
        label=_("To a person"), queryset=Membership.objects.none(), required=False
    )
    to_team = forms.ModelChoiceField(
        label=_("Or to a team (its rotation picks the person)"),
        queryset=Team.objects.none(),
        required=False,
    )
    note = forms.CharField(
        label=_("Note for the colleague"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, organization, lead, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_member"].queryset = (
            Membership.objects.for_org(organization)
            .filter(is_active=True)
            .exclude(pk=lead.assignee_id)
            .select_related("user")
            .order_by("user__first_name", "user__username")
        )
        self.fields["to_team"].queryset = Team.objects.for_org(organization).filter(
            is_archived=False
        )

    def clean(self):
        data = super().clean()
        if bool(data.get("to_member")) == bool(data.get("to_team")):
            raise forms.ValidationError(_("Choose either a person or a team."))
        return data


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"), max_length=5000,
        # The card's heading ("Add a note") is the visible label.
        widget=forms.Textarea(attrs={"rows": 3, "aria-label": _("Note")}),
    )


class ConcludeForm(forms.Form):
    """Conclude, saying whether the sale happened: won (the customer stage) or lost, with a
    reason from the organization's list."""

    outcome = forms.ChoiceField(label=_("Outcome"), required=False, widget=forms.RadioSelect)
    lost_reason = forms.ChoiceField(label=_("Lost reason"), required=False)
    note = forms.CharField(
        label=_("Closing note"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        funnel = funnel_of(organization=organization)
        self.fields["outcome"].choices = [
            ("", _("No outcome")),
            (Stage.CUSTOMER, _("Won: %(stage)s") % {"stage": funnel.stage_label(Stage.CUSTOMER)}),
            (Stage.LOST, _("Lost")),
        ]
        self.fields["outcome"].initial = ""
        self.fields["lost_reason"].choices = [("", _("Why was it lost?"))] + [
            (r.key, r.label) for r in funnel.offered_reasons]

    def clean(self):
        data = super().clean()
        if data.get("outcome") == Stage.LOST:
            if not data.get("lost_reason"):
                self.add_error("lost_reason", _("Choose why the lead was lost."))
        else:
            data["lost_reason"] = ""  # the list may be left set when it does not apply
        return data


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["email_notifications", "sound_alerts", "language"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        language = self.fields["language"]
        language.required = False
        language.choices = [("", _("The browser's, else the organization's"))] + [
            choice for choice in language.choices if choice[0]]
        language.help_text = _("Pages and the e-mails sent to you.")
