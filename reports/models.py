"""Facts the reports need that history does not keep in a form SQL can add up.

Working out service seconds (business hours only) means running a team's calendar
for each lead: too slow to redo for a hundred thousand leads on every request. So
each opening is measured once, when it happens (``reports.receivers``), and the
reports aggregate these rows in SQL.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class LeadAccess(models.Model):
    """A holder opened a lead that had reached them: one row per ``accessed`` event."""

    # Indexed below, with the lead's creation, as the summary reads them.
    organization = models.ForeignKey(
        "teams.Organization", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="+")
    # Copies of the lead's created_at (which never changes) and team (kept in step when a
    # lead moves to another team: reports.services.accesses_follow_team): the reports pick
    # their leads by these, and copies here spare them a join with a far larger table.
    lead_created_at = models.DateTimeField()
    team = models.ForeignKey(
        "teams.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_index=False,
    )
    # One row per event, whoever writes it (the receiver, the backfill).
    event = models.OneToOneField(
        "history.LeadEvent", on_delete=models.CASCADE, related_name="+"
    )
    member = models.ForeignKey(
        "teams.Membership", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    reached_at = models.DateTimeField(_("reached the attendant at"))
    accessed_at = models.DateTimeField(_("opened at"))
    # From reaching the attendant to their opening it: wall clock, and business hours only.
    wait_seconds = models.PositiveIntegerField()
    service_wait_seconds = models.PositiveIntegerField()
    # The lead's first opening: from its creation, both ways (null on later openings).
    is_first = models.BooleanField(default=False)
    lead_seconds = models.PositiveIntegerField(null=True, blank=True)
    lead_service_seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("lead opening")
        verbose_name_plural = _("lead openings")
        indexes = [
            # The summary: an organization's openings of the leads received in a range, with
            # every column it adds up, so PostgreSQL answers from the index alone.
            models.Index(
                fields=["organization", "lead_created_at", "team", "member", "is_first",
                        "wait_seconds", "service_wait_seconds", "lead_seconds",
                        "lead_service_seconds"],
                name="access_summary",
            ),
            # An attendant's own numbers at the top of their inbox.
            models.Index(fields=["member", "lead_created_at"], name="access_member"),
        ]

    def __str__(self):
        return f"lead {self.lead_id} opened by {self.member_id}"
