"""Forms of the managers' funnel pages. They parse and check input; funnel.services writes."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from routing.forms import BaseConditionFormSet, ConditionForm, RuleWithConditionsMixin

from . import scoring
from .models import ScoringRule

MAX_SAMPLE_FIELDS = 30


class NameForm(forms.Form):
    """A stage's or a lost reason's name (new, or renamed)."""

    name = forms.CharField(label=_("Name"), max_length=80, required=False)


class ScoringConditionForm(ConditionForm):
    FIELDS = scoring.SCORING_FIELDS


ScoringConditionFormSet = forms.formset_factory(
    ScoringConditionForm, formset=BaseConditionFormSet, extra=2, can_delete=True,
    can_delete_extra=False, max_num=30, validate_max=True,
)


class ScoringRuleForm(RuleWithConditionsMixin, forms.Form):
    formset_class = ScoringConditionFormSet

    name = forms.CharField(
        label=_("Name"), max_length=120,
        help_text=_("Shown in each lead's history, e.g. “budget ≥ 10000”."),
    )
    points = forms.IntegerField(
        label=_("Points"), min_value=scoring.MIN_POINTS, max_value=scoring.MAX_POINTS,
        help_text=_("Negative to take points away."),
    )
    behaviour = forms.ChoiceField(
        label=_("Behaviour"), required=False, choices=ScoringRule.Behaviour.choices,
        help_text=_("Something the product saw of the lead; with conditions, both must hold."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, data=None, *, rule: ScoringRule | None = None):
        initial = None
        if rule is not None:
            initial = {"name": rule.name, "points": rule.points, "behaviour": rule.behaviour,
                       "is_active": rule.is_active}
        super().__init__(data, initial=initial)
        self.conditions = self.conditions_formset(data, rule)


def parse_custom(text: str) -> dict[str, str]:
    """``name=value`` lines (or ``name: value``) as a lead's custom fields."""
    custom = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        separator = "=" if "=" in line else ":"
        name, found, value = line.partition(separator)
        if not found or not name.strip():
            raise ValidationError(
                _("Line %(n)d: write name=value, e.g. budget=15000.") % {"n": number})
        custom[name.strip()] = value.strip()
    if len(custom) > MAX_SAMPLE_FIELDS:
        raise ValidationError(_("At most %(n)d fields.") % {"n": MAX_SAMPLE_FIELDS})
    return custom


class ScorePreviewForm(forms.Form):
    """A sample lead, to see the score the active rules would give it."""

    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    source = forms.CharField(
        label=_("Source"), max_length=16, required=False, initial="api",
        help_text=_("api, manual, bot or import"),
    )
    custom = forms.CharField(
        label=_("Custom fields"), required=False, max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "budget=15000\nutm_source=google"}),
        help_text=_("One per line: name=value."),
    )
    origin = forms.CharField(
        label=_("Lead source"), max_length=100, required=False,
        help_text=_("The name of the lead source it comes in by, if any."),
    )
    returning = forms.BooleanField(label=_("Returning customer"), required=False)
    opened_in_time = forms.BooleanField(label=_("Opened within the service time"),
                                        required=False)
    reached_qualified = forms.BooleanField(label=_("Reached the qualified stage"),
                                           required=False)

    def clean_custom(self):
        return parse_custom(self.cleaned_data["custom"])

    def clean_source(self):
        return self.cleaned_data["source"].strip().lower() or "api"
