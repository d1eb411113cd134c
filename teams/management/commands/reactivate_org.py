from django.core.management.base import BaseCommand, CommandError

from teams.models import Organization
from teams.services.organization import organization_reactivate


class Command(BaseCommand):
    help = "Reactivate a suspended organization."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The organization's slug.")

    def handle(self, *args, slug, **options):
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            raise CommandError(f"No organization with the slug {slug!r}.")
        if organization_reactivate(organization=organization):
            self.stdout.write(f"{slug} reactivated")
        else:
            self.stdout.write(f"{slug} was not suspended")
