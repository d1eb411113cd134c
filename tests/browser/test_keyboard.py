"""The inbox from the keyboard (issue 14, part 2): j / k move, Enter opens, a assigns to
me, ? shows the help."""

from playwright.sync_api import expect

from leads.models import Lead
from teams.models import Membership

from .conftest import log_in


def test_j_k_enter_a_and_the_help_overlay(page, org, make_team, new_lead):
    team = make_team(org, size=2, slug="desk", policy=None, online_only=True)
    ana, bruno = team.attendants
    Membership.objects.filter(pk=bruno.pk).update(presence=Membership.Presence.OFFLINE)
    Membership.objects.filter(pk=ana.pk).update(presence=Membership.Presence.OFFLINE)
    waiting = [new_lead(org, team=team, name=f"Fila {i}") for i in range(3)]
    assert all(lead.assignee_id is None for lead in waiting)
    log_in(page, ana.user.username)
    page.click("a[data-tab='unassigned']")
    rows = page.locator("#inbox-list tr[data-lead-id]")
    expect(rows).to_have_count(3)
    order = [int(rows.nth(i).get_attribute("data-lead-id")) for i in range(3)]

    selected = page.locator("#inbox-list tr.kbd-selected")
    page.keyboard.press("j")
    expect(selected).to_have_attribute("data-lead-id", str(order[0]))
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("j")  # stays on the last
    expect(selected).to_have_attribute("data-lead-id", str(order[2]))
    page.keyboard.press("k")
    expect(selected).to_have_attribute("data-lead-id", str(order[1]))
    expect(selected).to_have_attribute("aria-current", "true")

    # ? opens the help, Esc closes it; keys do nothing to the list meanwhile.
    page.keyboard.press("?")
    help_ = page.locator("#kbd-help")
    expect(help_).to_be_visible()
    expect(help_).to_contain_text("Atalhos do teclado")
    page.keyboard.press("j")
    expect(selected).to_have_attribute("data-lead-id", str(order[1]))
    page.keyboard.press("Escape")
    expect(help_).to_be_hidden()

    # Typing in the search box is typing, not shortcuts.
    page.fill("input[name=q]", "")
    page.focus("input[name=q]")
    page.keyboard.type("jk")
    expect(page.locator("input[name=q]")).to_have_value("jk")
    expect(selected).to_have_attribute("data-lead-id", str(order[1]))

    # a: the selected lead is mine, and its page opens.
    page.locator("h1").click()
    page.keyboard.press("a")
    page.wait_for_url(f"**/leads/{order[1]}/")
    expect(page.locator(".messages")).to_contain_text("O lead é seu.")
    assert Lead.objects.get(pk=order[1]).assignee_id == ana.pk

    # Enter opens the selected lead.
    page.goto(page.base + "/inbox/?tab=unassigned")
    expect(rows).to_have_count(2)
    page.keyboard.press("j")
    first = rows.nth(0).get_attribute("data-lead-id")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/leads/{first}/")
