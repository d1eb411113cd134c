from django.core.management.base import BaseCommand, CommandError

from ops.services.exports import export_write
from teams.models import Organization


class Command(BaseCommand):
    help = ("Write an organization's data (leads, history, teams, people, settings) as a ZIP "
            "of CSV and JSON Lines files.")

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="The organization's slug.")
        parser.add_argument("--out", required=True, help="The ZIP file to write.")

    def handle(self, *args, org, out, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organization with the slug {org!r}.")
        with open(out, "wb") as target:
            rows = export_write(organization=organization, out=target)
        self.stdout.write(f"wrote {rows} rows of {organization.slug} to {out}")
