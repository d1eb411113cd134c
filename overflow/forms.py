from django import forms
from django.core.exceptions import ValidationError
from django.template import loader
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from teams.models import Team

from . import rules
from .models import OverflowPolicy
from .selectors import policy_of
from .services import policy_save, policy_validate


class OverflowPolicyForm(forms.ModelForm):
    """A team's overflow policy, with rules 3 and 4 checked before anything is saved.

    The team is a field and further teams are typed as slugs; the managers'
    page uses ``TeamOverflowPolicyForm`` below, with the team fixed and the
    further teams chosen in order.
    """

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
            self.initial["further_teams"] = self.initial_further_teams()

    def initial_further_teams(self):
        return ", ".join(s.team.slug for s in self.instance.chain.select_related("team"))

    def policy_team(self) -> Team | None:
        return self.cleaned_data.get("team") or (
            self.instance.team if self.instance.team_id else None
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
        team = self.policy_team()
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
        team = self.policy_team()
        if team is None or self.errors:
            return data
        policy_validate(
            team=team,
            enabled=data.get("enabled", False),
            service_minutes=data.get("service_minutes"),
            chain=data.get("further_teams", []),
        )
        return data

    def save(self, commit=True, *, actor=None):
        data = self.cleaned_data
        self.instance = policy_save(
            team=self.policy_team(),
            enabled=data["enabled"],
            service_minutes=data["service_minutes"],
            max_transfers=data.get("max_transfers"),
            include_bot_leads=data.get("include_bot_leads", False),
            chain=data.get("further_teams", []),
            actor=actor,
        )
        return self.instance

    def save_m2m(self):
        """The chain is saved by ``policy_save``."""


class OrderedSelects(forms.Widget):
    """Several selects of one name, read back in order: first, second, third… choice."""

    template_name = "overflow/widgets/ordered_selects.html"

    def __init__(self, attrs=None, choices=(), slots=3):
        super().__init__(attrs)
        self.choices = list(choices)
        self.slots = slots

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        values = [str(v) for v in (value or [])]
        # One empty select more than those in use, up to the number of teams.
        slots = max(len(values), min(len(self.choices), max(self.slots, len(values) + 1)))
        values += [""] * (slots - len(values))
        base_id = context["widget"]["attrs"].get("id", name)
        context["widget"]["slots"] = [
            {"position": i + 1, "value": v, "id": f"{base_id}_{i}"} for i, v in enumerate(values)
        ]
        context["widget"]["choices"] = [(str(k), label) for k, label in self.choices]
        return context

    def render(self, name, value, attrs=None, renderer=None):
        # The project's template engine (templates/), not the form renderer's app dirs.
        context = self.get_context(name, value, attrs)
        return mark_safe(loader.render_to_string(self.template_name, context))

    def id_for_label(self, id_):
        return f"{id_}_0" if id_ else id_

    def value_from_datadict(self, data, files, name):
        if hasattr(data, "getlist"):
            return data.getlist(name)
        value = data.get(name)
        return value if isinstance(value, list | tuple) else ([value] if value else [])

    def value_omitted_from_data(self, data, files, name):
        return False  # every empty select means "no team here"

    def format_value(self, value):
        return value


class OrderedTeamsField(forms.Field):
    """Teams in the order the manager chose them; empty choices are skipped."""

    widget = OrderedSelects
    default_error_messages = {
        "twice": _("A team appears twice."),
        "invalid_choice": _("Choose one of your other active teams."),
    }

    def __init__(self, *, queryset, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.queryset = queryset

    @property
    def queryset(self):
        return self._queryset

    @queryset.setter
    def queryset(self, queryset):
        self._queryset = queryset
        teams = list(queryset.prefetch_related("hours"))
        self.widget.choices = [(t.pk, self.label_from_team(t)) for t in teams]

    @staticmethod
    def label_from_team(team: Team) -> str:
        """The team and when it answers: a lead passed on to a closed team waits for its
        next opening, so the manager chooses knowing the hours."""
        hours = team.hours_summary if team.business_hours_enabled else _("Around the clock")
        return f"{team.name} · {hours}"

    def to_python(self, value):
        return [str(v).strip() for v in (value or []) if str(v).strip()]

    def validate(self, value):
        super().validate(value)
        if len(set(value)) != len(value):
            raise ValidationError(self.error_messages["twice"], code="twice")

    def clean(self, value):
        ids = self.to_python(value)
        self.validate(ids)
        if not all(i.isdigit() for i in ids):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        found = {str(t.pk): t for t in self.queryset.filter(pk__in=ids)}
        if len(found) != len(ids):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return [found[i] for i in ids]

    def has_changed(self, initial, data):
        return [str(v) for v in (initial or [])] != self.to_python(data)


class TeamOverflowPolicyForm(OverflowPolicyForm):
    """The managers' page: one team's policy, further teams chosen in order."""

    further_teams = OrderedTeamsField(
        label=_("Further teams (cross-team overflow)"),
        queryset=Team.objects.none(),
        help_text=_(
            "Once every attendant of this team has held a lead, it walks into these teams, "
            "in this order. The lead then belongs to the team that holds it: that team's "
            "business hours and service time apply, so a lead handed to a team that is "
            "closed waits for its next opening before its clock runs."
        ),
    )

    class Meta(OverflowPolicyForm.Meta):
        fields = ["enabled", "service_minutes", "max_transfers", "include_bot_leads"]

    def __init__(self, data=None, *, team: Team, **kwargs):
        self.team = team
        instance = policy_of(team) or OverflowPolicy(team=team)
        super().__init__(data, instance=instance, organization=team.organization, **kwargs)
        others = (
            Team.objects.for_org(team.organization)
            .filter(is_archived=False)
            .exclude(pk=team.pk)
            .order_by("name")
        )
        self.fields["further_teams"].queryset = others

    def initial_further_teams(self):
        return [s.team_id for s in self.instance.chain.all()]

    def policy_team(self) -> Team:
        return self.team

    def clean_further_teams(self):
        return self.cleaned_data["further_teams"]
