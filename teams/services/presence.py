"""An attendant's presence, and telling the managers when the product set someone away.

Each service takes the organization explicitly and re-reads the rows it changes
inside it, so a foreign id fails with ``DoesNotExist`` (a 404 in the pages).
"""


from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ..models import (
    Membership,
)


def presence_set(*, membership: Membership, presence: str) -> Membership:
    """An attendant's own online / away / offline switch, remembered across sessions."""
    if presence not in Membership.Presence.values:
        raise ValueError(f"unknown presence {presence!r}")
    if membership.presence != presence:
        membership.presence = presence
        membership.presence_changed_at = timezone.now()
        Membership.objects.filter(pk=membership.pk).update(
            presence=presence, presence_changed_at=membership.presence_changed_at
        )
    return membership


def notify_managers_missed(*, membership: Membership, missed: int) -> None:
    """Tell the organization's managers, by e-mail after commit, that someone was set away."""
    organization = membership.organization
    recipients = list(
        Membership.objects.for_org(organization)
        .filter(is_active=True, role__in=[Membership.Role.OWNER, Membership.Role.MANAGER])
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    if not recipients:
        return
    with translation.override(organization.language):
        subject = _("%(name)s was set away") % {"name": membership.display_name}
        body = _(
            "%(count)d leads in a row passed on from %(name)s without being opened, so "
            "Transbordo set them away. They come back with the presence switch."
        ) % {"count": missed, "name": membership.display_name}
    transaction.on_commit(
        lambda: send_mail(subject, body, None, recipients, fail_silently=True)
    )
