"""What the operations app keeps: data exports, the record of erasures, retention."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from teams.models import OrganizationScopedQuerySet


class DataExport(models.Model):
    """One ZIP of an organization's data, built by a Celery task, downloadable until it
    expires (then its file is deleted)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Being built")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    organization = models.ForeignKey(
        "teams.Organization", on_delete=models.CASCADE, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_by_api_key = models.ForeignKey(
        "teams.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices,
                              default=Status.PENDING)
    # 0 to 100, moved by the task as it writes rows.
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    rows = models.PositiveBigIntegerField(_("rows"), default=0)
    file_name = models.CharField(max_length=300, blank=True, editable=False)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("link expires at"), null=True, blank=True)

    objects = OrganizationScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("data export")
        verbose_name_plural = _("data exports")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The hourly prune: files of expired exports.
            models.Index(fields=["expires_at"], condition=~Q(file_name=""),
                         name="export_file_expiry"),
        ]

    def __str__(self):
        return f"export {self.pk} ({self.status})"

    def downloadable(self, now=None) -> bool:
        now = now or timezone.now()
        return (self.status == self.Status.DONE and bool(self.file_name)
                and self.expires_at is not None and now < self.expires_at)


class ErasureRecord(models.Model):
    """Who erased what, and when: the audit trail of erasures (LGPD).

    The contact itself is not kept (that would undo the erasure): a keyed hash of it lets
    an operator answer "was this e-mail erased?" by hashing it again.
    """

    class Kind(models.TextChoices):
        REQUEST = "request", _("Request of the person")
        RETENTION = "retention", _("Retention period")

    organization = models.ForeignKey(
        "teams.Organization", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_api_key = models.ForeignKey(
        "teams.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact_hashes = models.JSONField(default=list, blank=True)
    leads = models.PositiveIntegerField(_("leads erased"), default=0)
    # What each eraser changed: {"leads": 2, "history": 9, "webhook_deliveries": 4, ...}
    counts = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    objects = OrganizationScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("erasure record")
        verbose_name_plural = _("erasure records")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.leads} leads"


class RetentionPolicy(models.Model):
    """An organization's optional limit on how long concluded leads keep personal data."""

    organization = models.OneToOneField(
        "teams.Organization", on_delete=models.CASCADE, related_name="+"
    )
    # Concluded leads older than this many months lose their personal data; None: kept.
    concluded_lead_months = models.PositiveSmallIntegerField(
        _("erase concluded leads after (months)"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text=_("Concluded leads older than this lose their personal data (name, e-mail, "
                    "phone, custom fields); their history and numbers stay. Empty: kept."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrganizationScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("retention policy")
        verbose_name_plural = _("retention policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(concluded_lead_months__isnull=True)
                | Q(concluded_lead_months__gte=1, concluded_lead_months__lte=120),
                name="retention_months_range",
            ),
        ]

    def __str__(self):
        return f"{self.organization_id}: {self.concluded_lead_months or '-'} months"
