"""``manage.py import_leads --org SLUG --file FILE [--team SLUG]``: a CSV import for operators.

The columns are mapped by their names, as the managers' page proposes (name/nome,
email/e-mail, phone/telefone/celular/whatsapp, external_id/id); every other column goes
to the leads' custom fields. Runs in this process and prints the report's figures.
"""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from imports import services
from imports.models import LeadImport
from teams.models import Organization, Team


class Command(BaseCommand):
    help = "Import leads from a CSV file (UTF-8 or Latin-1, ',' or ';')."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Organization slug")
        parser.add_argument("--file", required=True, help="Path of the CSV file")
        parser.add_argument("--team", help="Slug of the team whose rotation gets the leads "
                                           "(left out: they stay unassigned)")

    def handle(self, *args, org, file, team=None, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organization with slug {org!r}.")
        chosen = None
        if team:
            chosen = Team.objects.for_org(organization).filter(slug=team,
                                                                is_archived=False).first()
            if chosen is None:
                raise CommandError(f"No team {team!r} in {org!r}.")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No file at {file}.")
        try:
            with path.open("rb") as stream:
                lead_import = services.import_upload(
                    organization=organization, uploaded=File(stream, name=path.name))
            services.import_queue(organization=organization, import_id=lead_import.pk,
                                  mapping=lead_import.mapping, team=chosen)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        lead_import = services.import_run(import_id=lead_import.pk)
        self.stdout.write(
            f"import {lead_import.pk}: {lead_import.status}; {lead_import.rows} rows, "
            f"{lead_import.created} created, {lead_import.duplicates} duplicates, "
            f"{lead_import.rejected} rejected")
        for issue in lead_import.issues.order_by("row")[:20]:
            self.stdout.write(f"  row {issue.row}: {issue.outcome}: {issue.reason}")
        if lead_import.status == LeadImport.Status.FAILED:
            raise CommandError(lead_import.error)
