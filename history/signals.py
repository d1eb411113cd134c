"""What history announces, so that apps above it can react without history importing them."""

from django.dispatch import Signal

# Sent with ``events=`` (saved LeadEvent rows) inside the transaction that wrote them.
events_written = Signal()
