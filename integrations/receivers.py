"""History announces its events; outbound webhooks put them in the outbox."""

from teams.config_cache import config_changed

from .services import deliveries_enqueue


def enqueue_deliveries(sender, events, **kwargs):
    # Runs inside the transaction that wrote the events: a rollback takes the deliveries too.
    deliveries_enqueue(events=events)


def endpoint_changed(sender, instance, **kwargs):
    # Processes keep whether an organization has active endpoints (deliveries_enqueue).
    config_changed(instance.organization_id)
