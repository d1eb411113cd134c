"""What outbound webhooks announce, so that apps above (operations' metrics) can count it."""

from django.dispatch import Signal

# Sent with ``counts=`` (a Counter of delivered, retrying, failed, stale) after a run of
# deliveries recorded its results.
deliveries_recorded = Signal()
