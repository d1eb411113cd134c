"""The operator's monthly lead limit (issue 15, section 4): leads over it are stored, routed
and shown like any other, never dropped; the organization's owners are told, by a banner on
the managers' pages and once a month by e-mail.

A month is the organization's calendar month, in its time zone. Counting reads the
``lead_recent`` index (organization, created_at); it runs only for organizations with a
limit, and once the owners were told this month, not at all on arrival.
"""

from __future__ import annotations

from datetime import date, datetime

from django.core.mail import send_mail
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from teams.models import Membership, Organization
from teams.selectors import month_start

from .models import Lead


def leads_this_month(*, organization: Organization, now: datetime | None = None) -> int:
    return Lead.objects.for_org(organization).filter(
        created_at__gte=month_start(organization=organization, now=now)).order_by().count()


def lead_limit_state(*, organization: Organization, now: datetime | None = None) -> dict | None:
    """``{"limit", "used", "reached", "over"}`` for an organization with a limit, else None."""
    limit = organization.leads_per_month
    if limit is None:
        return None
    used = leads_this_month(organization=organization, now=now)
    return {"limit": limit, "used": used, "reached": used >= limit, "over": max(0, used - limit)}


def lead_limit_after_create(*, organization: Organization, now: datetime | None = None) -> bool:
    """Called once a new lead is stored: the first lead over the limit in a month e-mails the
    owners (managers when there is no active owner). Returns whether it did."""
    limit = organization.leads_per_month
    if limit is None:
        return False
    month: date = month_start(organization=organization, now=now).date()
    if organization.lead_limit_notified_month == month:
        return False
    if leads_this_month(organization=organization, now=now) <= limit:
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
