"""Tenants, people, teams, business hours and API keys."""

import hashlib
import secrets
import zoneinfo
from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext_lazy as _


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(value)s” is not a known time zone."), params={"value": value})


class OrganizationScopedQuerySet(models.QuerySet):
    def for_org(self, organization):
        """Every tenant query starts here; there is no other scoped entry point."""
        if organization is None:
            raise ValueError("organization is required")
        return self.filter(organization=organization)


class Organization(models.Model):
    class Language(models.TextChoices):
        PT_BR = "pt-br", "Português (Brasil)"
        EN = "en", "English"

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="America/Sao_Paulo", validators=[validate_time_zone]
    )
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.PT_BR
    )
    default_team = models.ForeignKey(
        "teams.Team",
        verbose_name=_("default team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Takes the leads that name no team."),
    )
    attendants_see_all = models.BooleanField(
        _("attendants see all leads"), default=False
    )
    # Bumped with every change of configuration that processes keep copies of
    # (teams.config_cache): routing rules, webhook endpoints.
    config_version = models.PositiveBigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # The operator's side (issue 15): a suspended organization keeps every row, but its API
    # keys answer 403, its people cannot sign in and the sweep passes it by.
    suspended_at = models.DateTimeField(_("suspended at"), null=True, blank=True,
                                        editable=False)
    suspended_reason = models.CharField(_("reason for the suspension"), max_length=200,
                                        blank=True, editable=False)
    # Limits an operator sets; empty: no limit.
    max_attendants = models.PositiveIntegerField(
        _("maximum attendants"), null=True, blank=True,
        help_text=_("Active people of the organization, managers included. Empty: no limit."),
    )
    leads_per_month = models.PositiveIntegerField(
        _("leads per month"), null=True, blank=True,
        help_text=_("Leads over it are still stored and shown; the owners are told. "
                    "Empty: no limit."),
    )
    # The month (its first day) whose lead limit the owners were e-mailed about: once a month.
    lead_limit_notified_month = models.DateField(null=True, blank=True, editable=False)
    # The first-steps checklist (onboarding) shows until its steps are done, then this
    # turns off for good. Organizations from before it start with it off.
    first_steps_pending = models.BooleanField(_("first steps pending"), default=True)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None


class Skill(models.Model):
    """What an attendant can handle: a language, a product line, "SAC", "financeiro"."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="skills")
    name = models.CharField(_("name"), max_length=60)
    slug = models.SlugField(_("slug"), max_length=60)

    objects = OrganizationScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="skill_unique_slug"),
        ]

    def __str__(self):
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        MANAGER = "manager", _("Manager")
        ATTENDANT = "attendant", _("Attendant")

    class Presence(models.TextChoices):
        ONLINE = "online", _("Online")
        AWAY = "away", _("Away")
        OFFLINE = "offline", _("Offline")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.ATTENDANT)
    presence = models.CharField(
        _("presence"), max_length=16, choices=Presence.choices, default=Presence.OFFLINE
    )
    presence_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    # None follows the organization's setting (Organization.attendants_see_all).
    can_see_all = models.BooleanField(
        _("sees all leads"),
        null=True,
        blank=True,
        help_text=_("Empty: the organization's setting decides."),
    )
    email_notifications = models.BooleanField(
        _("e-mail me when I receive a lead"), default=True
    )
    # Off by default: a sound nobody asked for in a shared office is worse than none.
    sound_alerts = models.BooleanField(
        _("play a sound when a lead reaches me (inbox open)"), default=False
    )
    # The person's own language for pages and e-mails; empty until they choose one (pages
    # then follow the browser if it asks for a language we speak, else the organization's).
    language = models.CharField(
        _("language"), max_length=8, blank=True, default="",
        choices=Organization.Language.choices,
    )
    skills = models.ManyToManyField(Skill, verbose_name=_("skills"), blank=True,
                                    related_name="memberships")
    # Routing bookkeeping: least-open breaks ties by who waited longest; the
    # idle limit reads the last request; K missed leads in a row set away.
    last_assigned_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_seen_at = models.DateTimeField(null=True, blank=True, editable=False)
    missed_in_row = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrganizationScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_user"),
        ]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    @property
    def first_name(self) -> str:
        return self.user.first_name or self.display_name.split(" ")[0]

    @property
    def language_or_default(self) -> str:
        """For e-mails, which have no browser: theirs, else the organization's."""
        return self.language or self.organization.language

    @property
    def is_manager(self) -> bool:
        return self.role in (self.Role.OWNER, self.Role.MANAGER)

    @property
    def sees_all_leads(self) -> bool:
        """Managers always; attendants by their own setting, else the organization's."""
        if self.is_manager:
            return True
        if self.can_see_all is not None:
            return self.can_see_all
        return self.organization.attendants_see_all


class Team(models.Model):
    class Strategy(models.TextChoices):
        ROUND_ROBIN = "round_robin", _("Round robin")
        LEAST_OPEN = "least_open", _("Least open leads")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=60)
    strategy = models.CharField(
        _("assignment strategy"),
        max_length=32,
        choices=Strategy.choices,
        default=Strategy.ROUND_ROBIN,
    )
    online_only = models.BooleanField(
        _("only online attendants"),
        default=False,
        help_text=_(
            "On: only attendants who are online receive leads, and the unopened leads of "
            "someone who goes away or offline pass on to a colleague (never back). Off: "
            "presence changes nothing about who receives leads, and nothing is passed on."
        ),
    )
    business_hours_enabled = models.BooleanField(
        _("use business hours"),
        default=False,
        help_text=_("Off: the team is open around the clock."),
    )
    sticky_returning = models.BooleanField(
        _("returning customers go to their previous attendant"),
        default=True,
        help_text=_("When that attendant can take it; otherwise the normal strategy."),
    )
    idle_limit_minutes = models.PositiveIntegerField(
        _("idle limit (minutes)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)],
        help_text=_("Online attendants idle this long are set away and their unopened leads "
                    "passed on. Empty: never."),
    )
    missed_limit = models.PositiveIntegerField(
        _("missed leads before away"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("This many leads in a row overflowing away from an attendant set them "
                    "away, and the managers are told. Empty: never."),
    )
    message_assigned = models.TextField(
        _("message when assigned"), blank=True,
        help_text=_("Placeholders: {first_name}, {minutes}, {team}. Empty: the default."),
    )
    message_out_of_hours = models.TextField(
        _("message outside business hours"), blank=True,
        help_text=_("Placeholders: {first_name}, {next_opening}, {team}. Empty: the default."),
    )
    message_queued = models.TextField(
        _("message when everyone is busy"), blank=True,
        help_text=_("Placeholders: {position}, {wait_minutes}, {team}. Empty: the default."),
    )
    whatsapp_greeting = models.TextField(
        _("WhatsApp greeting"), blank=True,
        help_text=_("The text the lead page's WhatsApp button starts the chat with. "
                    "Placeholders: {lead_first_name}, {attendant_first_name}, {team}. "
                    "Empty: the default."),
    )
    # What the WhatsApp greeting may use (leads.contact fills them).
    GREETING_PLACEHOLDERS = ("lead_first_name", "attendant_first_name", "team")
    # The placeholders each customer-facing template may use, by field; the
    # texts are filled by leads.messages, which reads them from here.
    MESSAGE_PLACEHOLDERS = {
        "message_assigned": ("first_name", "minutes", "team"),
        "message_out_of_hours": ("first_name", "next_opening", "team"),
        "message_queued": ("position", "wait_minutes", "team"),
    }
    # Round-robin cursor: the member who got the last lead. Locked with the team row.
    rr_last_member = models.ForeignKey(
        "teams.TeamMember", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        editable=False,
    )
    is_archived = models.BooleanField(_("archived"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrganizationScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="team_unique_slug"),
        ]

    def __str__(self):
        return self.name

    @property
    def hours_summary(self) -> str:
        """The weekly hours in a few words (prefetch ``hours`` for a list of teams)."""
        return hours_summary(self.hours.all())


def hours_summary(intervals) -> str:
    """Weekly intervals in a few words: "Seg–Sex 08:00–18:00; Sab 09:00–13:00"."""
    by_day: dict[int, list[str]] = {}
    for interval in intervals:
        by_day.setdefault(interval.weekday, []).append(
            f"{interval.start:%H:%M}–{interval.end:%H:%M}")
    if not by_day:
        return str(_("no opening hours"))
    groups: list[list] = []  # [first day, last day, intervals]
    for day in range(7):
        text = ", ".join(by_day.get(day, ()))
        if text and groups and groups[-1][1] == day - 1 and groups[-1][2] == text:
            groups[-1][1] = day
        elif text:
            groups.append([day, day, text])
    return "; ".join(
        f"{WEEKDAYS_ABBR[first]}{'–' + str(WEEKDAYS_ABBR[last]) if last > first else ''} {text}"
        for first, last, text in groups)


class TeamMember(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    membership = models.ForeignKey(
        Membership,
        verbose_name=_("attendant"),
        on_delete=models.CASCADE,
        related_name="team_memberships",
    )
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    capacity = models.PositiveIntegerField(
        _("capacity"), null=True, blank=True, help_text=_("Maximum open leads; empty for no limit.")
    )

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "membership"], name="team_member_unique"),
        ]

    def __str__(self):
        return f"{self.membership} @ {self.team}"

    def clean(self):
        if (
            self.team_id
            and self.membership_id
            and self.team.organization_id != self.membership.organization_id
        ):
            raise ValidationError({"membership": _("This person belongs to another organization.")})


class BusinessHoursInterval(models.Model):
    """One weekly opening interval. ``end`` 00:00 means midnight at the end of the day."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("opens"))
    end = models.TimeField(_("closes"), help_text=_("00:00 means midnight."))

    class Meta:
        verbose_name = _("business hours interval")
        verbose_name_plural = _("business hours")
        ordering = ["weekday", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")) | Q(end=time(0)),
                name="hours_end_after_start",
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="hours_weekday_range"),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"

    def clean(self):
        if self.start is not None and self.end is not None:
            if not (self.end > self.start or self.end == time(0)):
                raise ValidationError({"end": _("Closing time must be after opening time.")})


class BusinessHoursException(models.Model):
    """A dated exception: closed all day (holiday) or open only in its own interval."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="hour_exceptions")
    date = models.DateField(_("date"))
    is_closed = models.BooleanField(_("closed all day"), default=True)
    start = models.TimeField(_("opens"), null=True, blank=True)
    end = models.TimeField(_("closes"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("business hours exception")
        verbose_name_plural = _("business hours exceptions")
        ordering = ["date", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_closed=True)
                | (
                    Q(start__isnull=False, end__isnull=False)
                    & (Q(end__gt=F("start")) | Q(end=time(0)))
                ),
                name="hours_exception_interval",
            ),
        ]

    def __str__(self):
        if self.is_closed:
            return f"{self.date} {_('closed')}"
        return f"{self.date} {self.start:%H:%M}–{self.end:%H:%M}"

    def clean(self):
        if not self.is_closed:
            if self.start is None or self.end is None:
                raise ValidationError(_("A special opening needs opening and closing times."))
            if not (self.end > self.start or self.end == time(0)):
                raise ValidationError({"end": _("Closing time must be after opening time.")})


class ApiKey(models.Model):
    """Only a SHA-256 of the key is stored; the key itself is shown once."""

    PREFIX_LEN = 12

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(_("name"), max_length=120)
    prefix = models.CharField(_("prefix"), max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = OrganizationScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(raw_key: str) -> str:
        return hashlib.sha256(raw_key.encode()).hexdigest()

    @staticmethod
    def generate() -> str:
        return "tb_" + secrets.token_urlsafe(32)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self):
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])
