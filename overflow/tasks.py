from celery import shared_task

from .services import overflow_sweep


@shared_task(
    name="overflow.tasks.sweep",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=240,
    time_limit=300,
    ignore_result=True,
)
def sweep() -> str:
    """Celery beat's periodic overflow sweep; the database is the only source of truth."""
    return f"transferred {overflow_sweep()} leads"
