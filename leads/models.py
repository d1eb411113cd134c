from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.context import current_request_id
from funnel.models import KEY_LENGTH, Stage
from overflow.models import OverflowReason
from teams.models import OrganizationScopedQuerySet

# A lead its assignee should hear about by e-mail: open, not opened by them yet, and
# not yet notified of this arrival (leads.notifications).
NOTIFY_DUE = Q(status="open", assignee__isnull=False, assignee_accessed_at__isnull=True) & (
    Q(assignee_notified_at__isnull=True) | ~Q(assignee_notified_at=F("assigned_at"))
)


class Lead(models.Model):
    class Source(models.TextChoices):
        API = "api", _("API")
        MANUAL = "manual", _("Manual")
        BOT = "bot", _("Bot")
        IMPORT = "import", _("Import")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CONCLUDED = "concluded", _("Concluded")

    # Why a lead is not (or no longer) overflowing: overflow owns the reasons.
    OverflowReason = OverflowReason

    organization = models.ForeignKey(
        "teams.Organization", on_delete=models.CASCADE, related_name="leads"
    )
    team = models.ForeignKey(
        "teams.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    # NULL, not "", when absent: uniqueness per organization applies only to given ids.
    external_id = models.CharField(  # noqa: DJ001
        _("external id"), max_length=128, null=True, blank=True
    )
    idempotency_key = models.CharField(  # noqa: DJ001
        max_length=128, null=True, blank=True, editable=False
    )
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    # Normalized contact, to recognise a returning customer (leads.normalize).
    email_normalized = models.CharField(max_length=254, blank=True, editable=False)
    phone_normalized = models.CharField(max_length=32, blank=True, editable=False)
    is_returning = models.BooleanField(_("returning customer"), default=False)
    required_skills = models.ManyToManyField(
        "teams.Skill", verbose_name=_("required skills"), blank=True, related_name="+"
    )
    # The lead source (sources.Source, an intake URL) it came in by; empty for the API,
    # people and imports. Routing rules and the dashboard may read it.
    origin = models.ForeignKey(
        "sources.Source", verbose_name=_("lead source"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+", editable=False,
    )
    routing_rule = models.ForeignKey(
        "routing.RoutingRule", verbose_name=_("routing rule"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    customer_message = models.JSONField(_("customer-facing message"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    assignee = models.ForeignKey(
        "teams.Membership",
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_leads",
    )

    created_at = models.DateTimeField(_("created at"))
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    # When the current assignee first opened it; cleared on every new assignment.
    assignee_accessed_at = models.DateTimeField(null=True, blank=True)
    # The assigned_at of the arrival the assignee was last e-mailed about
    # (leads.notifications): differs from assigned_at while an e-mail is due.
    assignee_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    first_accessed_at = models.DateTimeField(_("first accessed at"), null=True, blank=True)
    concluded_at = models.DateTimeField(_("concluded at"), null=True, blank=True)

    # The team whose overflow policy the lead follows: where it arrived. Its team (above)
    # follows the holder along a cross-team chain; this stays, so the chain goes on in the
    # manager's order. Empty on leads from before it existed: then their team.
    overflow_team = models.ForeignKey(
        "teams.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        editable=False,
    )
    overflow_active = models.BooleanField(_("overflowing"), default=False)
    overflow_due_at = models.DateTimeField(_("overflow due at"), null=True, blank=True)
    overflow_reason = models.CharField(
        _("overflow state"), max_length=32, choices=OverflowReason.choices, blank=True
    )
    transfer_count = models.PositiveIntegerField(_("transfers"), default=0)
    # The id of the request that brought the lead in (X-Request-ID, or made by us): log lines
    # of its later transfers carry it, so one search finds the lead's whole path.
    request_id = models.CharField(max_length=64, blank=True, default=current_request_id,
                                  editable=False)
    # When its personal data was erased (LGPD request or retention): name, e-mail, phone and
    # custom fields hold a marker since, and its history lost its personal data.
    erased_at = models.DateTimeField(_("personal data erased at"), null=True, blank=True,
                                     editable=False)

    # Its place in the organization's funnel (funnel.models.Stage, by key) and, when lost,
    # why (funnel.models.LostReason, by key).
    stage = models.CharField(_("stage"), max_length=KEY_LENGTH, default=Stage.NEW)
    lost_reason = models.CharField(_("lost reason"), max_length=KEY_LENGTH, blank=True)
    # The sum of the scoring rules that hold (funnel.scoring); the history says how.
    score = models.IntegerField(_("score"), default=0)
    # Behaviours scoring counts: a holder opened it within their service time; it reached
    # the qualified stage (or one past it). Facts of its past: never cleared.
    opened_in_time = models.BooleanField(_("opened within the service time"), default=False)
    qualified_at = models.DateTimeField(_("qualified at"), null=True, blank=True)

    objects = OrganizationScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=Q(external_id__isnull=False),
                name="lead_unique_external_id",
            ),
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="lead_unique_idempotency_key",
            ),
            models.CheckConstraint(
                condition=Q(overflow_active=False) | Q(overflow_due_at__isnull=False),
                name="lead_overflow_has_due_time",
            ),
            # A lead is won or lost once it is concluded: an open lead has no outcome.
            models.CheckConstraint(
                condition=~Q(stage__in=[Stage.CUSTOMER, Stage.LOST])
                | Q(status="concluded"),
                name="lead_outcome_is_concluded",
            ),
            # A lost lead has a reason, and only a lost lead has one.
            models.CheckConstraint(
                condition=(Q(stage=Stage.LOST) & ~Q(lost_reason=""))
                | (~Q(stage=Stage.LOST) & Q(lost_reason="")),
                name="lead_lost_has_reason",
            ),
        ]
        indexes = [
            # The sweep's only read: cost follows the leads that are due, not all leads.
            # (due, id) is the sweep's ORDER BY: a batch reads its first rows off the
            # index instead of sorting every due lead.
            models.Index(
                fields=["overflow_due_at", "id"],
                condition=Q(overflow_active=True),
                name="lead_overflow_due",
            ),
            models.Index(fields=["organization", "assignee", "status"], name="lead_inbox"),
            models.Index(fields=["organization", "-created_at"], name="lead_recent"),
            models.Index(fields=["organization", "email_normalized"], name="lead_email",
                         condition=~Q(email_normalized="")),
            models.Index(fields=["organization", "phone_normalized"], name="lead_phone",
                         condition=~Q(phone_normalized="")),
            # The waiting queue of a team, first in first out.
            models.Index(fields=["team", "created_at"], name="lead_queue",
                         condition=Q(assignee__isnull=True, status="open")),
            # Leads that reached someone who has not opened them nor been e-mailed about
            # them yet: the e-mail task reads only these.
            models.Index(fields=["assigned_at", "id"], name="lead_notify_due",
                         condition=NOTIFY_DUE),
        ]

    def __str__(self):
        return self.name or self.email or self.phone or f"#{self.pk}"

