"""Telling attendants that a lead reached them: an unread badge, and an e-mail they can turn off.

The badge is derived, not stored: a lead is new to its attendant until they
open it (``Lead.assignee_accessed_at``), which is already what stops overflow.
The e-mails go out from a Celery task after the commit of the events that
moved a lead to someone (assigned, overflowed to, transferred to), carrying ids.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from history.models import LeadEvent

from .models import Lead

RECEIVING = {LeadEvent.Type.ASSIGNED, LeadEvent.Type.OVERFLOWED, LeadEvent.Type.TRANSFERRED}


def on_events_written(sender, events, **kwargs) -> None:
    """Receiver of history.signals.events_written: nothing is written, a task is queued."""
    ids = [
        event.pk for event in events
        # Taking a lead yourself is no news to you.
        if event.type in RECEIVING and event.to_member_id and not event.data.get("self_assigned")
        and _may_want_email(event)
    ]
    if ids:
        transaction.on_commit(lambda: _send_later(ids))


def _may_want_email(event: LeadEvent) -> bool:
    """False when the person is already loaded and turned e-mails off: no task for them.
    Otherwise the task decides, reading who they are then."""
    if not LeadEvent.to_member.is_cached(event):
        return True
    return event.to_member.email_notifications


def _send_later(event_ids: list[int]) -> None:
    from .tasks import send_lead_notifications

    send_lead_notifications.delay(event_ids)


def notifications_email(*, event_ids: list[int]) -> int:
    """E-mail the attendants these events reached, if they keep the e-mails on."""
    events = (
        LeadEvent.objects.filter(
            pk__in=event_ids, to_member__email_notifications=True, to_member__is_active=True,
        )
        .exclude(to_member__user__email="")
        .select_related("to_member__user", "to_member__organization", "lead")
    )
    messages = []
    for event in events:
        member, lead = event.to_member, event.lead
        if lead.assignee_id != member.pk or lead.assignee_accessed_at is not None:
            continue  # it moved on, or they opened it already
        with translation.override(member.organization.language):
            link = settings.SITE_URL.rstrip("/") + reverse("lead-detail", args=[lead.pk])
            subject = _("New lead for you: %(lead)s") % {"lead": lead}
            body = _(
                "%(event)s: %(lead)s (%(contact)s).\nOpen it within the service time: %(link)s"
            ) % {
                "event": event.get_type_display(), "lead": lead,
                "contact": lead.email or lead.phone, "link": link,
            }
        messages.append((subject, body, None, [member.user.email]))
    send_mass_mail(messages, fail_silently=True)
    return len(messages)


def unread_leads(*, membership):
    """Open leads that reached this person and that they have not opened yet."""
    return Lead.objects.filter(
        assignee=membership, status=Lead.Status.OPEN, assignee_accessed_at__isnull=True
    )
