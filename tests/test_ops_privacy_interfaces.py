"""The erasure and retention API and page: managers and API keys of the organization only."""

import pytest

from leads.erasure import ERASED
from leads.models import Lead
from ops.models import ErasureRecord, RetentionPolicy

from .helpers import client_for

EMAIL = "maria@example.com"


@pytest.fixture
def maria(org, make_team, new_lead):
    return new_lead(org, team=make_team(org, size=2), name="Maria", email=EMAIL)


def test_the_api_erases_by_email_and_lists_the_record_without_the_contact(api, maria):
    response = api.post("/api/v1/erasures", {"email": "  MARIA@example.com "}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["leads"] == 1
    maria.refresh_from_db()
    assert maria.name == ERASED
    listed = api.get("/api/v1/erasures").json()["results"]
    assert [r["id"] for r in listed] == [response.json()["id"]]
    assert EMAIL not in str(listed)
    record = ErasureRecord.objects.get()
    assert record.actor_api_key is not None and record.actor_user is None


@pytest.mark.parametrize("body", [{}, {"email": "", "phone": ""}])
def test_the_api_refuses_an_erasure_without_a_contact_naming_the_field(api, maria, body):
    response = api.post("/api/v1/erasures", body, format="json")

    assert response.status_code == 400
    assert "email" in response.json()
    assert not ErasureRecord.objects.exists()


def test_the_api_refuses_unknown_fields(api, maria):
    response = api.post("/api/v1/erasures", {"mail": EMAIL}, format="json")

    assert response.status_code == 400 and "mail" in response.json()
    maria.refresh_from_db()
    assert maria.name == "Maria"


def test_another_organizations_key_erases_nothing_here(outsider_api, maria):
    response = outsider_api.post("/api/v1/erasures", {"email": EMAIL}, format="json")

    assert response.status_code == 201 and response.json()["leads"] == 0
    maria.refresh_from_db()
    assert maria.name == "Maria"
    assert outsider_api.get("/api/v1/erasures").json()["results"][0]["leads"] == 0


def test_the_api_reads_and_sets_retention(api, outsider_api, org):
    assert api.get("/api/v1/retention").json() == {"concluded_lead_months": None}
    assert api.put("/api/v1/retention", {"concluded_lead_months": 0},
                   format="json").status_code == 400
    # A PUT says the whole setting: an empty body is a 400 naming the field, not a 500.
    empty = api.put("/api/v1/retention", {}, format="json")
    assert empty.status_code == 400 and "concluded_lead_months" in empty.json()
    response = api.put("/api/v1/retention", {"concluded_lead_months": 24}, format="json")

    assert response.status_code == 200
    assert RetentionPolicy.objects.get(organization=org).concluded_lead_months == 24
    assert outsider_api.get("/api/v1/retention").json() == {"concluded_lead_months": None}
    kept = api.put("/api/v1/retention", {"concluded_lead_months": None}, format="json")
    assert kept.status_code == 200
    assert RetentionPolicy.objects.get(organization=org).concluded_lead_months is None


def test_a_manager_erases_from_the_page(alice, maria):
    client = client_for(alice)

    refused = client.post("/manage/data/erasures/", {"email": EMAIL})  # not confirmed
    assert refused.status_code == 400
    assert Lead.objects.get(pk=maria.pk).name == "Maria"

    done = client.post("/manage/data/erasures/", {"email": EMAIL, "confirm": "on"})
    assert done.status_code == 302
    assert Lead.objects.get(pk=maria.pk).name == ERASED
    page = client.get("/manage/data/")
    assert page.status_code == 200
    assert b'id="erasures"' in page.content and EMAIL.encode() not in page.content


def test_a_manager_sets_retention_from_the_page(alice, org):
    client = client_for(alice)

    assert client.post("/manage/data/retention/",
                       {"concluded_lead_months": "500"}).status_code == 400
    assert client.post("/manage/data/retention/",
                       {"concluded_lead_months": "12"}).status_code == 302
    assert RetentionPolicy.objects.get(organization=org).concluded_lead_months == 12
    assert client.post("/manage/data/retention/",
                       {"concluded_lead_months": ""}).status_code == 302
    assert RetentionPolicy.objects.get(organization=org).concluded_lead_months is None


def test_attendants_and_outsiders_cannot_erase(bob, charlie, maria):
    assert client_for(bob).post("/manage/data/erasures/",
                                {"email": EMAIL, "confirm": "on"}).status_code == 403
    # Charlie manages another organization: his erasure cannot reach this one's leads.
    client_for(charlie).post("/manage/data/erasures/", {"email": EMAIL, "confirm": "on"})
    maria.refresh_from_db()
    assert maria.name == "Maria"
