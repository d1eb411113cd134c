from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("Integrations")

    def ready(self):
        from history.signals import events_written

        from .receivers import enqueue_deliveries

        events_written.connect(enqueue_deliveries, dispatch_uid="integrations.enqueue_deliveries")
