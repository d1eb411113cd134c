"""Signals teams sends so that apps above it can react without teams importing them."""

from django.dispatch import Signal

# Sent with ``team=`` when who may take the team's leads grew: a member was
# added or activated, capacity changed, a person was reactivated. The leads
# app drains the team's waiting queue (leads.apps).
rotation_changed = Signal()
