"""Every write of ``teams``: organizations, people, teams, members, business hours, API keys.

Each service takes the organization explicitly and re-reads the rows it changes
inside it, so a foreign id fails with ``DoesNotExist`` (a 404 in the pages).
"""

import secrets
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time
from string import Formatter

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from .config_cache import config_changed
from .models import (
    ApiKey,
    BusinessHoursException,
    BusinessHoursInterval,
    Membership,
    Organization,
    Skill,
    Team,
    TeamMember,
    validate_time_zone,
)
from .signals import rotation_changed


@transaction.atomic
def api_key_create(*, organization: Organization, name: str, created_by=None) -> tuple[ApiKey, str]:
    """A new key; the raw key is returned once and never stored."""
    raw = ApiKey.generate()
    key = ApiKey.objects.create(
        organization=organization,
        name=name,
        prefix=raw[: ApiKey.PREFIX_LEN],
        key_hash=ApiKey.hash(raw),
        created_by=created_by,
    )
    return key, raw


def presence_set(*, membership: Membership, presence: str) -> Membership:
    """An attendant's own online / away / offline switch, remembered across sessions."""
    if presence not in Membership.Presence.values:
        raise ValueError(f"unknown presence {presence!r}")
    if membership.presence != presence:
        membership.presence = presence
        membership.presence_changed_at = timezone.now()
        Membership.objects.filter(pk=membership.pk).update(
            presence=presence, presence_changed_at=membership.presence_changed_at
        )
    return membership


@transaction.atomic
def api_key_revoke(*, organization: Organization, key_id: int) -> bool:
    """Revoke one of the organization's keys; ``False`` when it was already revoked.

    Raises ``ApiKey.DoesNotExist`` for another organization's key.
    """
    key = ApiKey.objects.for_org(organization).select_for_update().get(pk=key_id)
    return bool(
        ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    )


# --- the organization ----------------------------------------------------------------------


@transaction.atomic
def organization_update(
    *,
    organization: Organization,
    name: str,
    time_zone: str,
    language: str,
    attendants_see_all: bool,
    default_team: Team | None,
) -> Organization:
    errors = {}
    try:
        validate_time_zone(time_zone)
    except ValidationError as exc:
        errors["time_zone"] = exc.error_list
    if language not in Organization.Language.values:
        errors["language"] = [ValidationError(_("Choose one of the offered languages."))]
    if default_team is not None and (
        default_team.organization_id != organization.pk or default_team.is_archived
    ):
        errors["default_team"] = [ValidationError(_("Choose an active team of yours."))]
    if errors:
        raise ValidationError(errors)
    locked = Organization.objects.select_for_update().get(pk=organization.pk)
    locked.name = name
    locked.time_zone = time_zone
    locked.language = language
    locked.attendants_see_all = attendants_see_all
    locked.default_team = default_team
    locked.save(
        update_fields=["name", "time_zone", "language", "attendants_see_all", "default_team"]
    )
    return locked


# --- people -----------------------------------------------------------------------------------

MANAGER_ROLES = frozenset({Membership.Role.OWNER, Membership.Role.MANAGER})


def password_generate() -> str:
    """A password to hand over once; the person changes it or keeps it in a manager."""
    return secrets.token_urlsafe(12)


def _check_role_change_allowed(*, actor: Membership, current_role: str | None, new_role: str):
    """Only owners hand out the owner role or change an owner."""
    touches_owner = Membership.Role.OWNER in (current_role, new_role)
    if touches_owner and actor.role != Membership.Role.OWNER:
        raise ValidationError(
            {"role": _("Only an owner can give the owner role or change an owner.")}
        )


def _check_a_manager_remains(*, organization: Organization, membership: Membership,
                             role: str, is_active: bool) -> None:
    """The organization keeps at least one active owner or manager.

    The caller holds the organization row lock, so two managers demoting each
    other at once cannot both pass this check.
    """
    if role in MANAGER_ROLES and is_active:
        return
    others = (
        Membership.objects.for_org(organization)
        .filter(is_active=True, role__in=MANAGER_ROLES)
        .exclude(pk=membership.pk)
    )
    if not others.exists():
        raise ValidationError(
            _(
                "%(name)s is the organization's last active manager; make someone else a "
                "manager first."
            )
            % {"name": membership.display_name}
        )


def _lock_membership(organization: Organization, membership_id: int) -> Membership:
    # The organization row serializes changes of roles and of the active switch.
    Organization.objects.select_for_update().get(pk=organization.pk)
    return (
        Membership.objects.for_org(organization)
        .select_for_update()
        .select_related("user", "organization")
        .get(pk=membership_id)
    )


@transaction.atomic
def person_create(
    *,
    organization: Organization,
    actor: Membership,
    username: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    can_see_all: bool | None = None,
    password: str | None = None,
) -> tuple[Membership, str | None]:
    """A new user who can sign in right away, as a member of ``organization``.

    Returns the membership and the generated password when none was given (to be
    shown once); ``None`` when the manager chose the password.
    """
    if role not in Membership.Role.values:
        raise ValidationError({"role": _("Choose one of the offered roles.")})
    _check_role_change_allowed(actor=actor, current_role=None, new_role=role)
    generated = None
    if password:
        validate_password(password)
    else:
        password = generated = password_generate()
    User = get_user_model()
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("This username is taken.")})
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                username=username, email=email, password=password,
                first_name=first_name, last_name=last_name,
            )
    except IntegrityError:
        raise ValidationError({"username": _("This username is taken.")}) from None
    membership = Membership.objects.create(
        organization=organization, user=user, role=role, can_see_all=can_see_all,
    )
    return membership, generated


@transaction.atomic
def person_update(
    *,
    organization: Organization,
    actor: Membership,
    membership_id: int,
    role: str,
    can_see_all: bool | None,
) -> Membership:
    """Change a person's role and which leads they see (``None``: the organization decides)."""
    if role not in Membership.Role.values:
        raise ValidationError({"role": _("Choose one of the offered roles.")})
    membership = _lock_membership(organization, membership_id)
    if role != membership.role:
        _check_role_change_allowed(actor=actor, current_role=membership.role, new_role=role)
        _check_a_manager_remains(organization=organization, membership=membership, role=role,
                                 is_active=membership.is_active)
    membership.role = role
    membership.can_see_all = can_see_all
    membership.save(update_fields=["role", "can_see_all"])
    return membership


@transaction.atomic
def person_set_active(
    *, organization: Organization, actor: Membership, membership_id: int, is_active: bool
) -> Membership:
    """Deactivate or reactivate a person in the organization.

    Routing and overflow take only active memberships, so a deactivated person
    leaves every team's rotation at once; their team places and their leads stay
    (managers still see and reassign the leads), and reactivating restores them.
    """
    membership = _lock_membership(organization, membership_id)
    if membership.is_active == is_active:
        return membership
    if membership.role == Membership.Role.OWNER and actor.role != Membership.Role.OWNER:
        raise ValidationError(_("Only an owner can deactivate or reactivate an owner."))
    if not is_active:
        _check_a_manager_remains(organization=organization, membership=membership,
                                 role=membership.role, is_active=False)
    membership.is_active = is_active
    membership.save(update_fields=["is_active"])
    if is_active:
        for team in Team.objects.filter(members__membership=membership, is_archived=False):
            rotation_changed.send(sender=Team, team=team)
    return membership


# --- skills -------------------------------------------------------------------------------------


@transaction.atomic
def skill_create(*, organization: Organization, name: str, slug: str = "") -> Skill:
    """A skill of the organization; the slug (what the API and rules name) comes from the
    name when not given, and is unique in the organization."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the skill a name.")})
    field = "slug" if slug else "name"
    slug = slug or slugify(name)[:60]
    if not slug:
        raise ValidationError(
            {"slug": _("The name has no letters or digits to make a slug from: give one.")}
        )
    taken = ValidationError({field: _("Your organization already has this skill (“%(slug)s”).")
                             % {"slug": slug}})
    if Skill.objects.for_org(organization).filter(slug=slug).exists():
        raise taken
    try:
        with transaction.atomic():
            return Skill.objects.create(organization=organization, name=name, slug=slug)
    except IntegrityError:  # a simultaneous create took the slug
        raise taken from None


@transaction.atomic
def skill_delete(*, organization: Organization, skill_id: int) -> None:
    """Delete a skill: people lose it, and rules and waiting leads no longer require it.

    Raises ``Skill.DoesNotExist`` for another organization's skill. Leads that
    waited only for this skill may now be taken, so the teams' queues are offered
    to their members.
    """
    skill = Skill.objects.for_org(organization).select_for_update().get(pk=skill_id)
    skill.delete()
    # teams cannot read leads: every active team's queue is offered (a cheap no-op when empty).
    teams = Team.objects.for_org(organization).filter(is_archived=False)
    for team in teams:
        rotation_changed.send(sender=Team, team=team)


@transaction.atomic
def person_skills_set(
    *, organization: Organization, membership_id: int, skills: Iterable[Skill]
) -> Membership:
    """The skills a person holds, replaced as a whole.

    Raises ``Membership.DoesNotExist`` for another organization's person and
    refuses skills of another organization. A person who gains a skill may take
    leads that waited for it, so their teams' queues are offered to them.
    """
    skills = list(skills)
    if any(s.organization_id != organization.pk for s in skills):
        raise ValidationError({"skills": _("Choose skills of your organization.")})
    membership = _lock_membership(organization, membership_id)
    before = set(membership.skills.values_list("pk", flat=True))
    membership.skills.set(skills)
    if {s.pk for s in skills} - before:
        for team in Team.objects.filter(
            members__membership=membership, members__is_active=True, is_archived=False
        ):
            rotation_changed.send(sender=Team, team=team)
    return membership


# --- teams --------------------------------------------------------------------------------------


def _slug_taken(*, organization: Organization, slug: str, exclude_pk: int | None) -> bool:
    return Team.objects.for_org(organization).filter(slug=slug).exclude(pk=exclude_pk).exists()


def _save_team(team: Team, *, organization: Organization, update_fields=None) -> Team:
    if _slug_taken(organization=organization, slug=team.slug, exclude_pk=team.pk):
        raise ValidationError({"slug": _("Another team of yours already uses this slug.")})
    try:
        with transaction.atomic():
            team.save(update_fields=update_fields)
    except IntegrityError:  # a simultaneous save took the slug
        raise ValidationError(
            {"slug": _("Another team of yours already uses this slug.")}
        ) from None
    return team


def message_template_problem(text: str, *, allowed: tuple[str, ...]) -> str | None:
    """Why a customer-facing template would not render as written; ``None`` when it would.

    Only bare ``{name}`` placeholders of the allowed ones: an unknown name would
    reach the customer as typed, and a format spec or attribute (``{minutes:d}``,
    ``{team.name}``) could fail while answering a lead.
    """
    shown = ", ".join("{" + name + "}" for name in allowed)
    try:
        parts = list(Formatter().parse(text))
    except ValueError:
        return _("Braces must come in pairs: write a placeholder as {name}, a brace as {{ or }}. "
                 "Placeholders: %(allowed)s.") % {"allowed": shown}
    refused = []
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in allowed or spec or conversion:
            written = "{" + name + (f"!{conversion}" if conversion else "") + (
                f":{spec}" if spec else "") + "}"
            if written not in refused:
                refused.append(written)
    if refused:
        return _("Unknown placeholders: %(refused)s. Use only %(allowed)s.") % {
            "refused": ", ".join(refused), "allowed": shown,
        }
    return None


# Inclusive bounds of a team's presence settings (None: off).
TEAM_LIMITS = {"idle_limit_minutes": (1, 24 * 60), "missed_limit": (1, 100)}


def _check_team_settings(*, strategy: str, limits: dict[str, int | None],
                         messages: dict[str, str]) -> None:
    errors = {}
    if strategy not in Team.Strategy.values:
        errors["strategy"] = [_("Choose one of the offered strategies.")]
    for field, value in limits.items():
        low, high = TEAM_LIMITS[field]
        if value is not None and not low <= value <= high:
            errors[field] = [_("Give a number from %(low)d to %(high)d, or leave it empty.")
                             % {"low": low, "high": high}]
    for field, text in messages.items():
        problem = message_template_problem(text, allowed=Team.MESSAGE_PLACEHOLDERS[field])
        if problem:
            errors[field] = [problem]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def team_create(
    *,
    organization: Organization,
    name: str,
    slug: str,
    strategy: str = Team.Strategy.ROUND_ROBIN,
    online_only: bool = False,
    business_hours_enabled: bool = False,
    sticky_returning: bool = True,
    idle_limit_minutes: int | None = None,
    missed_limit: int | None = None,
    message_assigned: str = "",
    message_out_of_hours: str = "",
    message_queued: str = "",
) -> Team:
    _check_team_settings(
        strategy=strategy,
        limits={"idle_limit_minutes": idle_limit_minutes, "missed_limit": missed_limit},
        messages={"message_assigned": message_assigned,
                  "message_out_of_hours": message_out_of_hours,
                  "message_queued": message_queued},
    )
    team = Team(
        organization=organization, name=name, slug=slug, strategy=strategy,
        online_only=online_only, business_hours_enabled=business_hours_enabled,
        sticky_returning=sticky_returning, idle_limit_minutes=idle_limit_minutes,
        missed_limit=missed_limit, message_assigned=message_assigned,
        message_out_of_hours=message_out_of_hours, message_queued=message_queued,
    )
    return _save_team(team, organization=organization)


@transaction.atomic
def team_update(
    *,
    organization: Organization,
    team_id: int,
    name: str,
    slug: str,
    strategy: str,
    online_only: bool,
    business_hours_enabled: bool,
    sticky_returning: bool,
    idle_limit_minutes: int | None,
    missed_limit: int | None,
    message_assigned: str,
    message_out_of_hours: str,
    message_queued: str,
) -> Team:
    """A team's name and every routing setting at once, as the team's form shows them.

    Turning "only online attendants" off lets more people take leads, so the
    team's waiting queue is offered to them.
    """
    messages = {
        "message_assigned": message_assigned, "message_out_of_hours": message_out_of_hours,
        "message_queued": message_queued,
    }
    _check_team_settings(
        strategy=strategy,
        limits={"idle_limit_minutes": idle_limit_minutes, "missed_limit": missed_limit},
        messages=messages,
    )
    team = Team.objects.for_org(organization).select_for_update().get(pk=team_id)
    widened = team.online_only and not online_only
    changes = {
        "name": name, "slug": slug, "strategy": strategy, "online_only": online_only,
        "business_hours_enabled": business_hours_enabled, "sticky_returning": sticky_returning,
        "idle_limit_minutes": idle_limit_minutes, "missed_limit": missed_limit, **messages,
    }
    for field, value in changes.items():
        setattr(team, field, value)
    team = _save_team(team, organization=organization, update_fields=list(changes))
    if widened:
        rotation_changed.send(sender=Team, team=team)
    return team


@transaction.atomic
def team_set_archived(*, organization: Organization, team_id: int, archived: bool) -> Team:
    """An archived team takes no new leads; its history and settings stay."""
    team = Team.objects.for_org(organization).select_for_update().get(pk=team_id)
    if archived and Organization.objects.filter(pk=organization.pk, default_team=team).exists():
        raise ValidationError(
            _("This is the organization's default team; choose another default team first.")
        )
    team.is_archived = archived
    team.save(update_fields=["is_archived"])
    return team


# --- team members ---------------------------------------------------------------------------


def _lock_team(organization: Organization, team_id: int) -> Team:
    # The team row is the lock routing takes for round robin: the rotation does
    # not change under a lead being assigned.
    return Team.objects.for_org(organization).select_for_update().get(pk=team_id)


@transaction.atomic
def team_member_add(
    *,
    organization: Organization,
    team_id: int,
    membership_id: int,
    capacity: int | None = None,
) -> TeamMember:
    """Put an active person of the organization at the end of the team's rotation."""
    team = _lock_team(organization, team_id)
    membership = Membership.objects.for_org(organization).get(pk=membership_id)
    if not membership.is_active:
        raise ValidationError({"membership": _("This person is deactivated.")})
    if TeamMember.objects.filter(team=team, membership=membership).exists():
        raise ValidationError({"membership": _("This person is already in the team.")})
    last = TeamMember.objects.filter(team=team).aggregate(last=Max("order"))["last"]
    member = TeamMember.objects.create(
        team=team, membership=membership, capacity=capacity,
        order=0 if last is None else last + 1,
    )
    rotation_changed.send(sender=Team, team=team)
    return member


@transaction.atomic
def team_member_update(
    *,
    organization: Organization,
    team_id: int,
    member_id: int,
    is_active: bool,
    capacity: int | None,
) -> TeamMember:
    """The manager's switch (in or out of the rotation) and the open-lead capacity."""
    team = _lock_team(organization, team_id)
    member = TeamMember.objects.get(pk=member_id, team=team)
    member.is_active = is_active
    member.capacity = capacity
    member.save(update_fields=["is_active", "capacity"])
    rotation_changed.send(sender=Team, team=team)
    return member


@transaction.atomic
def team_member_move(
    *, organization: Organization, team_id: int, member_id: int, offset: int
) -> TeamMember:
    """Move a member ``offset`` places in the rotation (-1: up, 1: down); orders become 0..n-1."""
    team = _lock_team(organization, team_id)
    members = list(TeamMember.objects.filter(team=team).order_by("order", "id"))
    ids = [m.pk for m in members]
    if member_id not in ids:
        raise TeamMember.DoesNotExist
    index = ids.index(member_id)
    target = max(0, min(len(members) - 1, index + offset))
    member = members.pop(index)
    members.insert(target, member)
    changed = []
    for order, m in enumerate(members):
        if m.order != order:
            m.order = order
            changed.append(m)
    TeamMember.objects.bulk_update(changed, ["order"])
    return member


@transaction.atomic
def team_member_remove(*, organization: Organization, team_id: int, member_id: int) -> None:
    """Take a person out of the team; their leads and history stay as they are."""
    team = _lock_team(organization, team_id)
    member = TeamMember.objects.get(pk=member_id, team=team)
    member.delete()


# --- business hours -------------------------------------------------------------------------

MIDNIGHT = time(0)


def interval_is_inverted(start: time, end: time) -> bool:
    """Closing must come after opening; closing at 00:00 means midnight."""
    return not (end > start or end == MIDNIGHT)


def _minutes(start: time, end: time) -> tuple[int, int]:
    finish = 24 * 60 if end == MIDNIGHT else end.hour * 60 + end.minute
    return start.hour * 60 + start.minute, finish


def overlapping_pairs(intervals: list[tuple[time, time]]) -> list[tuple[int, int]]:
    """Index pairs of intervals that overlap (touching ends, 08–12 and 12–18, do not)."""
    spans = [
        (*_minutes(start, end), i) for i, (start, end) in enumerate(intervals)
        if not interval_is_inverted(start, end)
    ]
    pairs = []
    for a, (start_a, end_a, i) in enumerate(spans):
        for start_b, end_b, j in spans[a + 1:]:
            if start_a < end_b and start_b < end_a:
                pairs.append((min(i, j), max(i, j)))
    return sorted(pairs)


@dataclass(frozen=True)
class HoursException:
    date: date
    is_closed: bool = True
    start: time | None = None
    end: time | None = None
    note: str = ""


def hours_validate(
    *, weekly: list[tuple[int, time, time]], exceptions: list[HoursException]
) -> None:
    """No inverted intervals and no overlaps on one weekday or one date."""
    errors = []
    labels = dict(BusinessHoursInterval.Weekday.choices)
    for weekday in range(7):
        day = [(start, end) for wd, start, end in weekly if wd == weekday]
        if any(interval_is_inverted(s, e) for s, e in day):
            errors.append(
                _("%(day)s: closing time must be after opening time.") % {"day": labels[weekday]}
            )
        if overlapping_pairs(day):
            errors.append(_("%(day)s: intervals overlap.") % {"day": labels[weekday]})
    if any(wd not in labels for wd, _s, _e in weekly):
        errors.append(_("Unknown weekday."))
    for day in sorted({e.date for e in exceptions}):
        rows = [e for e in exceptions if e.date == day]
        closed = [e for e in rows if e.is_closed]
        special = [(e.start, e.end) for e in rows if not e.is_closed]
        shown = day.isoformat()
        if len(closed) > 1 or (closed and special):
            errors.append(
                _("%(date)s: a date is either closed all day or has special openings, once.")
                % {"date": shown}
            )
        if any(s is None or e is None for s, e in special):
            errors.append(
                _("%(date)s: a special opening needs opening and closing times.")
                % {"date": shown}
            )
            continue
        if any(interval_is_inverted(s, e) for s, e in special):
            errors.append(
                _("%(date)s: closing time must be after opening time.") % {"date": shown}
            )
        if overlapping_pairs(special):
            errors.append(_("%(date)s: intervals overlap.") % {"date": shown})
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def team_hours_replace(
    *,
    organization: Organization,
    team_id: int,
    enabled: bool,
    weekly: list[tuple[int, time, time]],
    exceptions: list[HoursException],
) -> Team:
    """Replace a team's whole schedule at once: all of it is saved, or none of it."""
    hours_validate(weekly=weekly, exceptions=exceptions)
    team = _lock_team(organization, team_id)
    team.hours.all().delete()
    team.hour_exceptions.all().delete()
    BusinessHoursInterval.objects.bulk_create(
        BusinessHoursInterval(team=team, weekday=wd, start=start, end=end)
        for wd, start, end in sorted(weekly)
    )
    BusinessHoursException.objects.bulk_create(
        BusinessHoursException(
            team=team, date=e.date, is_closed=e.is_closed,
            start=None if e.is_closed else e.start, end=None if e.is_closed else e.end,
            note=e.note,
        )
        for e in sorted(exceptions, key=lambda e: (e.date, e.start or MIDNIGHT))
    )
    if team.business_hours_enabled != enabled:
        team.business_hours_enabled = enabled
        team.save(update_fields=["business_hours_enabled"])
    config_changed(organization.pk)  # bulk_create sends no signal (teams.receivers)
    return team


def time_zone_names() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def notify_managers_missed(*, membership: Membership, missed: int) -> None:
    """Tell the organization's managers, by e-mail after commit, that someone was set away."""
    organization = membership.organization
    recipients = list(
        Membership.objects.for_org(organization)
        .filter(is_active=True, role__in=[Membership.Role.OWNER, Membership.Role.MANAGER])
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    if not recipients:
        return
    with translation.override(organization.language):
        subject = _("%(name)s was set away") % {"name": membership.display_name}
        body = _(
            "%(count)d leads in a row passed on from %(name)s without being opened, so "
            "Transbordo set them away. They come back with the presence switch."
        ) % {"count": missed, "name": membership.display_name}
    transaction.on_commit(
        lambda: send_mail(subject, body, None, recipients, fail_silently=True)
    )


def preferences_set(*, membership: Membership, email_notifications: bool) -> Membership:
    """A person's own preferences (today: e-mail when a lead reaches them)."""
    membership.email_notifications = email_notifications
    Membership.objects.filter(pk=membership.pk).update(email_notifications=email_notifications)
    return membership
