"""seed_demo leaves a few days of real history, written once, for the dashboard."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from history.models import LeadEvent
from leads.models import Lead
from reports.models import LeadAccess
from teams.models import Membership, Organization

from .helpers import client_for


@pytest.fixture(autouse=True)
def wednesday_afternoon():
    with time_machine.travel(datetime(2026, 11, 25, 15, tzinfo=ZoneInfo("America/Sao_Paulo")),
                             tick=False):
        yield


def seed():
    call_command("seed_demo", "--no-key", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_seed_demo_leaves_days_of_leads_opened_late_overflowed_and_concluded(db):
    seed()

    org = Organization.objects.get(slug="demo")
    leads = Lead.objects.for_org(org)
    days = {lead.created_at.astimezone(org.tzinfo).date() for lead in leads}
    assert len(days) >= 5
    assert leads.filter(transfer_count__gt=0).exists()
    assert leads.filter(overflow_reason=Lead.OverflowReason.ALL_TRIED).exists()
    assert leads.filter(status=Lead.Status.CONCLUDED).exists()
    assert leads.filter(first_accessed_at__isnull=True).exists()
    # Opened late: after the 10-minute service time, by someone it overflowed to.
    late = LeadAccess.objects.filter(organization=org, is_first=True, lead_seconds__gt=600)
    assert late.filter(lead__transfer_count__gt=0).exists()
    # Past arrivals are not e-mailed as new.
    assert not leads.filter(status="open", assignee__isnull=False,
                            assignee_accessed_at__isnull=True,
                            assignee_notified_at__isnull=True).exists()


def test_seed_demo_twice_does_not_write_the_history_again(db):
    seed()
    leads, events = Lead.objects.count(), LeadEvent.objects.count()

    seed()

    assert (Lead.objects.count(), LeadEvent.objects.count()) == (leads, events)


def test_the_demo_manager_sees_the_history_on_the_dashboard(db):
    seed()
    manager = Membership.objects.get(user__username="gerente")

    page = client_for(manager).get("/manage/?preset=7d").content.decode()

    assert 'id="report-empty"' not in page
    assert 'aria-labelledby="chart-per-day-title"' in page
    assert 'aria-labelledby="chart-rates-title"' in page
