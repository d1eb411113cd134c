"""Managers' side of lead sources: /api/v1/sources and the pages, the audit log, tenancy."""

import pytest
from django.test import Client
from django.utils import translation

from audit.models import AuditEvent
from leads.models import Lead
from sources.models import Source, SourceSubmission
from sources.services import source_create

from .helpers import client_for

API = "/api/v1/sources"


@pytest.fixture(autouse=True)
def english(org):
    org.language = "en"
    org.save()
    with translation.override("en"):
        yield


@pytest.fixture
def team(org, make_team):
    return make_team(org, size=2, slug="sales")


@pytest.fixture
def source(org, team):
    return source_create(organization=org, name="Landing page", team=team)


@pytest.fixture
def foreign_source(other_org):
    return source_create(organization=other_org, name="Theirs")


# --- API -------------------------------------------------------------------------------


def test_api_creates_a_source_and_shows_its_token_and_url(api, org, team):
    response = api.post(API, {"name": "Google", "kind": "google_ads", "team": "sales",
                              "google_key": "k-123"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    source = Source.objects.get(pk=body["id"])
    assert (source.organization, source.team, source.google_key) == (org, team, "k-123")
    assert body["token"] == source.token and len(source.token) >= 43
    assert body["intake_url"].endswith(f"/in/{source.token}")
    assert body["has_google_key"] is True and "google_key" not in body
    event = AuditEvent.objects.for_org(org).get(area="source", action="created")
    assert event.target_label == "Google"
    assert "k-123" not in str(event.changes)  # secrets never reach the audit log


def test_api_refuses_a_google_ads_source_without_its_key_naming_the_field(api):
    response = api.post(API, {"name": "Google", "kind": "google_ads"}, format="json")
    assert response.status_code == 400
    assert "google_key" in response.json()


def test_api_refuses_unknown_fields_and_teams(api):
    assert api.post(API, {"name": "X", "colour": "red"}, format="json").status_code == 400
    response = api.post(API, {"name": "X", "team": "nope"}, format="json")
    assert response.status_code == 400 and "team" in response.json()


def test_api_updates_and_audits_the_change(api, org, source):
    response = api.patch(f"{API}/{source.pk}", {"thank_you_url": "https://ex.com/ok",
                                                "allowed_origins": ["https://ex.com/"]},
                         format="json")
    assert response.status_code == 200, response.content
    source.refresh_from_db()
    assert source.thank_you_url == "https://ex.com/ok"
    assert source.allowed_origins == ["https://ex.com"]
    event = AuditEvent.objects.for_org(org).get(area="source", action="changed")
    assert set(event.changes) == {"thank_you_url", "allowed_origins"}


def test_api_refuses_origins_that_are_not_origins(api, source):
    response = api.patch(f"{API}/{source.pk}", {"allowed_origins": ["javascript:alert(1)"]},
                         format="json")
    assert response.status_code == 400 and "allowed_origins" in response.json()


def test_api_rotate_token_makes_the_old_url_404(api, org, source):
    old = source.token
    response = api.post(f"{API}/{source.pk}/rotate-token")
    assert response.status_code == 200
    assert response.json()["token"] != old
    assert Client().post(f"/in/{old}", {"email": "a@example.com"}).status_code == 404
    assert AuditEvent.objects.for_org(org).filter(area="source",
                                                  action="secret_rotated").exists()


def test_api_lists_the_submission_log(api, source):
    Client().post(f"/in/{source.token}", {"name": "no contact"})
    response = api.get(f"{API}/{source.pk}/submissions")
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert (row["outcome"], row["status_code"], row["payload"]) == (
        "refused", 400, {"name": "no contact"})


def test_api_deletes_a_source_and_keeps_its_leads(api, org, source):
    Client().post(f"/in/{source.token}", {"email": "a@example.com"})
    assert api.delete(f"{API}/{source.pk}").status_code == 204
    assert not Source.objects.filter(pk=source.pk).exists()
    assert Lead.objects.get().origin is None
    assert AuditEvent.objects.for_org(org).filter(area="source", action="deleted").exists()


def test_the_lead_api_shows_the_leads_origin(api, source):
    Client().post(f"/in/{source.token}", {"email": "a@example.com"})
    lead = Lead.objects.get()
    assert api.get(f"/api/v1/leads/{lead.pk}").json()["origin"] == source.pk


def test_a_foreign_source_is_404_in_the_api(api, foreign_source):
    for method, path in (("get", ""), ("patch", ""), ("delete", ""),
                         ("post", "/rotate-token"), ("get", "/submissions")):
        response = getattr(api, method)(f"{API}/{foreign_source.pk}{path}", {}, format="json")
        assert response.status_code == 404, (method, path)
    assert [s["id"] for s in api.get(API).json()["results"]] == []
    foreign_source.refresh_from_db()
    assert foreign_source.name == "Theirs"


# --- pages -----------------------------------------------------------------------------


def test_manager_creates_a_source_on_the_page_and_sees_its_url_and_snippet(alice, org, team):
    client = client_for(alice)
    assert client.get("/manage/sources/").status_code == 200
    response = client.post("/manage/sources/new/", {
        "name": "Landing page", "kind": "form", "team": team.pk, "is_active": "on",
        "lead_source": "api", "honeypot_field": "website",
        "allowed_origins": "https://www.example.com\n", "thank_you_url": "",
    })
    source = Source.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{source.pk}/")
    assert source.allowed_origins == ["https://www.example.com"]
    page = client.get(f"/manage/sources/{source.pk}/")
    assert page["Cache-Control"] == "no-store"
    text = page.content.decode()
    assert f"/in/{source.token}" in text
    assert "&lt;form method=&quot;post&quot;" in text or '&lt;form method="post"' in text
    assert 'name="website"' in text or "name=&quot;website&quot;" in text
    assert AuditEvent.objects.for_org(org).filter(area="source", action="created").exists()


def test_the_manager_navigation_links_the_sources(alice):
    assert b'href="/manage/sources/"' in client_for(alice).get("/manage/sources/").content


def test_manager_edits_rotates_and_reads_the_log_with_the_raw_payload(alice, source):
    client = client_for(alice)
    Client().post(f"/in/{source.token}", {"name": "no contact", "utm": "x"})
    old = source.token
    response = client.post(f"/manage/sources/{source.pk}/", {
        "name": "Landing", "kind": "form", "lead_source": "api", "is_active": "on",
    })
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.name == "Landing" and source.team is None
    client.post(f"/manage/sources/{source.pk}/token/")
    source.refresh_from_db()
    assert source.token != old
    log = client.get(f"/manage/sources/{source.pk}/log/")
    assert b"No e-mail and no phone" in log.content
    submission = SourceSubmission.objects.get()
    detail = client.get(f"/manage/sources/submissions/{submission.pk}/")
    assert b"no contact" in detail.content and b"utm" in detail.content


def test_the_page_shows_service_refusals_on_the_field(alice):
    response = client_for(alice).post("/manage/sources/new/", {
        "name": "T", "kind": "typeform", "lead_source": "api",
    })
    assert response.status_code == 200
    assert b"Typeform signs each lead" in response.content
    assert not Source.objects.exists()


def test_manager_deletes_a_source(alice, source):
    client = client_for(alice)
    assert client.get(f"/manage/sources/{source.pk}/delete/").status_code == 200
    assert client.post(f"/manage/sources/{source.pk}/delete/").status_code == 302
    assert not Source.objects.exists()


def test_attendants_cannot_open_the_source_pages(bob, source):
    client = client_for(bob)
    assert client.get("/manage/sources/").status_code == 403
    assert client.get(f"/manage/sources/{source.pk}/").status_code == 403


def test_a_foreign_source_is_404_on_every_page(alice, foreign_source):
    Client().post(f"/in/{foreign_source.token}", {"name": "x"})
    submission = SourceSubmission.objects.get()
    client = client_for(alice)
    pk = foreign_source.pk
    for path in (f"/manage/sources/{pk}/", f"/manage/sources/{pk}/log/",
                 f"/manage/sources/{pk}/delete/",
                 f"/manage/sources/submissions/{submission.pk}/"):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/manage/sources/{pk}/token/").status_code == 404
    assert client.post(f"/manage/sources/{pk}/delete/").status_code == 404
    foreign_source.refresh_from_db()
    assert Source.objects.filter(pk=pk).exists()
