"""Sign-up: a new organization and its owner, who confirms their address before the
organization receives leads; bots and account enumeration kept out. And ``create_org`` for
installations with sign-up closed."""

import io
import re

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import SignUp
from accounts.services.signup import slug_propose
from leads.models import Lead
from sources.services import source_create
from teams.models import Membership, Organization
from teams.services.keys import api_key_create

from .factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _open(settings):
    settings.SIGNUP_OPEN = True


def english() -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


FORM = {
    "organization_name": "Padaria Pão Quente", "slug": "", "time_zone": "America/Manaus",
    "language": "en", "first_name": "Rita", "email": "rita@example.com",
    "password1": "a-good-pass-123", "password2": "a-good-pass-123", "website": "",
}


def sign_up(client, django_capture_on_commit_callbacks, **changes):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/signup/", {**FORM, **changes})


def confirmation_path(message) -> str:
    url = re.search(r"https?://\S+/signup/confirm/\S+/", message.body).group(0)
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_sign_up_makes_the_organization_and_its_owner(django_capture_on_commit_callbacks):
    response = sign_up(english(), django_capture_on_commit_callbacks)

    assert response.status_code == 302 and response["Location"] == "/signup/sent/"
    organization = Organization.objects.get(slug="padaria-pao-quente")  # proposed from the name
    assert (organization.name, organization.time_zone, organization.language) == (
        "Padaria Pão Quente", "America/Manaus", "en")
    owner = Membership.objects.get(organization=organization)
    assert owner.role == Membership.Role.OWNER
    assert (owner.user.username, owner.user.email) == ("rita@example.com", "rita@example.com")
    assert owner.user.check_password("a-good-pass-123")
    [message] = mail.outbox
    assert message.to == ["rita@example.com"] and "/signup/confirm/" in message.body
    assert SignUp.objects.get(organization=organization).confirmed_at is None


def test_the_organization_receives_leads_once_the_owner_confirms(
        django_capture_on_commit_callbacks):
    sign_up(english(), django_capture_on_commit_callbacks)
    organization = Organization.objects.get()
    _key, raw = api_key_create(organization=organization, name="site")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")

    refused = api.post("/api/v1/leads", {"name": "Ana", "email": "ana@example.com"},
                       format="json")
    assert refused.status_code == 403
    assert "confirm" in refused.json()["detail"]
    assert refused.json()["code"] == "not_confirmed"
    handoff = api.post("/api/v1/handoffs", {"name": "Ana", "phone": "+5511999990000"},
                       format="json")
    assert handoff.status_code == 403
    source = source_create(organization=organization, name="Landing page")
    form = Client().post(f"/in/{source.token}", {"name": "Ana", "email": "ana@example.com"},
                         HTTP_ACCEPT="application/json")
    assert (form.status_code, form.json()["code"]) == (403, "not_confirmed")
    assert not Lead.objects.exists()

    confirmed = english().get(confirmation_path(mail.outbox[0]))
    assert confirmed.status_code == 302 and confirmed["Location"] == "/login/"
    accepted = api.post("/api/v1/leads", {"name": "Ana", "email": "ana@example.com"},
                        format="json")
    assert accepted.status_code == 201
    assert Client().post(f"/in/{source.token}", {"name": "Bia", "email": "bia@example.com"}
                         ).status_code == 201
    assert SignUp.objects.get().confirmed_at is not None


def test_a_made_up_confirmation_link_confirms_nothing(django_capture_on_commit_callbacks):
    sign_up(english(), django_capture_on_commit_callbacks)
    assert english().get("/signup/confirm/made-up/").status_code == 404
    assert SignUp.objects.get().confirmed_at is None


def test_organizations_made_otherwise_receive_leads(api):
    assert api.post("/api/v1/leads", {"name": "Ana", "email": "ana@example.com"},
                    format="json").status_code == 201


def test_sign_up_answers_the_same_for_an_address_with_an_account(
        django_capture_on_commit_callbacks):
    UserFactory(username="rita", email="rita@example.com")
    known = sign_up(english(), django_capture_on_commit_callbacks)
    fresh = sign_up(english(), django_capture_on_commit_callbacks,
                    email="new@example.com", organization_name="Other")

    assert (known.status_code, known["Location"]) == (fresh.status_code, fresh["Location"])
    assert list(Organization.objects.values_list("name", flat=True)) == ["Other"]
    told, confirm = mail.outbox
    assert told.to == ["rita@example.com"] and "has an account already" in told.body
    assert "/signup/confirm/" not in told.body
    assert confirm.to == ["new@example.com"]


def test_the_honeypot_makes_nothing_and_says_nothing(django_capture_on_commit_callbacks):
    response = sign_up(english(), django_capture_on_commit_callbacks,
                       website="http://spam.example.com")
    assert response.status_code == 302 and response["Location"] == "/signup/sent/"
    assert not Organization.objects.exists() and not mail.outbox


def test_sign_ups_are_limited_per_client_address(settings, django_capture_on_commit_callbacks):
    settings.SIGNUP_RATE = "2/1h"
    answers = [sign_up(english(), django_capture_on_commit_callbacks,
                       email=f"p{n}@example.com", organization_name=f"Org {n}").status_code
               for n in range(3)]
    assert answers == [302, 302, 429]
    assert Organization.objects.count() == 2


def test_a_taken_slug_or_a_weak_password_is_refused_by_field(django_capture_on_commit_callbacks):
    OrganizationFactory(slug="padaria")
    taken = sign_up(english(), django_capture_on_commit_callbacks, slug="padaria")
    assert taken.status_code == 400 and "This address name is taken" in taken.content.decode()
    weak = sign_up(english(), django_capture_on_commit_callbacks,
                   password1="123", password2="123")
    assert weak.status_code == 400 and "too short" in weak.content.decode()
    zone = sign_up(english(), django_capture_on_commit_callbacks, time_zone="Mars/Olympus")
    assert zone.status_code == 400
    assert Organization.objects.count() == 1 and not mail.outbox


def test_a_proposed_slug_avoids_the_taken_ones(db):
    OrganizationFactory(slug="acme")
    OrganizationFactory(slug="acme-2")
    assert slug_propose("ACME") == "acme-3"
    assert slug_propose("Café São João") == "cafe-sao-joao"


def test_sign_up_is_closed_unless_signup_open(settings):
    settings.SIGNUP_OPEN = False
    assert english().get("/signup/").status_code == 404
    assert english().post("/signup/", FORM).status_code == 404
    assert 'id="signup-link"' not in english().get("/login/").content.decode()
    settings.SIGNUP_OPEN = True
    assert 'id="signup-link"' in english().get("/login/").content.decode()


def test_the_sign_up_page_is_in_portuguese_by_default(db):
    page = Client().get("/signup/").content.decode()
    assert "Criar minha organização" in page


def test_create_org_prints_the_owners_invitation_link(
        settings, django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://transbordo.example.com"
    out, err = io.StringIO(), io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("create_org", "--name", "Acme Ltda", "--slug", "acme",
                     "--owner-email", "owner@example.com", stdout=out, stderr=err)

    link = out.getvalue().strip()
    assert re.fullmatch(r"https://transbordo\.example\.com/invitation/\S+/", link)
    [message] = mail.outbox
    assert link in message.body and message.to == ["owner@example.com"]
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    response = english().post(path, {"first_name": "Olga", "password1": "a-good-pass-123",
                                     "password2": "a-good-pass-123"})
    assert response.status_code == 302
    owner = Membership.objects.get(organization__slug="acme")
    assert owner.role == Membership.Role.OWNER and owner.user.email == "owner@example.com"


def test_create_org_refuses_a_taken_slug(org):
    with pytest.raises(CommandError, match="slug"):
        call_command("create_org", "--name", "X", "--slug", "acme",
                     "--owner-email", "o@example.com", stdout=io.StringIO())
    assert Organization.objects.count() == 1


def test_make_runs_outbox_shows_the_mails_links_and_only_under_debug(settings, tmp_path):
    from django.core.mail import get_connection, send_mail

    settings.EMAIL_OUTBOX_DIR = tmp_path
    connection = get_connection("accounts.outbox.OutboxBackend", stream=io.StringIO())
    send_mail("Your invitation", "Open https://example.com/invitation/abc/ now", None,
              ["nina@example.com"], connection=connection)

    settings.DEBUG = False
    assert english().get("/dev/outbox/").status_code == 404
    settings.DEBUG = True
    page = english().get("/dev/outbox/").content.decode()
    assert "Your invitation" in page and "nina@example.com" in page
    assert '<a href="https://example.com/invitation/abc/"' in page


def test_the_owner_is_told_until_confirmed_and_can_ask_for_the_link_again(
        django_capture_on_commit_callbacks):
    sign_up(english(), django_capture_on_commit_callbacks)
    owner = Membership.objects.get()
    client = english()
    client.force_login(owner.user)

    page = client.get("/inbox/").content.decode()
    assert 'id="awaiting-confirmation"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/signup/confirm/resend/")
    assert response.status_code == 302
    first, again = mail.outbox
    assert confirmation_path(first) != confirmation_path(again)
    assert english().get(confirmation_path(first)).status_code == 404  # replaced
    assert english().get(confirmation_path(again)).status_code == 302
    assert 'id="awaiting-confirmation"' not in client.get("/inbox/").content.decode()


def test_no_banner_for_organizations_that_receive_leads(alice):
    from .helpers import client_for

    assert 'id="awaiting-confirmation"' not in client_for(alice).get(
        "/inbox/").content.decode()
