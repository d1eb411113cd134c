"""A person in several organizations switches between them in the header; the choice is kept
in the session and every page shows only the chosen organization's data."""

import pytest

from leads.models import Lead

from .factories import MembershipFactory
from .helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def both(org, charlie):
    """Charlie, manager of Globex, is also a manager of Acme (joined later)."""
    return MembershipFactory(organization=org, user=charlie.user, role="manager")


def switch(client, membership):
    return client.post("/organization/switch/", {"membership": membership.pk})


def test_the_header_offers_the_switch_only_to_people_in_several_organizations(
        alice, charlie, both):
    page = client_for(charlie).get("/inbox/").content.decode()
    assert 'id="organization-switch"' in page
    assert ">Acme</option>" in page and ">Globex</option>" in page
    assert 'id="organization-switch"' not in client_for(alice).get("/inbox/").content.decode()


def test_a_person_in_two_organizations_sees_each_ones_leads_only_when_it_is_selected(
        org, other_org, charlie, both, new_lead):
    acme_lead = new_lead(org, name="Acme customer")
    globex_lead = new_lead(other_org, name="Globex customer")
    client = client_for(charlie)

    assert switch(client, charlie).status_code == 302
    inbox = client.get("/inbox/?tab=all").content.decode()
    assert "Globex customer" in inbox and "Acme customer" not in inbox
    assert client.get(f"/leads/{globex_lead.pk}/").status_code == 200
    assert client.get(f"/leads/{acme_lead.pk}/").status_code == 404
    assert client.get("/manage/").context["request"].organization == other_org

    response = switch(client, both)
    assert response.status_code == 302 and response["Location"] == "/"
    inbox = client.get("/inbox/?tab=all").content.decode()
    assert "Acme customer" in inbox and "Globex customer" not in inbox
    assert client.get(f"/leads/{acme_lead.pk}/").status_code == 200
    assert client.get(f"/leads/{globex_lead.pk}/").status_code == 404
    assert client.post(f"/leads/{globex_lead.pk}/conclude/").status_code == 404
    globex_lead.refresh_from_db()
    assert globex_lead.status == Lead.Status.OPEN
    assert client.get("/manage/people/").context["request"].organization == org


def test_the_choice_is_kept_in_the_session(org, other_org, charlie, both):
    client = client_for(charlie)
    switch(client, both)
    for _ in range(3):
        assert client.get("/inbox/").context["request"].organization == org
    switch(client, charlie)
    assert client.get("/inbox/").context["request"].organization == other_org


def test_nobody_switches_into_an_organization_they_do_not_belong_to(alice, charlie, bob):
    client = client_for(charlie)
    assert switch(client, alice).status_code == 404
    assert client.get("/inbox/").context["request"].organization == charlie.organization


def test_a_deactivated_place_cannot_be_chosen(org, charlie, both):
    both.is_active = False
    both.save()
    client = client_for(charlie)
    assert switch(client, both).status_code == 404
    assert client.get("/inbox/").context["request"].organization == charlie.organization


def test_the_api_answers_for_its_keys_organization_whoever_switches(
        org, other_org, api, outsider_api, new_lead):
    acme_lead = new_lead(org, name="Acme customer")
    globex_lead = new_lead(other_org, name="Globex customer")

    acme = [lead["id"] for lead in api.get("/api/v1/leads").json()["results"]]
    globex = [lead["id"] for lead in outsider_api.get("/api/v1/leads").json()["results"]]

    assert acme == [acme_lead.pk] and globex == [globex_lead.pk]
    assert api.get(f"/api/v1/leads/{globex_lead.pk}").status_code == 404
