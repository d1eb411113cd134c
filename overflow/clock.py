"""A lead's overflow state: armed when it reaches its first holder, re-armed for each new
holder, stopped with a reason. The one place that sets ``overflow_active``,
``overflow_due_at`` and ``overflow_reason``; every path that moves a lead calls it.

These functions change the lead object they are given and save nothing (but
``overflow_stop_on_access``, which writes its history event); the caller holds the
lead's row lock and saves it in the same transaction. ``leads`` calls this module, and
this app never imports ``leads``.
"""

from __future__ import annotations

from datetime import datetime

from history.models import LeadEvent
from history.services import Actor, event_record
from teams.hours import Schedule, team_schedule
from teams.models import Membership, Team

from . import rules
from .models import OverflowPolicy
from .models import OverflowReason as Reason
from .selectors import policy_of


def overflow_arm(*, lead, team: Team | None, now: datetime,
                 schedule: Schedule | None = None) -> None:
    """Set the overflow state of a lead that was just assigned on arrival (no save)."""
    policy = policy_of(team)
    lead.overflow_team = team
    lead.overflow_active = False
    lead.overflow_due_at = None
    if lead.assignee_id is None:
        lead.overflow_reason = Reason.UNASSIGNED
        return
    if policy is None or not rules.source_overflows(source=lead.source, policy=policy):
        lead.overflow_reason = Reason.NOT_API if lead.source != "api" else Reason.DISABLED
        return
    if not policy.enabled:
        lead.overflow_reason = Reason.DISABLED
        return
    schedule = schedule or team_schedule(team)
    if not rules.arrives_in_hours(schedule=schedule, at=now):
        lead.overflow_reason = Reason.OUT_OF_HOURS
        return
    due = rules.service_deadline(schedule=schedule, start=now, policy=policy)
    if due is None:
        lead.overflow_reason = Reason.NO_OPENING
        return
    lead.overflow_active = True
    lead.overflow_due_at = due
    lead.overflow_reason = ""


def overflow_stop_fields(lead, reason: str) -> None:
    lead.overflow_active = False
    lead.overflow_due_at = None
    lead.overflow_reason = reason


def overflow_rearm(*, lead, team: Team | None, now: datetime,
                   schedule: Schedule | None = None,
                   chain_policy: OverflowPolicy | None = None) -> bool:
    """A new holder of an overflowing lead gets a whole service time of their own (rule 6).

    ``team`` is the team that holds the lead now: its business hours apply, and its own
    service time when it has a policy (a further team of a cross-team chain may have a
    different one); so a lead handed to a team that is closed falls due that long after
    the team's next opening. ``chain_policy`` is the policy the lead follows (its
    overflow team's; read when not given): when it is off now, the lead stops.
    Returns whether the lead is still overflowing.
    """
    if not lead.overflow_active:
        return False
    if chain_policy is None:
        chain_policy = policy_of(lead.overflow_team if lead.overflow_team_id else team)
    if chain_policy is None or not chain_policy.enabled:
        overflow_stop_fields(lead, Reason.DISABLED)
        return False
    due = rules.service_deadline(
        schedule=schedule or team_schedule(team), start=now,
        policy=policy_of(team) or chain_policy,
    )
    if due is None:
        overflow_stop_fields(lead, Reason.NO_OPENING)
        return False
    lead.overflow_due_at = due
    return True


def overflow_stop_on_access(*, lead, actor: Actor, now: datetime) -> None:
    """Rule 5: the assignee opening the lead ends its overflow (caller holds the lock)."""
    if not lead.overflow_active:
        return
    overflow_stop_fields(lead, Reason.ACCESSED)
    event_record(
        lead=lead,
        type=LeadEvent.Type.OVERFLOW_STOPPED,
        actor=actor,
        to_member=Membership(pk=lead.assignee_id),
        reason=Reason.ACCESSED,
        at=now,
    )


def service_time_met(*, lead, organization, now: datetime) -> bool:
    """Whether the holder opening the lead ``now`` opens it within their service time.

    While its clock runs, that is before it falls due. Otherwise (overflow off, a lead
    created by hand, one that arrived out of hours or has passed through everyone), it
    is before the deadline the team's service time would set from when the lead reached
    its holder, counted in business hours (rule 6); without a policy there is no
    service time to meet.
    """
    if lead.overflow_active:
        return now <= lead.overflow_due_at
    team = lead.team
    policy = policy_of(team)
    if policy is None or lead.assigned_at is None:
        return False
    due = rules.service_deadline(
        schedule=team_schedule(team, organization=organization), start=lead.assigned_at,
        policy=policy,
    )
    return due is not None and now <= due
