"""People of an organization: create, change role, (de)activate, preferences.

Each service takes the organization explicitly and re-reads the rows it changes
inside it, so a foreign id fails with ``DoesNotExist`` (a 404 in the pages).
"""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.services import Action, Area, audit_record, created, diff

from ..models import (
    Membership,
    Organization,
    Team,
)
from ..signals import rotation_changed

MANAGER_ROLES = frozenset({Membership.Role.OWNER, Membership.Role.MANAGER})


def password_generate() -> str:
    """A password to hand over once; the person changes it or keeps it in a manager."""
    return secrets.token_urlsafe(12)


def check_role_change_allowed(*, actor: Membership, current_role: str | None, new_role: str):
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


def attendant_limit_check(*, organization: Organization, adding: int = 1) -> None:
    """Refuse ``adding`` more active people over the operator's ``max_attendants`` (managers
    and owners count too: each is a seat). Every path that adds or reactivates a membership
    (pages, invitations) calls this inside its transaction; it takes the organization row
    lock, so two additions at once cannot both pass."""
    locked = Organization.objects.select_for_update().get(pk=organization.pk)
    limit = locked.max_attendants
    if limit is None:
        return
    active = Membership.objects.for_org(locked).filter(is_active=True).count()
    if active + adding > limit:
        raise ValidationError(ngettext(
            "Your organization has reached its limit of %(limit)d active person, set by "
            "the platform operator. Deactivate someone first, or ask the operator to raise "
            "the limit.",
            "Your organization has reached its limit of %(limit)d active people, set by "
            "the platform operator. Deactivate someone first, or ask the operator to raise "
            "the limit.",
            limit,
        ) % {"limit": limit}, code="attendant_limit")


def _check_an_owner_remains(*, organization: Organization, membership: Membership,
                            role: str, is_active: bool) -> None:
    """An organization that has an owner keeps at least one active owner (the person who
    can hand out every role). The caller holds the organization row lock."""
    if membership.role != Membership.Role.OWNER or not membership.is_active:
        return
    if role == Membership.Role.OWNER and is_active:
        return
    others = (
        Membership.objects.for_org(organization)
        .filter(is_active=True, role=Membership.Role.OWNER)
        .exclude(pk=membership.pk)
    )
    if not others.exists():
        raise ValidationError(
            _(
                "%(name)s is the organization's last owner; hand ownership to a manager "
                "first."
            )
            % {"name": membership.display_name}
        )


def lock_membership(organization: Organization, membership_id: int) -> Membership:
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
    check_role_change_allowed(actor=actor, current_role=None, new_role=role)
    generated = None
    if password:
        validate_password(password)
    else:
        password = generated = password_generate()
    attendant_limit_check(organization=organization)
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
    audit_record(organization=organization, actor=actor, area=Area.PERSON,
                 action=Action.CREATED, target=membership, target_label=membership.display_name,
                 changes=created({"username": username, **_settings(membership)}))
    return membership, generated


def _settings(membership: Membership) -> dict:
    """What the audit log records of a person (never a password)."""
    return {"role": membership.role, "can_see_all": membership.can_see_all,
            "is_active": membership.is_active}


def _record_change(*, organization, actor, membership: Membership, before: dict) -> None:
    audit_record(organization=organization, actor=actor, area=Area.PERSON,
                 action=Action.CHANGED, target=membership, target_label=membership.display_name,
                 changes=diff(before, _settings(membership)))


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
    membership = lock_membership(organization, membership_id)
    before = _settings(membership)
    if role != membership.role:
        check_role_change_allowed(actor=actor, current_role=membership.role, new_role=role)
        _check_an_owner_remains(organization=organization, membership=membership, role=role,
                                is_active=membership.is_active)
        _check_a_manager_remains(organization=organization, membership=membership, role=role,
                                 is_active=membership.is_active)
    membership.role = role
    membership.can_see_all = can_see_all
    membership.save(update_fields=["role", "can_see_all"])
    _record_change(organization=organization, actor=actor, membership=membership, before=before)
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
    membership = lock_membership(organization, membership_id)
    if membership.is_active == is_active:
        return membership
    if membership.role == Membership.Role.OWNER and actor.role != Membership.Role.OWNER:
        raise ValidationError(_("Only an owner can deactivate or reactivate an owner."))
    if not is_active:
        _check_an_owner_remains(organization=organization, membership=membership,
                                role=membership.role, is_active=False)
        _check_a_manager_remains(organization=organization, membership=membership,
                                 role=membership.role, is_active=False)
    else:
        attendant_limit_check(organization=organization)
    before = _settings(membership)
    membership.is_active = is_active
    membership.save(update_fields=["is_active"])
    _record_change(organization=organization, actor=actor, membership=membership, before=before)
    if is_active:
        for team in Team.objects.filter(members__membership=membership, is_archived=False):
            rotation_changed.send(sender=Team, team=team)
    return membership


@transaction.atomic
def ownership_transfer(
    *, organization: Organization, actor: Membership, membership_id: int
) -> Membership:
    """An owner hands ownership to an active manager: the manager becomes an owner and the
    owner a manager, in one step, so the organization is never without an owner."""
    membership = lock_membership(organization, membership_id)
    giver = Membership.objects.for_org(organization).select_for_update().get(pk=actor.pk)
    if giver.role != Membership.Role.OWNER or not giver.is_active:
        raise ValidationError(_("Only an owner can hand ownership on."))
    if membership.pk == giver.pk:
        raise ValidationError(_("You are the owner already."))
    if membership.role != Membership.Role.MANAGER or not membership.is_active:
        raise ValidationError(_("Ownership goes to an active manager; make %(name)s a "
                                "manager first.") % {"name": membership.display_name})
    for person, role in ((membership, Membership.Role.OWNER), (giver, Membership.Role.MANAGER)):
        before = _settings(person)
        person.role = role
        person.save(update_fields=["role"])
        _record_change(organization=organization, actor=actor, membership=person,
                       before=before)
    return membership


def preferences_set(
    *, membership: Membership, email_notifications: bool, sound_alerts: bool | None = None,
    language: str | None = None,
) -> Membership:
    """A person's own preferences: e-mail when a lead reaches them, a sound in the open
    inbox, and their language (``""`` follows the browser, then the organization). ``None``
    leaves a preference as it is."""
    fields = {"email_notifications": email_notifications}
    if sound_alerts is not None:
        fields["sound_alerts"] = sound_alerts
    if language is not None:
        if language and language not in Organization.Language.values:
            raise ValidationError({"language": [_("Unknown language.")]})
        fields["language"] = language
    for name, value in fields.items():
        setattr(membership, name, value)
    Membership.objects.filter(pk=membership.pk).update(**fields)
    return membership


def language_set(*, membership: Membership, language: str) -> Membership:
    """The language picked in the header: kept on the person's profile."""
    if language not in Organization.Language.values:
        raise ValidationError({"language": [_("Unknown language.")]})
    membership.language = language
    Membership.objects.filter(pk=membership.pk).update(language=language)
    return membership
