"""A team's hours saved or deleted one by one (admin, shell, factories) invalidate the copies
processes keep of them (teams.hours.team_schedule_cached). Bulk writes bump in their service."""

from .config_cache import config_changed
from .models import Team


def hours_changed(sender, instance, **kwargs):
    organization_id = (
        Team.objects.filter(pk=instance.team_id).values_list("organization_id", flat=True).first()
    )
    if organization_id is not None:  # None: the team itself is being deleted
        config_changed(organization_id)
