from celery import shared_task

from core.locks import advisory_lock

from .notifications import notifications_send
from .queue import idle_sweep, queue_drain_all
from .sweep import overflow_sweep


@shared_task(
    name="leads.tasks.overflow_sweep",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=240,
    time_limit=300,
    ignore_result=True,
)
def sweep() -> str:
    """Celery beat's periodic overflow sweep; the database is the only source of truth.

    One tick at a time: a tick that finds another sweep running (a second beat deployed by
    mistake, or a slow tick overtaken by the next) returns at once. The sweep would be
    correct anyway (SKIP LOCKED); this spares the database the duplicate work.
    """
    with advisory_lock(SWEEP_LOCK) as acquired:
        if not acquired:
            return "skipped: another sweep is running"
        return f"transferred {overflow_sweep()} leads"


SWEEP_LOCK = "leads.tasks.overflow_sweep"


@shared_task(name="leads.tasks.queue_drain", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=120, time_limit=180, ignore_result=True)
def queue_drain() -> str:
    """Safety net: assign waiting leads whose attendant became free by other means."""
    return f"assigned {queue_drain_all()} waiting leads"


@shared_task(name="leads.tasks.idle_sweep", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=120, time_limit=180, ignore_result=True)
def idle() -> str:
    """Attendants idle past their team's limit go away; their unopened leads pass on."""
    return f"passed on {idle_sweep()} leads of idle attendants"


@shared_task(name="leads.tasks.send_notifications", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=120, time_limit=180, ignore_result=True)
def send_notifications() -> str:
    """E-mail attendants the leads that reached them since the last run."""
    return f"sent {notifications_send()} e-mails"
