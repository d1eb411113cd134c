from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from teams.models import Team

from . import rules
from .models import OverflowPolicy
from .services import policy_save, policy_validate


class OverflowPolicyForm(forms.ModelForm):
    """A team's overflow policy, with rules 3 and 4 checked before anything is saved."""

    further_teams = forms.CharField(
        label=_("Further teams"),
        required=False,
        help_text=_("Slugs of further teams for cross-team overflow, in order, comma-separated."),
    )

    class Meta:
        model = OverflowPolicy
        fields = ["team", "enabled", "service_minutes", "max_transfers", "include_bot_leads"]

    def __init__(self, *args, organization=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        if organization is not None and "team" in self.fields:
            self.fields["team"].queryset = Team.objects.for_org(organization)
        if self.instance.pk and not self.is_bound:
            self.initial["further_teams"] = ", ".join(
                s.team.slug for s in self.instance.chain.select_related("team")
            )

    def clean_service_minutes(self):
        minutes = self.cleaned_data["service_minutes"]
        rules.validate_service_minutes(minutes)
        return minutes

    def clean_further_teams(self):
        slugs = [s.strip() for s in self.cleaned_data["further_teams"].split(",") if s.strip()]
        if len(set(slugs)) != len(slugs):
            raise ValidationError(_("A team appears twice."))
        if not slugs:
            return []
        team = self.cleaned_data.get("team") or (
            self.instance.team if self.instance.team_id else None
        )
        if team is None:
            return []  # the team field carries its own error
        found = {t.slug: t for t in Team.objects.filter(
            organization_id=team.organization_id, slug__in=slugs, is_archived=False,
        )}
        missing = [s for s in slugs if s not in found]
        if missing:
            raise ValidationError(_("Unknown team: %(slugs)s.") % {"slugs": ", ".join(missing)})
        return [found[s] for s in slugs]

    def clean(self):
        data = super().clean()
        team = data.get("team")
        if team is None or self.errors:
            return data
        policy_validate(
            team=team,
            enabled=data.get("enabled", False),
            service_minutes=data.get("service_minutes"),
            chain=data.get("further_teams", []),
        )
        return data

    def save(self, commit=True):
        data = self.cleaned_data
        self.instance = policy_save(
            team=data["team"],
            enabled=data["enabled"],
            service_minutes=data["service_minutes"],
            max_transfers=data.get("max_transfers"),
            include_bot_leads=data.get("include_bot_leads", False),
            chain=data.get("further_teams", []),
        )
        return self.instance

    def save_m2m(self):
        """The chain is saved by ``policy_save``."""
