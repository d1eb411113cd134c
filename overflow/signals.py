"""Signals overflow sends so that the apps calling it can react without overflow importing them."""

from django.dispatch import Signal

# Sent with ``membership_id=`` by a sweep that set an attendant away for missing their
# team's limit of leads in a row, once the sweep's transactions have committed. The leads
# app passes their other unopened leads on (leads.apps), as when they switch to away.
missed_limit_reached = Signal()
