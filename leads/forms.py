from django import forms
from django.utils.translation import gettext_lazy as _

from teams.models import Membership, Team

from .models import Lead


class InboxFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    team = forms.ChoiceField(label=_("Team"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[(Lead.Status.OPEN, _("Open")), (Lead.Status.CONCLUDED, _("Concluded"))],
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        teams = Team.objects.for_org(organization).filter(is_archived=False).order_by("name")
        self.fields["team"].choices = [("", _("All teams"))] + [(t.slug, t.name) for t in teams]


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
        label=_("Note"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ConcludeForm(forms.Form):
    note = forms.CharField(
        label=_("Closing note"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["email_notifications"]
