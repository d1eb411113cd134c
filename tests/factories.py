"""factory-boy factories. Leads are made through ``leads.services.lead_create``, not here."""

import factory
from django.contrib.auth import get_user_model

from overflow.models import OverflowPolicy
from teams.models import (
    BusinessHoursException,
    BusinessHoursInterval,
    Membership,
    Organization,
    Team,
    TeamMember,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("secret-pass")


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    # Tests of everything else start past the first-steps checklist (tests/test_onboarding.py
    # starts before it).
    first_steps_pending = False


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.ATTENDANT
    presence = Membership.Presence.ONLINE


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")


class TeamMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamMember

    team = factory.SubFactory(TeamFactory)
    membership = factory.SubFactory(
        MembershipFactory, organization=factory.SelfAttribute("..team.organization")
    )
    order = factory.Sequence(lambda n: n)


class OverflowPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OverflowPolicy

    team = factory.SubFactory(TeamFactory)
    enabled = True
    service_minutes = 10


class BusinessHoursIntervalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessHoursInterval


class BusinessHoursExceptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessHoursException
