"""History announces its events; outbound webhooks put them in the outbox."""

from .services import deliveries_enqueue


def enqueue_deliveries(sender, events, **kwargs):
    # Runs inside the transaction that wrote the events: a rollback takes the deliveries too.
    deliveries_enqueue(events=events)
