"""Telling attendants that a lead reached them: an unread badge, and an e-mail they can turn off.

Both are derived from the lead, like overflow. A lead is new to its attendant
until they open it (``Lead.assignee_accessed_at``): that is the badge. An
e-mail is due for a lead that reached someone (assigned, overflowed or
transferred to them), which they have not opened, and whose arrival
(``assigned_at``) they were not e-mailed about yet (``assignee_notified_at``).
A periodic task claims due leads, marks them, and sends after the commit.

Nothing happens on intake's request path: no task to queue, no broker to reach.
A second run, or two at once, sends nothing twice (claims skip locked rows and
marked leads are no longer due); an e-mail that fails to leave is not retried.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from .models import NOTIFY_DUE, Lead

BATCH = 200


def notifications_due():
    return Lead.objects.filter(NOTIFY_DUE)


def notifications_send(*, batch_size: int = BATCH) -> int:
    """E-mail every attendant the leads that reached them since the last run; returns how
    many e-mails left. People who turned e-mails off, or have no address, get none."""
    sent = 0
    while True:
        with transaction.atomic():
            leads = list(
                notifications_due()
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("assignee__user", "assignee__organization")
                .order_by("assigned_at", "id")[:batch_size]
            )
            if not leads:
                return sent
            Lead.objects.filter(pk__in=[lead.pk for lead in leads]).update(
                assignee_notified_at=F("assigned_at")
            )
        # After the commit: no lock is held while the mail server answers.
        messages = [_message(lead) for lead in leads if _wants_email(lead.assignee)]
        send_mass_mail(messages, fail_silently=True)
        sent += len(messages)


def _wants_email(member) -> bool:
    return member.is_active and member.email_notifications and bool(member.user.email)


def _message(lead: Lead) -> tuple[str, str, None, list[str]]:
    member = lead.assignee
    with translation.override(member.language_or_default):
        link = settings.SITE_URL.rstrip("/") + reverse("lead-detail", args=[lead.pk])
        subject = _("New lead for you: %(lead)s") % {"lead": lead}
        body = _(
            "%(lead)s (%(contact)s) is waiting for you.\n"
            "Open it within the service time: %(link)s"
        ) % {"lead": lead, "contact": lead.email or lead.phone, "link": link}
    return subject, body, None, [member.user.email]


def unread_leads(*, membership):
    """Open leads that reached this person and that they have not opened yet."""
    return Lead.objects.filter(
        assignee=membership, status=Lead.Status.OPEN, assignee_accessed_at__isnull=True
    )
