"""The organization's own settings.

Each service takes the organization explicitly and re-reads the rows it changes
inside it, so a foreign id fails with ``DoesNotExist`` (a 404 in the pages).
"""

import zoneinfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import Action, Area, audit_record, diff

from ..models import (
    Organization,
    Team,
    validate_time_zone,
)


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
