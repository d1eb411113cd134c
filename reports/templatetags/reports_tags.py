"""Template tags of the reports, for pages of the apps below it.

The inbox (leads) shows an attendant's own numbers and, to managers, an export link by
loading this library: the template names reports, while Python imports keep pointing
down (leads never imports reports).
"""

from django import template
from django.http import QueryDict
from django.urls import reverse

from .. import formatting, selectors

register = template.Library()

register.filter("duration", formatting.duration)
register.filter("percent", formatting.percent)


@register.inclusion_tag("reports/_own_numbers.html", takes_context=True)
def own_numbers(context):
    """The signed-in attendant's median time to open and missed leads, last 7 days."""
    membership = context["request"].membership
    if membership is None or membership.is_manager:
        return {"numbers": None}
    return {"numbers": selectors.own_numbers(membership=membership)}


@register.simple_tag(takes_context=True)
def inbox_export_url(context, tab):
    """The CSV of the inbox's list as filtered now (managers only: it is a report)."""
    request = context["request"]
    params = QueryDict(mutable=True)
    params["tab"] = tab
    for key in ("q", "team"):
        if request.GET.get(key):
            params[key] = request.GET[key]
    params["status"] = request.GET.get("status") or "open"  # what the inbox shows
    return f"{reverse('reports-leads-csv')}?{params.urlencode()}"
