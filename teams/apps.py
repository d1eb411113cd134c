from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class TeamsConfig(AppConfig):
    name = "teams"
    verbose_name = _("Organizations and teams")

    def ready(self):
        from audit.templatetags.audit_tags import value_labels_register

        from . import schema  # noqa: F401  (registers the API key scheme with drf-spectacular)
        from .models import (
            ApiKey,
            BusinessHoursException,
            BusinessHoursInterval,
            Membership,
            Organization,
            Team,
        )
        from .receivers import hours_changed, organization_saved

        value_labels_register("strategy", Team.Strategy.choices)
        value_labels_register("role", Membership.Role.choices)

        for model in (BusinessHoursInterval, BusinessHoursException):
            name = model._meta.model_name
            post_save.connect(hours_changed, sender=model, dispatch_uid=f"teams.{name}.saved")
            post_delete.connect(hours_changed, sender=model, dispatch_uid=f"teams.{name}.deleted")
        for model in (Organization, Team, ApiKey):
            name = model._meta.model_name
            post_save.connect(organization_saved, sender=model,
                              dispatch_uid=f"teams.{name}.keys")
            post_delete.connect(organization_saved, sender=model,
                                dispatch_uid=f"teams.{name}.keys.deleted")
