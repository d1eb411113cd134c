"""The organization's own settings.

Each service takes the organization explicitly and re-reads the rows it changes
inside it, so a foreign id fails with ``DoesNotExist`` (a 404 in the pages).
"""

import logging
import zoneinfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import Action, Area, audit_record, diff

from ..models import (
    Organization,
    Team,
    validate_time_zone,
)
from ..signals import organization_reactivated

log = logging.getLogger(__name__)


@transaction.atomic
def organization_update(
    *,
    organization: Organization,
    name: str,
    time_zone: str,
    language: str,
    attendants_see_all: bool,
    default_team: Team | None,
    actor=None,
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
    before = _settings(locked)
    locked.name = name
    locked.time_zone = time_zone
    locked.language = language
    locked.attendants_see_all = attendants_see_all
    locked.default_team = default_team
    locked.save(
        update_fields=["name", "time_zone", "language", "attendants_see_all", "default_team"]
    )
    audit_record(organization=locked, actor=actor, area=Area.ORGANIZATION,
                 action=Action.CHANGED, target=locked, target_label=locked.name,
                 changes=diff(before, _settings(locked)))
    return locked


def _settings(organization: Organization) -> dict:
    team = organization.default_team
    return {
        "name": organization.name, "time_zone": organization.time_zone,
        "language": organization.language,
        "attendants_see_all": organization.attendants_see_all,
        "default_team": team.name if team is not None else None,
    }


def time_zone_names() -> list[str]:
    return sorted(zoneinfo.available_timezones())


# --- The operator's side (issue 15, section 4): suspension and limits ------------------------
# Called from Django's admin and from manage.py; ``actor`` is the operator's user (None: a
# command). Each re-reads the organization under its row lock.


@transaction.atomic
def organization_suspend(*, organization: Organization, reason: str = "",
                         actor=None) -> bool:
    """Suspend the organization; ``False`` when it already was. Nothing is deleted: its keys
    answer 403, its people cannot sign in and the sweep passes it by until it is
    reactivated."""
    locked = Organization.objects.select_for_update().get(pk=organization.pk)
    if locked.suspended_at is not None:
        return False
    locked.suspended_at = timezone.now()
    locked.suspended_reason = reason[:200]
    locked.save(update_fields=["suspended_at", "suspended_reason"])
    organization.suspended_at, organization.suspended_reason = (
        locked.suspended_at, locked.suspended_reason)
    audit_record(organization=locked, actor=actor, area=Area.ORGANIZATION,
                 action=Action.SUSPENDED, target=locked, target_label=locked.name,
                 changes=diff({}, {"reason": reason} if reason else {}))
    log.warning("organization %s suspended", locked.slug)
    return True


@transaction.atomic
def organization_reactivate(*, organization: Organization, actor=None) -> bool:
    """Lift a suspension; ``False`` when the organization was not suspended."""
    locked = Organization.objects.select_for_update().get(pk=organization.pk)
    if locked.suspended_at is None:
        return False
    since = locked.suspended_at
    locked.suspended_at = None
    locked.suspended_reason = ""
    locked.save(update_fields=["suspended_at", "suspended_reason"])
    organization.suspended_at, organization.suspended_reason = None, ""
    organization_reactivated.send(sender=Organization, organization=locked,
                                  paused=timezone.now() - since)
    audit_record(organization=locked, actor=actor, area=Area.ORGANIZATION,
                 action=Action.REACTIVATED, target=locked, target_label=locked.name,
                 changes=diff({"suspended_at": since}, {"suspended_at": None}))
    log.warning("organization %s reactivated", locked.slug)
    return True


@transaction.atomic
def organization_limits_set(*, organization: Organization, max_attendants: int | None,
                            leads_per_month: int | None, actor=None) -> Organization:
    """Set the operator's limits (``None``: no limit). Lowering a limit below what is in use
    refuses nothing already there; it only refuses what comes next."""
    errors = {}
    for name, value in (("max_attendants", max_attendants),
                        ("leads_per_month", leads_per_month)):
        if value is not None and value < 1:
            errors[name] = [ValidationError(_("Give a number of at least 1, or no limit."))]
    if errors:
        raise ValidationError(errors)
    locked = Organization.objects.select_for_update().get(pk=organization.pk)
    before = {"max_attendants": locked.max_attendants,
              "leads_per_month": locked.leads_per_month}
    locked.max_attendants = max_attendants
    locked.leads_per_month = leads_per_month
    locked.save(update_fields=["max_attendants", "leads_per_month"])
    organization.max_attendants, organization.leads_per_month = max_attendants, leads_per_month
    audit_record(organization=locked, actor=actor, area=Area.ORGANIZATION,
                 action=Action.CHANGED, target=locked, target_label=locked.name,
                 changes=diff(before, {"max_attendants": max_attendants,
                                       "leads_per_month": leads_per_month}))
    return locked
