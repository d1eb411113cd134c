"""The operator's side (issue 15, section 4): deleting an organization, after an export.

Suspension and limits are the organization's own fields (``teams.services.organization``);
deleting needs the export, which lives here. The export is written before anything is
deleted and is kept in Django's default storage (``deleted-organizations/``), outside the
organization's rows, so it outlives them.
"""

from __future__ import annotations

import logging
import tempfile
import uuid

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from teams.models import Organization
from teams.services.organization import organization_suspend

from .exports import export_write

log = logging.getLogger(__name__)

EXPORT_FOLDER = "deleted-organizations"


def organization_delete(*, organization: Organization, export: bool = True,
                        actor=None) -> str:
    """Suspend the organization (no new leads while it is exported), write its export,
    then delete it and every row it owns; returns the export's storage name ("" without).

    People are accounts of the installation: they stay, without this membership.
    The audit log of the organization goes with it; the deletion itself is logged here
    and, from the admin, in Django's admin log.
    """
    organization_suspend(organization=organization, reason="deleting", actor=actor)
    name = ""
    if export:
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        name = f"{EXPORT_FOLDER}/{organization.slug}-{stamp}-{uuid.uuid4().hex[:8]}.zip"
        with tempfile.TemporaryFile() as archive:
            rows = export_write(organization=organization, out=archive)
            archive.seek(0)
            name = default_storage.save(name, File(archive))
        log.warning("organization %s exported before deletion: %d rows to %s",
                    organization.slug, rows, name)
    slug, pk = organization.slug, organization.pk
    with transaction.atomic():
        Organization.objects.select_for_update().get(pk=pk).delete()
    log.warning("organization %s (id %s) deleted by %s", slug, pk,
                getattr(actor, "username", None) or "a command")
    return name
