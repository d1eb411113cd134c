"""An organization's funnel: its stages, the reasons a lead is lost, and its scoring rules.

A lead's stage and lost reason are kept on the lead (leads.Lead) by key, so that
intake and the lists never join these tables; these rows give the keys their names,
their order and their meaning. Every organization has them from its creation on
(funnel.services.funnel_defaults_create).
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from teams.models import OrganizationScopedQuerySet

KEY_LENGTH = 40


class Stage(models.Model):
    """A step of the funnel. ``new``, ``customer`` (won) and ``lost`` keep their meaning
    whatever they are called; the middle ones (``qualified``, ``opportunity`` and any the
    organization adds) are in the manager's order between ``new`` and ``customer``.
    Keys never change: the API, webhooks and history use them."""

    class Kind(models.TextChoices):
        NEW = "new", _("Start")
        MIDDLE = "middle", _("Middle")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    NEW, QUALIFIED, OPPORTUNITY, CUSTOMER, LOST = (
        "new", "qualified", "opportunity", "customer", "lost",
    )
    # The stages every organization starts with, in order, and their names until renamed.
    DEFAULTS = (
        (NEW, Kind.NEW, pgettext_lazy("stage", "New")),
        (QUALIFIED, Kind.MIDDLE, pgettext_lazy("stage", "Qualified")),
        (OPPORTUNITY, Kind.MIDDLE, pgettext_lazy("stage", "Opportunity")),
        (CUSTOMER, Kind.WON, pgettext_lazy("stage", "Customer")),
        (LOST, Kind.LOST, pgettext_lazy("stage", "Lost")),
    )
    BUILT_IN = tuple(key for key, _kind, _name in DEFAULTS)
    DEFAULT_NAMES = {key: name for key, _kind, name in DEFAULTS}

    organization = models.ForeignKey(
        "teams.Organization", on_delete=models.CASCADE, related_name="funnel_stages"
    )
    key = models.SlugField(_("key"), max_length=KEY_LENGTH)
    # Empty: the default name, in the reader's language.
    name = models.CharField(_("name"), max_length=60, blank=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    position = models.PositiveIntegerField(_("position"), default=0)
    # Stages are archived, never deleted: leads in one keep it, and history names it.
    is_active = models.BooleanField(_("in use"), default=True)

    objects = OrganizationScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("funnel stage")
        verbose_name_plural = _("funnel stages")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="stage_unique_key"),
            # One start, one won and one lost stage per organization.
            models.UniqueConstraint(fields=["organization", "kind"], name="stage_unique_end",
                                    condition=~Q(kind="middle")),
        ]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        return self.name or str(self.DEFAULT_NAMES.get(self.key, self.key))


class LostReason(models.Model):
    """Why a lead was lost, from the organization's list. Archived reasons are offered no
    more; leads lost for them keep them, and the reports still name them."""

    DEFAULTS = (
        ("no_budget", _("No budget")),
        ("no_answer", _("No answer")),
        ("bought_elsewhere", _("Bought elsewhere")),
        ("invalid_contact", _("Invalid contact")),
        ("not_interested", _("Not interested")),
    )

    organization = models.ForeignKey(
        "teams.Organization", on_delete=models.CASCADE, related_name="lost_reasons"
    )
    key = models.SlugField(_("key"), max_length=KEY_LENGTH)
    name = models.CharField(_("name"), max_length=80, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("offered"), default=True)

    objects = OrganizationScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("lost reason")
        verbose_name_plural = _("lost reasons")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"],
                                    name="lost_reason_unique_key"),
        ]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        return self.name or str(dict(self.DEFAULTS).get(self.key, self.key))


class ScoringRule(models.Model):
    """Points a lead gets when the rule holds: its conditions (the routing rules' language)
    and, if chosen, a behaviour the product saw. A lead's score is the sum over the rules
    that hold (funnel.scoring)."""

    class Behaviour(models.TextChoices):
        NONE = "", _("None (conditions only)")
        OPENED_IN_TIME = "opened_in_time", _("Opened within the service time")
        REACHED_QUALIFIED = "reached_qualified", _("Reached the qualified stage")
        RETURNING_CUSTOMER = "returning_customer", _("Returning customer")

    organization = models.ForeignKey(
        "teams.Organization", on_delete=models.CASCADE, related_name="scoring_rules"
    )
    name = models.CharField(_("name"), max_length=120)
    points = models.IntegerField(_("points"))
    conditions = models.JSONField(_("conditions"), default=list, blank=True)
    behaviour = models.CharField(_("behaviour"), max_length=32, choices=Behaviour.choices,
                                 blank=True, default=Behaviour.NONE)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrganizationScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("scoring rule")
        verbose_name_plural = _("scoring rules")
        ordering = ["id"]

    def __str__(self):
        return self.name
