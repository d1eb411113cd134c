"""The append-only audit log of managers' changes (issue 12, section 6).

Like ``history``, a sink: it depends on no other app of ours except through foreign keys
named by string, so every app's services can record into it.
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an audit event."""


class AuditEventQuerySet(models.QuerySet):
    def for_org(self, organization):
        if organization is None:
            raise ValueError("organization is required")
        return self.filter(organization=organization)

    def update(self, **kwargs):
        raise AppendOnlyError("Audit events are never updated.")

    def delete(self):
        raise AppendOnlyError("Audit events are never deleted.")


class AuditEvent(models.Model):
    class Area(models.TextChoices):
        ORGANIZATION = "organization", _("Organization settings")
        TEAM = "team", _("Team")
        HOURS = "hours", _("Business hours")
        POLICY = "policy", _("Overflow policy")
        RULE = "rule", _("Routing rule")
        PERSON = "person", _("Person")
        SKILL = "skill", _("Skill")
        KEY = "key", _("API key")
        WEBHOOK = "webhook", _("Webhook")
        FUNNEL = "funnel", _("Funnel stage or lost reason")
        SCORING = "scoring", _("Scoring rule")
        PRIVACY = "privacy", _("Data and privacy")
        SOURCE = "source", _("Lead source")

    class Action(models.TextChoices):
        CREATED = "created", _("created")
        CHANGED = "changed", _("changed")
        DELETED = "deleted", _("deleted")
        REVOKED = "revoked", _("revoked")
        SECRET_ROTATED = "secret_rotated", _("new secret")
        EXPORTED = "exported", _("exported")
        ERASED = "erased", _("erased")
        SUSPENDED = "suspended", _("suspended")
        REACTIVATED = "reactivated", _("reactivated")

    class ActorKind(models.TextChoices):
        USER = "user", _("User")
        API_KEY = "api_key", _("API key")
        SYSTEM = "system", _("System")

    organization = models.ForeignKey(
        "teams.Organization", on_delete=models.CASCADE, related_name="+"
    )
    actor_kind = models.CharField(_("actor"), max_length=16, choices=ActorKind.choices)
    # RESTRICT, as in history: people and keys are deactivated or revoked, never deleted.
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.RESTRICT,
        related_name="+",
    )
    actor_membership = models.ForeignKey(
        "teams.Membership", null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    actor_api_key = models.ForeignKey(
        "teams.ApiKey", null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    # As they were named then: a renamed person or team still reads as it did.
    actor_label = models.CharField(_("who"), max_length=200)
    area = models.CharField(_("area"), max_length=16, choices=Area.choices)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    target_id = models.BigIntegerField(_("object id"), null=True, blank=True)
    target_label = models.CharField(_("object"), max_length=200, blank=True)
    # {field: {"from": old, "to": new}}; never a secret, a key hash or a password.
    changes = models.JSONField(_("changes"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at", "-id"], name="audit_org_time"),
            models.Index(fields=["organization", "area", "-created_at"], name="audit_org_area"),
            models.Index(fields=["organization", "actor_membership", "-created_at"],
                         name="audit_org_actor"),
        ]

    def __str__(self):
        return f"{self.get_area_display()} {self.get_action_display()} · {self.target_label}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Audit events are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events are never deleted.")
