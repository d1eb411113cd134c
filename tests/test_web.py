"""The web pages: login, the attendant's inbox and lead page, /manage/ and /admin/."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone, translation
from django.utils.html import escape

from history.models import LeadEvent
from leads.models import Lead
from leads.sweep import overflow_sweep
from overflow import rules
from overflow.models import OverflowPolicy
from teams.models import Team

from .factories import TeamFactory, TeamMemberFactory, UserFactory
from .helpers import client_for

PASSWORD = "secret-pass"


def lead_page(lead):
    return f"/leads/{lead.pk}/"



def events_of(lead, type_=None):
    events = LeadEvent.objects.filter(lead=lead)
    return events.filter(type=type_) if type_ else events


def message_in_request_language(error) -> str:
    """The text a page shows for ``error``, in the language a request without preferences gets."""
    with translation.override(settings.LANGUAGE_CODE):
        return escape(str(error.messages[0]))



@pytest.fixture
def sales(org, bob, dave, make_team):
    """Bob first and Dave second in rotation, 10-minute overflow, open around the clock."""
    team = make_team(org, size=0, slug="sales")
    TeamMemberFactory(team=team, membership=bob, order=0)
    TeamMemberFactory(team=team, membership=dave, order=1)
    team.attendants = [bob, dave]
    return team


@pytest.fixture
def bobs_lead(org, sales, new_lead):
    lead = new_lead(org, team=sales, name="Maria Bobs", email="maria@example.com",
                    phone="+55 11 91234-5678")
    assert lead.assignee_id == sales.attendants[0].pk
    return lead


@pytest.fixture
def daves_lead(org, sales, bobs_lead, new_lead):
    lead = new_lead(org, team=sales, name="Joana Daves", email="joana@example.com")
    assert lead.assignee_id == sales.attendants[1].pk
    return lead


@pytest.fixture
def other_team(other_org):
    return TeamFactory(organization=other_org, name="Globex Hidden Squad", slug="hidden")


# --- login ---------------------------------------------------------------------------------


def test_login_page_renders(db):
    response = Client().get("/login/")

    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'name="password"' in response.content


def test_login_with_password_leads_to_the_inbox(bob):
    client = Client()

    response = client.post("/login/", {"username": "bob", "password": PASSWORD}, follow=True)

    assert response.redirect_chain[-1] == ("/inbox/", 302)
    assert response.status_code == 200


def test_login_with_a_wrong_password_is_refused(bob):
    client = Client()

    response = client.post("/login/", {"username": "bob", "password": "wrong"})

    assert response.status_code == 200
    assert client.get("/inbox/").status_code == 302


@pytest.mark.parametrize("path", ["/inbox/", "/leads/{id}/", "/"])
def test_anonymous_visitors_are_sent_to_login(bobs_lead, path):
    response = Client().get(path.format(id=bobs_lead.pk))

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert not events_of(bobs_lead, LeadEvent.Type.ACCESSED).exists()


# --- inbox ---------------------------------------------------------------------------------


def test_inbox_shows_my_open_leads_and_not_my_colleagues(bob, bobs_lead, daves_lead):
    response = client_for(bob).get("/inbox/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Maria Bobs" in page
    assert lead_page(bobs_lead) in page
    assert "Joana Daves" not in page
    assert lead_page(daves_lead) not in page


def test_inbox_leaves_out_my_concluded_leads(bob, bobs_lead):
    Lead.objects.filter(pk=bobs_lead.pk).update(status=Lead.Status.CONCLUDED)

    response = client_for(bob).get("/inbox/")

    assert response.status_code == 200
    assert lead_page(bobs_lead) not in response.content.decode()


def test_inbox_never_shows_another_organizations_leads(charlie, other_org, make_team, new_lead,
                                                       bobs_lead):
    response = client_for(charlie).get("/inbox/")

    assert response.status_code == 200
    assert "Maria Bobs" not in response.content.decode()


def test_user_without_membership_is_refused_the_inbox(db, bobs_lead):
    loner = UserFactory(username="loner")
    client = Client()
    client.force_login(loner)

    assert client.get("/inbox/").status_code == 403
    assert client.get(lead_page(bobs_lead)).status_code == 403
    assert not events_of(bobs_lead, LeadEvent.Type.ACCESSED).exists()


# --- the lead page -------------------------------------------------------------------------


def test_lead_page_shows_contact_data_and_the_whole_history(org, bob, dave, sales, new_lead):
    start = timezone.now() - timedelta(minutes=15)
    lead = new_lead(org, team=sales, now=start, name="Rita Hist", email="rita@example.com",
                    phone="+55 21 98888-7777", custom={"plano": "ouro"})
    lead = new_lead(org, team=sales, now=start, name="Paulo Hist", email="paulo@example.com",
                    phone="+55 21 97777-6666", custom={"plano": "ouro"})
    assert lead.assignee_id == dave.pk
    assert overflow_sweep(now=start + timedelta(minutes=10)) == 2
    lead.refresh_from_db()
    assert lead.assignee_id == bob.pk

    response = client_for(bob).get(lead_page(lead))

    assert response.status_code == 200
    page = response.content.decode()
    assert "paulo@example.com" in page
    assert "+55 21 97777-6666" in page
    assert "ouro" in page
    assert "Dave Day" in page  # the earlier holder, in the history
    for event_type in ("created", "assigned", "overflowed", "accessed", "overflow_stopped"):
        assert f'data-event-type="{event_type}"' in page, event_type
    assert page.count("data-event-type=") == events_of(lead).count() == 5


def test_assignee_opening_the_lead_records_one_access_and_stops_overflow(bob, bobs_lead):
    assert bobs_lead.overflow_active is True
    client = client_for(bob)

    first = client.get(lead_page(bobs_lead))
    second = client.get(lead_page(bobs_lead))

    assert (first.status_code, second.status_code) == (200, 200)
    bobs_lead.refresh_from_db()
    assert bobs_lead.overflow_active is False
    assert bobs_lead.overflow_due_at is None
    assert bobs_lead.overflow_reason == Lead.OverflowReason.ACCESSED
    assert bobs_lead.first_accessed_at is not None
    accessed = events_of(bobs_lead, LeadEvent.Type.ACCESSED)
    assert accessed.count() == 1
    assert accessed.get().actor_user_id == bob.user_id
    assert events_of(bobs_lead, LeadEvent.Type.OVERFLOW_STOPPED).count() == 1


def test_accessed_lead_no_longer_overflows_in_the_sweep(bob, bobs_lead):
    client_for(bob).get(lead_page(bobs_lead))

    assert overflow_sweep(now=timezone.now() + timedelta(hours=1)) == 0
    bobs_lead.refresh_from_db()
    assert bobs_lead.assignee_id == bob.pk


def test_manager_opening_a_lead_records_nothing_and_overflow_goes_on(alice, bobs_lead):
    events_before = events_of(bobs_lead).count()

    response = client_for(alice).get(lead_page(bobs_lead))

    assert response.status_code == 200
    assert "maria@example.com" in response.content.decode()
    bobs_lead.refresh_from_db()
    assert bobs_lead.overflow_active is True
    assert bobs_lead.first_accessed_at is None
    assert events_of(bobs_lead).count() == events_before


def test_attendant_cannot_open_a_colleagues_lead(bob, daves_lead):
    events_before = events_of(daves_lead).count()

    response = client_for(bob).get(lead_page(daves_lead))

    assert response.status_code == 404
    assert "joana@example.com" not in response.content.decode()
    daves_lead.refresh_from_db()
    assert daves_lead.overflow_active is True
    assert events_of(daves_lead).count() == events_before


def test_attendant_may_open_a_colleagues_lead_when_the_organization_allows_it(
    org, bob, daves_lead
):
    org.attendants_see_all = True
    org.save(update_fields=["attendants_see_all"])
    events_before = events_of(daves_lead).count()

    response = client_for(bob).get(lead_page(daves_lead))

    assert response.status_code == 200
    assert "joana@example.com" in response.content.decode()
    daves_lead.refresh_from_db()
    assert daves_lead.overflow_active is True
    assert daves_lead.first_accessed_at is None
    assert events_of(daves_lead).count() == events_before


def test_outsider_cannot_open_another_organizations_lead(charlie, bobs_lead):
    response = client_for(charlie).get(lead_page(bobs_lead))

    assert response.status_code == 404
    assert "maria@example.com" not in response.content.decode()
    bobs_lead.refresh_from_db()
    assert bobs_lead.overflow_active is True


def test_unknown_lead_page_answers_404(bob, bobs_lead):
    assert client_for(bob).get("/leads/999999/").status_code == 404


# --- /manage/: the managers' own pages (the full suite is in test_manager_pages.py) ----------


def test_manager_sees_only_her_organizations_teams(alice, sales, other_team):
    response = client_for(alice).get("/manage/teams/")

    assert response.status_code == 200
    page = response.content.decode()
    assert sales.name in page
    assert other_team.name not in page


def test_manager_index_answers(alice, sales):
    response = client_for(alice).get("/manage/")

    assert response.status_code == 200
    assert 'href="/manage/teams/"' in response.content.decode()


@pytest.mark.parametrize("path", ["/manage/", "/manage/teams/", "/manage/teams/{id}/overflow/"])
def test_attendant_is_refused_the_management_pages(bob, sales, path):
    response = client_for(bob).get(path.format(id=sales.pk))

    assert response.status_code == 403


def test_outsider_manager_cannot_open_or_change_another_organizations_team(charlie, sales):
    client = client_for(charlie)

    page = client.get(f"/manage/teams/{sales.pk}/")
    changed = client.post(f"/manage/teams/{sales.pk}/edit/",
                          {"name": "Pwned", "slug": "pwned", "strategy": "round_robin"})

    assert page.status_code == 404
    assert sales.name not in page.content.decode()
    assert changed.status_code == 404
    sales.refresh_from_db()
    assert (sales.name, sales.slug) == ("Sales", "sales")


def test_outsider_manager_cannot_open_another_organizations_policy(charlie, sales):
    response = client_for(charlie).get(f"/manage/teams/{sales.pk}/overflow/")

    assert response.status_code == 404
    assert sales.name not in response.content.decode()


def policy_form(**fields):
    data = {"enabled": "on", "service_minutes": "10", "max_transfers": "", "further_teams": ""}
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def policy_page(team):
    return f"/manage/teams/{team.pk}/overflow/"


def test_manager_can_add_a_valid_overflow_policy(alice, org, make_team):
    team = make_team(org, size=2, slug="fresh", policy=None)

    response = client_for(alice).post(policy_page(team), policy_form(service_minutes="15"))

    assert response.status_code == 302, response.content.decode()[:2000]
    policy = OverflowPolicy.objects.get(team=team)
    assert (policy.enabled, policy.service_minutes) == (True, 15)


def test_policy_form_refuses_nine_minutes_and_saves_nothing(alice, org, make_team):
    team = make_team(org, size=2, slug="fresh", policy=None)

    response = client_for(alice).post(policy_page(team), policy_form(service_minutes="9"))

    assert response.status_code == 200
    form = response.context["form"]
    assert "service_minutes" in form.errors
    with pytest.raises(ValidationError) as refused:
        rules.validate_service_minutes(9)
    assert message_in_request_language(refused.value) in response.content.decode()
    assert not OverflowPolicy.objects.filter(team=team).exists()


def test_policy_form_refuses_enabling_with_fewer_than_two_active_attendants(
    alice, org, make_team
):
    team = make_team(org, size=1, slug="solo", policy=None)

    response = client_for(alice).post(policy_page(team), policy_form())

    assert response.status_code == 200
    expected = message_in_request_language(rules.too_few_attendants_error(1))
    assert expected in response.content.decode()
    assert not OverflowPolicy.objects.filter(team=team).exists()


def test_policy_form_lists_only_the_managers_teams(alice, org, sales, other_team):
    support = TeamFactory(organization=org, name="Support", slug="support")

    response = client_for(alice).get(policy_page(support))

    assert response.status_code == 200
    field = response.context["form"].fields["further_teams"]
    assert set(field.queryset) == set(Team.objects.filter(organization=org).exclude(pk=support.pk))
    page = response.content.decode()
    assert f'<option value="{sales.pk}"' in page
    assert other_team.name not in page
    assert f'<option value="{other_team.pk}"' not in page


@pytest.mark.parametrize("team_value", ["other-org", "999999", "abc"])
def test_policy_form_with_a_foreign_missing_or_unknown_team_shows_a_field_error(
    alice, org, make_team, other_team, team_value
):
    team = make_team(org, size=2, slug="fresh", policy=None)
    TeamMemberFactory(team=other_team)
    TeamMemberFactory(team=other_team)
    team_value = str(other_team.pk) if team_value == "other-org" else team_value

    response = client_for(alice).post(policy_page(team), policy_form(further_teams=team_value))

    assert response.status_code == 200
    assert "further_teams" in response.context["form"].errors
    assert not OverflowPolicy.objects.filter(team=team).exists()


def test_policy_page_of_another_organizations_team_is_404_and_saves_nothing(
    alice, other_team
):
    TeamMemberFactory(team=other_team)
    TeamMemberFactory(team=other_team)

    response = client_for(alice).post(policy_page(other_team), policy_form())

    assert response.status_code == 404
    assert not OverflowPolicy.objects.filter(team=other_team).exists()


def test_team_list_shows_only_the_managers_policies(alice, sales, other_team):
    OverflowPolicy.objects.create(team=other_team, enabled=False, service_minutes=10)

    response = client_for(alice).get("/manage/teams/")

    assert response.status_code == 200
    page = response.content.decode()
    assert policy_page(sales) in page
    assert policy_page(other_team) not in page
    assert other_team.name not in page


# --- /admin/: platform superusers only ---------------------------------------------------------


@pytest.mark.parametrize("path", ["/admin/", "/admin/teams/team/", "/admin/leads/lead/"])
def test_manager_who_is_not_staff_cannot_use_the_django_admin(alice, sales, path):
    response = client_for(alice).get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_superuser_can_use_the_django_admin(db, sales):
    root = get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    client = Client()
    client.force_login(root)

    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/teams/team/").status_code == 200
