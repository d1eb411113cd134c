from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = _("Leads")

    def ready(self):
        from teams.signals import rotation_changed

        from .queue import queue_drain

        def drain(sender, team, **kwargs):
            queue_drain(team=team)

        rotation_changed.connect(drain, dispatch_uid="leads.queue_drain_on_rotation_change",
                                 weak=False)

        from teams.signals import organization_reactivated

        from .limits import overflow_resume

        def resume(sender, organization, paused, **kwargs):
            overflow_resume(organization=organization, paused=paused)

        organization_reactivated.connect(resume, dispatch_uid="leads.overflow_resume",
                                         weak=False)
