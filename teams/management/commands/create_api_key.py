from django.core.management.base import BaseCommand, CommandError

from teams.models import Organization
from teams.services.keys import api_key_create


class Command(BaseCommand):
    help = "Create an API key for an organization and print it (alone) on standard output."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--name", required=True, help="a name to recognise the key by")

    def handle(self, *args, org, name, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organization with slug {org!r}.")
        _key, raw = api_key_create(organization=organization, name=name)
        self.stdout.write(raw)
