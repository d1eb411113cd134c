"""Delete old finished webhook deliveries now (beat does it every hour)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from integrations.services import deliveries_prune


class Command(BaseCommand):
    help = (
        "Delete delivered and failed webhook deliveries older than WEBHOOK_RETENTION_DAYS; "
        "pending ones stay."
    )

    def handle(self, *args, **options):
        deleted = deliveries_prune()
        self.stdout.write(
            f"Deleted {deleted} webhook deliveries finished more than "
            f"{settings.WEBHOOK_RETENTION_DAYS} days ago."
        )
