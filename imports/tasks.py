from celery import shared_task

from .services import import_run


@shared_task(name="imports.tasks.run_import", acks_late=True, reject_on_worker_lost=True)
def run_import(import_id: int) -> str:
    """Import a mapped CSV file of leads (imports.services.import_run)."""
    lead_import = import_run(import_id=import_id)
    return (f"import {lead_import.pk}: {lead_import.status}, {lead_import.created} created, "
            f"{lead_import.duplicates} duplicates, {lead_import.rejected} rejected")
