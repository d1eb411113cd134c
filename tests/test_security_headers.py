"""Headers and production settings (issue 12, section 3).

- Every page carries a Content-Security-Policy without 'unsafe-inline', and no page has
  inline scripts, inline event handlers, ``<style>`` elements or ``style`` attributes: a
  crawler walks every page a manager, an attendant and a visitor can reach.
- HSTS follows ``SECURE_HSTS_*``; ``manage.py check --deploy`` is clean under the production
  environment of docker-compose.yml; e-mail goes out through ``EMAIL_URL``.
- Styled, translated 403, 404 and 500 pages; the "now with someone else" page for a lead
  that passed on from the person who follows a link to it.
"""

import os
import re
import secrets
import subprocess
import sys
from datetime import time, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest
import yaml
from django.conf import settings
from django.test import Client
from django.urls import include, path
from django.utils import timezone

from funnel.services import scoring_rule_create
from history.services import Actor
from integrations.services import endpoint_create
from leads.services import lead_add_note, lead_stage_change, lead_transfer
from leads.sweep import overflow_sweep
from routing.services_rules import routing_rule_create
from teams.services.skills import skill_create

from .helpers import client_for

ROOT = Path(settings.BASE_DIR)


# --- the crawler ---------------------------------------------------------------------------


class InlineCodeFinder(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' would block, and the page's own links."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self.links: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, _value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> (inline event handler)")
            if name == "style":
                self.problems.append(f"<{tag} style=…> (style attribute)")
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script":
            self._in_script = "src" not in attributes
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append(f"inline <script>: {data.strip()[:60]!r}")


# Followed links stay inside the product's own pages; these leave it or change state.
NOT_FOLLOWED = ("/logout", "/admin", "/i18n", "/api", "/static")


def crawl(client: Client, start: list[str], *, limit: int = 150) -> dict[str, list[str]]:
    """GET every page reachable by links from ``start``; each page's CSP problems."""
    seen, queue, found = set(), list(start), {}
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code in (301, 302):
            queue.append(response["Location"])
            continue
        if "text/html" not in response.get("Content-Type", ""):
            continue
        policy = response.get("Content-Security-Policy", "")
        finder = InlineCodeFinder()
        finder.feed(response.content.decode())
        problems = list(finder.problems)
        if "script-src 'self'" not in policy or "unsafe-inline" in policy:
            problems.append(f"Content-Security-Policy: {policy!r}")
        found[url] = problems
        for link in finder.links:
            link = urldefrag(link)[0]
            if link.startswith("?"):
                link = urlsplit(url).path + link
            if link.startswith("/") and not link.startswith(NOT_FOLLOWED):
                queue.append(link)
    return found


@pytest.fixture
def everything(org, alice, bob, dave, make_team, new_lead, api_key):
    """One of each thing the pages show, so that every template renders its full content."""
    team = make_team(org, size=0, slug="sales", hours={0: [(time(8), time(18))]})
    for order, person in enumerate((bob, dave)):
        team.members.create(membership=person, order=order)
    org.default_team = team
    org.save()
    skill = skill_create(organization=org, name="English")
    routing_rule_create(organization=org, name="Enterprise", team=team, required_skills=[skill],
                        conditions=[{"field": "custom.plan", "op": "eq", "value": "big"}])
    endpoint_create(organization=org, url="https://93.184.215.14/in")  # literal: no DNS
    scoring_rule_create(organization=org, name="big plan", points=30,
                        conditions=[{"field": "custom.plan", "op": "eq", "value": "big"}])
    lead = new_lead(org, team=team, custom={"plan": "big"})
    lead_stage_change(organization=org, lead_id=lead.pk, stage="qualified", actor=Actor.system())
    lead_add_note(organization=org, lead_id=lead.pk, membership=alice, text="Ligar às 15h")
    lead_transfer(organization=org, lead_id=lead.pk, membership=alice, to_member=dave,
                  note="Fala inglês")
    new_lead(org, team=team)
    return lead


def test_no_page_a_manager_reaches_has_inline_code(alice, everything):
    pages = crawl(client_for(alice), ["/inbox/", "/manage/", "/preferences/",
                                      f"/leads/{everything.pk}/"])

    assert len(pages) > 25, sorted(pages)  # the walk really went through the manager pages
    assert {url: p for url, p in pages.items() if p} == {}


def test_no_page_an_attendant_reaches_has_inline_code(dave, everything):
    pages = crawl(client_for(dave), ["/inbox/", "/preferences/", f"/leads/{everything.pk}/",
                                     "/manage/"])

    assert f"/leads/{everything.pk}/" in pages
    assert {url: p for url, p in pages.items() if p} == {}


def test_no_page_a_visitor_reaches_has_inline_code(db):
    pages = crawl(Client(), ["/", "/login/", "/no-such-page/"])

    assert "/login/" in pages
    assert {url: p for url, p in pages.items() if p} == {}


def test_the_crawler_finds_inline_code():
    finder = InlineCodeFinder()
    finder.feed('<p style="x"><select onchange="go()"></select><script>alert(1)</script>'
                '<script src="/static/js/app.js"></script><style>p{}</style>')
    assert len(finder.problems) == 4


def test_api_docs_page_has_the_site_policy_and_no_inline_code(db):
    response = Client().get("/api/docs/")
    policy = response["Content-Security-Policy"]
    finder = InlineCodeFinder()
    finder.feed(response.content.decode())

    assert response.status_code == 200
    assert finder.problems == []
    assert "unsafe-inline" not in policy
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["script-src"] == directives["style-src"] == "'self'"
    assert "http" not in policy
    assert Client().get("/api/docs/?script=")["Content-Type"] == "application/javascript"


def test_json_api_answers_carry_the_policy_too(api):
    assert "default-src 'self'" in api.get("/api/v1/leads")["Content-Security-Policy"]


# --- HSTS and check --deploy -----------------------------------------------------------------


def test_hsts_is_sent_over_https_as_configured(settings, db):
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True

    response = Client().get("/login/", secure=True)

    assert response["Strict-Transport-Security"] == "max-age=3600; includeSubDomains"
    assert "Strict-Transport-Security" not in Client().get("/login/")  # never over plain HTTP


def run_settings(env: dict, *args: str) -> subprocess.CompletedProcess:
    """``manage.py`` in a fresh process with exactly ``env`` (no test settings, no .env)."""
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True,
        env={"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        timeout=120,
    )


def compose_production_environment() -> dict[str, str]:
    """The web service's environment as docker-compose.yml gives it with an empty .env:
    ``${VAR:-default}`` takes the default; ``${VAR:?…}`` (required) gets a fresh value, as
    the operator must provide."""
    app = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["x-app"]
    env = {}
    for name, value in app["environment"].items():
        value = str(value)
        value = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: m.group(2), value)
        value = re.sub(r"\$\{(\w+):\?[^}]*\}", lambda m: secrets.token_urlsafe(50), value)
        env[name] = value
    return env


def test_check_deploy_is_clean_with_the_compose_production_environment(tmp_path):
    env = compose_production_environment()
    assert env["DEBUG"] == "0"

    result = run_settings({**env, "HOME": str(tmp_path)}, "check", "--deploy",
                          "--fail-level", "WARNING")

    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_compose_refuses_to_start_without_a_secret_key():
    app = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["x-app"]
    assert re.fullmatch(r"\$\{SECRET_KEY:\?.+\}", app["environment"]["SECRET_KEY"])


def test_email_url_configures_smtp(tmp_path):
    code = ("from django.conf import settings as s; "
            "print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER, "
            "s.EMAIL_HOST_PASSWORD, s.EMAIL_USE_TLS)")
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT,
        capture_output=True, text=True, timeout=60,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path),
             "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1",
             "EMAIL_URL": "smtp+tls://mailer%40example.com:p%40ss@smtp.example.com:587"},
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.core.mail.backends.smtp.EmailBackend", "smtp.example.com", "587",
        "mailer@example.com", "p@ss", "True",
    ]


# --- error pages --------------------------------------------------------------------------


def broken_view(request):
    raise RuntimeError("a bug")


urlpatterns = [path("broken/", broken_view), path("", include("config.urls"))]


@pytest.mark.parametrize(("language", "reason"), [
    ("en", "Only managers can open this page."),
    ("pt-br", "Só gestores podem abrir esta página."),
])
def test_attendant_on_a_manager_page_gets_a_styled_403_with_the_reason(bob, language, reason):
    client = client_for(bob)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    response = client.get("/manage/teams/")
    page = response.content.decode()

    assert response.status_code == 403
    assert 'id="error-403"' in page and "css/app.css" in page
    assert reason in page


@pytest.mark.parametrize(("language", "title"), [
    ("en", "Page not found"), ("pt-br", "Página não encontrada"),
])
def test_a_missing_page_is_a_styled_404_in_the_visitors_language(db, language, title):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert title in response.content.decode() and 'id="error-404"' in response.content.decode()


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(("language", "title"), [
    ("en", "Something went wrong on our side"), ("pt-br", "Algo deu errado do nosso lado"),
])
def test_a_server_error_is_a_styled_500_in_the_visitors_language(db, language, title):
    client = Client(raise_request_exception=False)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    response = client.get("/broken/")

    assert response.status_code == 500
    assert title in response.content.decode() and 'id="error-500"' in response.content.decode()
    assert "a bug" not in response.content.decode()


def test_a_stale_form_is_a_styled_csrf_page(bob):
    client = Client(enforce_csrf_checks=True)
    client.force_login(bob.user)

    response = client.post("/presence/", {"presence": "away"})

    assert response.status_code == 403 and 'id="error-csrf"' in response.content.decode()


# --- a lead that moved on --------------------------------------------------------------------


@pytest.fixture
def passed_on(org, make_team, new_lead):
    """Ana's lead overflowed to Bia; Caio never held it."""
    team = make_team(org, size=3)
    now = timezone.now()
    lead = new_lead(org, team=team, now=now - timedelta(minutes=11),
                    name="Maria Sigilosa")
    assert overflow_sweep(now=now) == 1
    lead.refresh_from_db()
    ana, bia, caio = team.attendants
    assert lead.assignee_id == bia.pk
    return lead, ana, bia, caio


def test_the_former_holder_following_a_link_learns_the_lead_moved_on(passed_on):
    lead, ana, _bia, _caio = passed_on
    client = client_for(ana)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = client.get(f"/leads/{lead.pk}/")
    page = response.content.decode()

    # Issue 14: one of their past leads, read only, with what happened to it (it was a
    # bare "moved on" page before); opening it is no access and offers no action.
    assert response.status_code == 200
    assert 'id="moved-on"' in page and "One of your past leads: read only." in page
    assert "Maria Sigilosa" in page and "It is with" in page
    assert 'id="transfer-form"' not in page and 'id="note-form"' not in page
    assert 'id="conclude-form"' not in page and 'id="stage-form"' not in page
    assert not lead.events.filter(type="accessed").exists()


def test_the_former_holder_acting_from_a_stale_page_gets_the_same_page(passed_on):
    lead, ana, bia, _caio = passed_on

    response = client_for(ana).post(f"/leads/{lead.pk}/conclude/", {"note": "feito"})

    assert response.status_code == 403 and 'id="moved-on"' in response.content.decode()
    lead.refresh_from_db()
    assert lead.status == "open" and lead.assignee_id == bia.pk


def test_someone_who_never_held_the_lead_still_gets_404(passed_on, charlie):
    lead, _ana, _bia, caio = passed_on

    assert client_for(caio).get(f"/leads/{lead.pk}/").status_code == 404
    assert client_for(charlie).get(f"/leads/{lead.pk}/").status_code == 404


def test_the_current_holder_opens_it_as_usual(passed_on):
    lead, _ana, bia, _caio = passed_on

    response = client_for(bia).get(f"/leads/{lead.pk}/")

    assert response.status_code == 200 and "Maria Sigilosa" in response.content.decode()
    assert lead.events.filter(type="accessed", to_member=bia).exists()


def test_a_manager_sees_the_moved_lead_and_the_former_holder_where_it_went(passed_on, alice):
    lead, ana, bia, _caio = passed_on

    assert client_for(alice).get(f"/leads/{lead.pk}/").status_code == 200
    # Issue 14: "what happened to them" names who holds it now (it named nobody before).
    assert bia.display_name in client_for(ana).get(f"/leads/{lead.pk}/").content.decode()
