"""A lead's stage and lost reason by the names the organization gives them, for the pages of
the apps above (the inbox, the lead page): ``{% stage_label lead.stage %}``."""

from django import template

from ..selectors import funnel_of

register = template.Library()


def _funnel(context):
    return funnel_of(organization=context["request"].organization)


@register.simple_tag(takes_context=True)
def stage_label(context, key: str) -> str:
    return _funnel(context).stage_label(key)


@register.simple_tag(takes_context=True)
def lost_reason_label(context, key: str) -> str:
    return _funnel(context).reason_label(key) if key else ""
