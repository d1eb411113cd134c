"""A manager's Monday morning: the dashboard in a real browser, in Portuguese and English."""

import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from history.services import Actor
from leads.services import lead_mark_accessed
from leads.sweep import overflow_sweep
from reports import definitions as d

from ..factories import TeamMemberFactory
from .conftest import ARTIFACTS, log_in


def test_manager_lands_on_the_dashboard_changes_the_range_and_downloads_the_csv(
    page, org, alice, bob, dave, make_team, new_lead
):
    sales = make_team(org, size=0, slug="sales", service_minutes=10)
    TeamMemberFactory(team=sales, membership=bob, order=0)
    TeamMemberFactory(team=sales, membership=dave, order=1)
    now = timezone.now()
    first = new_lead(org, team=sales, name="Ana Cliente", now=now - timedelta(minutes=50))
    lead_mark_accessed(organization=org, lead_id=first.pk, membership=first.assignee,
                       actor=Actor.system(), now=now - timedelta(minutes=46))
    new_lead(org, team=sales, name="=cmd()", now=now - timedelta(minutes=40))
    new_lead(org, team=sales, name="Semana Passada", now=now - timedelta(days=5))
    overflow_sweep(now=now)
    today = d.local_today(org.tzinfo, now)

    log_in(page, alice.user.username)

    expect(page).to_have_url(page.base + "/manage/")
    expect(page.locator("h1")).to_have_text("Painel")
    expect(page.locator("[data-figure=received]")).to_have_text("3")  # the last 30 days
    for chart in ("chart-per-day", "chart-waits", "chart-rates"):
        expect(page.locator(f"svg[aria-labelledby='{chart}-title']")).to_be_visible()
    expect(page.locator("#table-attendants")).to_contain_text("Bob")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "reports_dashboard_pt_br.png"), full_page=True)

    page.select_option("#language-select", "en")
    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.locator("#per-day-title")).to_have_text("Leads per day")

    page.get_by_role("link", name="Today", exact=True).click()
    expect(page).to_have_url(page.base + "/manage/?preset=today")
    if (now - timedelta(minutes=50)).astimezone(org.tzinfo).date() == today:
        expect(page.locator("[data-figure=received]")).to_have_text("2")

    five_days_ago = (today - timedelta(days=5)).isoformat()
    page.fill("input[name=from]", five_days_ago)
    page.fill("input[name=to]", five_days_ago)
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"from={five_days_ago}&to={five_days_ago}"))
    expect(page.locator("[data-figure=received]")).to_have_text("1")

    page.get_by_role("link", name="30 days").click()
    with page.expect_download() as download:
        page.locator("[data-export=leads-semicolon]").click()
    content = open(download.value.path(), encoding="utf-8").read()
    assert content.startswith("\ufeff")
    header, *rows = content.lstrip("\ufeff").splitlines()
    assert header.startswith("Id;Received at;Name;")
    assert len(rows) == 3
    assert any(";'=cmd();" in row for row in rows)
    page.screenshot(path=str(ARTIFACTS / "reports_dashboard_en.png"), full_page=True)
