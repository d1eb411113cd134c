"""Signals teams sends so that apps above it can react without teams importing them."""

from django.dispatch import Signal

# Sent with ``team=`` when who may take the team's leads grew: a member was
# added or activated, capacity changed, a person was reactivated. The leads
# app drains the team's waiting queue (leads.apps).
rotation_changed = Signal()

# Sent with ``organization=`` and ``paused=`` (a timedelta) when a suspended organization is
# reactivated, inside the reactivation's transaction. The leads app gives its leads' overflow
# clocks back the time they were paused (leads.limits).
organization_reactivated = Signal()
