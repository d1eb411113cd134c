from django.db import transaction

from .models import ApiKey, Organization


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
