"""The customer-facing message of a lead, from its team's templates (routing.messages)."""

from __future__ import annotations

import math
from datetime import datetime

from overflow.models import MIN_SERVICE_MINUTES
from overflow.selectors import policy_of
from routing.messages import ASSIGNED, OUT_OF_HOURS, QUEUED, CustomerMessage, render_message
from routing.selectors import active_members
from teams.hours import Schedule
from teams.models import Membership, Organization, Team


def _service_minutes(team: Team | None) -> int:
    policy = policy_of(team)
    return policy.service_minutes if policy is not None else MIN_SERVICE_MINUTES


def customer_message_assigned(
    *, team: Team | None, organization: Organization, membership: Membership,
    schedule: Schedule | None, now: datetime,
) -> CustomerMessage:
    """Who answers and within how long; or, when the team is closed, from when."""
    name = team.name if team else ""
    if schedule is not None and not schedule.is_open(now):
        opening = schedule.next_opening(now)
        return render_message(
            kind=OUT_OF_HOURS, language=organization.language,
            template=team.message_out_of_hours, first_name=membership.first_name,
            next_opening=opening.astimezone(organization.tzinfo) if opening else None,
            team=name,
        )
    return render_message(
        kind=ASSIGNED, language=organization.language,
        template=team.message_assigned if team else "", first_name=membership.first_name,
        minutes=_service_minutes(team), team=name,
    )


def customer_message_queued(
    *, team: Team | None, organization: Organization, position: int
) -> CustomerMessage:
    """The place in line and an estimate: one service time per round of the active team."""
    attendants = len(active_members(team=team)) if team is not None else 0
    rounds = math.ceil(position / max(attendants, 1))
    return render_message(
        kind=QUEUED, language=organization.language,
        template=team.message_queued if team else "", position=position,
        wait_minutes=rounds * _service_minutes(team), team=team.name if team else "",
    )
