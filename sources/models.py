"""Lead sources: public intake URLs (``POST /in/<token>``) and the log of what reached them."""

import secrets

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from teams.models import OrganizationScopedQuerySet


def generate_token() -> str:
    """43 URL-safe characters (32 random bytes): the secret part of the intake URL."""
    return secrets.token_urlsafe(32)


class Source(models.Model):
    """Where leads come from without an API key: a landing page, an ad platform, a form tool.

    Whoever knows the token can post leads, so it is long, random, shown only to managers,
    and rotated (the old URL then answers 404) when it leaks.
    """

    class Kind(models.TextChoices):
        FORM = "form", _("Web form (landing page)")
        GOOGLE_ADS = "google_ads", _("Google Ads lead form")
        RD_STATION = "rd_station", _("RD Station Marketing")
        TYPEFORM = "typeform", _("Typeform")
        GENERIC = "generic", _("Any JSON (generic)")

    organization = models.ForeignKey(
        "teams.Organization", on_delete=models.CASCADE, related_name="sources"
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.FORM)
    # Empty: the routing rules, then the organization's default team, decide.
    team = models.ForeignKey(
        "teams.Team", verbose_name=_("team"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    is_active = models.BooleanField(_("enabled"), default=True)
    token = models.CharField(max_length=64, unique=True, default=generate_token, editable=False)
    # The lead's ``source`` for the overflow rules: external leads that must be answered.
    lead_source = models.CharField(_("leads arrive as"), max_length=16, default="api")
    # Which incoming field is the name, e-mail, phone (form: field names; typeform: field
    # refs; generic: JSON paths such as "data.contact.email"). Empty: sensible defaults.
    field_mapping = models.JSONField(_("field mapping"), default=dict, blank=True)
    honeypot_field = models.CharField(_("honeypot field"), max_length=100, blank=True)
    # Origins allowed to post with fetch() (CORS); "*" for any. Empty: plain form posts only.
    allowed_origins = models.JSONField(_("allowed origins"), default=list, blank=True)
    thank_you_url = models.URLField(_("thank-you page"), max_length=2000, blank=True)
    google_key = models.CharField(_("Google Ads key"), max_length=200, blank=True)
    typeform_secret = models.CharField(_("Typeform secret"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    token_rotated_at = models.DateTimeField(_("URL changed at"), null=True, blank=True,
                                            editable=False)

    objects = OrganizationScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("lead source")
        verbose_name_plural = _("lead sources")
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class SourceSubmission(models.Model):
    """One POST to a source, accepted or refused, kept so a manager can see why a form's
    leads are missing. Bounded per source (``SOURCE_LOG_KEEP``); erased with the lead."""

    class Outcome(models.TextChoices):
        CREATED = "created", _("Lead created")
        DUPLICATE = "duplicate", _("Already received")
        SPAM = "spam", _("Spam (honeypot)")
        REFUSED = "refused", _("Refused")

    organization = models.ForeignKey(
        "teams.Organization", on_delete=models.CASCADE, related_name="+"
    )
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="submissions")
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField(_("answer"))
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    content_type = models.CharField(max_length=200, blank=True)
    payload = models.JSONField(_("payload"), encoder=DjangoJSONEncoder, default=dict,
                               blank=True)
    # The contact the payload named, normalized: the erasure of a person finds the refused
    # submissions that never became a lead by these.
    email_normalized = models.CharField(max_length=254, blank=True, editable=False)
    phone_normalized = models.CharField(max_length=32, blank=True, editable=False)
    leads = models.ManyToManyField("leads.Lead", related_name="+", blank=True)
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = OrganizationScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("source submission")
        verbose_name_plural = _("source submissions")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["source", "-received_at", "-id"], name="source_submission_log"),
            models.Index(fields=["organization", "email_normalized"],
                         name="source_submission_email"),
            models.Index(fields=["organization", "phone_normalized"],
                         name="source_submission_phone"),
        ]

    def __str__(self):
        return f"{self.source_id} {self.outcome} {self.received_at:%Y-%m-%d %H:%M}"
