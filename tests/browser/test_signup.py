"""A new customer signs up, confirms the address from the e-mail and logs in, in a real
browser, in both languages."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.models import SignUp
from teams.models import Membership, Organization

WORDS = {
    "pt-br": {"create": "Criar minha organização", "confirmed_text": "já recebe leads"},
    "en": {"create": "Create my organization", "confirmed_text": "receives leads now"},
}


@pytest.mark.parametrize("language", ["pt-br", "en"])
def test_sign_up_confirm_the_address_and_log_in(page, settings, language):
    settings.SIGNUP_OPEN = True
    words = WORDS[language]
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language,
                               "url": page.base}])
    page.goto(page.base + "/login/")
    page.click("#signup-link")
    expect(page.locator("#signup-form")).to_be_visible()
    # The browser's time zone is proposed; the slug follows the name.
    assert page.input_value("input[name=time_zone]") != ""
    page.fill("input[name=organization_name]", "Óticas Visão Clara")
    expect(page.locator("input[name=slug]")).to_have_value("oticas-visao-clara")
    page.fill("input[name=time_zone]", "America/Recife")
    page.select_option("#signup-form select[name=language]", language)
    page.fill("input[name=first_name]", "Clara")
    page.fill("input[name=email]", f"clara.{language}@example.com")
    page.fill("input[name=password1]", "clara-pass-2026")
    page.fill("input[name=password2]", "clara-pass-2026")
    page.get_by_role("button", name=words["create"]).click()
    expect(page.locator("#signup-sent")).to_be_visible()

    organization = Organization.objects.get(slug="oticas-visao-clara")
    assert (organization.time_zone, organization.language) == ("America/Recife", language)
    [message] = mail.outbox
    assert message.to == [f"clara.{language}@example.com"]
    path = re.search(r"https?://[^/\s]+(/signup/confirm/\S+/)", message.body).group(1)
    page.goto(page.base + path)
    page.wait_for_url("**/login/**")
    expect(page.locator(".messages")).to_contain_text(words["confirmed_text"])
    assert SignUp.objects.get(organization=organization).confirmed_at is not None

    page.fill("input[name=username]", f"clara.{language}@example.com")
    page.fill("input[name=password]", "clara-pass-2026")
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/manage/start/")  # a new organization starts on its first steps
    expect(page.locator("header .who")).to_contain_text("Óticas Visão Clara")
    owner = Membership.objects.get(organization=organization)
    assert owner.role == Membership.Role.OWNER
    assert owner.language == language  # chosen on the page: theirs, whatever the browser says
