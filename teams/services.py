from django.db import transaction
from django.utils import timezone

from .models import ApiKey, Membership, Organization


@transaction.atomic
def api_key_create(*, organization: Organization, name: str, created_by=None) -> tuple[ApiKey, str]:
    """A new key; the raw key is returned once and never stored."""
    raw = ApiKey.generate()
    key = ApiKey.objects.create(
        organization=organization,
        name=name,
        prefix=raw[: ApiKey.PREFIX_LEN],
        key_hash=ApiKey.hash(raw),
        created_by=created_by,
    )
    return key, raw


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
