"""A manager builds a team from nothing in a real browser."""

from playwright.sync_api import expect

from overflow.models import OverflowPolicy
from teams.models import BusinessHoursInterval, Team

from ..factories import MembershipFactory, UserFactory
from .conftest import log_in


def test_manager_creates_a_team_with_hours_and_overflow_and_nine_minutes_is_refused(
    page, org, alice
):
    for username, first in (("ana", "Ana"), ("bruno", "Bruno")):
        MembershipFactory(organization=org, user=UserFactory(username=username, first_name=first))

    log_in(page, alice.user.username)
    page.goto(page.base + "/manage/teams/new/")
    page.fill("input[name=name]", "Vendas Sul")
    page.get_by_role("button", name="Criar equipe").click()
    expect(page.locator("h1")).to_contain_text("Vendas Sul")
    team = Team.objects.get(organization=org, name="Vendas Sul")

    for first in ("Ana", "Bruno"):
        person = org.memberships.get(user__first_name=first)
        add = page.locator(f"form[action$='/manage/teams/{team.pk}/members/add/']")
        add.locator("select[name=membership]").select_option(value=str(person.pk))
        add.locator("button[type=submit]").click()
    expect(page.locator("table")).to_contain_text("Bruno")
    assert team.members.filter(is_active=True).count() == 2

    page.goto(page.base + f"/manage/teams/{team.pk}/hours/")
    page.check("input[name='hours-enabled']")
    monday = page.locator("tr[data-weekday='0']")
    monday.locator("input[name$='-start']").first.fill("08:00")
    monday.locator("input[name$='-end']").first.fill("18:00")
    page.click("#hours-form button[type=submit]")
    expect(page.locator(".messages")).to_be_visible()
    team.refresh_from_db()
    assert team.business_hours_enabled
    assert list(BusinessHoursInterval.objects.filter(team=team).values_list(
        "weekday", "start__hour", "end__hour")) == [(0, 8, 18)]

    page.goto(page.base + f"/manage/teams/{team.pk}/overflow/")
    page.check("input[name=enabled]")
    page.fill("input[name=service_minutes]", "9")
    page.get_by_role("button", name="Salvar política de transbordo").click()
    expect(page.locator(".errorlist")).to_contain_text("pelo menos 10 minutos")
    assert not OverflowPolicy.objects.filter(team=team).exists()

    page.fill("input[name=service_minutes]", "10")
    page.get_by_role("button", name="Salvar política de transbordo").click()
    expect(page.locator(".messages")).to_be_visible()
    policy = OverflowPolicy.objects.get(team=team)
    assert policy.enabled and policy.service_minutes == 10
