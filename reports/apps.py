from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """The managers' dashboard, the summary API and the CSV exports. Sits above leads,
    overflow and history and reads them; nothing below imports it."""

    name = "reports"
    verbose_name = _("Reports")

    def ready(self):
        from history.signals import events_written

        from .receivers import record_accesses

        events_written.connect(record_accesses, dispatch_uid="reports.record_accesses")
