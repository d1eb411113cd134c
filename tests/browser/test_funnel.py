"""Issue 16 in a real browser, in Portuguese and English: an attendant qualifies leads and
concludes them as won and lost; the manager sees them in the dashboard's funnel."""

from playwright.sync_api import expect

from ..factories import TeamMemberFactory
from .conftest import ARTIFACTS, log_in, log_out


def test_an_attendant_qualifies_and_wins_a_lead_and_the_manager_sees_it_in_the_funnel(
    page, org, alice, bob, make_team, new_lead
):
    sales = make_team(org, size=0, slug="sales", service_minutes=10)
    TeamMemberFactory(team=sales, membership=bob, order=0)
    won = new_lead(org, team=sales, name="Ana Compradora")
    lost = new_lead(org, team=sales, name="Rui Sem Verba")

    log_in(page, bob.user.username)  # the organization's language: Portuguese
    page.goto(f"{page.base}/leads/{won.pk}/")
    expect(page.locator("#funnel-card [data-stage]")).to_have_text("Novo")
    page.get_by_role("button", name="Qualificado", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Etapa: Qualificado.")
    expect(page.locator("#funnel-card [data-stage]")).to_have_text("Qualificado")
    expect(page.locator("[data-funnel-note]").last).to_have_text("Novo → Qualificado")
    page.check("#conclude-form input[name=outcome][value=customer]")
    page.click("#conclude-form button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Lead concluído: ganho.")
    expect(page.locator("#funnel-card [data-stage]")).to_have_text("Cliente")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "funnel_lead_won_pt_br.png"), full_page=True)

    page.select_option("#language-select", "en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto(f"{page.base}/leads/{lost.pk}/")
    page.get_by_role("button", name="Qualified", exact=True).click()
    expect(page.locator("#funnel-card [data-stage]")).to_have_text("Qualified")
    page.check("#conclude-form input[name=outcome][value=lost]")
    page.click("#conclude-form button[type=submit]")  # no reason yet: refused, kept open
    expect(page.locator("#conclude-form")).to_contain_text("Choose why the lead was lost.")
    page.check("#conclude-form input[name=outcome][value=lost]")
    page.select_option("#conclude-form select[name=lost_reason]", "no_budget")
    page.click("#conclude-form button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Lead concluded: lost.")
    expect(page.locator("[data-lost-reason]")).to_have_text("No budget")
    log_out(page)

    log_in(page, alice.user.username)  # the browser keeps English
    expect(page.locator("#funnel-title")).to_have_text("Funnel")
    expect(page.locator("[data-figure=won]")).to_have_text("1")
    expect(page.locator("[data-figure=win-rate]")).to_have_text("50.0%")
    expect(page.locator("#table-funnel [data-stage=qualified] td").first).to_have_text("2")
    expect(page.locator("#table-funnel [data-stage=opportunity] td").last).to_have_text("50.0%")
    expect(page.locator("#table-lost-reasons")).to_contain_text("No budget")
    expect(page.locator("#table-attendant-wins")).to_contain_text("Bob")
    page.screenshot(path=str(ARTIFACTS / "funnel_dashboard_en.png"), full_page=True)

    page.select_option("#language-select", "pt-br")
    expect(page.locator("#funnel-title")).to_have_text("Funil")
    expect(page.locator("[data-figure=win-rate]")).to_have_text("50,0%")
    expect(page.locator("#table-lost-reasons")).to_contain_text("Sem orçamento")
    expect(page.locator("#table-funnel [data-stage=qualified] th")).to_have_text("Qualificado")
    page.screenshot(path=str(ARTIFACTS / "funnel_dashboard_pt_br.png"), full_page=True)
