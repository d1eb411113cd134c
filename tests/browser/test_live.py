"""Knowing at once (issue 14, part 1): a lead POSTed through the API reaches the open inbox
through the live stream, without a reload, and raises a desktop notification."""

import time

from playwright.sync_api import expect

from .conftest import ARTIFACTS, log_in

# Records what the page shows as notifications, and stands in for the browser's permission
# prompt (headless Chromium has no notification centre to look at).
FAKE_NOTIFICATION = """
window.__notifications = [];
window.__asked = 0;
(function () {
  var permission = %r;
  function Fake(title, options) {
    window.__notifications.push({title: title, body: (options || {}).body || ""});
  }
  Fake.prototype.close = function () {};
  Object.defineProperty(Fake, "permission", {get: function () { return permission; }});
  Fake.requestPermission = function () {
    window.__asked += 1; permission = "granted"; return Promise.resolve(permission);
  };
  window.Notification = Fake;
})();
"""


def new_page(chromium, live_server, *, permission):
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="pt-BR")
    if permission == "granted":
        context.grant_permissions(["notifications"], origin=live_server.url)
    context.add_init_script(FAKE_NOTIFICATION % permission)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base = live_server.url
    return page


def test_a_lead_posted_through_the_api_appears_and_notifies_within_two_seconds(
    chromium, live_server, org, make_team, api_key
):
    team = make_team(org, size=1, slug="plantao")
    ana = team.attendants[0]
    page = new_page(chromium, live_server, permission="granted")
    try:
        log_in(page, ana.user.username)
        expect(page).to_have_title("Caixa de entrada · Transbordo")
        expect(page.locator("#inbox-live")).to_have_attribute("data-state", "open")
        expect(page.locator("#notify-offer")).to_be_hidden()  # already allowed: nothing to ask

        started = time.monotonic()
        answer = page.request.post(
            live_server.url + "/api/v1/leads",
            headers={"Authorization": f"Api-Key {api_key.raw}"},
            data={"name": "Maria Silva", "phone": "+55 11 91234-5678", "team": "plantao"},
        )
        assert answer.status == 201, answer.text()
        lead_id = answer.json()["id"]
        row = page.locator(f"tr[data-lead-id='{lead_id}']")
        expect(row).to_contain_text("Maria Silva", timeout=2_000)
        page.wait_for_function("window.__notifications.length > 0", timeout=2_000)
        assert time.monotonic() - started < 2.5  # the POST itself included

        notes = page.evaluate("window.__notifications")
        assert notes == [{"title": "Um novo lead para você", "body": "Maria Silva"}]
        expect(page).to_have_title("(1) Caixa de entrada · Transbordo")
        expect(page.locator("#unread-badge")).to_have_text("1")
        expect(page.locator("[data-count='mine']")).to_have_text("1")

        # The stream closes (2 s here, 25 s in production) and the browser reconnects:
        # the same lead is not announced twice.
        page.wait_for_timeout(3_000)
        assert page.evaluate("window.__notifications.length") == 1
        expect(page.locator("#inbox-live")).to_have_attribute("data-state", "open")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "live_inbox_new_lead.png"), full_page=True)

        # The lead page says why it came (issue 14, part 2).
        row.get_by_role("link").click()
        expect(page.locator("#why-here")).to_have_text(
            f"Rodízio: era a vez de {ana.display_name} em Plantao.")
        expect(page.locator("#history [data-why='round_robin']")).to_have_count(1)
        # One tap to WhatsApp, with the number in full and the greeting.
        whatsapp = page.locator("#contact [data-contact='whatsapp']")
        href = whatsapp.get_attribute("href")
        assert href.startswith("https://wa.me/5511912345678?text=Ol%C3%A1%2C%20Maria%21"), href
        expect(page.locator("#contact [data-contact='tel']")).to_have_attribute(
            "href", "tel:+5511912345678")
    finally:
        page.context.close()


def test_notifications_are_asked_for_once_with_an_explanation(chromium, live_server, org, bob):
    page = new_page(chromium, live_server, permission="default")
    try:
        log_in(page, bob.user.username)
        offer = page.locator("#notify-offer")
        expect(offer).to_be_visible()
        expect(offer).to_contain_text("notificações")
        offer.get_by_role("button", name="Ativar alertas na área de trabalho").click()
        expect(offer).to_be_hidden()
        assert page.evaluate("window.__asked") == 1
        page.reload()
        expect(page.locator("h1")).to_have_text("Caixa de entrada")
        expect(page.locator("#notify-offer")).to_be_hidden()  # asked once, never again
    finally:
        page.context.close()


def test_an_attendant_finds_a_lead_that_overflowed_away_under_past_leads(
    page, org, make_team, new_lead
):
    from datetime import timedelta

    from django.utils import timezone

    from leads.sweep import overflow_sweep

    team = make_team(org, size=2, slug="plantao", service_minutes=10)
    ana, bruno = team.attendants
    lead = new_lead(org, team=team, name="Olga Foi Embora",
                    now=timezone.now() - timedelta(minutes=11))
    assert overflow_sweep() == 1
    log_in(page, ana.user.username)
    expect(page.locator(f"tr[data-lead-id='{lead.pk}']")).to_have_count(0)
    page.click("a[data-tab='past']")
    row = page.locator(f"tr[data-lead-id='{lead.pk}']")
    expect(row).to_contain_text("Olga Foi Embora")
    expect(row).to_contain_text(bruno.display_name)
    row.get_by_role("link").click()
    expect(page.locator("#moved-on")).to_contain_text("somente leitura")
    expect(page.locator("#moved-on")).to_contain_text(f"Está com {bruno.display_name} agora.")
    expect(page.locator("#why-here")).to_contain_text("Transferido por transbordo")
    expect(page.locator("#transfer-form")).to_have_count(0)
    expect(page.locator("#note-form")).to_have_count(0)
