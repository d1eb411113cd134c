from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("Integrations")

    def ready(self):
        from history.signals import events_written

        from .models import WebhookEndpoint
        from .receivers import endpoint_changed, enqueue_deliveries

        events_written.connect(enqueue_deliveries, dispatch_uid="integrations.enqueue_deliveries")
        post_save.connect(endpoint_changed, sender=WebhookEndpoint,
                          dispatch_uid="integrations.endpoint_saved")
        post_delete.connect(endpoint_changed, sender=WebhookEndpoint,
                            dispatch_uid="integrations.endpoint_deleted")
