"""Invitations: managers invite by e-mail with a role and teams; the link is single use,
expires after seven days, can be resent or revoked, and lets the person choose a password or
join with the account they have."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import Invitation
from accounts.services import invitations
from audit.models import AuditEvent
from teams.models import Membership, TeamMember

from .factories import MembershipFactory, TeamFactory, UserFactory
from .helpers import client_for

pytestmark = pytest.mark.django_db


def english(client=None) -> Client:
    client = client or Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def sales(org):
    return TeamFactory(organization=org, name="Sales", slug="sales")


def invite(client, django_capture_on_commit_callbacks, **data):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/manage/people/invitations/", data)


def link_path(message) -> str:
    url = re.search(r"https?://\S+/invitation/\S+/", message.body).group(0)
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_a_manager_invites_by_email_with_a_role_and_teams(
        alice, sales, django_capture_on_commit_callbacks, settings):
    settings.SITE_URL = "https://transbordo.example.com"
    response = invite(english(client_for(alice)), django_capture_on_commit_callbacks,
                      email="Nina@Example.com", role="attendant", teams=[sales.pk])

    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, list(invitation.teams.all())) == (
        "Nina@example.com", "attendant", [sales])
    assert invitation.expires_at - invitation.sent_at == timedelta(days=7)
    [message] = mail.outbox
    assert message.to == ["Nina@example.com"]
    assert "https://transbordo.example.com/invitation/" in message.body
    assert "Acme" in message.subject
    assert invitation.token_hash not in message.body  # only the hash is stored
    event = AuditEvent.objects.get(area="person", action="created")
    assert event.changes["email"]["to"] == "Nina@example.com"


def test_the_invited_person_chooses_a_password_and_joins_the_teams(
        alice, sales, django_capture_on_commit_callbacks):
    invite(client_for(alice), django_capture_on_commit_callbacks,
           email="nina@example.com", role="attendant", teams=[sales.pk])
    path = link_path(mail.outbox[0])
    client = english()

    page = client.get(path)
    assert page.status_code == 200 and "Join Acme" in page.content.decode()
    response = client.post(path, {"first_name": "Nina", "last_name": "Silva",
                                  "password1": "a-good-pass-123", "password2": "a-good-pass-123"})

    assert response.status_code == 302 and response["Location"] == "/"
    membership = Membership.objects.get(user__email="nina@example.com")
    assert (membership.organization.slug, membership.role) == ("acme", "attendant")
    assert membership.user.check_password("a-good-pass-123")
    assert membership.user.username == "nina@example.com"  # signs in with the address
    assert TeamMember.objects.filter(team=sales, membership=membership).exists()
    assert client.get("/inbox/").status_code == 200  # signed in already
    assert Invitation.objects.get().accepted_by == membership.user


def test_an_invitation_link_works_once(alice, django_capture_on_commit_callbacks):
    invite(client_for(alice), django_capture_on_commit_callbacks,
           email="nina@example.com", role="attendant")
    path = link_path(mail.outbox[0])
    data = {"first_name": "Nina", "password1": "a-good-pass-123", "password2": "a-good-pass-123"}
    assert english().post(path, data).status_code == 302

    again = english().get(path)
    assert again.status_code == 410
    assert "used already" in again.content.decode()
    second = english().post(path, {**data, "first_name": "Mallory"})
    assert second.status_code == 410
    assert Membership.objects.filter(organization=alice.organization).count() == 2


def test_an_invitation_over_the_operators_seat_limit_is_refused_at_the_link(
        alice, django_capture_on_commit_callbacks):
    invite(client_for(alice), django_capture_on_commit_callbacks,
           email="nina@example.com", role="attendant")
    org = alice.organization
    org.max_attendants = Membership.objects.filter(organization=org, is_active=True).count()
    org.save(update_fields=["max_attendants"])
    data = {"first_name": "Nina", "password1": "a-good-pass-123", "password2": "a-good-pass-123"}

    refused = english().post(link_path(mail.outbox[0]), data)
    assert refused.status_code == 400
    assert "limit" in refused.content.decode()
    assert not Membership.objects.filter(user__email="nina@example.com").exists()
    assert Invitation.objects.get().accepted_at is None  # usable once a seat is free


def test_an_invitation_expires_after_seven_days(alice, django_capture_on_commit_callbacks):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        invite(client_for(alice), django_capture_on_commit_callbacks,
               email="nina@example.com", role="attendant")
        path = link_path(mail.outbox[0])
        traveller.shift(timedelta(days=6, hours=23))
        assert english().get(path).status_code == 200
        traveller.shift(timedelta(hours=1))
        expired = english().get(path)
        posted = english().post(path, {"first_name": "N", "password1": "a-good-pass-123",
                                       "password2": "a-good-pass-123"})

    assert expired.status_code == 410 and "expired" in expired.content.decode()
    assert posted.status_code == 410
    assert not Membership.objects.filter(user__email="nina@example.com").exists()


def test_resending_makes_a_new_link_and_the_old_one_stops_working(
        alice, django_capture_on_commit_callbacks):
    client = client_for(alice)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        invite(client, django_capture_on_commit_callbacks, email="nina@example.com",
               role="attendant")
        invitation = Invitation.objects.get()
        traveller.shift(timedelta(days=8))
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/manage/people/invitations/{invitation.pk}/resend/")
        assert response.status_code == 302
        old, new = link_path(mail.outbox[0]), link_path(mail.outbox[1])
        assert old != new
        assert english().get(old).status_code == 404
        assert english().get(new).status_code == 200
    invitation.refresh_from_db()
    assert invitation.expires_at > invitation.created_at + timedelta(days=8)


def test_a_revoked_invitation_link_no_longer_works(alice, django_capture_on_commit_callbacks):
    client = client_for(alice)
    invite(client, django_capture_on_commit_callbacks, email="nina@example.com",
           role="attendant")
    invitation = Invitation.objects.get()
    assert client.post(f"/manage/people/invitations/{invitation.pk}/revoke/").status_code == 302

    page = english().get(link_path(mail.outbox[0]))
    assert page.status_code == 410 and "withdrawn" in page.content.decode()
    invitation.refresh_from_db()
    assert invitation.state == Invitation.State.REVOKED
    # A revoked invitation cannot be resent; a new one can be made.
    client.post(f"/manage/people/invitations/{invitation.pk}/resend/")
    assert len(mail.outbox) == 1
    assert invite(client, django_capture_on_commit_callbacks, email="nina@example.com",
                  role="attendant").status_code == 302
    assert Invitation.objects.count() == 2


def test_an_existing_account_joins_with_its_own_password(
        alice, charlie, django_capture_on_commit_callbacks):
    invite(client_for(alice), django_capture_on_commit_callbacks,
           email=charlie.user.email, role="manager")
    path = link_path(mail.outbox[0])
    anonymous = english().get(path).content.decode()
    assert 'id="login-to-join"' in anonymous

    client = english(client_for(charlie))
    assert "Join with your account" in client.get(path).content.decode()
    response = client.post(path)

    assert response.status_code == 302
    places = Membership.objects.filter(user=charlie.user)
    assert sorted(places.values_list("organization__slug", "role")) == [
        ("acme", "manager"), ("globex", "manager")]
    assert charlie.user.check_password("secret-pass")  # the same account, unchanged
    # The new organization is the one shown now.
    assert client.get("/manage/people/").context["request"].organization.slug == "acme"


def test_a_new_account_for_an_address_with_an_account_is_refused(
        alice, bob, django_capture_on_commit_callbacks):
    UserFactory(username="nina", email="Nina@example.com")
    invite(client_for(alice), django_capture_on_commit_callbacks,
           email="nina@example.com", role="attendant")
    response = english().post(link_path(mail.outbox[0]), {
        "first_name": "Nina", "password1": "a-good-pass-123", "password2": "a-good-pass-123"})

    assert response.status_code == 400
    assert "log in to join" in response.content.decode()
    assert Invitation.objects.get().accepted_at is None


def test_inviting_a_member_or_an_address_with_a_pending_invitation_is_refused(
        alice, bob, django_capture_on_commit_callbacks):
    client = english(client_for(alice))
    member = invite(client, django_capture_on_commit_callbacks, email=bob.user.email,
                    role="attendant")
    assert member.status_code == 400 and "already a member" in member.content.decode()
    invite(client, django_capture_on_commit_callbacks, email="nina@example.com",
           role="attendant")
    twice = invite(client, django_capture_on_commit_callbacks, email="NINA@example.com",
                   role="attendant")
    assert twice.status_code == 400 and "resend it" in twice.content.decode()
    assert Invitation.objects.count() == 1


def test_only_owners_invite_owners(alice, django_capture_on_commit_callbacks):
    response = invite(client_for(alice), django_capture_on_commit_callbacks,
                      email="nina@example.com", role="owner")
    assert response.status_code == 400
    assert not Invitation.objects.exists()


def test_attendants_cannot_invite(bob, django_capture_on_commit_callbacks):
    response = invite(client_for(bob), django_capture_on_commit_callbacks,
                      email="nina@example.com", role="attendant")
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_another_organizations_invitations_are_404(alice, charlie, other_org):
    invitation, _raw = invitations.invitation_create(
        organization=other_org, actor=charlie, email="x@example.com", role="attendant")
    client = client_for(alice)
    for action in ("resend", "revoke"):
        assert client.post(
            f"/manage/people/invitations/{invitation.pk}/{action}/").status_code == 404
    assert "x@example.com" not in client.get("/manage/people/invitations/").content.decode()
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_another_organizations_teams_cannot_be_given(alice, other_org):
    foreign = TeamFactory(organization=other_org)
    with pytest.raises(invitations.ValidationError):
        invitations.invitation_create(organization=alice.organization, actor=alice,
                                      email="x@example.com", role="attendant", teams=[foreign])


def test_a_made_up_link_is_404(db):
    assert english().get("/invitation/not-a-real-token/").status_code == 404


def test_a_deactivated_member_cannot_come_back_by_invitation(alice, org):
    old = MembershipFactory(organization=org, is_active=False,
                            user=UserFactory(username="old", email="old@example.com"))
    invitation, raw = invitations.invitation_create(
        organization=org, actor=None, email="other@example.com", role="attendant")
    with pytest.raises(invitations.ValidationError, match="deactivated"):
        invitations.invitation_accept(raw_token=raw, user=old.user)
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_operators_see_invitations_and_sign_ups_in_the_admin(alice):
    from django.contrib.auth import get_user_model

    invitations.invitation_create(organization=alice.organization, actor=alice,
                                  email="x@example.com", role="attendant")
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456")
    client = Client()
    client.force_login(root)
    listing = client.get("/admin/accounts/invitation/")
    assert listing.status_code == 200 and "x@example.com" in listing.content.decode()
    assert client.get("/admin/accounts/signup/").status_code == 200
    invitation = Invitation.objects.get()
    detail = client.get(f"/admin/accounts/invitation/{invitation.pk}/change/")
    assert detail.status_code == 200 and invitation.token_hash not in detail.content.decode()
