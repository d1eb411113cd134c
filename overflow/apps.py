from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OverflowConfig(AppConfig):
    name = "overflow"
    verbose_name = _("Overflow (transbordo)")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from .models import OverflowPolicy

        for signal in (post_save, post_delete):
            signal.connect(_policy_saved, sender=OverflowPolicy,
                           dispatch_uid=f"overflow.policy.{signal is post_save}")


def _policy_saved(sender, instance, **kwargs):
    """A team's policy saved here: this process's API-key copies carry the organization's
    default team with its policy (teams.config_cache.api_key_cached)."""
    from teams.config_cache import forget
    from teams.models import Team

    organization_id = (
        Team.objects.filter(pk=instance.team_id).values_list("organization_id", flat=True).first()
    )
    if organization_id is not None:
        forget(organization_id)
