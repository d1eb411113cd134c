from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

MIN_SERVICE_MINUTES = 10
# A week of open time; anything longer is a typo, and keeps deadlines in range.
MAX_SERVICE_MINUTES = 7 * 24 * 60
MAX_TRANSFERS = 1000


class OverflowReason(models.TextChoices):
    """Why a lead is not (or no longer) overflowing."""

    NOT_API = "not_api_source", _("Not from the API")
    DISABLED = "disabled", _("Overflow is off for the team")
    OUT_OF_HOURS = "out_of_hours", _("Arrived outside business hours")
    UNASSIGNED = "unassigned", _("Waiting for an attendant")
    ACCESSED = "accessed", _("Opened by the attendant")
    LIMIT_REACHED = "limit_reached", _("Transfer limit reached")
    ALL_TRIED = "all_tried", _("Every attendant has held it")
    TOO_FEW_ATTENDANTS = "too_few_attendants", _("Fewer than two active attendants")
    NO_OPENING = "no_opening", _("The team has no upcoming opening")
    TRANSFERRED = "transferred", _("Transferred by hand")
    CONCLUDED = "concluded", _("Concluded")


class OverflowPolicy(models.Model):
    """How long a team's attendant has to open a lead before it passes on."""

    team = models.OneToOneField(
        "teams.Team", on_delete=models.CASCADE, related_name="overflow_policy"
    )
    enabled = models.BooleanField(_("overflow enabled"), default=False)
    service_minutes = models.PositiveIntegerField(
        _("service time (minutes)"),
        default=MIN_SERVICE_MINUTES,
        validators=[
            MinValueValidator(MIN_SERVICE_MINUTES), MaxValueValidator(MAX_SERVICE_MINUTES)
        ],
        help_text=_("Counted only inside business hours. Minimum 10."),
    )
    max_transfers = models.PositiveIntegerField(
        _("transfer limit"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_TRANSFERS)],
        help_text=_("Stop after this many transfers; empty for no limit."),
    )
    include_bot_leads = models.BooleanField(
        _("overflow bot handoffs too"),
        default=False,
        help_text=_("By default only leads posted through the API overflow."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("overflow policy")
        verbose_name_plural = _("overflow policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(service_minutes__gte=MIN_SERVICE_MINUTES),
                name="overflow_min_service_minutes",
            ),
        ]

    def __str__(self):
        return f"{self.team} · {self.service_minutes} min"


class OverflowChainStep(models.Model):
    """A further team a lead walks into once its own team is exhausted (cross-team)."""

    policy = models.ForeignKey(OverflowPolicy, on_delete=models.CASCADE, related_name="chain")
    team = models.ForeignKey(
        "teams.Team", verbose_name=_("team"), on_delete=models.CASCADE, related_name="+"
    )
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("further team")
        verbose_name_plural = _("further teams (cross-team overflow)")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "team"], name="overflow_chain_unique_team"),
        ]

    def __str__(self):
        return f"{self.position}: {self.team}"
