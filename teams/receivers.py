"""A team's hours saved or deleted one by one (admin, shell, factories) invalidate the copies
processes keep of them (teams.hours.team_schedule_cached). Bulk writes bump in their service."""

from .config_cache import config_changed, forget
from .models import Team


def hours_changed(sender, instance, **kwargs):
    organization_id = (
        Team.objects.filter(pk=instance.team_id).values_list("organization_id", flat=True).first()
    )
    if organization_id is not None:  # None: the team itself is being deleted
        config_changed(organization_id)


def organization_saved(sender, instance, **kwargs):
    """An organization, team or API key saved in this process: its copies of the
    organization's keys (which carry the organization and its default team) are dropped."""
    organization_id = instance.pk if sender._meta.model_name == "organization" else getattr(
        instance, "organization_id", None)
    if organization_id is not None:
        forget(organization_id)
