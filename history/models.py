"""The append-only history of a lead.

This app depends on no other app of ours except through foreign keys.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove a history event."""


class LeadEventQuerySet(models.QuerySet):
    def for_org(self, organization):
        if organization is None:
            raise ValueError("organization is required")
        return self.filter(organization=organization)

    def update(self, **kwargs):
        raise AppendOnlyError("History events are never updated.")

    def delete(self):
        raise AppendOnlyError("History events are never deleted.")


class LeadEvent(models.Model):
    class Type(models.TextChoices):
        CREATED = "created", _("Created")
        ASSIGNED = "assigned", _("Assigned")
        QUEUED = "queued", _("Waiting in queue")
        OVERFLOWED = "overflowed", _("Overflowed (transbordo)")
        ACCESSED = "accessed", _("Accessed")
        TRANSFERRED = "transferred", _("Transferred by hand")
        CONCLUDED = "concluded", _("Concluded")
        REOPENED = "reopened", _("Reopened")
        NOTE = "note", _("Note")
        OVERFLOW_STOPPED = "overflow_stopped", _("Overflow stopped")
        HANDOFF = "handoff", _("Handed off by the bot")
        STAGE_CHANGED = "stage_changed", _("Stage changed")
        SCORED = "scored", _("Score changed")

    class ActorKind(models.TextChoices):
        USER = "user", _("User")
        API_KEY = "api_key", _("API key")
        SYSTEM = "system", _("System")

    organization = models.ForeignKey(
        "teams.Organization", on_delete=models.CASCADE, related_name="+"
    )
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="events")
    type = models.CharField(_("type"), max_length=32, choices=Type.choices)
    actor_kind = models.CharField(_("actor"), max_length=16, choices=ActorKind.choices)
    # RESTRICT: history keeps who did what. People and keys that appear in it are
    # deactivated or revoked, not deleted; deleting a whole organization still works.
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    actor_api_key = models.ForeignKey(
        "teams.ApiKey", null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    from_member = models.ForeignKey(
        "teams.Membership", null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    to_member = models.ForeignKey(
        "teams.Membership", null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=48, blank=True)
    # Position of an overflow transfer in the lead's chain; unique per lead, so a
    # sweep that runs twice can never write the same transfer twice.
    sequence = models.PositiveIntegerField(null=True, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    objects = LeadEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("lead event")
        verbose_name_plural = _("lead events")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["lead", "created_at"], name="event_lead_time"),
            # For a set of leads: whom each reached, whom it overflowed away from, and whether
            # every attendant had held it, read from the index alone (the managers' reports).
            models.Index(
                fields=["lead", "type", "to_member", "from_member", "reason"],
                condition=Q(type__in=["assigned", "overflowed", "transferred"])
                | Q(type="overflow_stopped", reason="all_tried"),
                name="event_lead_holders",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["lead", "sequence"],
                condition=Q(type="overflowed"),
                name="event_unique_overflow_sequence",
            ),
        ]

    def __str__(self):
        return f"{self.get_type_display()} · lead {self.lead_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("History events are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("History events are never deleted.")

    @property
    def actor_label(self) -> str:
        if self.actor_kind == self.ActorKind.USER and self.actor_user:
            return self.actor_user.get_full_name() or self.actor_user.get_username()
        if self.actor_kind == self.ActorKind.API_KEY and self.actor_api_key:
            return f"API · {self.actor_api_key.name}"
        return str(_("System"))
