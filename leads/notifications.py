"""Telling attendants that a lead reached them: an unread badge, and an e-mail they can turn off.

A receiver of ``history.signals.events_written``: the badge rows are written in
the transaction of the events (one INSERT per batch, only when a lead changed
hands), and the e-mails go out from a Celery task after commit, carrying ids.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from history.models import LeadEvent

from .models import Lead, Notification

RECEIVING = {LeadEvent.Type.ASSIGNED, LeadEvent.Type.OVERFLOWED, LeadEvent.Type.TRANSFERRED}


def on_events_written(sender, events, **kwargs) -> None:
    rows = [
        Notification(
            membership_id=event.to_member_id, lead_id=event.lead_id, event_id=event.pk,
            created_at=event.created_at,
        )
        for event in events
        # Taking a lead yourself is no news to you: no badge, no e-mail.
        if event.type in RECEIVING and event.to_member_id and not event.data.get("self_assigned")
    ]
    if not rows:
        return
    Notification.objects.bulk_create(rows)
    ids = [row.event_id for row in rows]
    transaction.on_commit(lambda: _send_later(ids))


def _send_later(event_ids: list[int]) -> None:
    from .tasks import send_lead_notifications

    send_lead_notifications.delay(event_ids)


def notifications_email(*, event_ids: list[int]) -> int:
    """Send the e-mails of these notifications to whoever has them switched on."""
    notes = (
        Notification.objects.filter(
            event_id__in=event_ids, membership__email_notifications=True,
            membership__is_active=True,
        )
        .exclude(membership__user__email="")
        .select_related("membership__user", "membership__organization", "lead", "event")
    )
    messages = []
    for note in notes:
        organization = note.membership.organization
        with translation.override(organization.language):
            link = settings.SITE_URL.rstrip("/") + reverse("lead-detail", args=[note.lead_id])
            subject = _("New lead for you: %(lead)s") % {"lead": note.lead}
            body = _(
                "%(event)s: %(lead)s (%(contact)s).\nOpen it within the service time: %(link)s"
            ) % {
                "event": note.event.get_type_display(), "lead": note.lead,
                "contact": note.lead.email or note.lead.phone, "link": link,
            }
        messages.append((subject, body, None, [note.membership.user.email]))
    send_mass_mail(messages, fail_silently=True)
    return len(messages)


def notifications_unread_count(*, membership) -> int:
    return Notification.objects.filter(membership=membership, read_at__isnull=True).count()


def notifications_mark_read(*, membership, lead: Lead) -> None:
    Notification.objects.filter(
        membership=membership, lead=lead, read_at__isnull=True
    ).update(read_at=timezone.now())
