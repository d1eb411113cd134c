"""The operator's side for leads (issue 15, section 4): a suspension's pause of the overflow
clocks, and the monthly lead limit.

The sweep passes a suspended organization by, and its people cannot sign in to open
anything, so on reactivation its overflowing leads get the paused time back
(``overflow_resume``) instead of all passing on in the next sweep.

The monthly lead limit: leads over it are stored, routed
and shown like any other, never dropped; the organization's owners are told, by a banner on
the managers' pages and once a month by e-mail.

A month is the organization's calendar month, in its time zone. Only organizations with a
limit pay anything. Counting the month's leads in the database reads one index entry per
lead (160 ms per arriving lead with 200,000 in the month, docs/benchmarks.md), so the count
lives in the cache (Redis): counted once from the database when missing, then incremented
by each arriving lead. It may drift by a lead under races or after a cache loss; it only
decides a banner and an e-mail, never whether a lead is kept.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import translation
from django.utils.translation import gettext as _

from teams.models import Membership, Organization
from teams.selectors import month_start

from .models import Lead


def leads_this_month(*, organization: Organization, now: datetime | None = None) -> int:
    return Lead.objects.for_org(organization).filter(
        created_at__gte=month_start(organization=organization, now=now)).order_by().count()


def overflow_resume(*, organization: Organization, paused: timedelta) -> int:
    """Move the overflow deadlines of the organization's overflowing leads later by the time
    it was suspended; returns how many. Called inside the reactivation's transaction."""
    return Lead.objects.for_org(organization).filter(overflow_active=True).update(
        overflow_due_at=F("overflow_due_at") + paused)


def _count_key(organization: Organization, month: date) -> str:
    return f"leads-month:{organization.pk}:{month:%Y-%m}"


COUNT_TIMEOUT = 40 * 24 * 3600  # past the end of any month


def lead_month_count(*, organization: Organization, now: datetime | None = None,
                     arrived: bool = False) -> int:
    """This month's leads, from the cache (counted in the database when missing).
    ``arrived``: a lead was just stored, and is counted."""
    key = _count_key(organization, month_start(organization=organization, now=now).date())
    if arrived:
        try:
            return cache.incr(key)
        except ValueError:  # not in the cache: the database's count includes the new lead
            pass
    else:
        cached = cache.get(key)
        if cached is not None:
            return cached
    count = leads_this_month(organization=organization, now=now)
    if not cache.add(key, count, COUNT_TIMEOUT) and arrived:
        return cache.incr(key)  # someone counted meanwhile
    return count


def lead_limit_state(*, organization: Organization, now: datetime | None = None) -> dict | None:
    """``{"limit", "used", "reached", "over"}`` for an organization with a limit, else None."""
    limit = organization.leads_per_month
    if limit is None:
        return None
    used = lead_month_count(organization=organization, now=now)
    return {"limit": limit, "used": used, "reached": used >= limit, "over": max(0, used - limit)}


def lead_limit_after_create(*, organization: Organization, now: datetime | None = None) -> bool:
    """Called once a new lead is stored: the first lead over the limit in a month e-mails the
    owners (managers when there is no active owner). Returns whether it did."""
    limit = organization.leads_per_month
    if limit is None:
        return False
    month: date = month_start(organization=organization, now=now).date()
    used = lead_month_count(organization=organization, now=now, arrived=True)
    if organization.lead_limit_notified_month == month or used <= limit:
        return False
    # One e-mail per month, whoever gets here first.
    claimed = Organization.objects.filter(pk=organization.pk).exclude(
        lead_limit_notified_month=month).update(lead_limit_notified_month=month)
    organization.lead_limit_notified_month = month
    if claimed:
        _tell_owners(organization=organization, limit=limit)
    return bool(claimed)


def _tell_owners(*, organization: Organization, limit: int) -> None:
    people = Membership.objects.for_org(organization).filter(is_active=True).exclude(
        user__email="")
    recipients = list(people.filter(role=Membership.Role.OWNER)
                      .values_list("user__email", flat=True)) or list(
        people.filter(role=Membership.Role.MANAGER).values_list("user__email", flat=True))
    if not recipients:
        return
    with translation.override(organization.language):
        subject = _("%(org)s passed its limit of leads this month") % {"org": organization.name}
        body = _(
            "%(org)s received more than %(limit)d leads this month, the limit set by the "
            "platform operator. Nothing is lost: the leads over the limit are stored, routed "
            "and shown as usual. Ask the operator to raise the limit."
        ) % {"org": organization.name, "limit": limit}
    transaction.on_commit(lambda: send_mail(subject, body, None, recipients,
                                            fail_silently=True))
