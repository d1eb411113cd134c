"""Management commands: the demo data and API keys from the command line."""

import re
from datetime import UTC, datetime, time
from io import StringIO

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from leads.models import Lead
from overflow.models import OverflowPolicy
from teams.models import (
    ApiKey,
    BusinessHoursInterval,
    Membership,
    Organization,
    Team,
    TeamMember,
)

KEY_LINE = re.compile(r"API key \(shown once\): (\S+)")
DEMO_LOGINS = ["gerente", "ana", "bruno", "carla", "diego", "elisa", "fabio"]


def run(command, *args) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        "organizations": Organization.objects.count(),
        "teams": Team.objects.count(),
        "memberships": Membership.objects.count(),
        "users": get_user_model().objects.count(),
        "team_members": TeamMember.objects.count(),
        "hours": BusinessHoursInterval.objects.count(),
        "policies": OverflowPolicy.objects.count(),
    }


def client_with(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    return client


# --- seed_demo ------------------------------------------------------------------------------


def test_seed_demo_prints_the_login_address_of_this_site(db, settings):
    settings.SITE_URL = "http://127.0.0.1:8765/"  # make run on another PORT sets this

    assert "Log in at http://127.0.0.1:8765/login/ with password" in run("seed_demo", "--no-key")


def test_seed_demo_creates_the_demo_organization_and_teams(db):
    run("seed_demo")

    org = Organization.objects.get(slug="demo")
    assert org.time_zone == "America/Sao_Paulo"
    vendas = Team.objects.get(organization=org, slug="vendas")
    plantao = Team.objects.get(organization=org, slug="plantao")
    assert set(Team.objects.filter(organization=org)) == {vendas, plantao}
    assert org.default_team_id == plantao.pk

    assert vendas.business_hours_enabled is True
    hours = sorted(
        (h.weekday, h.start, h.end) for h in BusinessHoursInterval.objects.filter(team=vendas)
    )
    assert hours == [(day, time(8), time(18)) for day in range(5)]
    assert plantao.business_hours_enabled is False
    assert not BusinessHoursInterval.objects.filter(team=plantao).exists()

    for team in (vendas, plantao):
        members = TeamMember.objects.filter(team=team, is_active=True)
        assert members.count() == 3
        assert {m.membership.role for m in members} == {Membership.Role.ATTENDANT}
        assert {m.membership.organization_id for m in members} == {org.pk}
        policy = OverflowPolicy.objects.get(team=team)
        assert (policy.enabled, policy.service_minutes) == (True, 10)

    manager = Membership.objects.get(organization=org, user__username="gerente")
    assert manager.is_manager


def test_seed_demo_prints_the_logins_and_a_working_key(db):
    output = run("seed_demo")

    for username in DEMO_LOGINS:
        assert re.search(rf"^\s+{username}\s", output, re.MULTILINE), username
    assert "transbordo-demo" in output
    raw_key = KEY_LINE.search(output).group(1)
    key = ApiKey.objects.get(key_hash=ApiKey.hash(raw_key))
    assert key.organization.slug == "demo"

    response = client_with(raw_key).post("/api/v1/leads", {"email": "demo@example.com"},
                                         format="json")

    assert response.status_code == 201, response.content
    lead = Lead.objects.get(pk=response.json()["id"])
    assert lead.organization.slug == "demo"
    assert lead.team.slug == "plantao"
    assert lead.assignee is not None
    assert lead.overflow_active is True


def test_seed_demo_logins_work_with_the_printed_password(db):
    run("seed_demo", "--no-key")

    for username in DEMO_LOGINS:
        user = get_user_model().objects.get(username=username)
        assert user.check_password("transbordo-demo"), username


def test_seed_demo_twice_is_idempotent_and_leaves_one_valid_key(db):
    first = run("seed_demo")
    after_first = counts()
    keys_after_first = ApiKey.objects.count()

    second = run("seed_demo")

    assert counts() == after_first
    assert after_first["organizations"] == 1
    assert after_first["teams"] == 2
    assert after_first["team_members"] == 6
    assert after_first["memberships"] == 7
    assert after_first["hours"] == 5
    assert after_first["policies"] == 2
    assert ApiKey.objects.count() == keys_after_first + 1 == 2
    assert KEY_LINE.search(first).group(1) != KEY_LINE.search(second).group(1)
    # The earlier run's key is revoked: each run leaves one valid demo key.
    old, new = (ApiKey.objects.get(key_hash=ApiKey.hash(KEY_LINE.search(out).group(1)))
                for out in (first, second))
    assert old.revoked_at is not None and new.revoked_at is None


def test_seed_demo_names_its_key_in_the_organizations_time_and_credits_nobody(db):
    # 09:00 UTC is 06:00 in São Paulo, the demo organization's time zone.
    with time_machine.travel(datetime(2026, 11, 30, 9, 0, tzinfo=UTC), tick=False):
        output = run("seed_demo")

    key = ApiKey.objects.get(key_hash=ApiKey.hash(KEY_LINE.search(output).group(1)))
    assert key.name == "demo 2026-11-30 06:00"
    assert key.created_by is None


def test_seed_demo_with_no_key_creates_no_key(db):
    run("seed_demo", "--no-key")
    before = counts()

    output = run("seed_demo", "--no-key")

    assert counts() == before
    assert ApiKey.objects.count() == 0
    assert not KEY_LINE.search(output)


def test_seed_demo_leaves_other_organizations_alone(org, alice, make_team):
    team = make_team(org, size=2, slug="vendas")

    run("seed_demo", "--no-key")

    team.refresh_from_db()
    assert team.organization_id == org.pk
    assert TeamMember.objects.filter(team=team).count() == 2
    assert Membership.objects.filter(organization=org).count() == 3


# --- create_api_key ---------------------------------------------------------------------------


def test_create_api_key_prints_only_the_key_and_it_authenticates(org):
    output = run("create_api_key", "--org", "acme", "--name", "zapier")

    assert output.endswith("\n")
    raw_key = output.strip()
    assert "\n" not in raw_key and " " not in raw_key
    key = ApiKey.objects.get(key_hash=ApiKey.hash(raw_key))
    assert (key.organization_id, key.name) == (org.pk, "zapier")
    assert key.revoked_at is None
    assert raw_key.startswith(key.prefix)

    response = client_with(raw_key).get("/api/v1/leads")

    assert response.status_code == 200
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_create_api_key_for_unknown_organization_fails(db):
    with pytest.raises(CommandError):
        run("create_api_key", "--org", "nowhere", "--name", "x")
    assert ApiKey.objects.count() == 0


def test_create_api_key_requires_org_and_name(org):
    with pytest.raises(CommandError):
        run("create_api_key", "--org", "acme")
    with pytest.raises(CommandError):
        run("create_api_key", "--name", "x")
    assert ApiKey.objects.count() == 0


def test_seed_demo_makes_a_landing_page_source_whose_url_takes_a_form_post(db):
    from django.test import Client

    from sources.models import Source

    output = run("seed_demo", "--no-key")
    run("seed_demo", "--no-key")  # idempotent: still one
    source = Source.objects.get(organization__slug="demo")
    assert (source.name, source.kind, source.team.slug) == ("Landing page", "form", "vendas")
    assert f"/in/{source.token}" in output
    response = Client().post(f"/in/{source.token}", {"nome": "Visitante",
                                                     "email": "visita@example.com"})
    assert response.status_code == 201
    assert Lead.objects.get(origin=source).team.slug == "vendas"
