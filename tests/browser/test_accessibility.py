"""axe-core (npm, pinned in tests/browser/package.json) on every page an attendant and a
manager reach, in pt-BR and in English: no critical and no serious violation. The same walk
leaves a screenshot of each page at 1366 px and at 390 px in tests/artifacts/.

``npm ci --prefix tests/browser`` installs axe-core (.ci/run does); without it these tests
skip, or fail under TRANSBORDO_REQUIRE_SERVICES=1 like the other services.
"""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from teams.models import Membership

from ..pagewords import walk
from .conftest import ARTIFACTS

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("critical", "serious")
WIDTHS = [(1366, 768), (390, 844)]
DEMO_PASSWORD = "transbordo-demo"


@pytest.fixture
def axe_script():
    if not AXE.exists():
        missing = f"needs axe-core at {AXE} (npm ci --prefix tests/browser)"
        if settings.REQUIRE_SERVICES:
            pytest.fail(f"TRANSBORDO_REQUIRE_SERVICES=1 but the test {missing}")
        pytest.skip(missing)
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", "--no-key", stdout=StringIO())


def _pages(username: str, start: str) -> list[str]:
    membership = Membership.objects.get(user__username=username, organization__slug="demo")
    client = Client()
    client.force_login(membership.user)
    return list(walk(client, start))


def _slug(url: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", url.lower()).strip("-") or "home"


def _violations(page, script: str) -> list[str]:
    page.add_script_tag(content=script)
    result = page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})); }"
    )
    return [f"{v['impact']} {v['id']} ({v['help']}): {v['nodes']}" for v in result
            if v["impact"] in BLOCKING]


@pytest.mark.parametrize("language", ["pt-br", "en"])
@pytest.mark.parametrize(("username", "start"), [("ana", "/inbox/"), ("gerente", "/manage/")])
def test_every_page_has_no_critical_or_serious_accessibility_violation(
    chromium, live_server, demo, axe_script, username, start, language,
):
    Membership.objects.filter(user__username=username).update(language=language)
    urls = _pages(username, start)
    assert len(urls) >= 4
    found: dict[str, list[str]] = {}
    ARTIFACTS.mkdir(exist_ok=True)
    # Screenshots of each page at both widths in pt-BR; axe runs at both widths too.
    for width, height in WIDTHS if language == "pt-br" else WIDTHS[:1]:
        # The app's Content-Security-Policy allows no injected script: the test's context
        # bypasses it to load axe (the page's own policy is tested in test_csp.py).
        context = chromium.new_context(viewport={"width": width, "height": height},
                                       locale=language, bypass_csp=True)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(live_server.url + "/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("form button[type=submit]")
        page.wait_for_url(lambda url: "/login/" not in url)
        for url in urls:
            page.goto(live_server.url + url)
            if language == "pt-br":
                page.screenshot(path=str(ARTIFACTS / f"page-{username}-{_slug(url)}-{width}.png"),
                                full_page=True)
            if problems := _violations(page, axe_script):
                found[f"{url} at {width}px"] = problems
        context.close()
    assert not found, "\n".join(f"{url}: {items}" for url, items in found.items())
