"""How the pages write the reports' numbers."""

from django.utils.formats import number_format
from django.utils.translation import gettext as _


def duration(seconds: float | None) -> str:
    """45 s, 4 min, 1 h 05 min, 2 d 3 h; a dash when there is nothing to measure."""
    if seconds is None:
        return "—"
    seconds = round(seconds)
    if seconds < 60:
        return _("%(s)d s") % {"s": seconds}
    minutes = seconds // 60
    if minutes < 60:
        return _("%(m)d min") % {"m": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}
    days, hours = divmod(hours, 24)
    return _("%(d)d d %(h)d h") % {"d": days, "h": hours}


def percent(rate: float | None) -> str:
    """20.0% (20,0% in Portuguese); a dash when there is no share to take."""
    # number_format cuts digits off; round first (2/3 is 66.7%, not 66.6%).
    return "—" if rate is None else number_format(round(100 * rate, 1), 1) + "%"
