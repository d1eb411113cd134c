"""Teams, their settings and their members (the rotation).

Each service takes the organization explicitly and re-reads the rows it changes
inside it, so a foreign id fails with ``DoesNotExist`` (a 404 in the pages).
"""

from string import Formatter

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from audit.services import Action, Area, audit_record, created, diff

from ..models import (
    Membership,
    Organization,
    Team,
    TeamMember,
)
from ..signals import rotation_changed

# What the audit log records of a team's settings (every field of its form).
AUDITED = (
    "name", "slug", "strategy", "online_only", "business_hours_enabled", "sticky_returning",
    "idle_limit_minutes", "missed_limit", "message_assigned", "message_out_of_hours",
    "message_queued", "whatsapp_greeting",
)


def _settings(team: Team) -> dict:
    return {field: getattr(team, field) for field in AUDITED}


def members_snapshot(team: Team) -> list[str]:
    """The rotation as the audit log shows it: names in order, with what differs from the
    default (paused, a capacity)."""
    shown = []
    for member in TeamMember.objects.filter(team=team).select_related(
            "membership__user").order_by("order", "id"):
        notes = ([] if member.is_active else ["paused"]) + (
            [f"capacity {member.capacity}"] if member.capacity is not None else [])
        name = member.membership.display_name
        shown.append(f"{name} ({', '.join(notes)})" if notes else name)
    return shown


def _record_members(*, organization, actor, team: Team, before: list[str]) -> None:
    audit_record(organization=organization, actor=actor, area=Area.TEAM,
                 action=Action.CHANGED, target=team, target_label=team.name,
                 changes=diff({"members": before}, {"members": members_snapshot(team)}))


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
                         messages: dict[str, str], greeting: str = "") -> None:
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
    problem = message_template_problem(greeting, allowed=Team.GREETING_PLACEHOLDERS)
    if problem:
        errors["whatsapp_greeting"] = [problem]
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
    whatsapp_greeting: str = "",
    actor=None,
) -> Team:
    _check_team_settings(
        strategy=strategy,
        limits={"idle_limit_minutes": idle_limit_minutes, "missed_limit": missed_limit},
        messages={"message_assigned": message_assigned,
                  "message_out_of_hours": message_out_of_hours,
                  "message_queued": message_queued},
        greeting=whatsapp_greeting,
    )
    team = Team(
        organization=organization, name=name, slug=slug, strategy=strategy,
        online_only=online_only, business_hours_enabled=business_hours_enabled,
        sticky_returning=sticky_returning, idle_limit_minutes=idle_limit_minutes,
        missed_limit=missed_limit, message_assigned=message_assigned,
        message_out_of_hours=message_out_of_hours, message_queued=message_queued,
        whatsapp_greeting=whatsapp_greeting,
    )
    team = _save_team(team, organization=organization)
    changes = created(_settings(team))
    if _make_first_team_default(organization=organization, team=team):
        changes["default_team"] = {"from": None, "to": team.name}
    audit_record(organization=organization, actor=actor, area=Area.TEAM, action=Action.CREATED,
                 target=team, target_label=team.name, changes=changes)
    return team


def _make_first_team_default(*, organization: Organization, team: Team) -> bool:
    """An organization's first team becomes its default team, so that leads sent without a
    team (the first steps' test lead, an API key's first posts) reach it instead of no team.
    Only when there is no default team and no other active team: a choice made in the
    organization settings, or several teams without a default, are left as they are."""
    locked = Organization.objects.select_for_update().get(pk=organization.pk)
    others = Team.objects.for_org(organization).filter(is_archived=False).exclude(pk=team.pk)
    if locked.default_team_id is not None or others.exists():
        return False
    locked.default_team = team
    locked.save(update_fields=["default_team"])  # its signal drops the API keys' copies
    organization.default_team = team
    return True


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
    whatsapp_greeting: str | None = None,
    actor=None,
) -> Team:
    """A team's name and every routing setting at once, as the team's form shows them.

    Turning "only online attendants" off lets more people take leads, so the
    team's waiting queue is offered to them. ``whatsapp_greeting=None`` keeps it as it is.
    """
    messages = {
        "message_assigned": message_assigned, "message_out_of_hours": message_out_of_hours,
        "message_queued": message_queued,
    }
    _check_team_settings(
        strategy=strategy,
        limits={"idle_limit_minutes": idle_limit_minutes, "missed_limit": missed_limit},
        messages=messages, greeting=whatsapp_greeting or "",
    )
    team = Team.objects.for_org(organization).select_for_update().get(pk=team_id)
    before = _settings(team)
    widened = team.online_only and not online_only
    changes = {
        "name": name, "slug": slug, "strategy": strategy, "online_only": online_only,
        "business_hours_enabled": business_hours_enabled, "sticky_returning": sticky_returning,
        "idle_limit_minutes": idle_limit_minutes, "missed_limit": missed_limit, **messages,
    }
    if whatsapp_greeting is not None:
        changes["whatsapp_greeting"] = whatsapp_greeting
    for field, value in changes.items():
        setattr(team, field, value)
    team = _save_team(team, organization=organization, update_fields=list(changes))
    audit_record(organization=organization, actor=actor, area=Area.TEAM, action=Action.CHANGED,
                 target=team, target_label=team.name, changes=diff(before, _settings(team)))
    if widened:
        rotation_changed.send(sender=Team, team=team)
    return team


@transaction.atomic
def team_set_archived(
    *, organization: Organization, team_id: int, archived: bool, actor=None
) -> Team:
    """An archived team takes no new leads; its history and settings stay."""
    team = Team.objects.for_org(organization).select_for_update().get(pk=team_id)
    if archived and Organization.objects.filter(pk=organization.pk, default_team=team).exists():
        raise ValidationError(
            _("This is the organization's default team; choose another default team first.")
        )
    was = team.is_archived
    team.is_archived = archived
    team.save(update_fields=["is_archived"])
    audit_record(organization=organization, actor=actor, area=Area.TEAM, action=Action.CHANGED,
                 target=team, target_label=team.name,
                 changes=diff({"is_archived": was}, {"is_archived": archived}))
    return team


def lock_team(organization: Organization, team_id: int) -> Team:
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
    actor=None,
) -> TeamMember:
    """Put an active person of the organization at the end of the team's rotation."""
    team = lock_team(organization, team_id)
    before = members_snapshot(team)
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
    _record_members(organization=organization, actor=actor, team=team, before=before)
    rotation_changed.send(sender=Team, team=team)
    return member


def team_member_update(
    *,
    organization: Organization,
    team_id: int,
    member_id: int,
    is_active: bool,
    capacity: int | None,
    actor=None,
) -> TeamMember:
    """The manager's switch (in or out of the rotation) and the open-lead capacity."""
    return team_members_update(organization=organization, team_id=team_id, actor=actor,
                               changes={member_id: (is_active, capacity)})[0]


@transaction.atomic
def team_members_update(
    *,
    organization: Organization,
    team_id: int,
    changes: dict[int, tuple[bool, int | None]],
    actor=None,
) -> list[TeamMember]:
    """Several members' switch and capacity at once, ``{member id: (in rotation, capacity)}``
    (the team page saves them all with one button): one transaction, one audit entry, one
    announcement of the rotation's change (which drains the queue if room was made)."""
    team = lock_team(organization, team_id)
    before = members_snapshot(team)
    members = list(TeamMember.objects.filter(team=team, pk__in=changes).order_by("order", "id"))
    if len(members) != len(changes):
        raise TeamMember.DoesNotExist("a member of another team")
    for member in members:
        member.is_active, member.capacity = changes[member.pk]
    TeamMember.objects.bulk_update(members, ["is_active", "capacity"])
    _record_members(organization=organization, actor=actor, team=team, before=before)
    rotation_changed.send(sender=Team, team=team)
    return members


@transaction.atomic
def team_member_move(
    *, organization: Organization, team_id: int, member_id: int, offset: int, actor=None
) -> TeamMember:
    """Move a member ``offset`` places in the rotation (-1: up, 1: down); orders become 0..n-1."""
    team = lock_team(organization, team_id)
    before = members_snapshot(team)
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
    _record_members(organization=organization, actor=actor, team=team, before=before)
    return member


@transaction.atomic
def team_member_remove(
    *, organization: Organization, team_id: int, member_id: int, actor=None
) -> None:
    """Take a person out of the team; their leads and history stay as they are."""
    team = lock_team(organization, team_id)
    member = TeamMember.objects.get(pk=member_id, team=team)
    before = members_snapshot(team)
    member.delete()
    _record_members(organization=organization, actor=actor, team=team, before=before)
