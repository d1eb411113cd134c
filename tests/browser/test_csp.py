"""The pages keep working under the Content-Security-Policy (no inline code allowed): the
behaviour that used inline handlers now comes from static/js/app.js, and the browser
reports no violation on the way."""

from playwright.sync_api import expect

from teams.models import Membership

from .conftest import log_in


def collect_csp_violations(page) -> list[str]:
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    return violations


def test_presence_switch_and_confirmations_work_under_the_policy(page, org, alice, make_team):
    team = make_team(org, size=2)
    leaving = team.attendants[1]
    violations = collect_csp_violations(page)
    log_in(page, alice.user.username)

    # <select data-autosubmit>: choosing "away" posts the presence form at once.
    page.select_option("#presence-form select[name=presence]", "away")
    expect(page.locator(".messages")).to_contain_text("ausente")
    alice.refresh_from_db()
    assert alice.presence == Membership.Presence.AWAY

    # <form data-confirm>: Cancel keeps the member, OK removes them.
    page.goto(page.base + f"/manage/teams/{team.pk}/")
    remove = page.locator(f"form[action$='/members/{team.members.get(membership=leaving).pk}"
                          f"/remove/'] button[type=submit]")
    page.once("dialog", lambda dialog: dialog.dismiss())
    remove.click()
    expect(page.locator("h1")).to_contain_text(team.name)
    assert team.members.filter(membership=leaving).exists()
    page.once("dialog", lambda dialog: dialog.accept())
    remove.click()
    expect(page.locator(".messages")).to_be_visible()
    assert not team.members.filter(membership=leaving).exists()

    assert violations == []


def test_inbox_and_lead_pages_raise_no_policy_violation(page, org, make_team, new_lead):
    team = make_team(org, size=2)
    lead = new_lead(org, team=team, name="Maria Cliente")
    violations = collect_csp_violations(page)

    log_in(page, team.attendants[0].user.username)
    page.goto(page.base + f"/leads/{lead.pk}/")
    expect(page.locator("h1")).to_have_text("Maria Cliente")
    page.goto(page.base + "/manage/")  # a styled 403 for an attendant

    assert violations == []


def test_api_docs_render_from_our_static_files_with_no_policy_violation(page, db):
    """Swagger UI comes from drf-spectacular-sidecar's static files: it draws the operations
    offline, under the site's own policy."""
    violations = collect_csp_violations(page)
    elsewhere = []
    page.on("request", lambda request: elsewhere.append(request.url)
            if not request.url.startswith(page.base) and not request.url.startswith("data:")
            else None)

    page.goto(page.base + "/api/docs/")
    expect(page.locator("#operations-leads-leads_create")).to_be_visible(timeout=30_000)

    assert violations == []
    assert elsewhere == []
