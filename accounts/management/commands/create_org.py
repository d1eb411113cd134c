from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.services.invitations import invitation_url
from accounts.services.signup import org_create_with_owner_invitation
from teams.models import Organization


class Command(BaseCommand):
    help = ("Create an organization and invite its owner: the invitation is e-mailed, and its "
            "link (valid seven days, usable once) is printed alone on standard output.")

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="the organization's name")
        parser.add_argument("--slug", required=True, help="its slug (letters, digits, -)")
        parser.add_argument("--owner-email", required=True, help="the owner's e-mail address")
        parser.add_argument("--time-zone", default="", help="e.g. America/Sao_Paulo (default)")
        parser.add_argument("--language", default="", choices=["", *Organization.Language.values],
                            help="pt-br (default) or en")

    def handle(self, *args, name, slug, owner_email, time_zone, language, **options):
        try:
            organization, invitation, raw = org_create_with_owner_invitation(
                name=name, slug=slug, owner_email=owner_email, time_zone=time_zone,
                language=language,
            )
        except ValidationError as exc:
            problems = (
                [f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items()]
                if hasattr(exc, "error_dict") else exc.messages
            )
            raise CommandError("; ".join(problems)) from None
        self.stderr.write(f"Organization {organization.slug!r} created; invitation for its "
                          f"owner sent to {invitation.email}:")
        self.stdout.write(invitation_url(raw))
