"""The first steps of a new organization (issue 15, section 2): the checklist ticks itself, the
test lead goes through the organization's own intake, and nothing crosses organizations."""

import pytest
from django.test import Client

from audit.models import AuditEvent
from history.services import Actor
from leads.models import Lead
from leads.services import lead_mark_accessed
from sources.services import source_create
from teams.models import Membership
from teams.services.keys import api_key_create
from teams.services.teams import team_create

from .factories import (
    MembershipFactory,
    OrganizationFactory,
    TeamFactory,
    TeamMemberFactory,
    UserFactory,
)
from .helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def new_org(db):
    # English pages (the default language is pt-BR): the texts below are checked in English.
    return OrganizationFactory(name="Nova", slug="nova", first_steps_pending=True,
                               language="en")


@pytest.fixture
def owner(new_org):
    return MembershipFactory(organization=new_org, role=Membership.Role.OWNER,
                             user=UserFactory(username="olivia", first_name="Olivia"))


def _steps(client):
    response = client.get("/manage/start/")
    assert response.status_code == 200
    return {step.key: step.done for step in response.context["steps"]}


def test_a_new_organizations_owner_lands_on_the_checklist_and_sees_the_banner(new_org, owner):
    response = Client().post("/login/", {"username": "olivia", "password": "secret-pass"},
                             follow=True)
    assert response.redirect_chain[-1][0] == "/manage/start/"
    assert _steps(client_for(owner)) == {"team": False, "people": False, "source": False,
                                         "test_lead": False, "opened": False}
    page = client_for(owner).get("/manage/teams/").content.decode()
    assert 'id="first-steps-banner"' in page
    assert "0 of 5 done" in page
    new_org.language = "pt-br"
    new_org.save()
    page = client_for(owner).get("/manage/start/").content.decode()
    assert "Primeiros passos" in page and "o mínimo é 10 minutos" in page


def test_organizations_past_their_first_steps_land_on_the_dashboard(alice, org):
    response = Client().post("/login/", {"username": "alice", "password": "secret-pass"},
                             follow=True)
    assert response.redirect_chain[-1][0] == "/manage/"
    assert 'id="first-steps-banner"' not in client_for(alice).get("/manage/").content.decode()


def test_each_step_ticks_itself_and_the_checklist_goes_away_when_done(
    new_org, owner, make_team, django_capture_on_commit_callbacks
):
    client = client_for(owner)
    team = make_team(new_org, size=0, slug="sales", policy=False)
    new_org.default_team = team
    new_org.save()
    assert _steps(client)["team"] is False  # no overflow policy yet
    page = client.get("/manage/start/").content.decode()
    assert f"/manage/teams/{team.pk}/overflow/" in page
    assert "minimum is 10 minutes" in page
    team.delete()
    team = make_team(new_org, size=0, slug="sales", service_minutes=10)
    new_org.default_team = team
    new_org.save()
    assert _steps(client)["team"] is True

    bea = MembershipFactory(organization=new_org, user=UserFactory(username="bea"))
    TeamMemberFactory(team=team, membership=bea)
    assert _steps(client)["people"] is True

    source = source_create(organization=new_org, name="Landing page")
    assert _steps(client)["source"] is True  # an intake URL counts as a way in
    source.delete()
    assert _steps(client)["source"] is False
    api_key_create(organization=new_org, name="site")
    assert _steps(client)["source"] is True

    response = client.post("/manage/start/test-lead/")
    assert response.status_code == 302
    lead = Lead.objects.for_org(new_org).get()
    assert response["Location"] == f"/manage/start/?lead={lead.pk}#test-lead"
    steps = _steps(client)
    assert steps["test_lead"] is True and steps["opened"] is False
    assert client_for(owner).get("/").url == "/manage/start/"  # still landing on it

    # The attendant opens it from the inbox: the last step; the checklist is done.
    assert client_for(bea).get(f"/leads/{lead.pk}/").status_code == 200
    assert _steps(client)["opened"] is True
    new_org.refresh_from_db()
    assert new_org.first_steps_pending is False
    assert client.get("/").url == "/manage/"
    assert 'id="first-steps-banner"' not in client.get("/manage/teams/").content.decode()


def test_the_test_lead_is_routed_like_a_real_one_and_the_page_shows_where_it_went(
    new_org, owner, make_team
):
    team = make_team(new_org, size=2, slug="sales", service_minutes=15)
    new_org.default_team = team
    new_org.save()
    client = client_for(owner)
    response = client.post("/manage/start/test-lead/", follow=True)
    lead = Lead.objects.for_org(new_org).get()
    assert lead.source == Lead.Source.API
    assert lead.custom["test"] is True
    assert lead.team == team and lead.assignee == team.attendants[0]
    assert lead.overflow_active  # overflow armed as for any lead posted with a key
    page = response.content.decode()
    assert 'id="test-lead-result"' in page
    assert team.name in page and team.attendants[0].display_name in page


def test_the_first_team_made_in_the_pages_becomes_the_default_team(new_org, owner, other_org):
    """Found by the first-day browser test: a team made from the checklist received no test
    lead (no default team, and nothing on the checklist says to choose one)."""
    client = client_for(owner)
    response = client.post("/manage/teams/new/", {"name": "Sales", "strategy": "round_robin"})
    assert response.status_code == 302
    new_org.refresh_from_db()
    first = new_org.default_team
    assert first is not None and first.name == "Sales"
    event = AuditEvent.objects.filter(organization=new_org, area="team").latest("id")
    assert event.changes["default_team"] == {"from": None, "to": "Sales"}

    # A second team leaves the default alone, as does a team made where there are others.
    client.post("/manage/teams/new/", {"name": "Support", "strategy": "round_robin"})
    new_org.refresh_from_db()
    assert new_org.default_team == first
    TeamFactory(organization=other_org, name="Old")
    team_create(organization=other_org, name="New", slug="new")
    other_org.refresh_from_db()
    assert other_org.default_team is None  # several teams and no default: their choice
    assert other_org.teams.count() == 2


def test_a_test_lead_without_a_team_says_what_to_do(new_org, owner):
    response = client_for(owner).post("/manage/start/test-lead/", follow=True)
    assert "create a team, or choose a default team" in response.content.decode()


def test_first_steps_are_per_organization(new_org, owner, org, alice, make_team, new_lead):
    """Another organization's teams, people, keys and leads tick nothing here; its leads
    cannot be shown on this page; attendants cannot open it."""
    team = make_team(org, size=2)
    lead = new_lead(org, team=team)
    lead_mark_accessed(organization=org, lead_id=lead.pk, membership=lead.assignee,
                       actor=Actor.system())
    api_key_create(organization=org, name="theirs")
    assert _steps(client_for(owner)) == {"team": False, "people": False, "source": False,
                                         "test_lead": False, "opened": False}
    assert client_for(owner).get(f"/manage/start/?lead={lead.pk}").status_code == 404
    assert client_for(owner).get("/manage/start/?lead=x").status_code == 404
    client_for(owner).post("/manage/start/test-lead/")
    assert Lead.objects.for_org(org).count() == 1
    attendant = MembershipFactory(organization=new_org)
    assert client_for(attendant).get("/manage/start/").status_code == 403
    assert client_for(attendant).post("/manage/start/test-lead/").status_code == 403
    assert client_for(attendant).get("/").url == "/inbox/"


def test_a_manager_can_hide_the_first_steps(new_org, owner):
    client = client_for(owner)
    assert client.post("/manage/start/hide/").status_code == 302
    new_org.refresh_from_db()
    assert not new_org.first_steps_pending
    assert client.get("/").url == "/manage/"
    assert client.get("/manage/start/").status_code == 200  # still reachable


def test_an_empty_inbox_says_what_to_do_next(new_org, owner, make_team, new_lead):
    attendant = MembershipFactory(organization=new_org)
    page = client_for(owner).get("/inbox/").content.decode()
    assert 'id="no-leads-yet"' in page and "/manage/start/#test-lead" in page
    page = client_for(attendant).get("/inbox/?tab=mine").content.decode()
    assert 'id="no-leads-yet"' in page and "/manage/start/" not in page
    new_lead(new_org, team=make_team(new_org, size=1))
    page = client_for(attendant).get("/inbox/").content.decode()
    assert 'id="no-leads-yet"' not in page  # leads exist, just none here


def test_an_empty_team_list_says_to_create_the_first_team(new_org, owner):
    page = client_for(owner).get("/manage/teams/").content.decode()
    assert "No teams yet." in page and 'href="/manage/teams/new/"' in page
