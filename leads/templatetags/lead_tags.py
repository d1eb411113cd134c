"""Words for the lead pages: how long ago, how long until, why, and who said it.

Django's ``timesince`` says "0 minutes" under a minute ("0 minuto" in pt-BR, whose
catalog counts 0 as singular); these say "just now" and "less than a minute" instead.
"""

from datetime import timedelta

from django import template
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.timesince import timesince, timeuntil
from django.utils.timezone import is_aware, localtime
from django.utils.translation import gettext as _

from ..reasons import event_reason_label, transcript_author_label

register = template.Library()

MINUTE = timedelta(minutes=1)


@register.filter
def ago(moment, now):
    """"5 minutes ago", or "just now" under a minute."""
    if not moment:
        return ""
    if now - moment < MINUTE:
        return _("just now")
    return _("%(age)s ago") % {"age": timesince(moment, now)}


@register.filter
def time_left(moment, now):
    """"12 minutes" until ``moment``, or "less than a minute"."""
    if not moment:
        return ""
    if moment - now < MINUTE:
        return _("less than a minute")
    return timeuntil(moment, now)


register.filter("event_reason", event_reason_label)
register.filter("transcript_author", transcript_author_label)


@register.filter
def transcript_time(value):
    """A transcript message's ``at`` (ISO 8601 as the bot sent it), in local time."""
    moment = parse_datetime(value) if isinstance(value, str) else value
    if moment is None:
        return value
    if is_aware(moment):
        moment = localtime(moment)
    return date_format(moment, "SHORT_DATETIME_FORMAT")
