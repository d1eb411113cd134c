"""Measure the openings written before this app existed, from the history.

For each ``accessed`` event: the lead reached its holder at the holder's latest arrival
before it (assigned, overflowed or transferred to them), else at the lead's creation;
the lead's first ``accessed`` event is its first opening. Service seconds use each
team's business hours as they are now (the ones in force then are not kept).
Rows already measured are left alone, so running it again writes nothing.
"""

from itertools import groupby

from django.db import migrations

CHUNK = 500
ARRIVALS = ("assigned", "overflowed", "transferred")


def backfill(apps, schema_editor):
    from reports.services import access_fields
    from teams.hours import team_schedule

    LeadEvent = apps.get_model("history", "LeadEvent")
    Lead = apps.get_model("leads", "Lead")
    Team = apps.get_model("teams", "Team")
    LeadAccess = apps.get_model("reports", "LeadAccess")

    schedules = {None: None}

    def schedule(team_id):
        if team_id not in schedules:
            team = Team.objects.select_related("organization").get(pk=team_id)
            schedules[team_id] = team_schedule(team, organization=team.organization)
        return schedules[team_id]

    measured = set(LeadAccess.objects.values_list("event_id", flat=True))
    lead_ids = list(
        LeadEvent.objects.filter(type="accessed").order_by("lead_id")
        .values_list("lead_id", flat=True).distinct()
    )
    for start in range(0, len(lead_ids), CHUNK):
        chunk = lead_ids[start:start + CHUNK]
        leads = {lead.pk: lead for lead in Lead.objects.filter(pk__in=chunk)}
        events = (
            LeadEvent.objects.filter(lead_id__in=chunk, type__in=(*ARRIVALS, "accessed"))
            .order_by("lead_id", "created_at", "id")
        )
        rows = []
        for lead_id, lead_events in groupby(events, key=lambda e: e.lead_id):
            lead = leads[lead_id]
            reached = {}
            first = True
            for event in lead_events:
                if event.type != "accessed":
                    if event.to_member_id is not None:
                        reached[event.to_member_id] = event.created_at
                    continue
                if event.to_member_id is None:
                    continue
                if event.pk not in measured:
                    rows.append(LeadAccess(**access_fields(
                        event=event, lead=lead, schedule=schedule(lead.team_id),
                        reached_at=reached.get(event.to_member_id, lead.created_at),
                        is_first=first,
                    )))
                first = False
        LeadAccess.objects.bulk_create(rows)


class Migration(migrations.Migration):

    dependencies = [
        ("reports", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
