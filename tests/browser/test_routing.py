"""A manager writes a routing rule, gives a skill and previews a team in a real browser."""

from playwright.sync_api import expect

from routing.models import RoutingRule
from teams.services.skills import skill_create

from ..factories import TeamMemberFactory
from .conftest import log_in


def test_manager_writes_a_rule_moves_it_first_and_previews_the_team(
    page, org, alice, bob, make_team
):
    sales = make_team(org, size=0, slug="sales", policy=False)
    TeamMemberFactory(team=sales, membership=bob, order=0)
    english = skill_create(organization=org, name="English")
    RoutingRule.objects.create(organization=org, name="Catch-all", position=0)
    log_in(page, alice.user.username)

    page.goto(page.base + "/manage/routing-rules/new/")
    page.fill("input[name=name]", "Enterprise")
    page.fill("input[name=conditions-0-field]", "custom.plan")
    page.fill("input[name=conditions-0-value]", "enterprise")
    page.select_option("select[name=team]", label="Sales")
    page.check(f"input[name=required_skills][value='{english.pk}']")
    page.fill("input[name=redirect_to]", "sac@example.com")
    page.click("#rule-form button[type=submit]")
    expect(page.locator("#rule-form .errorlist")).to_be_visible()  # a redirect takes no team
    assert not RoutingRule.objects.filter(name="Enterprise").exists()

    page.fill("input[name=redirect_to]", "")
    page.click("#rule-form button[type=submit]")
    expect(page.locator("#rules")).to_contain_text("Enterprise")
    rule = RoutingRule.objects.get(name="Enterprise")
    assert rule.conditions == [{"field": "custom.plan", "op": "eq", "value": "enterprise"}]
    assert (rule.team, list(rule.required_skills.all())) == (sales, [english])

    page.locator(f"tr[data-rule='{rule.pk}'] button[value=up]").click()
    expect(page.locator("#rules tbody tr").first).to_contain_text("Enterprise")

    page.goto(page.base + f"/manage/people/{bob.pk}/")
    page.check(f"#skills input[value='{english.pk}']")
    page.click("#skills button[type=submit]")
    expect(page.locator(".messages")).to_be_visible()
    assert list(bob.skills.all()) == [english]

    page.goto(page.base + f"/manage/teams/{sales.pk}/preview/")
    expect(page.locator("#preview li")).to_have_count(10)

    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/manage/routing-rules/", f"/manage/routing-rules/{rule.pk}/",
                 "/manage/people/skills/", f"/manage/teams/{sales.pk}/preview/"):
        page.goto(page.base + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
