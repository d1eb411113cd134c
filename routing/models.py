from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from teams.models import OrganizationScopedQuerySet

from .conditions import validate_conditions


class RoutingRule(models.Model):
    """An organization's ordered rules: the first whose conditions hold decides.

    Actions combine: a team, a dedicated attendant, required skills; or, alone,
    a redirect to another channel (the lead is recorded and closed, and the
    customer is told where to go).
    """

    class Customer(models.TextChoices):
        ANY = "any", _("Any customer")
        NEW = "new", _("New customers")
        EXISTING = "existing", _("Existing customers")

    organization = models.ForeignKey(
        "teams.Organization", on_delete=models.CASCADE, related_name="routing_rules"
    )
    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    customer = models.CharField(
        _("customer"), max_length=16, choices=Customer.choices, default=Customer.ANY
    )
    conditions = models.JSONField(
        _("conditions"), default=list, blank=True,
        help_text=_('All must hold, e.g. [{"field": "custom.plan", "op": "eq", '
                    '"value": "enterprise"}]. Empty: every lead.'),
    )
    team = models.ForeignKey(
        "teams.Team", verbose_name=_("send to team"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="+",
    )
    attendant = models.ForeignKey(
        "teams.Membership", verbose_name=_("dedicated attendant"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="+",
    )
    required_skills = models.ManyToManyField(
        "teams.Skill", verbose_name=_("required skills"), blank=True, related_name="+"
    )
    redirect_to = models.CharField(
        _("redirect to another channel"), max_length=200, blank=True,
        help_text=_("An e-mail, phone or page to point the customer to; the lead is closed."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrganizationScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["position", "id"]

    def __str__(self):
        return self.name

    def clean(self):
        problems = validate_conditions(self.conditions)
        if problems:
            raise ValidationError({"conditions": problems})
        if self.redirect_to and (self.team_id or self.attendant_id):
            raise ValidationError(
                {"redirect_to": _("A redirect closes the lead: it takes no team or attendant.")}
            )
        for field in ("team", "attendant"):
            related = getattr(self, field)
            if related is not None and related.organization_id != self.organization_id:
                raise ValidationError({field: _("Choose one of your organization's.")})
