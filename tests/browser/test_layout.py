"""The header at a desktop's and a phone's width, the favicon, and destructive buttons."""

import pytest
from playwright.sync_api import expect

from teams.models import TeamMember

from .conftest import log_in

ONE_ROW = 64  # px: the header's height when everything fits on one line


@pytest.fixture
def sized(chromium, live_server):
    contexts = []

    def open_page(width, height=844):
        context = chromium.new_context(viewport={"width": width, "height": height},
                                       locale="pt-BR")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.base = live_server.url
        return page

    yield open_page
    for context in contexts:
        context.close()


def header_height(page) -> float:
    return page.locator("header.topbar").bounding_box()["height"]


def test_the_managers_header_is_one_row_at_1280_px(sized, org, alice, make_team):
    make_team(org, size=2)
    page = sized(1280, 800)
    log_in(page, alice.user.username)
    for path in ("/manage/", "/manage/teams/", "/inbox/"):
        page.goto(page.base + path)
        assert header_height(page) <= ONE_ROW, path
    # The less used pages are one click away, under "More".
    page.locator("details.more summary").click()
    page.get_by_role("link", name="Registro de alterações").click()
    page.wait_for_url("**/manage/audit/**")
    expect(page.locator("details.more summary")).to_have_class("active")


@pytest.mark.parametrize("who", ["attendant", "manager"])
def test_at_390_px_the_header_is_a_bar_with_a_menu(sized, org, alice, make_team, who):
    team = make_team(org, size=1)
    person = alice if who == "manager" else team.attendants[0]
    page = sized(390)
    log_in(page, person.user.username)
    assert header_height(page) <= 60
    menu = page.locator("#topbar-menu")
    expect(menu).to_be_hidden()

    toggle = page.get_by_role("button", name="Menu")
    toggle.click()
    expect(menu).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#language-select")).to_be_visible()
    if who == "manager":  # the manager's less used pages are under "More"
        menu.locator("details.more summary").click()
        expect(menu.get_by_role("link", name="Configurações")).to_be_visible()
    expect(menu.get_by_role("link", name="Preferências")).to_be_visible()
    toggle.click()
    expect(menu).to_be_hidden()


def test_every_page_has_a_favicon(page):
    page.goto(page.base + "/login/")
    href = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(page.base + href).status == 200


def test_remove_member_is_calm_and_asks_first(page, org, alice, make_team):
    team = make_team(org, size=3)
    log_in(page, alice.user.username)
    page.goto(page.base + f"/manage/teams/{team.pk}/")
    remove = page.locator("button.danger", has_text="Remover")
    expect(remove).to_have_count(3)
    style = remove.first.evaluate(
        "b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).color]")
    assert style[0] == "rgb(255, 255, 255)" and style[1] != "rgb(255, 255, 255)"

    questions = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    remove.first.click()
    assert questions and "Remover" in questions[0]
    assert TeamMember.objects.filter(team=team).count() == 3

    page.once("dialog", lambda dialog: answer(dialog, True))
    remove.first.click()
    page.wait_for_load_state()
    expect(page.locator(".messages")).to_be_visible()
    assert TeamMember.objects.filter(team=team).count() == 2
