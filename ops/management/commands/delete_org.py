from django.core.management.base import BaseCommand, CommandError

from ops.services.tenants import organization_delete
from teams.models import Organization


class Command(BaseCommand):
    help = ("Delete an organization and everything it owns, after writing its export to "
            "the default storage (deleted-organizations/). Needs --confirm.")

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The organization's slug.")
        parser.add_argument("--confirm", action="store_true",
                            help="Really delete; without it nothing happens.")
        parser.add_argument("--no-export", action="store_true",
                            help="Skip the export (its data is lost for good).")

    def handle(self, *args, slug, confirm, no_export, **options):
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            raise CommandError(f"No organization with the slug {slug!r}.")
        if not confirm:
            raise CommandError(
                f"This deletes {organization.name} ({slug}) and all its leads, teams and "
                "people's memberships. Run again with --confirm to do it.")
        name = organization_delete(organization=organization, export=not no_export)
        if name:
            self.stdout.write(f"exported to {name} (default storage)")
        self.stdout.write(f"{slug} deleted")
