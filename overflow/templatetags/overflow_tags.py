"""Overflow's word on pages of the apps below it (teams), without them importing overflow."""

from django import template

from .. import rules
from ..selectors import active_pool_ids, policy_chain, policy_of

register = template.Library()


@register.inclusion_tag("overflow/_too_few_attendants.html")
def overflow_too_few_attendants(team):
    """Rule 3: a warning while overflow is on but its pool has fewer than two active people."""
    policy = policy_of(team)
    if policy is None or policy.pk is None or not policy.enabled:
        return {"show": False}
    active = active_pool_ids(teams=[team, *policy_chain(policy)])
    return {
        "show": not rules.has_enough_attendants(active),
        "count": len(active),
        "minimum": rules.MIN_ACTIVE_ATTENDANTS,
    }
