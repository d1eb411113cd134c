"""A new organization's first steps in a real browser, in Portuguese and English: the owner
lands on the checklist, sends a test lead, the attendant who got it opens it, and the
checklist is done."""

import pytest
from playwright.sync_api import expect

from leads.models import Lead
from teams.models import Membership
from teams.services.keys import api_key_create

from ..factories import MembershipFactory, OrganizationFactory, UserFactory
from .conftest import ARTIFACTS, log_in, log_out

TEXTS = {
    "pt-br": {"h1": "Primeiros passos", "sent": "Lead de teste enviado."},
    "en": {"h1": "First steps", "sent": "Test lead sent."},
}


@pytest.mark.parametrize("language", ["pt-br", "en"])
def test_owner_follows_the_first_steps_to_a_lead_opened_by_an_attendant(
    page, make_team, language
):
    org = OrganizationFactory(name="Nova", slug="nova", first_steps_pending=True,
                              language=language)
    # The owner's own language (the browser asks for pt-BR; a person's choice comes first).
    owner = MembershipFactory(organization=org, role=Membership.Role.OWNER, language=language,
                              user=UserFactory(username=f"olivia-{language}"))
    team = make_team(org, size=1, slug="vendas", service_minutes=10)
    bea = team.attendants[0]
    bea.user.first_name, bea.user.last_name = "Bea", "Atendente"
    bea.user.save()
    org.default_team = team
    org.save()
    api_key_create(organization=org, name="site")
    texts = TEXTS[language]

    log_in(page, owner.user.username)
    expect(page).to_have_url(page.base + "/manage/start/")
    expect(page.locator("h1")).to_have_text(texts["h1"])
    for key, done in (("team", "true"), ("people", "true"), ("source", "true"),
                      ("test_lead", "false"), ("opened", "false")):
        expect(page.locator(f"li[data-step='{key}']")).to_have_attribute("data-done", done)

    page.click("#send-test-lead")
    expect(page.locator(".messages")).to_contain_text(texts["sent"])
    result = page.locator("#test-lead-result")
    expect(result.locator("[data-result=team]")).to_have_text("Vendas")
    expect(result.locator("[data-result=assignee]")).to_have_text("Bea Atendente")
    expect(page.locator("li[data-step='test_lead']")).to_have_attribute("data-done", "true")
    page.screenshot(path=str(ARTIFACTS / f"first_steps_{language}.png"), full_page=True)
    lead = Lead.objects.for_org(org).get()

    log_out(page)
    log_in(page, bea.user.username)
    page.locator(f"tr[data-lead-id='{lead.pk}']").get_by_role("link").click()
    lead.refresh_from_db()
    assert lead.assignee_accessed_at is not None

    log_out(page)
    log_in(page, owner.user.username)
    expect(page).to_have_url(page.base + "/manage/")  # done: the dashboard again
    expect(page.locator("#first-steps-banner")).to_have_count(0)
    org.refresh_from_db()
    assert not org.first_steps_pending
