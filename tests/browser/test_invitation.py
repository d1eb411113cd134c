"""A manager invites an attendant by e-mail; the attendant chooses a password from the link
and lands in the inbox, in a real browser, in both languages."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from teams.models import Membership, TeamMember

from ..factories import TeamFactory
from .conftest import log_in

WORDS = {
    "pt-br": {"send": "Enviar convite", "create": "Criar minha conta e entrar"},
    "en": {"send": "Send invitation", "create": "Create my account and join"},
}


@pytest.mark.parametrize("language", ["pt-br", "en"])
def test_an_invited_attendant_sets_a_password_and_lands_in_the_inbox(
        page, chromium, org, alice, settings, language):
    words = WORDS[language]
    sales = TeamFactory(organization=org, name="Vendas", slug="vendas")
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language,
                               "url": page.base}])
    log_in(page, alice.user.username)
    page.goto(page.base + "/manage/people/")
    page.click("a[href$='/manage/people/invitations/']")
    form = page.locator("#invitation-form")
    form.locator("input[name=email]").fill("nina@example.com")
    form.locator("select[name=role]").select_option("attendant")
    form.get_by_label("Vendas").check()
    form.get_by_role("button", name=words["send"]).click()
    expect(page.locator("#invitations")).to_contain_text("nina@example.com")

    [message] = mail.outbox
    path = re.search(r"https?://[^/\s]+(/invitation/\S+/)", message.body).group(1)
    invitee = chromium.new_context(locale="pt-BR")
    invitee.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language,
                          "url": page.base}])
    other = invitee.new_page()
    other.set_default_timeout(10_000)
    try:
        other.goto(page.base + path)
        other.fill("input[name=first_name]", "Nina")
        other.fill("input[name=password1]", "nina-pass-2026")
        other.fill("input[name=password2]", "nina-pass-2026")
        other.get_by_role("button", name=words["create"]).click()
        other.wait_for_url("**/inbox/")
        expect(other.locator("header .who")).to_contain_text("Nina")
    finally:
        invitee.close()

    nina = Membership.objects.get(organization=org, user__email="nina@example.com")
    assert nina.role == Membership.Role.ATTENDANT
    assert TeamMember.objects.filter(team=sales, membership=nina).exists()
    page.reload()
    expect(page.locator("#invitations")).to_contain_text(
        "aceito" if language == "pt-br" else "accepted")
