"""Ownership: an organization keeps at least one owner; an owner hands ownership to a
manager; removing or demoting the last owner is refused with a message."""

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from teams.models import Membership
from teams.services import people

from .factories import MembershipFactory, UserFactory
from .helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def olivia(org):
    """The owner of ``org``."""
    return MembershipFactory(organization=org, role=Membership.Role.OWNER,
                             user=UserFactory(username="olivia", first_name="Olivia"))


def english(membership):
    client = client_for(membership)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_the_last_owner_cannot_be_demoted(olivia, alice):
    response = english(olivia).post(f"/manage/people/{olivia.pk}/",
                                    {"role": "manager", "can_see_all": "org"})
    assert response.status_code == 200
    assert "last owner" in response.content.decode()
    olivia.refresh_from_db()
    assert olivia.role == Membership.Role.OWNER


def test_the_last_owner_cannot_be_deactivated(olivia, alice):
    response = english(olivia).post(f"/manage/people/{olivia.pk}/active/", {"is_active": "0"},
                                    follow=True)
    assert "last owner" in response.content.decode()
    olivia.refresh_from_db()
    assert olivia.is_active


def test_an_owner_may_step_down_when_another_owner_remains(olivia, alice, org):
    MembershipFactory(organization=org, role=Membership.Role.OWNER)
    people.person_update(organization=org, actor=olivia, membership_id=olivia.pk,
                         role=Membership.Role.MANAGER, can_see_all=None)
    olivia.refresh_from_db()
    assert olivia.role == Membership.Role.MANAGER


def test_an_owner_hands_ownership_to_a_manager(olivia, alice):
    client = english(olivia)
    page = client.get(f"/manage/people/{alice.pk}/").content.decode()
    assert 'id="ownership"' in page

    response = client.post(f"/manage/people/{alice.pk}/ownership/", follow=True)

    assert "is an owner now" in response.content.decode()
    olivia.refresh_from_db()
    alice.refresh_from_db()
    assert (olivia.role, alice.role) == ("manager", "owner")
    changes = sorted(AuditEvent.objects.filter(area="person", action="changed")
                     .values_list("target_id", "changes__role__to"))
    assert changes == sorted([(alice.pk, "owner"), (olivia.pk, "manager")])


def test_ownership_goes_to_managers_only(olivia, bob):
    client = english(olivia)
    assert 'id="ownership"' not in client.get(f"/manage/people/{bob.pk}/").content.decode()
    response = client.post(f"/manage/people/{bob.pk}/ownership/", follow=True)
    assert "a manager first" in response.content.decode()
    bob.refresh_from_db()
    olivia.refresh_from_db()
    assert (bob.role, olivia.role) == ("attendant", "owner")


def test_only_an_owner_hands_ownership(olivia, alice, org):
    other_manager = MembershipFactory(organization=org, role=Membership.Role.MANAGER)
    with pytest.raises(ValidationError):
        people.ownership_transfer(organization=org, actor=alice,
                                  membership_id=other_manager.pk)
    other_manager.refresh_from_db()
    assert other_manager.role == Membership.Role.MANAGER


def test_ownership_of_another_organization_is_404(olivia, charlie):
    response = english(olivia).post(f"/manage/people/{charlie.pk}/ownership/")
    assert response.status_code == 404
    charlie.refresh_from_db()
    assert charlie.role == Membership.Role.MANAGER
