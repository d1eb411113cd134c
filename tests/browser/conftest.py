"""Real headless Chromium (Debian's package) driven by Playwright against live_server.

Each test leaves a screenshot in tests/artifacts/ (kept by CI, ignored by git).
"""

import os
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def _short_live_streams(settings):
    """The inbox's live stream (live/) closes after 2 s here instead of 25 and the browser
    reconnects: no stream outlives its test holding a database connection."""
    settings.LIVE_STREAM_SECONDS = 2


@pytest.fixture(scope="session")
def chromium():
    if not os.path.exists(CHROMIUM):
        yield None  # the autouse service check skips or fails the test
        return
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM calls
    # made by the test itself are still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server, request):
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="pt-BR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base = live_server.url
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def log_in(page, username, password="secret-pass"):
    page.goto(page.base + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit]")
    # Attendants land on their inbox, managers on their dashboard (/manage/), or a new
    # organization's managers on its first steps (/manage/start/).
    page.wait_for_url(lambda url: "/inbox/" in url or url.endswith(("/manage/", "/start/")))


def log_out(page):
    page.click("header form[action$='/logout/'] button")
    page.wait_for_url("**/login/**")
