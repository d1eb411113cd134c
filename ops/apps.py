from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Operations: probes, metrics, logs, data export and erasure, retention.

    Near the top of the layers: it reads every app below and nothing imports it. It hears
    the others through signals (history's events, outbound webhooks' results, Celery's
    task signals) instead of being called by them.
    """

    name = "ops"
    verbose_name = _("Operations")

    def ready(self):
        from celery.signals import before_task_publish, task_postrun, task_prerun, worker_ready

        from history.signals import events_written
        from integrations.signals import deliveries_recorded

        from . import receivers

        events_written.connect(receivers.events_announced, dispatch_uid="ops.events")
        deliveries_recorded.connect(receivers.deliveries_recorded, dispatch_uid="ops.webhooks")
        before_task_publish.connect(receivers.task_publishing, dispatch_uid="ops.publish",
                                    weak=False)
        task_prerun.connect(receivers.task_starting, dispatch_uid="ops.prerun", weak=False)
        task_postrun.connect(receivers.task_finished, dispatch_uid="ops.postrun", weak=False)
        worker_ready.connect(receivers.worker_metrics_server, dispatch_uid="ops.worker_metrics",
                             weak=False)
