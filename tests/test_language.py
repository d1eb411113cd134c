"""Each person's language: kept on their profile, chosen in the header or in Preferences;
before they choose, the browser's Accept-Language when we speak it, else the organization's.
E-mails to a person follow their choice too."""

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from leads.notifications import notifications_send
from teams.middleware import browser_language

pytestmark = pytest.mark.django_db

INBOX_PT, INBOX_EN = "Caixa de entrada", "Inbox"


def browser(membership, accept=""):
    """A fresh browser (no cookies) signed in as ``membership``, asking for ``accept``."""
    client = Client(HTTP_ACCEPT_LANGUAGE=accept) if accept else Client()
    client.force_login(membership.user)
    return client


def inbox_language(client) -> str:
    html = client.get("/inbox/").content.decode()
    assert (INBOX_PT in html) != ('<html lang="en">' in html), "one language per page"
    return "pt-br" if INBOX_PT in html else "en"


@pytest.mark.parametrize(("header", "expected"), [
    ("en-US,en;q=0.9", "en"), ("pt-BR,pt;q=0.9,en;q=0.5", "pt-br"), ("pt", "pt-br"),
    ("fr-FR,de;q=0.8,en;q=0.5", "en"), ("fr-FR,de;q=0.8", None), ("", None), ("*", None),
])
def test_the_browsers_language_is_the_first_one_we_speak(rf, header, expected):
    request = rf.get("/", HTTP_ACCEPT_LANGUAGE=header)
    assert browser_language(request) == expected


def test_before_choosing_an_english_browser_gets_english_after_login(org, bob):
    assert org.language == "pt-br"
    assert inbox_language(browser(bob, "en-US,en;q=0.9")) == "en"


def test_before_choosing_a_browser_in_another_language_gets_the_organizations(org, bob):
    assert inbox_language(browser(bob, "fr-FR,fr;q=0.9")) == "pt-br"
    org.language = "en"
    org.save(update_fields=["language"])
    assert inbox_language(browser(bob, "fr-FR,fr;q=0.9")) == "en"
    assert inbox_language(browser(bob)) == "en"


def test_the_header_choice_is_kept_on_the_profile_and_follows_the_person(org, bob):
    client = browser(bob, "pt-BR")
    response = client.post("/language/", {"language": "en", "next": "/inbox/"})
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    bob.refresh_from_db()
    assert bob.language == "en"
    # The cookie outlives the browser session (a year), and another browser, asking for
    # Portuguese, still gets the person's choice.
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME]["max-age"] == 365 * 24 * 3600
    assert inbox_language(browser(bob, "pt-BR,pt;q=0.9")) == "en"


def test_an_unknown_language_changes_nothing(org, bob):
    client = browser(bob)
    client.post("/language/", {"language": "xx", "next": "/inbox/"})
    bob.refresh_from_db()
    assert bob.language == ""


def test_choosing_on_the_login_page_lasts_beyond_the_session(client):
    response = client.post("/language/", {"language": "en", "next": "/login/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME]["max-age"] == 365 * 24 * 3600
    assert '<html lang="en">' in client.get("/login/").content.decode()


def test_preferences_choose_the_language_and_can_go_back_to_the_browsers(org, bob):
    client = browser(bob, "pt-BR")
    response = client.post("/preferences/", {"email_notifications": "on", "language": "en"})
    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.language == "en"
    page = client.get("/preferences/").content.decode()
    assert "Preferences saved." in page and '<html lang="en">' in page

    client.post("/preferences/", {"email_notifications": "on", "language": ""})
    bob.refresh_from_db()
    assert bob.language == ""
    assert inbox_language(browser(bob, "pt-BR")) == "pt-br"
    assert inbox_language(browser(bob, "en")) == "en"


def test_preferences_refuse_an_unknown_language(org, bob):
    response = browser(bob).post("/preferences/", {"email_notifications": "on",
                                                   "language": "xx"})
    assert response.status_code == 200
    bob.refresh_from_db()
    assert bob.language == ""


def test_new_lead_emails_speak_the_persons_language(org, make_team, new_lead):
    team = make_team(org, size=1)
    person = team.attendants[0]
    person.language = "en"
    person.save(update_fields=["language"])
    new_lead(org, team=team)
    assert notifications_send() == 1
    assert mail.outbox[-1].subject.startswith("New lead for you")
