"""Reads of ``overflow``."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist

from teams.models import Team

from .models import OverflowPolicy


def policy_of(team: Team | None) -> OverflowPolicy | None:
    if team is None:
        return None
    try:
        return team.overflow_policy
    except ObjectDoesNotExist:
        return None
