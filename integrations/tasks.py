from celery import shared_task

from .services import deliveries_prune, deliveries_run


def _summary(counts) -> str:
    return (f"delivered {counts['delivered']}, retrying {counts['retrying']}, "
            f"failed {counts['failed']} webhook deliveries")


@shared_task(name="integrations.tasks.deliver_due", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=240, time_limit=300, ignore_result=True)
def deliver_due() -> str:
    """Celery beat's periodic send of due webhook deliveries (first tries missed, retries)."""
    return _summary(deliveries_run())


@shared_task(name="integrations.tasks.deliver", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=120, time_limit=150, ignore_result=True)
def deliver(delivery_ids: list[int]) -> str:
    """The first try of new deliveries, queued when their events commit."""
    return _summary(deliveries_run(ids=delivery_ids))


@shared_task(name="integrations.tasks.prune_deliveries", acks_late=True,
             reject_on_worker_lost=True, soft_time_limit=240, time_limit=300, ignore_result=True)
def prune_deliveries() -> str:
    """Hourly: the delivery log keeps finished deliveries for WEBHOOK_RETENTION_DAYS."""
    return f"deleted {deliveries_prune()} old webhook deliveries"
