from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = _("Routing")

    def ready(self):
        from teams.models import Skill

        from .models import RoutingRule
        from .receivers import rule_changed, skill_deleted

        post_save.connect(rule_changed, sender=RoutingRule, dispatch_uid="routing.rule.saved")
        post_delete.connect(rule_changed, sender=RoutingRule, dispatch_uid="routing.rule.deleted")
        m2m_changed.connect(rule_changed, sender=RoutingRule.required_skills.through,
                            dispatch_uid="routing.rule.skills")
        post_delete.connect(skill_deleted, sender=Skill, dispatch_uid="routing.skill_deleted")
