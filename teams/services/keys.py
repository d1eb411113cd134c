"""API keys: created with their raw value shown once, revoked, never deleted.

Each service takes the organization explicitly and re-reads the rows it changes
inside it, so a foreign id fails with ``DoesNotExist`` (a 404 in the pages).
"""


from django.db import transaction
from django.utils import timezone

from audit.services import Action, Area, audit_record, created

from ..config_cache import forget
from ..models import (
    ApiKey,
    Organization,
)


@transaction.atomic
def api_key_create(
    *, organization: Organization, name: str, created_by=None, actor=None
) -> tuple[ApiKey, str]:
    """A new key; the raw key is returned once and never stored (nor audited: the log has its
    name and prefix). ``actor``: the membership creating it (None: a command)."""
    raw = ApiKey.generate()
    key = ApiKey.objects.create(
        organization=organization,
        name=name,
        prefix=raw[: ApiKey.PREFIX_LEN],
        key_hash=ApiKey.hash(raw),
        created_by=created_by,
    )
    audit_record(organization=organization, actor=actor, area=Area.KEY, action=Action.CREATED,
                 target=key, target_label=key.name,
                 changes=created({"name": key.name, "prefix": key.prefix}))
    return key, raw


@transaction.atomic
def api_key_revoke(*, organization: Organization, key_id: int, actor=None) -> bool:
    """Revoke one of the organization's keys; ``False`` when it was already revoked.

    Raises ``ApiKey.DoesNotExist`` for another organization's key.
    """
    key = ApiKey.objects.for_org(organization).select_for_update().get(pk=key_id)
    revoked = bool(
        ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    )
    if revoked:
        forget(organization.pk)  # this process at once; the others within their cache's seconds
        audit_record(organization=organization, actor=actor, area=Area.KEY,
                     action=Action.REVOKED, target=key, target_label=key.name)
    return revoked
