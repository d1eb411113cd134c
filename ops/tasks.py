from celery import shared_task

from core.locks import advisory_lock

from .services.exports import export_build, exports_prune
from .services.retention import retention_run


@shared_task(name="ops.tasks.build_export", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=3300, time_limit=3600, ignore_result=True)
def build_export(export_id: int) -> str:
    """Build a manager's data export (ZIP of CSV and JSON Lines)."""
    export = export_build(export_id=export_id)
    return f"export {export.pk}: {export.status}, {export.rows} rows"


@shared_task(name="ops.tasks.prune_exports", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=240, time_limit=300, ignore_result=True)
def prune_exports() -> str:
    """Hourly: the files of expired exports are deleted."""
    return f"deleted {exports_prune()} expired export files"


@shared_task(name="ops.tasks.apply_retention", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=3300, time_limit=3600, ignore_result=True)
def apply_retention() -> str:
    """Daily: concluded leads past their organization's retention lose their personal data."""
    with advisory_lock("ops.tasks.apply_retention") as acquired:
        if not acquired:
            return "skipped: another retention run is going on"
        return f"erased {retention_run()} leads past their retention period"
