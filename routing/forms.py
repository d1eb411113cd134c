"""Forms of the routing rules page. They parse and check input; routing.services_rules writes."""

from __future__ import annotations

import json

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from teams.models import Membership, Organization, Skill, Team

from .conditions import OPERATORS, TOP_LEVEL_FIELDS, field_known
from .models import RoutingRule

OPERATOR_LABELS = {
    "eq": _("is"),
    "ne": _("is not"),
    "in": _("is one of"),
    "not_in": _("is none of"),
    "contains": _("contains"),
    "gt": _("is greater than"),
    "gte": _("is at least"),
    "lt": _("is less than"),
    "lte": _("is at most"),
    "exists": _("is filled in"),
    "not_exists": _("is empty"),
}
LIST_OPERATORS = ("in", "not_in")
VALUELESS_OPERATORS = ("exists", "not_exists")
# Offered in the field box; any custom.<name> may be typed.
SUGGESTED_FIELDS = (*TOP_LEVEL_FIELDS, "custom.utm_source", "custom.utm_medium",
                    "custom.utm_campaign")


def value_as_text(value) -> str:
    """A condition's value as the value box shows it: lists comma-separated."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(value_as_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def condition_text(condition: dict) -> str:
    """One condition in words, e.g. ``custom.plan is enterprise``."""
    label = OPERATOR_LABELS.get(condition.get("op"), condition.get("op"))
    text = f"{condition.get('field')} {label}"
    if "value" in condition:
        text += f" {value_as_text(condition['value'])}"
    return text


class ConditionForm(forms.Form):
    """One condition: field, operator, value. A row with neither field nor value adds nothing."""

    # The fields a rule may test (scoring rules leave out the score: funnel.forms).
    FIELDS = TOP_LEVEL_FIELDS

    field = forms.CharField(
        label=_("Field"), required=False, max_length=100,
        widget=forms.TextInput(attrs={"list": "condition-fields", "placeholder": "custom.plan"}),
    )
    op = forms.ChoiceField(
        label=_("Operator"), choices=[(op, OPERATOR_LABELS[op]) for op in OPERATORS],
    )
    value = forms.CharField(
        label=_("Value"), required=False, max_length=500,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. enterprise")}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("aria-label", field.label)

    def clean(self):
        data = super().clean()
        field, op, value = data.get("field", ""), data.get("op"), data.get("value", "")
        if data.get("DELETE") or (not field and not value):
            return data
        if not field:
            self.add_error("field", _("Give the field."))
        elif not field_known(field, self.FIELDS):
            self.add_error(
                "field",
                _("Use one of %(fields)s, or custom.<name> for a custom field.")
                % {"fields": ", ".join(self.FIELDS)},
            )
        if op and op not in VALUELESS_OPERATORS and not value:
            self.add_error("value", _("Give the value to compare with."))
        return data

    @property
    def condition(self) -> dict | None:
        data = getattr(self, "cleaned_data", {})
        field, op = data.get("field"), data.get("op")
        if data.get("DELETE") or not field or not op:
            return None
        condition = {"field": field, "op": op}
        value = data.get("value", "")
        if op in LIST_OPERATORS:
            condition["value"] = [v.strip() for v in value.split(",") if v.strip()]
        elif op not in VALUELESS_OPERATORS:
            condition["value"] = value
        return condition


class BaseConditionFormSet(forms.BaseFormSet):
    @property
    def conditions(self) -> list[dict]:
        return [f.condition for f in self.forms if f.condition is not None]


ConditionFormSet = forms.formset_factory(
    ConditionForm, formset=BaseConditionFormSet, extra=2, can_delete=True,
    can_delete_extra=False, max_num=30, validate_max=True,
)


class RuleWithConditionsMixin:
    """A rule's form with its conditions as a formset below it: routing rules, and the scoring
    rules (funnel.forms), which test the same fields but the score."""

    formset_class = ConditionFormSet

    def conditions_formset(self, data, rule):
        initial = [
            {"field": c.get("field", ""), "op": c.get("op", "eq"),
             "value": value_as_text(c.get("value"))}
            for c in (rule.conditions if rule is not None else [])
            if isinstance(c, dict)
        ]
        return self.formset_class(data, prefix="conditions",
                                  initial=initial if data is None else None)

    def is_valid(self):
        return all([super().is_valid(), self.conditions.is_valid()])

    @property
    def rule_data(self) -> dict:
        """What the services take: the cleaned fields and the conditions as a list."""
        return {**self.cleaned_data, "conditions": self.conditions.conditions}

    def add_service_errors(self, exc: ValidationError) -> None:
        """A service's refusal shown next to the field it names; conditions above their rows."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for field, errors in exc.error_dict.items():
            if field == "conditions":
                self.conditions._non_form_errors = self.conditions.error_class(
                    [m for e in errors for m in e.messages]
                )
            else:
                self.add_error(field if field in self.fields else None, errors)


class RoutingRuleForm(RuleWithConditionsMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    customer = forms.ChoiceField(
        label=_("Customer"), choices=RoutingRule.Customer.choices,
        initial=RoutingRule.Customer.ANY, widget=forms.RadioSelect,
        help_text=_("Existing: the e-mail or phone matches an earlier lead of yours."),
    )
    team = forms.ModelChoiceField(
        label=_("Send to team"), queryset=Team.objects.none(), required=False,
        empty_label=_("The team the lead names, else the default team"),
        help_text=_("For leads that name no team of their own."),
    )
    attendant = forms.ModelChoiceField(
        label=_("Dedicated attendant"), queryset=Membership.objects.none(), required=False,
        empty_label=_("Nobody in particular"),
        help_text=_("Takes every lead this rule matches, while active."),
    )
    required_skills = forms.ModelMultipleChoiceField(
        label=_("Required skills"), queryset=Skill.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only attendants holding all of them get the lead."),
    )
    redirect_to = forms.CharField(
        label=_("Redirect to another channel"), max_length=200, required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. sac@example.com")}),
        help_text=_("An e-mail, phone or page the customer is pointed to; the lead is recorded "
                    "and closed. Leave team, attendant and skills empty."),
    )

    def __init__(self, data=None, *, organization: Organization, rule: RoutingRule | None = None):
        initial = None
        if rule is not None:
            initial = {
                "name": rule.name, "is_active": rule.is_active, "customer": rule.customer,
                "team": rule.team_id, "attendant": rule.attendant_id,
                "required_skills": [s.pk for s in rule.required_skills.all()],
                "redirect_to": rule.redirect_to,
            }
        super().__init__(data, initial=initial)
        teams = Team.objects.for_org(organization).filter(is_archived=False)
        people = Membership.objects.for_org(organization).filter(is_active=True)
        if rule is not None:  # what the rule has stays choosable, archived or not
            teams = teams | Team.objects.for_org(organization).filter(pk=rule.team_id)
            people = people | Membership.objects.for_org(organization).filter(
                pk=rule.attendant_id
            )
        self.fields["team"].queryset = teams.order_by("name")
        self.fields["attendant"].queryset = people.select_related("user").order_by(
            "user__first_name", "user__last_name", "user__username"
        )
        self.fields["attendant"].label_from_instance = lambda m: m.display_name
        self.fields["required_skills"].queryset = Skill.objects.for_org(organization).order_by(
            "name"
        )
        self.conditions = self.conditions_formset(data, rule)
