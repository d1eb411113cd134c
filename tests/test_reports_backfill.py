"""The data migration that measures the openings written before the reports app existed."""

import importlib
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.apps import apps

from history.services import Actor
from leads.services import lead_assign_to_me, lead_mark_accessed
from leads.sweep import overflow_sweep
from reports.models import LeadAccess

from .conftest import WEEKDAYS_8_TO_18

SP = ZoneInfo("America/Sao_Paulo")
MON = date(2026, 11, 23)
FIELDS = ("lead_id", "event_id", "member_id", "organization_id", "team_id", "lead_created_at",
          "reached_at", "accessed_at", "wait_seconds", "service_wait_seconds", "is_first",
          "lead_seconds", "lead_service_seconds")

backfill = importlib.import_module("reports.migrations.0002_backfill_lead_accesses").backfill


def at(hour, minute=0):
    return datetime.combine(MON, time(hour, minute), tzinfo=SP)


def rows():
    return sorted(LeadAccess.objects.values_list(*FIELDS))


def test_backfill_measures_older_openings_as_the_receiver_does(org, make_team, new_lead):
    sales = make_team(org, size=3, slug="sales", hours=WEEKDAYS_8_TO_18, service_minutes=10)
    desk = make_team(org, size=0, slug="desk", policy=None)
    night = new_lead(org, team=sales, now=at(7))  # out of hours, opened at 08:05
    lead_mark_accessed(organization=org, lead_id=night.pk, membership=night.assignee,
                       actor=Actor.system(), now=at(8, 5))
    late = new_lead(org, team=sales, now=at(9))  # overflows once, opened by the second holder
    overflow_sweep(now=at(9, 10))
    late.refresh_from_db()
    lead_mark_accessed(organization=org, lead_id=late.pk, membership=late.assignee,
                       actor=Actor.system(), now=at(9, 12))
    queued = new_lead(org, team=desk, now=at(9, 30))  # taken from the queue
    lead_assign_to_me(organization=org, lead_id=queued.pk, membership=sales.attendants[0],
                      now=at(9, 40))
    measured = rows()
    assert len(measured) == 3
    LeadAccess.objects.all().delete()

    backfill(apps, None)
    backfill(apps, None)  # a second run writes nothing more

    assert rows() == measured
