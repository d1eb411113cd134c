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

        from overflow.signals import missed_limit_reached

        from .queue import leads_pass_on_if_away

        def pass_on(sender, membership_id, **kwargs):
            leads_pass_on_if_away(membership_id=membership_id)

        missed_limit_reached.connect(pass_on, dispatch_uid="leads.pass_on_missed_limit",
                                     weak=False)
