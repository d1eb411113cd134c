from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from teams.models import Organization
from teams.services.organization import organization_limits_set

KEEP = object()


def _limit(value: str):
    """A positive number, or "none" for no limit."""
    if value.lower() in ("none", "-", ""):
        return None
    try:
        number = int(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a number (or 'none').") from None
    if number < 1:
        raise CommandError("A limit is at least 1; 'none' removes it.")
    return number


class Command(BaseCommand):
    help = ("Show or set an organization's limits: the most active people (attendants, "
            "managers included) and leads per month. 'none' removes a limit.")

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The organization's slug.")
        parser.add_argument("--max-attendants", type=_limit, default=KEEP)
        parser.add_argument("--leads-per-month", type=_limit, default=KEEP)

    def handle(self, *args, slug, max_attendants, leads_per_month, **options):
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            raise CommandError(f"No organization with the slug {slug!r}.")
        if max_attendants is not KEEP or leads_per_month is not KEEP:
            try:
                organization = organization_limits_set(
                    organization=organization,
                    max_attendants=(organization.max_attendants if max_attendants is KEEP
                                    else max_attendants),
                    leads_per_month=(organization.leads_per_month if leads_per_month is KEEP
                                     else leads_per_month),
                )
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(
            f"{slug}: max attendants {organization.max_attendants or 'no limit'}, "
            f"leads per month {organization.leads_per_month or 'no limit'}")
