from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class FunnelConfig(AppConfig):
    """Funnel stages, lost reasons and lead scoring. Sits above routing (its conditions)
    and below leads, which keeps each lead's stage and score."""

    name = "funnel"
    verbose_name = _("Funnel")

    def ready(self):
        from audit.templatetags.audit_tags import value_labels_register
        from teams.models import Organization

        from .models import LostReason, ScoringRule, Stage
        from .receivers import funnel_changed, organization_created

        value_labels_register("behaviour", ScoringRule.Behaviour.choices)

        for model in (Stage, LostReason, ScoringRule):
            name = model._meta.model_name
            post_save.connect(funnel_changed, sender=model, dispatch_uid=f"funnel.{name}.saved")
            post_delete.connect(funnel_changed, sender=model,
                                dispatch_uid=f"funnel.{name}.deleted")
        post_save.connect(organization_created, sender=Organization,
                          dispatch_uid="funnel.organization_created")
