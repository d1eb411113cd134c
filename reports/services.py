"""Writes of the reports app: measuring each opening of a lead when it happens."""

from __future__ import annotations

from history.models import LeadEvent
from teams.hours import Schedule, team_schedule_cached
from teams.models import Team

from . import definitions
from .models import LeadAccess


def accesses_record(*, events: list[LeadEvent]) -> list[LeadAccess]:
    """Measure the openings among ``events`` (saved ``accessed`` events), in their transaction.

    The access services set the lead's ``assigned_at`` (when it reached this holder) and
    ``first_accessed_at`` before they write the event, so the event's lead says both.
    """
    rows = []
    schedules: dict[int | None, Schedule | None] = {}
    for event in events:
        if event.type != LeadEvent.Type.ACCESSED or event.to_member_id is None:
            continue
        lead = event.lead
        if lead.team_id not in schedules:
            schedules[lead.team_id] = _schedule(lead.team_id)
        rows.append(LeadAccess(**access_fields(
            event=event, lead=lead, schedule=schedules[lead.team_id],
            reached_at=lead.assigned_at or lead.created_at,
            is_first=lead.first_accessed_at == event.created_at,
        )))
    return LeadAccess.objects.bulk_create(rows) if rows else []


def access_fields(*, event, lead, schedule, reached_at, is_first) -> dict:
    """One opening, measured: the fields of its ``LeadAccess`` row (the migration that
    backfills the openings from before this app uses it too)."""
    opened = event.created_at
    return {
        "organization_id": event.organization_id,
        "lead_id": lead.pk,
        "lead_created_at": lead.created_at,
        "team_id": lead.team_id,
        "event_id": event.pk,
        "member_id": event.to_member_id,
        "reached_at": reached_at,
        "accessed_at": opened,
        "wait_seconds": definitions.wall_seconds(reached_at, opened),
        "service_wait_seconds": definitions.service_seconds(schedule, reached_at, opened),
        "is_first": is_first,
        "lead_seconds": definitions.wall_seconds(lead.created_at, opened) if is_first else None,
        "lead_service_seconds": (
            definitions.service_seconds(schedule, lead.created_at, opened) if is_first else None
        ),
    }


def _schedule(team_id: int | None) -> Schedule | None:
    """The team's business hours (this process's copy; none without a team)."""
    if team_id is None:
        return None
    team = Team.objects.select_related("organization").get(pk=team_id)
    return team_schedule_cached(team, organization=team.organization)


def accesses_follow_team(*, events: list[LeadEvent]) -> int:
    """A lead transferred by hand to another team takes its openings' copy of its team along
    (``transferred`` events name the team they moved the lead to); returns rows changed."""
    changed = 0
    for event in events:
        team_id = (event.data or {}).get("team_id")
        if event.type == LeadEvent.Type.TRANSFERRED and team_id:
            changed += LeadAccess.objects.filter(lead_id=event.lead_id).exclude(
                team_id=team_id).update(team_id=team_id)
    return changed
