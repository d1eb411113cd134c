"""Forms of the managers' pages. They parse and check input; the services write."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from . import selectors
from .models import (
    BusinessHoursInterval,
    Membership,
    Organization,
    Skill,
    Team,
    validate_time_zone,
)
from .services.hours import HoursException, interval_is_inverted, overlapping_pairs
from .services.organization import time_zone_names
from .services.teams import TEAM_LIMITS, message_template_problem

TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MAX_CAPACITY = 10_000
MAX_MESSAGE_LENGTH = 1000


# --- teams ----------------------------------------------------------------------------------


class TeamForm(forms.ModelForm):
    """Name, slug, strategy and switches of a team; the slug is unique in the organization."""

    GROUPS = (
        (_("Team"), ("name", "slug", "business_hours_enabled")),
        (_("Who gets the leads"), ("strategy", "online_only", "sticky_returning")),
        (_("Presence"), ("idle_limit_minutes", "missed_limit")),
        (_("Messages to the customer"),
         ("message_assigned", "message_out_of_hours", "message_queued")),
        (_("Contacting the lead"), ("whatsapp_greeting",)),
    )

    class Meta:
        model = Team
        fields = [
            "name", "slug", "strategy", "online_only", "business_hours_enabled",
            "sticky_returning", "idle_limit_minutes", "missed_limit", "message_assigned",
            "message_out_of_hours", "message_queued", "whatsapp_greeting",
        ]
        help_texts = {
            "slug": _("Used by the API (the lead's “team” field). Empty: made from the name."),
            "strategy": _("Round robin: each in turn. Least open leads: whoever holds the fewest "
                          "open leads, then whoever waited longest."),
        }
        widgets = {
            field: forms.Textarea(attrs={"rows": 2, "maxlength": MAX_MESSAGE_LENGTH})
            for field in (*Team.MESSAGE_PLACEHOLDERS, "whatsapp_greeting")
        }

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["slug"].required = False
        for field in (*Team.MESSAGE_PLACEHOLDERS, "whatsapp_greeting"):
            self.fields[field].max_length = MAX_MESSAGE_LENGTH
            self.fields[field].validators.append(MaxLengthValidator(MAX_MESSAGE_LENGTH))
        # The model's own validators do not run (see _post_clean): bound the numbers here.
        for name, (low, high) in TEAM_LIMITS.items():
            field = self.fields[name]
            field.min_value, field.max_value = low, high
            field.validators += [MinValueValidator(low), MaxValueValidator(high)]
            field.widget.attrs.update(min=low, max=high)

    @property
    def groups(self):
        """The fields under headings, for the team's settings card."""
        return [(title, [self[name] for name in names]) for title, names in self.GROUPS]

    def _clean_message(self, field: str) -> str:
        text = self.cleaned_data.get(field) or ""
        problem = message_template_problem(text, allowed=Team.MESSAGE_PLACEHOLDERS[field])
        if problem:
            raise ValidationError(problem)
        return text

    def clean_message_assigned(self):
        return self._clean_message("message_assigned")

    def clean_message_out_of_hours(self):
        return self._clean_message("message_out_of_hours")

    def clean_message_queued(self):
        return self._clean_message("message_queued")

    def clean_whatsapp_greeting(self):
        text = self.cleaned_data.get("whatsapp_greeting") or ""
        problem = message_template_problem(text, allowed=Team.GREETING_PLACEHOLDERS)
        if problem:
            raise ValidationError(problem)
        return text

    def clean_slug(self):
        slug = self.cleaned_data.get("slug") or ""
        if slug:
            taken = (
                Team.objects.for_org(self.organization)
                .filter(slug=slug)
                .exclude(pk=self.instance.pk)
                .exists()
            )
            if taken:
                raise ValidationError(_("Another team of yours already uses this slug."))
        return slug

    def clean(self):
        data = super().clean()
        if not data.get("slug") and data.get("name") and "slug" not in self.errors:
            data["slug"] = self._free_slug(slugify(data["name"])[:50] or "team")
        return data

    def _free_slug(self, base: str) -> str:
        taken = set(
            Team.objects.for_org(self.organization)
            .filter(slug__startswith=base)
            .exclude(pk=self.instance.pk)
            .values_list("slug", flat=True)
        )
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        return slug

    def _post_clean(self):
        # The organization is not a form field: the services check the slug
        # with it; the model's own validation would skip the constraint.
        pass


class TeamMemberAddForm(forms.Form):
    membership = forms.ModelChoiceField(
        label=_("Person"), queryset=Membership.objects.none(), empty_label=_("Choose a person")
    )
    capacity = forms.IntegerField(
        label=_("Capacity"), required=False, min_value=1, max_value=MAX_CAPACITY,
        help_text=_("Maximum open leads; empty for no limit."),
    )

    def __init__(self, *args, organization: Organization, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["membership"].queryset = selectors.people_addable_to_team(
            organization=organization, team=team
        )
        self.fields["membership"].label_from_instance = (
            lambda m: f"{m.display_name} ({m.get_role_display()})"
        )


class TeamMemberForm(forms.Form):
    is_active = forms.BooleanField(label=_("In rotation"), required=False)
    capacity = forms.IntegerField(
        label=_("Capacity"), required=False, min_value=1, max_value=MAX_CAPACITY,
        widget=forms.NumberInput(attrs={"placeholder": "∞", "class": "capacity"}),
    )


# --- business hours -------------------------------------------------------------------------


class HoursEnabledForm(forms.Form):
    enabled = forms.BooleanField(
        label=_("Use business hours"), required=False,
        help_text=_("Unticked, the team is open around the clock and these hours are kept "
                    "unused."),
    )


def _label_widgets(form) -> None:
    """The editor shows bare inputs in a table; screen readers still get each one's name."""
    for field in form.fields.values():
        field.widget.attrs.setdefault("aria-label", field.label)


class IntervalForm(forms.Form):
    """One weekly opening interval; a row left empty adds nothing."""

    start = forms.TimeField(label=_("Opens"), required=False, widget=TIME_WIDGET)
    end = forms.TimeField(
        label=_("Closes"), required=False, widget=TIME_WIDGET, help_text=_("00:00 means midnight.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _label_widgets(self)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start is None and end is None:
            return data
        if start is None and "start" not in self.errors:
            self.add_error("start", _("Give the opening time."))
        elif end is None and "end" not in self.errors:
            self.add_error("end", _("Give the closing time."))
        elif start is not None and end is not None and interval_is_inverted(start, end):
            self.add_error("end", _("Closing time must be after opening time."))
        return data

    @property
    def interval(self):
        data = getattr(self, "cleaned_data", {})
        if data.get("DELETE") or data.get("start") is None or data.get("end") is None:
            return None
        return data["start"], data["end"]


def _flag_overlaps(forms_with_intervals):
    """Put an overlap error on the later of each pair of overlapping rows."""
    intervals = [interval for _form, interval in forms_with_intervals]
    for i, j in overlapping_pairs(intervals):
        form = forms_with_intervals[j][0]
        start, end = intervals[i]
        if "start" not in form.errors:
            form.add_error(
                "start",
                _("Overlaps another interval of the same day (%(start)s–%(end)s).")
                % {"start": f"{start:%H:%M}", "end": f"{end:%H:%M}"},
            )


class BaseDayFormSet(forms.BaseFormSet):
    def __init__(self, *args, extra=None, **kwargs):
        if extra is not None:
            self.extra = extra
        super().__init__(*args, **kwargs)

    def clean(self):
        rows = [(form, form.interval) for form in self.forms if form.interval is not None]
        _flag_overlaps(rows)


DayFormSet = forms.formset_factory(
    IntervalForm, formset=BaseDayFormSet, extra=1, can_delete=True, can_delete_extra=False
)


class ExceptionForm(forms.Form):
    """A dated exception: closed all day, or open only in its own interval."""

    CLOSED, OPEN = "closed", "open"

    date = forms.DateField(label=_("Date"), required=False, widget=DATE_WIDGET)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(CLOSED, _("Closed all day")), (OPEN, _("Special opening"))],
        initial=CLOSED,
    )
    start = forms.TimeField(label=_("Opens"), required=False, widget=TIME_WIDGET)
    end = forms.TimeField(label=_("Closes"), required=False, widget=TIME_WIDGET)
    note = forms.CharField(
        label=_("Note"), required=False, max_length=120,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. Christmas")}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _label_widgets(self)

    def clean(self):
        data = super().clean()
        if data.get("DELETE"):
            return data
        if data.get("date") is None and "date" not in self.errors:
            self.add_error("date", _("Give the date."))
        if data.get("kind") == self.OPEN:
            start, end = data.get("start"), data.get("end")
            if start is None and "start" not in self.errors:
                self.add_error("start", _("Give the opening time."))
            if end is None and "end" not in self.errors:
                self.add_error("end", _("Give the closing time."))
            if start is not None and end is not None and interval_is_inverted(start, end):
                self.add_error("end", _("Closing time must be after opening time."))
        return data

    @property
    def exception(self) -> HoursException | None:
        data = getattr(self, "cleaned_data", {})
        if not data or data.get("DELETE") or data.get("date") is None:
            return None
        closed = data.get("kind") != self.OPEN
        return HoursException(
            date=data["date"], is_closed=closed,
            start=None if closed else data.get("start"), end=None if closed else data.get("end"),
            note=data.get("note", ""),
        )


class BaseExceptionFormSet(forms.BaseFormSet):
    def clean(self):
        by_date: dict = {}
        for form in self.forms:
            exception = form.exception
            if exception is not None:
                by_date.setdefault(exception.date, []).append((form, exception))
        for rows in by_date.values():
            if len(rows) > 1 and any(e.is_closed for _form, e in rows):
                for form, _e in rows[1:]:
                    form.add_error(
                        "date",
                        _("This date is listed twice: a date is either closed all day or has "
                          "special openings."),
                    )
            openings = [(form, (e.start, e.end)) for form, e in rows
                        if not e.is_closed and e.start is not None and e.end is not None]
            _flag_overlaps(openings)


ExceptionFormSet = forms.formset_factory(
    ExceptionForm, formset=BaseExceptionFormSet, extra=2, can_delete=True,
    can_delete_extra=False,
)


class BusinessHoursEditor:
    """The whole weekly editor: the on/off switch, one formset per weekday, the exceptions."""

    def __init__(self, *, team: Team, data=None):
        self.team = team
        bound = data is not None
        self.enabled_form = HoursEnabledForm(
            data, initial={"enabled": team.business_hours_enabled}, prefix="hours"
        )
        weekly: dict[int, list] = {d: [] for d in range(7)}
        for row in team.hours.all():
            weekly[row.weekday].append({"start": row.start, "end": row.end})
        self.days = [
            (
                value,
                label,
                DayFormSet(
                    data, prefix=f"day{value}", initial=weekly[value] if not bound else None,
                    extra=1 if weekly[value] else 2,
                ),
            )
            for value, label in BusinessHoursInterval.Weekday.choices
        ]
        exceptions = [
            {
                "date": row.date,
                "kind": ExceptionForm.CLOSED if row.is_closed else ExceptionForm.OPEN,
                "start": row.start, "end": row.end, "note": row.note,
            }
            for row in team.hour_exceptions.all()
        ]
        self.exceptions = ExceptionFormSet(
            data, prefix="exceptions", initial=exceptions if not bound else None
        )

    def is_valid(self) -> bool:
        results = [self.enabled_form.is_valid(), self.exceptions.is_valid()]
        results += [formset.is_valid() for _v, _l, formset in self.days]
        return all(results)

    @property
    def enabled(self) -> bool:
        return self.enabled_form.cleaned_data["enabled"]

    @property
    def weekly(self):
        return [
            (value, *form.interval)
            for value, _label, formset in self.days
            for form in formset.forms
            if form.interval is not None
        ]

    @property
    def exception_rows(self) -> list[HoursException]:
        return [form.exception for form in self.exceptions.forms if form.exception is not None]


# --- people -----------------------------------------------------------------------------------


class VisibilityField(forms.TypedChoiceField):
    """``can_see_all``: follow the organization (None), all leads (True), only assigned (False)."""

    FOLLOW, ALL, OWN = "org", "all", "own"
    VALUES = {FOLLOW: None, ALL: True, OWN: False}

    def __init__(self, **kwargs):
        super().__init__(
            label=_("Visible leads"),
            choices=[
                (self.FOLLOW, _("Follow the organization's setting")),
                (self.ALL, _("All leads")),
                (self.OWN, _("Only assigned leads and the queue")),
            ],
            coerce=lambda value: self.VALUES[value],
            empty_value=None,
            initial=self.FOLLOW,
            help_text=_("For attendants; managers always see all leads."),
            **kwargs,
        )

    @classmethod
    def initial_for(cls, can_see_all: bool | None) -> str:
        return {None: cls.FOLLOW, True: cls.ALL, False: cls.OWN}[can_see_all]


def role_choices(actor: Membership):
    """Owners may hand out every role; managers the manager and attendant roles."""
    roles = Membership.Role.choices
    if actor.role != Membership.Role.OWNER:
        roles = [(v, label) for v, label in roles if v != Membership.Role.OWNER]
    return roles


class PersonCreateForm(forms.Form):
    username = forms.CharField(
        label=_("Username"), max_length=150,
        validators=[get_user_model().username_validator],
        help_text=_("Letters, digits and @/./+/-/_ only; used to sign in."),
    )
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    role = forms.ChoiceField(label=_("Role"), initial=Membership.Role.ATTENDANT)
    can_see_all = VisibilityField()
    password = forms.CharField(
        label=_("Initial password"), required=False, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Empty: a random password is made and shown to you once."),
    )

    def __init__(self, *args, actor: Membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices(actor)

    def clean_username(self):
        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise ValidationError(_("This username is taken."))
        return username

    def clean(self):
        data = super().clean()
        password = data.get("password")
        if password:
            user = get_user_model()(
                username=data.get("username", ""), email=data.get("email", ""),
                first_name=data.get("first_name", ""), last_name=data.get("last_name", ""),
            )
            try:
                validate_password(password, user)
            except ValidationError as exc:
                self.add_error("password", exc)
        return data


class PersonForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"))
    can_see_all = VisibilityField()

    def __init__(self, *args, actor: Membership, person: Membership, **kwargs):
        kwargs.setdefault(
            "initial",
            {"role": person.role, "can_see_all": VisibilityField.initial_for(person.can_see_all)},
        )
        super().__init__(*args, **kwargs)
        choices = role_choices(actor)
        if person.role == Membership.Role.OWNER and actor.role != Membership.Role.OWNER:
            choices = Membership.Role.choices  # shown, and refused by the service if changed
        self.fields["role"].choices = choices


class PersonSkillsForm(forms.Form):
    skills = forms.ModelMultipleChoiceField(
        label=_("Skills"), queryset=Skill.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leads that require skills go only to people holding all of them."),
    )

    def __init__(self, *args, organization: Organization, person: Membership, **kwargs):
        kwargs.setdefault("initial", {"skills": list(person.skills.all())})
        super().__init__(*args, **kwargs)
        self.fields["skills"].queryset = Skill.objects.for_org(organization).order_by("name")


class SkillForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60,
                           widget=forms.TextInput(attrs={"placeholder": _("e.g. English")}))
    slug = forms.SlugField(
        label=_("Slug"), max_length=60, required=False,
        help_text=_("What the API and leads name it (“required_skills”). Empty: made from the "
                    "name."),
    )


# --- organization and API keys ----------------------------------------------------------------


class OrganizationForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = ["name", "time_zone", "language", "attendants_see_all", "default_team"]
        labels = {"attendants_see_all": _("Attendants see all leads")}
        help_texts = {
            "time_zone": _("Business hours and every time shown are in this zone."),
            "language": _("The organization's language."),
            "attendants_see_all": _(
                "Attendants get the All tab; each person's own setting may override it."
            ),
        }
        widgets = {"time_zone": forms.TextInput(attrs={"list": "time-zones"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["default_team"].queryset = Team.objects.for_org(self.instance).filter(
            is_archived=False
        )
        self.fields["default_team"].empty_label = _("No default team")
        self.time_zones = time_zone_names()

    def clean_time_zone(self):
        name = self.cleaned_data["time_zone"].strip()
        validate_time_zone(name)
        return name

    def _post_clean(self):
        # Validated here, saved by organization_update; the instance stays untouched.
        pass


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=120,
        help_text=_("Who uses the key, e.g. “Landing page” or “CRM”."),
    )
