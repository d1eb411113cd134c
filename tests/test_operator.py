"""The operator's side (issue 15, section 4): suspension, deletion and per-organization limits.

Suspension blocks keys, logins and the sweep for that organization only; nothing is deleted.
"""

from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from leads.models import Lead
from leads.sweep import overflow_sweep
from teams.authentication import OrganizationSuspended, ensure_not_suspended
from teams.models import Membership, Organization
from teams.services.organization import organization_reactivate, organization_suspend

from .factories import UserFactory
from .helpers import client_for

pytestmark = pytest.mark.django_db
MONDAY_10 = datetime(2026, 11, 23, 10, tzinfo=ZoneInfo("America/Sao_Paulo"))


def en(client):
    """Pages in English (the organization's language, pt-BR, is the default)."""
    client.cookies["django_language"] = "en"
    return client


def _suspend(org):
    assert organization_suspend(organization=org, reason="unpaid")
    org.refresh_from_db()


# --- API keys ---------------------------------------------------------------------------------

def test_a_suspended_organizations_keys_answer_403_saying_so_and_others_keep_working(
    org, api, outsider_api
):
    assert api.get("/api/v1/leads").status_code == 200
    _suspend(org)
    response = api.get("/api/v1/leads", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert response.json()["code"] == "organization_suspended"
    assert "suspended" in response.json()["detail"]
    assert api.post("/api/v1/leads", {"name": "x", "email": "x@example.com"},
                    format="json").status_code == 403
    assert outsider_api.get("/api/v1/leads").status_code == 200
    assert not Lead.objects.filter(organization=org).exists()

    organization_reactivate(organization=org)
    assert api.get("/api/v1/leads").status_code == 200


def test_ensure_not_suspended_is_the_one_check_for_other_intake_paths(org, other_org):
    ensure_not_suspended(org)
    _suspend(org)
    with pytest.raises(OrganizationSuspended):
        ensure_not_suspended(org)
    ensure_not_suspended(other_org)


# --- Logins -----------------------------------------------------------------------------------

def _login(username):
    client = en(Client())
    response = client.post(reverse("login"), {"username": username, "password": "secret-pass"})
    return client, response


def test_people_of_a_suspended_organization_cannot_log_in_and_see_why(org, alice, bob, charlie):
    _suspend(org)
    for person in ("alice", "bob"):
        _client, response = _login(person)
        assert response.status_code == 200  # the form again, with the reason
        assert "suspended" in response.content.decode()
        assert "_auth_user_id" not in _client.session
    client, response = _login("charlie")  # another organization signs in as ever
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_a_wrong_password_says_nothing_of_the_suspension(org, bob):
    _suspend(org)
    response = en(Client()).post(reverse("login"), {"username": "bob", "password": "wrong"})
    assert "suspended" not in response.content.decode()


def test_someone_signed_in_when_the_suspension_comes_is_signed_out_with_the_reason(
    org, bob, charlie
):
    client = en(client_for(bob))
    assert client.get(reverse("inbox")).status_code == 200
    _suspend(org)
    response = client.get(reverse("inbox"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?suspended=1"
    page = client.get(response["Location"])
    assert "suspended" in page.content.decode()
    client.cookies["django_language"] = "pt-br"
    assert "Sua organização está suspensa" in client.get(response["Location"]).content.decode()
    assert client.get(reverse("inbox")).status_code == 302  # signed out
    assert client_for(charlie).get(reverse("inbox")).status_code == 200


def test_a_person_of_two_organizations_keeps_the_active_one(org, other_org, bob):
    Membership.objects.create(organization=other_org, user=bob.user)
    _suspend(org)
    client, response = _login("bob")
    assert response.status_code == 302
    page = client.get(reverse("inbox"))
    assert page.status_code == 200
    assert page.wsgi_request.organization == other_org


# --- The sweep --------------------------------------------------------------------------------

def test_the_sweep_passes_a_suspended_organization_by_and_resumes_with_the_time_back(
    org, other_org, make_team, new_lead
):
    ours = new_lead(org, team=make_team(org, size=2), now=MONDAY_10)
    theirs = new_lead(other_org, team=make_team(other_org, size=2), now=MONDAY_10)
    due = ours.overflow_due_at
    with time_machine.travel(MONDAY_10 + timedelta(minutes=2), tick=False):
        _suspend(org)
    later = MONDAY_10 + timedelta(minutes=11)
    assert overflow_sweep(now=later) == 1
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert (ours.transfer_count, theirs.transfer_count) == (0, 1)
    assert ours.overflow_active and ours.overflow_due_at == due  # paused: nothing changed

    # Suspended for an hour: the lead gets that hour back, not passed on at once.
    with time_machine.travel(MONDAY_10 + timedelta(hours=1, minutes=2), tick=False):
        organization_reactivate(organization=org)
    ours.refresh_from_db()
    assert ours.overflow_due_at == due + timedelta(hours=1)
    overflow_sweep(now=MONDAY_10 + timedelta(hours=1, minutes=9))
    ours.refresh_from_db()
    assert ours.transfer_count == 0
    overflow_sweep(now=MONDAY_10 + timedelta(hours=1, minutes=10))
    ours.refresh_from_db()
    assert ours.transfer_count == 1


# --- Commands, audit, deletion ----------------------------------------------------------------

def test_suspend_and_reactivate_commands_are_audited(org):
    out = StringIO()
    call_command("suspend_org", "acme", "--reason", "unpaid", stdout=out)
    org.refresh_from_db()
    assert org.is_suspended and org.suspended_reason == "unpaid"
    call_command("suspend_org", "acme", stdout=out)
    assert "already" in out.getvalue()
    call_command("reactivate_org", "acme", stdout=out)
    org.refresh_from_db()
    assert not org.is_suspended
    actions = list(AuditEvent.objects.for_org(org).order_by("id")
                   .values_list("area", "action", "actor_kind"))
    assert actions == [("organization", "suspended", "system"),
                       ("organization", "reactivated", "system")]
    with pytest.raises(CommandError):
        call_command("suspend_org", "nope")


@pytest.fixture
def media(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path)}}}
    return tmp_path


def test_delete_org_needs_confirm_then_exports_and_deletes_only_that_organization(
    org, other_org, alice, bob, charlie, make_team, new_lead, media
):
    team = make_team(org, size=2)
    lead = new_lead(org, team=team, now=MONDAY_10)
    lead_create_other = new_lead(other_org, team=make_team(other_org, size=1), now=MONDAY_10)
    with pytest.raises(CommandError, match="--confirm"):
        call_command("delete_org", "acme")
    assert Organization.objects.filter(pk=org.pk).exists()

    out = StringIO()
    call_command("delete_org", "acme", "--confirm", stdout=out)
    assert not Organization.objects.filter(pk=org.pk).exists()
    assert not Lead.objects.filter(pk=lead.pk).exists()
    assert not Membership.objects.filter(organization_id=org.pk).exists()
    assert UserFactory._meta.model.objects.filter(username="bob").exists()  # people stay
    exported = [line for line in out.getvalue().splitlines() if line.startswith("exported")]
    name = exported[0].split()[2]
    assert name.startswith("deleted-organizations/acme-")
    assert default_storage.exists(name)
    assert Lead.objects.filter(pk=lead_create_other.pk).exists()
    assert Membership.objects.filter(pk=charlie.pk).exists()


# --- Django's admin ---------------------------------------------------------------------------

@pytest.fixture
def operator_client(db):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


def test_admin_actions_suspend_and_reactivate(org, other_org, operator_client):
    url = reverse("admin:teams_organization_changelist")
    response = operator_client.post(url, {"action": "suspend", "_selected_action": [org.pk]})
    assert response.status_code == 302
    org.refresh_from_db()
    other_org.refresh_from_db()
    assert org.is_suspended and not other_org.is_suspended
    event = AuditEvent.objects.for_org(org).get(action="suspended")
    assert event.actor_user.username == "root"
    operator_client.post(url, {"action": "reactivate", "_selected_action": [org.pk]})
    org.refresh_from_db()
    assert not org.is_suspended


def test_admin_delete_exports_first(org, alice, other_org, operator_client, media):
    url = reverse("admin:teams_organization_delete", args=[org.pk])
    page = operator_client.get(url)  # Django's confirmation page, with counts, not every row
    assert page.status_code == 200
    assert sorted(dict(page.context["model_count"]).values()) == [0, 0, 1]  # alice, no leads
    response = operator_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Organization.objects.filter(pk=org.pk).exists()
    assert Organization.objects.filter(pk=other_org.pk).exists()
    assert [p.name for p in (media / "deleted-organizations").iterdir()][0].startswith("acme-")


# --- Limits -----------------------------------------------------------------------------------

def test_org_limits_command_sets_shows_and_clears_limits_and_is_audited(org):
    out = StringIO()
    call_command("org_limits", "acme", "--max-attendants", "3", "--leads-per-month", "100",
                 stdout=out)
    org.refresh_from_db()
    assert (org.max_attendants, org.leads_per_month) == (3, 100)
    call_command("org_limits", "acme", "--leads-per-month", "none", stdout=out)
    org.refresh_from_db()
    assert (org.max_attendants, org.leads_per_month) == (3, None)
    assert "leads per month no limit" in out.getvalue().splitlines()[-1]
    with pytest.raises(CommandError):
        call_command("org_limits", "acme", "--max-attendants", "0")
    with pytest.raises(CommandError):
        call_command("org_limits", "acme", "--max-attendants", "lots")
    changes = [e.changes for e in AuditEvent.objects.for_org(org).filter(action="changed")
               .order_by("id")]
    assert changes[0] == {"max_attendants": {"from": None, "to": 3},
                          "leads_per_month": {"from": None, "to": 100}}
    assert changes[1] == {"leads_per_month": {"from": 100, "to": None}}


def _person_form(username="erin"):
    return {"username": username, "first_name": "Erin", "role": "attendant",
            "can_see_all": "org", "password": "a-long-passphrase-42"}


def test_adding_a_person_over_the_limit_is_refused_with_a_clear_message(
    org, alice, bob, other_org, charlie
):
    org.max_attendants = 2
    org.save()
    client = en(client_for(alice))
    response = client.post("/manage/people/new/", _person_form())
    assert response.status_code == 200
    assert "limit of 2 active people" in " ".join(response.context["form"].non_field_errors())
    assert not Membership.objects.filter(user__username="erin").exists()
    # Another organization has no such limit.
    assert client_for(charlie).post("/manage/people/new/", _person_form("fred")).status_code == 302

    # A seat freed by deactivating someone can be taken; reactivating over the limit cannot.
    client.post(f"/manage/people/{bob.pk}/active/", {"is_active": "0"})
    assert client.post("/manage/people/new/", _person_form()).status_code == 302
    response = client.post(f"/manage/people/{bob.pk}/active/", {"is_active": "1"}, follow=True)
    assert "limit of 2 active people" in response.content.decode()
    bob.refresh_from_db()
    assert not bob.is_active


def test_the_owner_sees_the_limits_on_the_settings_page(org, alice, bob, new_lead):
    page = client_for(alice).get("/manage/settings/").content.decode()
    assert 'id="limits"' not in page
    org.max_attendants, org.leads_per_month = 5, 10
    org.save()
    new_lead(org)
    page = en(client_for(alice)).get("/manage/settings/").content.decode()
    assert "Active people: 2 of 5." in page
    assert "Leads this month: 1 of 10." in page


def test_leads_over_the_monthly_limit_are_kept_and_the_owners_told_once(
    org, alice, bob, other_org, charlie, make_team, new_lead, mailoutbox, api,
    django_capture_on_commit_callbacks
):
    owner = alice
    owner.role = Membership.Role.OWNER
    owner.save()
    org.leads_per_month = 2
    org.save()
    team = make_team(org, size=1)
    for _ in range(2):
        new_lead(org, team=team)
    assert mailoutbox == []
    assert 'id="lead-limit-banner"' in client_for(alice).get("/inbox/").content.decode()

    for _ in range(3):  # over the limit: stored, routed, visible
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post("/api/v1/leads", {"name": "Over", "email": "over@example.com",
                                                  "team": team.slug}, format="json")
        assert response.status_code == 201, response.json()
    assert Lead.objects.for_org(org).count() == 5
    assert Lead.objects.for_org(org).filter(assignee__isnull=False).count() == 5
    assert len(mailoutbox) == 1  # once a month
    assert mailoutbox[0].to == [alice.user.email]
    assert "limit" in mailoutbox[0].body
    assert api.get("/api/v1/leads").json()["count"] == 5
    # Attendants see no banner; another organization is untouched.
    assert 'id="lead-limit-banner"' not in client_for(bob).get("/inbox/").content.decode()
    assert 'id="lead-limit-banner"' not in client_for(charlie).get("/inbox/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        new_lead(other_org)
    assert len(mailoutbox) == 1
