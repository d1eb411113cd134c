from django.core.management.base import BaseCommand

from leads.sweep import overflow_sweep


class Command(BaseCommand):
    help = "Run one overflow sweep now: transfer every lead whose service time has run out."

    def handle(self, *args, **options):
        count = overflow_sweep()
        self.stdout.write(f"transferred {count} leads")
