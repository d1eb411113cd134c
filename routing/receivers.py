"""Every saved change to the routing rules invalidates the copies processes keep of them
(``routing.selectors.active_rules``), however it was made: services, admin or shell."""

from teams.config_cache import config_changed


def rule_changed(sender, instance, action="post_save", **kwargs):
    # A rule's skills changing sends pre_ and post_ actions: the post_ one counts.
    if action.startswith("post_"):
        config_changed(instance.organization_id)


def skill_deleted(sender, instance, **kwargs):
    # The rules that required it lose it by cascade, which sends no m2m signal.
    config_changed(instance.organization_id)
