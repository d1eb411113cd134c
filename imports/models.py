"""CSV imports of leads: the uploaded file, its column mapping, its progress and report."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from teams.models import OrganizationScopedQuerySet

# The lead fields a column can fill; every other column goes to the lead's custom fields.
FIELDS = ("name", "email", "phone", "external_id")


class LeadImport(models.Model):
    """One CSV file of leads: uploaded, mapped by a manager, imported by a Celery task."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Waiting for the column mapping")
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    organization = models.ForeignKey(
        "teams.Organization", on_delete=models.CASCADE, related_name="+"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    original_name = models.CharField(_("file"), max_length=255)
    # Name of the uploaded file in Django's default storage.
    file_name = models.CharField(max_length=300, editable=False)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    encoding = models.CharField(_("encoding"), max_length=20)
    delimiter = models.CharField(_("separator"), max_length=1)
    columns = models.JSONField(_("columns"), default=list)
    # {lead field: column index}; columns not named here go to custom fields.
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    team = models.ForeignKey(
        "teams.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", help_text=_("Whose rotation gets the leads; none: left unassigned."),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices,
                              default=Status.UPLOADED)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    rows = models.PositiveIntegerField(_("rows read"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicates"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = OrganizationScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("lead import")
        verbose_name_plural = _("lead imports")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"import {self.pk} ({self.status})"

    @property
    def in_progress(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


class ImportIssue(models.Model):
    """A row of an import that did not become a lead, and why (the report)."""

    class Outcome(models.TextChoices):
        DUPLICATE = "duplicate", _("Duplicate")
        REJECTED = "rejected", _("Rejected")

    lead_import = models.ForeignKey(LeadImport, on_delete=models.CASCADE, related_name="issues")
    row = models.PositiveIntegerField(_("row"))
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    reason = models.CharField(_("reason"), max_length=300)
    values = models.JSONField(default=list)

    class Meta:
        ordering = ["lead_import", "row"]

    def __str__(self):
        return f"row {self.row}: {self.outcome}"
