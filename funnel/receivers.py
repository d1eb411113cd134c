"""Every saved change to the funnel or the scoring rules invalidates the copies processes
keep of them (funnel.selectors), however it was made: services, admin or shell. A new
organization gets the default stages and lost reasons."""

from teams.config_cache import config_changed

from .services import funnel_defaults_create


def funnel_changed(sender, instance, **kwargs):
    config_changed(instance.organization_id)


def organization_created(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        funnel_defaults_create(organization=instance)
