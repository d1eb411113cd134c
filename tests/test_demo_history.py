"""seed_demo leaves a few days of real history, written once, for the dashboard."""

from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from rest_framework.test import APIClient

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


def test_the_demo_scores_a_big_budget_high_sends_it_to_ana_and_its_win_shows_in_the_funnel(db):
    output = StringIO()
    call_command("seed_demo", stdout=output)
    raw_key = output.getvalue().split("API key (shown once): ")[1].split()[0]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    assert "Scoring: a lead with custom.budget ≥ 10000" in output.getvalue()

    response = api.post("/api/v1/leads", {"name": "Grande Conta", "email": "cfo@example.com",
                                          "custom": {"budget": 80000}}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["score"] >= 50 and body["stage"] == "new"
    assert (body["assignee"]["first_name"], body["team"]["slug"]) == ("Ana", "vendas")
    ana = Membership.objects.get(user__username="ana")
    page = client_for(ana)
    assert page.post(f"/leads/{body['id']}/stage/", {"stage": "opportunity"}).status_code == 302
    assert page.post(f"/leads/{body['id']}/conclude/", {"outcome": "customer"}).status_code == 302
    lead = Lead.objects.get(pk=body["id"])
    assert (lead.stage, lead.status) == ("customer", "concluded")
    manager = Membership.objects.get(user__username="gerente")
    html = client_for(manager).get("/manage/?preset=today").content.decode()
    assert 'id="funnel"' in html
    today = api.get("/api/v1/reports/funnel", {"from": "2026-11-25", "to": "2026-11-25"}).json()
    assert next(row for row in today["attendants"] if row["id"] == ana.pk)["won"] >= 1


def test_the_demo_history_moves_leads_through_the_funnel(db):
    seed()

    org = Organization.objects.get(slug="demo")
    stages = set(Lead.objects.for_org(org).values_list("stage", flat=True))
    assert {"qualified", "opportunity", "customer", "lost"} <= stages
    assert Lead.objects.for_org(org).filter(score__gte=50, assignee__user__username="ana",
                                            team__slug="vendas").exists()
