"""A lead source in a real browser: the manager makes one, a landing page's plain HTML form
posts to its URL, the visitor lands on the thank-you page, the lead is in an inbox."""

from playwright.sync_api import expect

from leads.models import Lead
from sources.models import Source

from .conftest import log_in, log_out

LANDING = "https://landing.example"


def test_a_landing_page_form_sends_a_lead_to_an_attendants_inbox(page, org, alice,
                                                                   make_team):
    team = make_team(org, size=1, slug="vendas")
    [attendant] = team.attendants

    log_in(page, alice.user.username)
    page.goto(page.base + "/manage/sources/")
    page.click("a[href$='/manage/sources/new/']")
    page.fill("input[name=name]", "Landing page")
    page.select_option("select[name=team]", label=team.name)
    page.fill("input[name=honeypot_field]", "website")
    page.fill("input[name=thank_you_url]", f"{LANDING}/obrigado")
    page.click("form[novalidate] button[type=submit]")  # not the header's log-out form
    intake_url = page.locator("#intake-url").inner_text().strip()
    source = Source.objects.get()
    assert intake_url.endswith(f"/in/{source.token}")
    expect(page.locator("#form-snippet")).to_contain_text(intake_url)
    log_out(page)

    # The business's own site (another origin), answered by the browser's router: a plain
    # form, as pasted from the source's page, and the thank-you page it goes to.
    landing = f"""<!doctype html><html><body>
      <form method="post" action="{intake_url}">
        <input name="nome" value="Marta Visitante">
        <input name="email" type="email" value="marta@example.com">
        <input name="telefone" value="(11) 91234-5678">
        <input name="interesse" value="Plano anual">
        <input name="website" tabindex="-1" autocomplete="off" hidden>
        <button type="submit">Enviar</button>
      </form></body></html>"""
    thanks = "<!doctype html><html><body><h1>Obrigado!</h1></body></html>"
    page.route(f"{LANDING}/", lambda route: route.fulfill(
        status=200, content_type="text/html", body=landing))
    page.route(f"{LANDING}/obrigado", lambda route: route.fulfill(
        status=200, content_type="text/html", body=thanks))
    page.goto(f"{LANDING}/")
    page.click("button[type=submit]")
    page.wait_for_url(f"{LANDING}/obrigado")
    expect(page.locator("h1")).to_have_text("Obrigado!")

    lead = Lead.objects.get(organization=org)
    assert (lead.name, lead.origin_id, lead.custom) == ("Marta Visitante", source.pk,
                                                        {"interesse": "Plano anual"})
    assert lead.assignee_id == attendant.pk

    log_in(page, attendant.user.username)
    expect(page.locator(f"tr[data-lead-id='{lead.pk}']")).to_contain_text("Marta Visitante")
