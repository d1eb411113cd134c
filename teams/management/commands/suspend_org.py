from django.core.management.base import BaseCommand, CommandError

from teams.models import Organization
from teams.services.organization import organization_suspend


class Command(BaseCommand):
    help = ("Suspend an organization: its API keys answer 403, its people cannot sign in and "
            "the overflow sweep passes it by. Nothing is deleted; reactivate_org undoes it.")

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The organization's slug.")
        parser.add_argument("--reason", default="", help="Kept with the suspension.")

    def handle(self, *args, slug, reason, **options):
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            raise CommandError(f"No organization with the slug {slug!r}.")
        if organization_suspend(organization=organization, reason=reason):
            self.stdout.write(f"{slug} suspended")
        else:
            self.stdout.write(f"{slug} was already suspended")
