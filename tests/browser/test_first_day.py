"""Issue 15's whole first day, through the pages only, in a real browser, in both languages:
sign-up → confirmation e-mail → first steps → a team with business hours → two attendants
invited by e-mail choose their passwords → the team's overflow policy (10 minutes; it needs
two attendants) → an API key → the test lead → the attendant who got it opens it from the
inbox → every step is done.

Nothing is made by calling services: the e-mails are read from Django's locmem outbox and
the database is only asserted on."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.models import SignUp
from leads.models import Lead
from overflow.models import OverflowPolicy
from teams.models import ApiKey, BusinessHoursInterval, Membership, Organization, Team

WORDS = {
    "pt-br": {
        "create_org": "Criar minha organização", "confirmed": "já recebe leads",
        "first_steps": "Primeiros passos", "create_team": "Criar equipe",
        "save_policy": "Salvar política de transbordo", "send": "Enviar convite",
        "join": "Criar minha conta e entrar", "create_key": "Criar chave",
        "sent": "Lead de teste enviado.", "all_done": "5 de 5",
    },
    "en": {
        "create_org": "Create my organization", "confirmed": "receives leads now",
        "first_steps": "First steps", "create_team": "Create team",
        "save_policy": "Save overflow policy", "send": "Send invitation",
        "join": "Create my account and join", "create_key": "Create key",
        "sent": "Test lead sent.", "all_done": "5 of 5",
    },
}
STEPS = ("team", "people", "source", "test_lead", "opened")


def _new_context(chromium, base, settings, language):
    # The browser asks for pt-BR; the language cookie (the switcher's) says which one we test.
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="pt-BR")
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language,
                          "url": base}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


def _link_from(message, pattern):
    return re.search(rf"https?://[^/\s]+({pattern})", message.body).group(1)


def _steps_done(page):
    return {key: page.locator(f"li[data-step='{key}']").get_attribute("data-done")
            for key in STEPS}


@pytest.mark.parametrize("language", ["pt-br", "en"])
def test_a_new_business_signs_up_and_an_invited_attendant_opens_its_first_lead(
        page, chromium, settings, language):
    settings.SIGNUP_OPEN = True
    words = WORDS[language]
    email = f"dora.{language}@example.com"
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language,
                               "url": page.base}])

    # 1. Sign-up, from the login page's link.
    page.goto(page.base + "/login/")
    page.click("#signup-link")
    expect(page).to_have_url(re.compile(r"/signup/$"))
    page.fill("input[name=organization_name]", "Padaria Aurora")
    expect(page.locator("input[name=slug]")).to_have_value("padaria-aurora")
    page.fill("input[name=time_zone]", "America/Sao_Paulo")
    page.select_option("#signup-form select[name=language]", language)
    page.fill("input[name=first_name]", "Dora")
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", "dora-pass-2026")
    page.fill("input[name=password2]", "dora-pass-2026")
    page.get_by_role("button", name=words["create_org"]).click()
    expect(page.locator("#signup-sent")).to_be_visible()
    organization = Organization.objects.get(slug="padaria-aurora")
    assert organization.first_steps_pending

    # 2. The confirmation link from the e-mail, then the owner logs in.
    [confirmation] = mail.outbox
    assert confirmation.to == [email]
    page.goto(page.base + _link_from(confirmation, r"/signup/confirm/\S+/"))
    page.wait_for_url("**/login/**")
    expect(page.locator(".messages")).to_contain_text(words["confirmed"])
    assert SignUp.objects.get(organization=organization).confirmed_at is not None
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", "dora-pass-2026")
    page.locator("form button[type=submit]").click()

    # 3. The first steps: nothing done yet.
    page.wait_for_url("**/manage/start/")
    expect(page.locator("h1")).to_have_text(words["first_steps"])
    assert set(_steps_done(page).values()) == {"false"}

    # 4. A team from the checklist's link, with business hours (every day, all day: the
    # test does not depend on the hour it runs). Its overflow policy comes at 6.
    page.locator("li[data-step='team'] a").click()
    page.wait_for_url("**/manage/teams/new/")
    page.fill("input[name=name]", "Balcão")
    page.check("input[name=business_hours_enabled]")
    page.get_by_role("button", name=words["create_team"]).click()
    expect(page.locator("h1")).to_contain_text("Balcão")
    team = Team.objects.get(organization=organization, name="Balcão")
    assert team.business_hours_enabled

    page.click(f"nav.tabs a[href$='/manage/teams/{team.pk}/hours/']")
    expect(page.locator("#hours-form")).to_be_visible()
    for weekday in range(7):
        day = page.locator(f"tr[data-weekday='{weekday}']")
        day.locator("input[name$='-start']").first.fill("00:00")
        day.locator("input[name$='-end']").first.fill("00:00")  # 00:00 closing: midnight
    page.click("#hours-form button[type=submit]")
    expect(page.locator(".messages")).to_be_visible()
    assert BusinessHoursInterval.objects.filter(team=team).count() == 7

    # 5. Two attendants invited by e-mail to that team (the overflow policy needs two: a
    # lead passes on to a colleague), each chooses a password in a browser of their own and
    # lands in their inbox.
    page.goto(page.base + "/manage/start/")
    expect(page.locator("li[data-step='team']")).to_have_attribute("data-done", "false")
    attendants = {}
    contexts = []
    try:
        for first, last in (("Ravi", "Souza"), ("Lia", "Prado")):
            address = f"{first.lower()}@example.com"
            mail.outbox.clear()
            page.goto(page.base + "/manage/people/invitations/")
            form = page.locator("#invitation-form")
            form.locator("input[name=email]").fill(address)
            form.locator("select[name=role]").select_option("attendant")
            form.get_by_label("Balcão").check()
            form.get_by_role("button", name=words["send"]).click()
            expect(page.locator("#invitations")).to_contain_text(address)
            [invitation] = mail.outbox
            assert invitation.to == [address]

            context, other = _new_context(chromium, page.base, settings, language)
            contexts.append(context)
            other.goto(page.base + _link_from(invitation, r"/invitation/\S+/"))
            other.fill("input[name=first_name]", first)
            other.fill("input[name=last_name]", last)
            other.fill("input[name=password1]", f"{first.lower()}-pass-2026")
            other.fill("input[name=password2]", f"{first.lower()}-pass-2026")
            other.get_by_role("button", name=words["join"]).click()
            other.wait_for_url("**/inbox/")
            expect(other.locator("header .who")).to_contain_text(first)
            person = Membership.objects.get(organization=organization, user__email=address)
            assert person.role == Membership.Role.ATTENDANT
            assert team.members.filter(membership=person, is_active=True).exists()
            attendants[person.pk] = (f"{first} {last}", other)

        page.goto(page.base + "/manage/start/")
        expect(page.locator("li[data-step='people']")).to_have_attribute("data-done", "true")

        # 6. Now the team's overflow policy, from the checklist's link: 10 minutes.
        page.locator("li[data-step='team'] a").click()
        page.wait_for_url(f"**/manage/teams/{team.pk}/overflow/")
        page.check("input[name=enabled]")
        page.fill("input[name=service_minutes]", "10")
        page.get_by_role("button", name=words["save_policy"]).click()
        expect(page.locator(".messages")).to_be_visible()
        policy = OverflowPolicy.objects.get(team=team)
        assert policy.enabled and policy.service_minutes == 10
        page.goto(page.base + "/manage/start/")
        expect(page.locator("li[data-step='team']")).to_have_attribute("data-done", "true")

        # 7. An API key from the checklist's link.
        page.locator("li[data-step='source'] a").click()
        page.wait_for_url("**/manage/api-keys/")
        page.fill("input[name=name]", "site")
        page.get_by_role("button", name=words["create_key"]).click()
        expect(page.locator("input[name=name]")).to_be_visible()
        assert ApiKey.objects.filter(organization=organization, revoked_at__isnull=True).exists()

        # 8. The owner sends the test lead from the checklist: it goes to the team and one
        # of its attendants, and the page says which.
        page.goto(page.base + "/manage/start/")
        page.click("#send-test-lead")
        expect(page.locator(".messages")).to_contain_text(words["sent"])
        lead = Lead.objects.for_org(organization).get()
        assert lead.team == team and lead.assignee_id in attendants
        assert lead.overflow_active  # armed: the team is open and its policy is on
        name, inbox = attendants[lead.assignee_id]
        result = page.locator("#test-lead-result")
        expect(result.locator("[data-result=team]")).to_have_text("Balcão")
        expect(result.locator("[data-result=assignee]")).to_have_text(name)

        # 9. The lead shows in that attendant's inbox (live, or on the next load) and they
        # open it.
        row = inbox.locator(f"tr[data-lead-id='{lead.pk}']")
        try:
            expect(row).to_be_visible(timeout=5_000)
        except AssertionError:
            inbox.reload()
        row.get_by_role("link").first.click()
        inbox.wait_for_url(f"**/leads/{lead.pk}/**")
        lead.refresh_from_db()
        assert lead.assignee_accessed_at is not None
        assert not lead.overflow_active
    finally:
        for context in contexts:
            context.close()

    # 10. Every step is done: the checklist says so, and the owner's landing is the dashboard.
    page.goto(page.base + "/manage/start/")
    assert set(_steps_done(page).values()) == {"true"}
    expect(page.locator("#steps-done")).to_contain_text(words["all_done"])
    organization.refresh_from_db()
    assert not organization.first_steps_pending
    page.goto(page.base + "/")
    expect(page).to_have_url(page.base + "/manage/")
