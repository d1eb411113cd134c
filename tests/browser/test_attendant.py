"""An attendant's shift in a real browser."""

import re

from playwright.sync_api import expect

from history.models import LeadEvent
from leads.models import Lead

from .conftest import log_in, log_out


def test_attendant_opens_a_new_lead_and_transfers_it_to_a_colleague(
    page, org, make_team, new_lead
):
    team = make_team(org, size=2)
    ana, bruno = team.attendants
    for membership, first in ((ana, "Ana"), (bruno, "Bruno")):
        membership.user.first_name = first
        membership.user.save()
    lead = new_lead(org, team=team, name="Maria Cliente", email="maria@example.com")
    assert lead.assignee_id == ana.pk

    log_in(page, ana.user.username)
    row = page.locator(f"tr[data-lead-id='{lead.pk}']")
    expect(row).to_contain_text("Maria Cliente")
    expect(page.locator("[data-count='mine']")).to_have_text("1")

    row.get_by_role("link").click()
    expect(page.locator("h1")).to_have_text("Maria Cliente")
    history = page.locator("#history")
    expect(history.locator("li[data-event-type='accessed']")).to_have_count(1)
    expect(history.locator("li[data-event-type='overflow_stopped']")).to_contain_text(
        "Aberto pelo atendente"
    )
    lead.refresh_from_db()
    assert not lead.overflow_active and lead.overflow_reason == Lead.OverflowReason.ACCESSED

    page.select_option("#transfer-form select[name=to_member]", label=bruno.display_name)
    page.fill("#transfer-form textarea[name=note]", "Cliente prefere WhatsApp")
    page.click("#transfer-form button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Lead transferido.")
    expect(page.locator(f"tr[data-lead-id='{lead.pk}']")).to_have_count(0)  # no longer mine
    lead.refresh_from_db()
    assert lead.assignee_id == bruno.pk
    assert LeadEvent.objects.filter(lead=lead, type="transferred", to_member=bruno).exists()

    log_out(page)
    log_in(page, bruno.user.username)
    page.locator(f"tr[data-lead-id='{lead.pk}']").get_by_role("link").click()
    expect(page.locator("#history li[data-event-type='transferred']")).to_contain_text(
        "Cliente prefere WhatsApp"
    )


def test_language_switch_to_english_and_back(page, org, bob):
    log_in(page, bob.user.username)
    expect(page.locator("h1")).to_have_text("Caixa de entrada")
    page.select_option("#language-select", "en")
    expect(page.locator("h1")).to_have_text("Inbox")
    page.reload()
    expect(page.locator("h1")).to_have_text("Inbox")  # remembered
    page.select_option("#language-select", "pt-br")
    expect(page.locator("h1")).to_have_text("Caixa de entrada")


def test_inbox_refreshes_by_itself_when_a_lead_arrives(page, org, make_team, new_lead):
    team = make_team(org, size=1, policy=None)
    attendant = team.attendants[0]
    page.clock.install()  # the page's timers run when told: no waiting 15 real seconds
    log_in(page, attendant.user.username)
    expect(page.locator("tr[data-lead-id]")).to_have_count(0)
    lead = new_lead(org, team=team, name="Chegou Agora")
    page.clock.run_for(16_000)
    expect(page.locator(f"tr[data-lead-id='{lead.pk}']")).to_contain_text("Chegou Agora")
    assert re.search(r"/inbox/", page.url)


def test_inbox_and_lead_page_fit_a_phone_screen(page, org, make_team, new_lead):
    team = make_team(org, size=1)
    lead = new_lead(org, team=team, name="Cliente Com Um Nome Bem Comprido da Silva")
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, team.attendants[0].user.username)
    for path in ("/inbox/", f"/leads/{lead.pk}/"):
        page.goto(page.base + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
