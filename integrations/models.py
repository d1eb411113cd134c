"""Outbound webhooks: the organization's endpoints and the outbox of deliveries to them."""

import base64
import binascii
import secrets
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from history.models import LeadEvent
from teams.models import OrganizationScopedQuerySet

SECRET_PREFIX = "whsec_"
# How long a replaced secret still signs deliveries, beside the new one (Standard Webhooks).
PREVIOUS_SECRET_LIFETIME = timedelta(hours=24)


def generate_secret() -> str:
    """``whsec_`` and the standard base64 of 32 random bytes, as Standard Webhooks says."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key a ``whsec_`` secret stands for: its base64 part, decoded.

    Secrets made before Standard Webhooks were ``whsec_`` and the URL-safe base64 (no
    padding) of 32 random bytes, so both alphabets are read, padding or not: an old secret
    is the same key it always was, and nothing needed rewriting.
    """
    encoded = secret.removeprefix(SECRET_PREFIX).replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error as exc:
        raise ValueError("not a whsec_ secret") from exc


class WebhookEndpoint(models.Model):
    """Where an organization wants to hear about its leads' events.

    The secret is kept in clear because every delivery is signed with it; it is
    shown to the managers once, when made, and replaced by rotating it.
    """

    organization = models.ForeignKey(
        "teams.Organization", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(_("URL"), max_length=2000)
    description = models.CharField(_("description"), max_length=200, blank=True)
    secret = models.CharField(max_length=80, default=generate_secret, editable=False)
    # The secret a rotation replaced: deliveries carry its signature too until it expires,
    # so the receiver can switch without losing any.
    previous_secret = models.CharField(max_length=80, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # LeadEvent.Type values; empty means every type, including ones added later.
    event_types = models.JSONField(_("events"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = OrganizationScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The one read on every history write: this organization's active endpoints.
            models.Index(fields=["organization"], condition=Q(is_active=True),
                         name="webhook_endpoint_active"),
        ]

    def __str__(self):
        return self.description or self.url

    def event_type_labels(self) -> list[str]:
        return [str(LeadEvent.Type(t).label) for t in self.event_types if t in LeadEvent.Type]

    def signing_secrets(self, now) -> list[str]:
        """The current secret, and the previous one while it is still valid."""
        if self.previous_secret and self.previous_secret_expires_at and (
            now < self.previous_secret_expires_at
        ):
            return [self.secret, self.previous_secret]
        return [self.secret]

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class WebhookDelivery(models.Model):
    """One event for one endpoint: the outbox row, written with the event, sent later.

    Pending rows are due at ``next_attempt_at``. A worker claims a row by
    setting ``lease_token`` and pushing ``next_attempt_at`` to the end of its
    lease, so nobody else picks it up meanwhile; if the worker dies, the lease
    runs out and the row is due again (at-least-once). Results are written only
    by the holder of the current lease.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    organization = models.ForeignKey(
        "teams.Organization", on_delete=models.CASCADE, related_name="+"
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey("history.LeadEvent", on_delete=models.CASCADE, related_name="+")
    # The body as it was when the event happened, not as the lead is when it is sent.
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last answer"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = OrganizationScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once"),
            models.CheckConstraint(
                condition=~Q(status="pending") | Q(next_attempt_at__isnull=False),
                name="webhook_delivery_pending_is_due",
            ),
        ]
        indexes = [
            # The delivery task's only scan: due rows, not every row ever sent.
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"),
                         name="webhook_delivery_due"),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_log"),
            # The hourly prune reads finished rows by age (deliveries_prune).
            models.Index(fields=["created_at"], condition=~Q(status="pending"),
                         name="webhook_delivery_finished"),
        ]

    def __str__(self):
        return f"{self.event_id} → {self.endpoint_id} ({self.status})"

    def in_flight(self, now) -> bool:
        return (
            self.status == self.Status.PENDING
            and self.lease_token is not None
            and self.next_attempt_at is not None
            and self.next_attempt_at > now
        )
