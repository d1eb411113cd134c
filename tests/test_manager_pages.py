"""The managers' own pages: teams, members, business hours, overflow, people, API keys, settings.

Every page answers 200 to alice (manager), 403 to bob (attendant), a login redirect to
anonymous visitors, and 404 to charlie (a manager elsewhere) for anything of alice's.
"""

from datetime import date, time

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.html import escape
from rest_framework.test import APIClient

from audit.models import AuditEvent
from leads.models import Lead
from overflow import rules
from overflow.models import OverflowPolicy
from teams.models import (
    ApiKey,
    BusinessHoursException,
    BusinessHoursInterval,
    Membership,
    Organization,
    Team,
    TeamMember,
)
from teams.services.hours import team_hours_replace
from teams.services.keys import api_key_create

from .factories import MembershipFactory, TeamFactory, TeamMemberFactory, UserFactory
from .helpers import client_for

PASSWORD = "secret-pass"



def message_in_page_language(make_error) -> str:
    """The first message of the error ``make_error()`` builds, as a page without
    language preferences shows it (the product's default language)."""
    with translation.override(settings.LANGUAGE_CODE):
        return escape(make_error().messages[0])



@pytest.fixture
def sales(org, bob, dave, make_team):
    """Bob then Dave, a 10-minute overflow policy, open around the clock."""
    team = make_team(org, size=0, slug="sales")
    TeamMemberFactory(team=team, membership=bob, order=0)
    TeamMemberFactory(team=team, membership=dave, order=1)
    team.attendants = [bob, dave]
    return team



# --- every page: who may open it ----------------------------------------------------------------

PAGES = [
    "/manage/teams/",
    "/manage/teams/?archived=1",
    "/manage/teams/new/",
    "/manage/teams/{team}/",
    "/manage/teams/{team}/hours/",
    "/manage/teams/{team}/overflow/",
    "/manage/people/",
    "/manage/people/new/",
    "/manage/people/{person}/",
    "/manage/api-keys/",
    "/manage/api-keys/{key}/revoke/",
    "/manage/settings/",
]
OBJECT_PAGES = [p for p in PAGES if "{" in p]


def fill(path, *, team, person, key):
    return path.format(team=team.pk, person=person.pk, key=key.pk)


@pytest.mark.parametrize("path", PAGES)
def test_every_manager_page_renders_for_a_manager(alice, bob, sales, api_key, path):
    response = client_for(alice).get(fill(path, team=sales, person=bob, key=api_key))

    assert response.status_code == 200
    assert 'href="/manage/people/"' in response.content.decode()  # the manager navigation


@pytest.mark.parametrize("path", PAGES)
def test_attendant_is_refused_every_manager_page(bob, sales, api_key, path):
    response = client_for(bob).get(fill(path, team=sales, person=bob, key=api_key))

    assert response.status_code == 403


@pytest.mark.parametrize("path", [*PAGES, "/manage/"])
def test_anonymous_visitor_is_sent_to_login_from_every_manager_page(bob, sales, api_key, path):
    response = Client().get(fill(path, team=sales, person=bob, key=api_key))

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("path", OBJECT_PAGES)
def test_outsider_manager_gets_404_for_the_organizations_objects(
    charlie, bob, sales, api_key, path
):
    response = client_for(charlie).get(fill(path, team=sales, person=bob, key=api_key))

    assert response.status_code == 404
    page = response.content.decode()
    assert sales.name not in page
    assert "bob@example.com" not in page


def test_manage_home_is_the_dashboard(alice):
    response = client_for(alice).get("/manage/")

    assert response.status_code == 200
    assert response.templates[0].name == "reports/dashboard.html"


def test_manager_navigation_links_every_manager_page(alice):
    page = client_for(alice).get("/manage/teams/").content.decode()

    for url in ("/manage/teams/", "/manage/people/", "/manage/api-keys/", "/manage/settings/"):
        assert f'href="{url}"' in page


def test_attendant_sees_no_manager_navigation(bob):
    page = client_for(bob).get("/inbox/").content.decode()

    assert "/manage/" not in page


# --- every action: who may do it ------------------------------------------------------------------


def actions(sales, bob, dave, api_key):
    member = TeamMember.objects.get(team=sales, membership=bob)
    return [
        (f"/manage/teams/{sales.pk}/edit/",
         {"name": "Pwned", "slug": "pwned", "strategy": "round_robin"}),
        (f"/manage/teams/{sales.pk}/archive/", {"archived": "1"}),
        (f"/manage/teams/{sales.pk}/hours/",
         {**hours_form(), "hours-enabled": "on", "day0-0-start": "08:00", "day0-0-end": "09:00"}),
        (f"/manage/teams/{sales.pk}/overflow/", {"service_minutes": "30"}),
        (f"/manage/teams/{sales.pk}/members/add/", {"membership": dave.pk}),
        (f"/manage/teams/{sales.pk}/members/{member.pk}/", {"capacity": "1"}),
        (f"/manage/teams/{sales.pk}/members/{member.pk}/move/", {"direction": "down"}),
        (f"/manage/teams/{sales.pk}/members/{member.pk}/remove/", {}),
        (f"/manage/people/{bob.pk}/", {"role": "manager", "can_see_all": "all"}),
        (f"/manage/people/{bob.pk}/active/", {"is_active": "0"}),
        (f"/manage/api-keys/{api_key.pk}/revoke/", {}),
    ]


def snapshot(org):
    """Everything the actions could change, to compare before and after."""
    return {
        "teams": list(Team.objects.filter(organization=org).values().order_by("pk")),
        "members": list(
            TeamMember.objects.filter(team__organization=org).values().order_by("pk")
        ),
        "hours": list(
            BusinessHoursInterval.objects.filter(team__organization=org).values().order_by("pk")
        ),
        "policies": list(
            OverflowPolicy.objects.filter(team__organization=org)
            .values("team", "enabled", "service_minutes", "max_transfers")
            .order_by("pk")
        ),
        "people": list(
            Membership.objects.filter(organization=org)
            .values("pk", "role", "is_active", "can_see_all")
            .order_by("pk")
        ),
        "keys": list(ApiKey.objects.filter(organization=org).values().order_by("pk")),
    }


def test_outsider_manager_gets_404_for_every_action_and_changes_nothing(
    org, charlie, bob, dave, sales, api_key
):
    client = client_for(charlie)
    before = snapshot(org)

    for url, data in actions(sales, bob, dave, api_key):
        response = client.post(url, data)
        assert response.status_code == 404, url

    assert snapshot(org) == before


def test_attendant_gets_403_for_every_action_and_changes_nothing(org, bob, dave, sales, api_key):
    client = client_for(bob)
    before = snapshot(org)

    for url, data in actions(sales, bob, dave, api_key):
        response = client.post(url, data)
        assert response.status_code == 403, url

    assert snapshot(org) == before


@pytest.mark.parametrize("url", ["/manage/teams/new/", "/manage/people/new/",
                                 "/manage/api-keys/new/", "/manage/settings/"])
def test_attendant_cannot_create_anything(org, bob, url):
    before = snapshot(org)

    response = client_for(bob).post(url, {"name": "X", "username": "mallory", "role": "owner",
                                          "time_zone": "UTC", "language": "en"})

    assert response.status_code == 403
    assert snapshot(org) == before
    assert not get_user_model().objects.filter(username="mallory").exists()


def test_manager_pages_refuse_posts_without_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice.user)

    response = client.post("/manage/teams/new/", {"name": "Sneaky"})

    assert response.status_code == 403
    assert not Team.objects.filter(name="Sneaky").exists()


@pytest.mark.parametrize("path", ["/manage/teams/", "/manage/people/", "/manage/teams/{team}/"])
def test_list_pages_cost_the_same_queries_however_many_rows(alice, org, sales, make_team, path):
    client = client_for(alice)
    url = path.format(team=sales.pk)
    client.get(url)  # warm up the session and the content types

    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for _ in range(4):
        team = make_team(org, size=3)
        TeamMemberFactory(team=sales, membership=team.attendants[0], capacity=2)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200

    assert len(many) == len(few)


# --- teams ---------------------------------------------------------------------------------------


def test_manager_creates_a_team_with_a_slug_made_from_its_name(org, alice):
    response = client_for(alice).post("/manage/teams/new/", {
        "name": "Suporte Técnico", "slug": "", "strategy": "round_robin", "online_only": "on",
    })

    team = Team.objects.get(organization=org, name="Suporte Técnico")
    assert response.status_code == 302
    assert response["Location"] == f"/manage/teams/{team.pk}/"
    assert team.slug == "suporte-tecnico"
    assert team.online_only is True
    assert team.business_hours_enabled is False
    assert team.is_archived is False


def test_team_slug_is_unique_in_the_organization_only(org, alice, charlie, sales, other_org):
    refused = client_for(alice).post("/manage/teams/new/", {
        "name": "Sales again", "slug": "sales", "strategy": "round_robin",
    })
    accepted = client_for(charlie).post("/manage/teams/new/", {
        "name": "Their sales", "slug": "sales", "strategy": "round_robin",
    })

    assert refused.status_code == 200
    assert "slug" in refused.context["form"].errors
    assert Team.objects.filter(organization=org, slug="sales").count() == 1
    assert accepted.status_code == 302
    assert Team.objects.filter(organization=other_org, slug="sales").exists()


def test_team_with_a_taken_name_gets_a_free_slug(org, alice, sales):
    client_for(alice).post("/manage/teams/new/", {"name": "Sales", "strategy": "round_robin"})

    assert set(Team.objects.filter(organization=org).values_list("slug", flat=True)) == {
        "sales", "sales-2",
    }


def test_team_without_a_name_is_refused_with_a_field_error(org, alice):
    response = client_for(alice).post("/manage/teams/new/", {"name": "", "strategy": "round_robin"})

    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert not Team.objects.filter(organization=org).exists()


def test_manager_renames_and_edits_a_team(alice, sales):
    response = client_for(alice).post(f"/manage/teams/{sales.pk}/edit/", {
        "name": "Vendas", "slug": "vendas", "strategy": "round_robin",
        "business_hours_enabled": "on",
    })

    assert response.status_code == 302
    sales.refresh_from_db()
    assert (sales.name, sales.slug) == ("Vendas", "vendas")
    assert sales.business_hours_enabled is True
    assert sales.online_only is False


def test_team_edit_with_a_bad_slug_saves_nothing(alice, org, sales, make_team):
    make_team(org, size=0, slug="support", policy=False)

    response = client_for(alice).post(f"/manage/teams/{sales.pk}/edit/", {
        "name": "Renamed", "slug": "support", "strategy": "round_robin",
    })

    assert response.status_code == 200
    assert "slug" in response.context["form"].errors
    sales.refresh_from_db()
    assert (sales.name, sales.slug) == ("Sales", "sales")


def test_archived_team_leaves_the_list_and_can_come_back(alice, sales):
    client = client_for(alice)

    client.post(f"/manage/teams/{sales.pk}/archive/", {"archived": "1"})
    sales.refresh_from_db()
    active_list = client.get("/manage/teams/").content.decode()
    archived_list = client.get("/manage/teams/?archived=1").content.decode()

    assert sales.is_archived is True
    assert f"/manage/teams/{sales.pk}/" not in active_list
    assert f"/manage/teams/{sales.pk}/" in archived_list

    client.post(f"/manage/teams/{sales.pk}/archive/", {"archived": "0"})
    sales.refresh_from_db()
    assert sales.is_archived is False


def test_default_team_cannot_be_archived(alice, org, sales):
    org.default_team = sales
    org.save(update_fields=["default_team"])

    client_for(alice).post(f"/manage/teams/{sales.pk}/archive/", {"archived": "1"})

    sales.refresh_from_db()
    assert sales.is_archived is False


def test_team_list_shows_member_counts_strategy_and_overflow_only_of_the_organization(
    alice, org, sales, globex_team, make_team
):
    quiet = make_team(org, size=1, slug="quiet", policy=False)
    TeamMember.objects.filter(team=sales, membership__user__username="dave").update(
        is_active=False
    )

    response = client_for(alice).get("/manage/teams/")

    page = response.content.decode()
    teams = {t.slug: t for t in response.context["page"]}
    assert set(teams) == {"sales", "quiet"}
    assert (teams["sales"].member_count, teams["sales"].active_member_count) == (2, 1)
    assert teams["sales"].overflow_policy.enabled is True
    assert (teams["quiet"].member_count, teams["quiet"].active_member_count) == (1, 1)
    assert globex_team.name not in page
    assert f"/manage/teams/{quiet.pk}/overflow/" in page


# --- team members --------------------------------------------------------------------------------


def test_manager_adds_a_person_at_the_end_of_the_rotation(alice, org, sales):
    erin = MembershipFactory(organization=org, user=UserFactory(username="erin"))

    response = client_for(alice).post(
        f"/manage/teams/{sales.pk}/members/add/", {"membership": erin.pk, "capacity": "3"}
    )

    assert response.status_code == 302
    member = TeamMember.objects.get(team=sales, membership=erin)
    assert member.is_active is True
    assert member.capacity == 3
    assert list(TeamMember.objects.filter(team=sales).values_list("membership", flat=True)) == [
        sales.attendants[0].pk, sales.attendants[1].pk, erin.pk,
    ]


@pytest.mark.parametrize("who", ["outsider", "deactivated", "already_in"])
def test_only_active_people_of_the_organization_not_yet_in_the_team_can_be_added(
    alice, org, sales, charlie, bob, who
):
    person = {
        "outsider": charlie,
        "deactivated": MembershipFactory(organization=org, is_active=False),
        "already_in": bob,
    }[who]
    before = TeamMember.objects.filter(team=sales).count()

    response = client_for(alice).post(
        f"/manage/teams/{sales.pk}/members/add/", {"membership": person.pk}
    )

    assert response.status_code == 200
    assert "membership" in response.context["add_form"].errors
    assert TeamMember.objects.filter(team=sales).count() == before


def test_moving_a_member_changes_who_gets_the_next_lead(alice, sales, new_lead, org):
    dave = sales.attendants[1]
    member = TeamMember.objects.get(team=sales, membership=dave)

    client_for(alice).post(
        f"/manage/teams/{sales.pk}/members/{member.pk}/move/", {"direction": "up"}
    )

    ordered = list(
        TeamMember.objects.filter(team=sales).order_by("order").values_list("membership", "order")
    )
    assert ordered == [(dave.pk, 0), (sales.attendants[0].pk, 1)]
    assert new_lead(org, team=sales).assignee_id == dave.pk


def test_member_switched_off_gets_no_leads_and_capacity_is_saved(alice, sales, new_lead, org):
    bob = sales.attendants[0]
    member = TeamMember.objects.get(team=sales, membership=bob)

    response = client_for(alice).post(
        f"/manage/teams/{sales.pk}/members/{member.pk}/", {"capacity": "5"}
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.is_active, member.capacity) == (False, 5)
    assignees = {new_lead(org, team=sales).assignee_id for _ in range(3)}
    assert assignees == {sales.attendants[1].pk}


def test_rule3_team_page_warns_while_overflow_has_too_few_active_attendants(alice, sales):
    OverflowPolicy.objects.update_or_create(team=sales, defaults={"enabled": True})
    member = TeamMember.objects.get(team=sales, membership=sales.attendants[0])
    page = f"/manage/teams/{sales.pk}/"
    warning = 'class="callout warning"'
    assert warning not in client_for(alice).get(page).content.decode()

    client_for(alice).post(f"/manage/teams/{sales.pk}/members/{member.pk}/", {})

    shown = client_for(alice).get(page).content.decode()
    assert warning in shown
    assert warning in client_for(alice).get(f"{page}overflow/").content.decode()
    OverflowPolicy.objects.filter(team=sales).update(enabled=False)
    assert warning not in client_for(alice).get(page).content.decode()


def test_member_capacity_must_be_positive(alice, sales):
    member = TeamMember.objects.get(team=sales, membership=sales.attendants[0])

    response = client_for(alice).post(
        f"/manage/teams/{sales.pk}/members/{member.pk}/", {"is_active": "on", "capacity": "0"}
    )

    assert response.status_code == 400
    member.refresh_from_db()
    assert (member.is_active, member.capacity) == (True, None)
    # Shown again inside the table's one form, under the row's prefix.
    assert f'name="m{member.pk}-capacity"' in response.content.decode()


def test_one_save_writes_every_rows_rotation_and_capacity(alice, sales):
    first, second = TeamMember.objects.filter(team=sales).order_by("order", "id")[:2]
    page = client_for(alice).get(f"/manage/teams/{sales.pk}/").content.decode()
    assert page.count('form="team-members"') == 2 * sales.members.count()
    assert f'action="/manage/teams/{sales.pk}/members/"' in page

    response = client_for(alice).post(f"/manage/teams/{sales.pk}/members/", {
        f"m{first.pk}-is_active": "on", f"m{first.pk}-capacity": "3",
        f"m{second.pk}-capacity": "",  # unticked: out of the rotation
    })

    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_active, first.capacity) == (True, 3)
    assert (second.is_active, second.capacity) == (False, None)
    assert AuditEvent.objects.filter(area="team", target_id=sales.pk).count() == 1


def test_one_bad_row_saves_no_row_and_says_which(alice, sales):
    first, second = TeamMember.objects.filter(team=sales).order_by("order", "id")[:2]

    response = client_for(alice).post(f"/manage/teams/{sales.pk}/members/", {
        f"m{first.pk}-is_active": "on", f"m{first.pk}-capacity": "3",
        f"m{second.pk}-is_active": "on", f"m{second.pk}-capacity": "0",
    }, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    first.refresh_from_db()
    assert first.capacity is None
    page = response.content.decode()
    assert "Nothing was saved" in page and 'value="0"' in page


def test_another_organizations_team_members_cannot_be_saved(charlie, sales):
    member = TeamMember.objects.filter(team=sales).first()

    response = client_for(charlie).post(f"/manage/teams/{sales.pk}/members/", {
        f"m{member.pk}-capacity": "1"})

    assert response.status_code == 404
    member.refresh_from_db()
    assert member.capacity is None


def test_removed_member_leaves_the_team(alice, sales):
    member = TeamMember.objects.get(team=sales, membership=sales.attendants[0])

    client_for(alice).post(f"/manage/teams/{sales.pk}/members/{member.pk}/remove/")

    assert not TeamMember.objects.filter(pk=member.pk).exists()
    assert Membership.objects.filter(pk=sales.attendants[0].pk, is_active=True).exists()


def test_member_of_another_team_is_404_under_this_team(alice, org, sales, make_team):
    other = make_team(org, size=1, slug="other", policy=False)
    foreign_member = TeamMember.objects.get(team=other)

    response = client_for(alice).post(
        f"/manage/teams/{sales.pk}/members/{foreign_member.pk}/remove/"
    )

    assert response.status_code == 404
    assert TeamMember.objects.filter(pk=foreign_member.pk).exists()


# --- business hours -----------------------------------------------------------------------------


def hours_form(**fields):
    """The editor's POST: management forms for seven weekdays and the exceptions."""
    data = {}
    for day in range(7):
        data.update({f"day{day}-TOTAL_FORMS": "3", f"day{day}-INITIAL_FORMS": "0"})
    data.update({"exceptions-TOTAL_FORMS": "3", "exceptions-INITIAL_FORMS": "0"})
    for n in range(3):
        data[f"exceptions-{n}-kind"] = "closed"
    data.update(fields)
    return data


def weekly(team):
    return list(
        BusinessHoursInterval.objects.filter(team=team)
        .order_by("weekday", "start")
        .values_list("weekday", "start", "end")
    )


def test_manager_saves_weekly_hours_and_dated_exceptions(alice, sales):
    response = client_for(alice).post(f"/manage/teams/{sales.pk}/hours/", hours_form(**{
        "hours-enabled": "on",
        "day0-0-start": "08:00", "day0-0-end": "12:00",
        "day0-1-start": "13:00", "day0-1-end": "18:00",
        "day4-0-start": "18:00", "day4-0-end": "00:00",
        "exceptions-0-date": "2025-12-25", "exceptions-0-kind": "closed",
        "exceptions-0-note": "Natal",
        "exceptions-1-date": "2025-12-24", "exceptions-1-kind": "open",
        "exceptions-1-start": "08:00", "exceptions-1-end": "12:00",
    }))

    assert response.status_code == 302
    sales.refresh_from_db()
    assert sales.business_hours_enabled is True
    assert weekly(sales) == [
        (0, time(8), time(12)), (0, time(13), time(18)), (4, time(18), time(0)),
    ]
    exceptions = {
        e.date: (e.is_closed, e.start, e.end, e.note)
        for e in BusinessHoursException.objects.filter(team=sales)
    }
    assert exceptions == {
        date(2025, 12, 25): (True, None, None, "Natal"),
        date(2025, 12, 24): (False, time(8), time(12), ""),
    }


def test_hours_page_names_the_organizations_time_zone_and_shows_saved_intervals(
    alice, org, sales
):
    org.time_zone = "America/Manaus"
    org.save(update_fields=["time_zone"])
    BusinessHoursInterval.objects.create(team=sales, weekday=2, start=time(9), end=time(17))

    page = client_for(alice).get(f"/manage/teams/{sales.pk}/hours/").content.decode()

    assert "America/Manaus" in page
    assert 'value="09:00"' in page
    assert 'value="17:00"' in page


@pytest.fixture
def sales_hours(sales):
    BusinessHoursInterval.objects.create(team=sales, weekday=0, start=time(9), end=time(17))
    BusinessHoursException.objects.create(team=sales, date=date(2025, 1, 1), is_closed=True)
    return sales


@pytest.mark.parametrize(("case", "fields", "field"), [
    ("overlap", {"day0-0-start": "08:00", "day0-0-end": "12:00",
                 "day0-1-start": "11:00", "day0-1-end": "14:00"}, ("day", 0, 1, "start")),
    ("overlap_to_midnight", {"day2-0-start": "20:00", "day2-0-end": "00:00",
                             "day2-1-start": "22:00", "day2-1-end": "23:00"},
     ("day", 2, 1, "start")),
    ("inverted", {"day1-0-start": "18:00", "day1-0-end": "08:00"}, ("day", 1, 0, "end")),
    ("half_empty", {"day1-0-start": "08:00"}, ("day", 1, 0, "end")),
    ("special_inverted", {"exceptions-0-date": "2025-12-24", "exceptions-0-kind": "open",
                          "exceptions-0-start": "12:00", "exceptions-0-end": "08:00"},
     ("exc", 0, "end")),
    ("special_overlap", {"exceptions-0-date": "2025-12-24", "exceptions-0-kind": "open",
                         "exceptions-0-start": "08:00", "exceptions-0-end": "12:00",
                         "exceptions-1-date": "2025-12-24", "exceptions-1-kind": "open",
                         "exceptions-1-start": "10:00", "exceptions-1-end": "14:00"},
     ("exc", 1, "start")),
    ("closed_and_open_same_date", {"exceptions-0-date": "2025-12-24",
                                   "exceptions-0-kind": "closed",
                                   "exceptions-1-date": "2025-12-24", "exceptions-1-kind": "open",
                                   "exceptions-1-start": "08:00", "exceptions-1-end": "12:00"},
     ("exc", 1, "date")),
    ("special_without_times", {"exceptions-0-date": "2025-12-24", "exceptions-0-kind": "open"},
     ("exc", 0, "start")),
])
def test_bad_business_hours_are_refused_next_to_the_field_and_nothing_is_saved(
    alice, sales_hours, case, fields, field
):
    valid_part = {"day3-0-start": "08:00", "day3-0-end": "18:00"}

    response = client_for(alice).post(
        f"/manage/teams/{sales_hours.pk}/hours/",
        hours_form(**{"hours-enabled": "on", **valid_part, **fields}),
    )

    assert response.status_code == 200
    editor = response.context["editor"]
    if field[0] == "day":
        _kind, day, row, name = field
        assert name in editor.days[day][2].forms[row].errors, case
    else:
        _kind, row, name = field
        assert name in editor.exceptions.forms[row].errors, case
    sales_hours.refresh_from_db()
    assert sales_hours.business_hours_enabled is False
    assert weekly(sales_hours) == [(0, time(9), time(17))]
    assert list(
        BusinessHoursException.objects.filter(team=sales_hours).values_list("date", flat=True)
    ) == [date(2025, 1, 1)]


def test_touching_intervals_and_a_whole_day_are_accepted(alice, sales):
    response = client_for(alice).post(f"/manage/teams/{sales.pk}/hours/", hours_form(**{
        "hours-enabled": "on",
        "day0-0-start": "08:00", "day0-0-end": "12:00",
        "day0-1-start": "12:00", "day0-1-end": "18:00",
        "day6-0-start": "00:00", "day6-0-end": "00:00",
    }))

    assert response.status_code == 302
    assert weekly(sales) == [
        (0, time(8), time(12)), (0, time(12), time(18)), (6, time(0), time(0)),
    ]


def test_deleted_and_emptied_rows_remove_intervals(alice, sales_hours):
    response = client_for(alice).post(f"/manage/teams/{sales_hours.pk}/hours/", hours_form(**{
        "day0-INITIAL_FORMS": "1",
        "day0-0-start": "09:00", "day0-0-end": "17:00", "day0-0-DELETE": "on",
        "exceptions-INITIAL_FORMS": "1",
        "exceptions-0-date": "2025-01-01", "exceptions-0-kind": "closed",
        "exceptions-0-DELETE": "on",
    }))

    assert response.status_code == 302
    assert weekly(sales_hours) == []
    assert not BusinessHoursException.objects.filter(team=sales_hours).exists()


def test_service_refuses_overlapping_hours_and_keeps_the_old_ones(org, sales_hours):
    with pytest.raises(ValidationError):
        team_hours_replace(
            organization=org, team_id=sales_hours.pk, enabled=True,
            weekly=[(0, time(8), time(12)), (0, time(10), time(11))], exceptions=[],
        )

    assert weekly(sales_hours) == [(0, time(9), time(17))]


def test_hours_of_another_organizations_team_cannot_be_replaced_through_the_service(
    other_org, sales_hours
):
    with pytest.raises(Team.DoesNotExist):
        team_hours_replace(organization=other_org, team_id=sales_hours.pk, enabled=False,
                           weekly=[], exceptions=[])

    assert weekly(sales_hours) == [(0, time(9), time(17))]


# --- overflow policy ----------------------------------------------------------------------------


def policy_form(**fields):
    data = {"enabled": "on", "service_minutes": "10", "max_transfers": ""}
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def test_manager_saves_an_overflow_policy_with_ordered_further_teams(alice, org, make_team):
    team = make_team(org, size=2, slug="first", policy=False)
    second = make_team(org, size=1, slug="second", policy=False)
    third = make_team(org, size=1, slug="third", policy=False)
    data = policy_form(service_minutes="25", max_transfers="4", include_bot_leads="on")
    data["further_teams"] = [str(third.pk), "", str(second.pk)]

    response = client_for(alice).post(f"/manage/teams/{team.pk}/overflow/", data)

    assert response.status_code == 302
    policy = OverflowPolicy.objects.get(team=team)
    assert (policy.enabled, policy.service_minutes, policy.max_transfers) == (True, 25, 4)
    assert policy.include_bot_leads is True
    assert [s.team_id for s in policy.chain.all()] == [third.pk, second.pk]
    page = client_for(alice).get(f"/manage/teams/{team.pk}/overflow/").content.decode()
    assert page.index(f'value="{third.pk}" selected') < page.index(f'value="{second.pk}" selected')


def test_nine_minutes_are_refused_with_a_field_error_and_nothing_saved(alice, sales):
    response = client_for(alice).post(
        f"/manage/teams/{sales.pk}/overflow/", policy_form(service_minutes="9")
    )

    assert response.status_code == 200
    assert "service_minutes" in response.context["form"].errors
    with translation.override(settings.LANGUAGE_CODE), pytest.raises(ValidationError) as refused:
        rules.validate_service_minutes(9)
    assert escape(refused.value.messages[0]) in response.content.decode()
    assert OverflowPolicy.objects.get(team=sales).service_minutes == 10


def test_enabling_overflow_with_one_active_attendant_is_refused_with_the_reason(
    alice, org, make_team
):
    team = make_team(org, size=1, slug="solo", policy=False)

    response = client_for(alice).post(f"/manage/teams/{team.pk}/overflow/", policy_form())

    assert response.status_code == 200
    assert "enabled" in response.context["form"].errors
    expected = message_in_page_language(lambda: rules.too_few_attendants_error(1))
    assert expected in response.content.decode()
    assert not OverflowPolicy.objects.filter(team=team).exists()


def test_enabling_overflow_counts_the_further_teams_attendants(alice, org, make_team):
    team = make_team(org, size=1, slug="solo", policy=False)
    helper = make_team(org, size=1, slug="helper", policy=False)

    response = client_for(alice).post(
        f"/manage/teams/{team.pk}/overflow/", policy_form(further_teams=[str(helper.pk)])
    )

    assert response.status_code == 302
    assert OverflowPolicy.objects.get(team=team).enabled is True


def test_disabled_policy_may_be_saved_with_one_attendant(alice, org, make_team):
    team = make_team(org, size=1, slug="solo", policy=False)

    response = client_for(alice).post(
        f"/manage/teams/{team.pk}/overflow/", policy_form(enabled=None, service_minutes="15")
    )

    assert response.status_code == 302
    policy = OverflowPolicy.objects.get(team=team)
    assert (policy.enabled, policy.service_minutes) == (False, 15)


@pytest.mark.parametrize("value", ["foreign", "self", "archived", "999999", "abc", "twice"])
def test_further_teams_must_be_other_active_teams_of_the_organization(
    alice, org, sales, globex_team, make_team, value
):
    archived = make_team(org, size=2, slug="old", policy=False, is_archived=True)
    helper = make_team(org, size=1, slug="helper", policy=False)
    chosen = {
        "foreign": [str(globex_team.pk)], "self": [str(sales.pk)],
        "archived": [str(archived.pk)], "999999": ["999999"], "abc": ["abc"],
        "twice": [str(helper.pk), str(helper.pk)],
    }[value]

    response = client_for(alice).post(
        f"/manage/teams/{sales.pk}/overflow/",
        policy_form(service_minutes="20", further_teams=chosen),
    )

    assert response.status_code == 200
    assert "further_teams" in response.context["form"].errors
    policy = OverflowPolicy.objects.get(team=sales)
    assert policy.service_minutes == 10
    assert not policy.chain.exists()


def test_policy_page_offers_only_the_organizations_other_teams(alice, org, sales, globex_team):
    support = TeamFactory(organization=org, name="Support", slug="support")

    response = client_for(alice).get(f"/manage/teams/{sales.pk}/overflow/")

    page = response.content.decode()
    field = response.context["form"].fields["further_teams"]
    assert list(field.queryset) == [support]
    assert f'value="{support.pk}"' in page
    assert globex_team.name not in page


def test_further_team_choices_say_when_each_team_answers(alice, org, sales, make_team):
    from datetime import time

    make_team(org, size=1, slug="night")  # open around the clock
    make_team(org, size=1, slug="office", hours={d: [(time(8), time(18))] for d in range(5)})

    page = client_for(alice).get(f"/manage/teams/{sales.pk}/overflow/",
                                 HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert ">Night · Around the clock<" in page
    assert ">Office · Mon–Fri 08:00–18:00<" in page


# --- people ---------------------------------------------------------------------------------------


def person_form(**fields):
    data = {"username": "erin", "first_name": "Erin", "last_name": "Ek",
            "email": "erin@example.com", "role": "attendant", "can_see_all": "org",
            "password": ""}
    data.update(fields)
    return data


def test_manager_creates_an_attendant_who_can_sign_in_with_the_chosen_password(alice, org):
    response = client_for(alice).post(
        "/manage/people/new/", person_form(password="a-long-passphrase-42", can_see_all="own")
    )

    assert response.status_code == 302
    person = Membership.objects.get(organization=org, user__username="erin")
    assert person.role == Membership.Role.ATTENDANT
    assert person.can_see_all is False
    assert person.is_active is True
    assert (person.user.first_name, person.user.email) == ("Erin", "erin@example.com")
    client = Client()
    assert client.login(username="erin", password="a-long-passphrase-42")
    assert client.get("/inbox/").status_code == 200


def test_person_created_without_a_password_gets_a_random_one_shown_once(alice, org):
    client = client_for(alice)

    response = client.post("/manage/people/new/", person_form(role="manager"))

    assert response.status_code == 200
    password = response.context["password"]
    assert len(password) >= 12
    assert password in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    person = Membership.objects.get(organization=org, user__username="erin")
    assert person.role == Membership.Role.MANAGER
    assert Client().login(username="erin", password=password)
    assert password not in client.get(f"/manage/people/{person.pk}/").content.decode()


@pytest.mark.parametrize(("fields", "field"), [
    ({"username": "bob"}, "username"),
    ({"username": "BOB"}, "username"),
    ({"username": "no spaces"}, "username"),
    ({"password": "123"}, "password"),
    ({"email": "not-an-email"}, "email"),
    ({"role": "owner"}, "role"),
    ({"role": "emperor"}, "role"),
])
def test_bad_person_input_is_refused_with_a_field_error(alice, bob, org, fields, field):
    response = client_for(alice).post("/manage/people/new/", person_form(**fields))

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Membership.objects.filter(organization=org, user__username="erin").exists()
    assert not get_user_model().objects.filter(username="erin").exists()


def test_owner_may_create_an_owner(org):
    owner = MembershipFactory(organization=org, role=Membership.Role.OWNER)

    client_for(owner).post("/manage/people/new/", person_form(role="owner"))

    assert Membership.objects.get(user__username="erin").role == Membership.Role.OWNER


def test_manager_changes_role_and_visibility(alice, bob):
    response = client_for(alice).post(
        f"/manage/people/{bob.pk}/", {"role": "attendant", "can_see_all": "all"}
    )

    assert response.status_code == 302
    bob.refresh_from_db()
    assert (bob.role, bob.can_see_all) == ("attendant", True)

    client_for(alice).post(f"/manage/people/{bob.pk}/", {"role": "manager", "can_see_all": "org"})
    bob.refresh_from_db()
    assert (bob.role, bob.can_see_all) == ("manager", None)


def test_manager_cannot_change_an_owner(alice, org):
    owner = MembershipFactory(organization=org, role=Membership.Role.OWNER)

    demoted = client_for(alice).post(
        f"/manage/people/{owner.pk}/", {"role": "attendant", "can_see_all": "org"}
    )
    deactivated = client_for(alice).post(f"/manage/people/{owner.pk}/active/", {"is_active": "0"})

    assert demoted.status_code == 200
    assert "role" in demoted.context["form"].errors
    assert deactivated.status_code == 302
    owner.refresh_from_db()
    assert (owner.role, owner.is_active) == ("owner", True)


def test_last_manager_cannot_demote_herself(alice, bob):
    response = client_for(alice).post(
        f"/manage/people/{alice.pk}/", {"role": "attendant", "can_see_all": "org"}
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    alice.refresh_from_db()
    assert alice.role == Membership.Role.MANAGER


def test_last_manager_cannot_deactivate_herself(alice, bob):
    response = client_for(alice).post(f"/manage/people/{alice.pk}/active/", {"is_active": "0"})

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.is_active is True


def test_manager_may_step_down_when_another_manager_remains(alice, org):
    MembershipFactory(organization=org, role=Membership.Role.MANAGER)

    response = client_for(alice).post(
        f"/manage/people/{alice.pk}/", {"role": "attendant", "can_see_all": "org"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/inbox/"
    alice.refresh_from_db()
    assert alice.role == Membership.Role.ATTENDANT


def test_a_manager_of_another_organization_does_not_count_as_the_remaining_manager(
    alice, charlie
):
    client_for(alice).post(f"/manage/people/{alice.pk}/", {"role": "attendant",
                                                           "can_see_all": "org"})

    alice.refresh_from_db()
    assert alice.role == Membership.Role.MANAGER


def test_deactivated_person_gets_no_new_leads_and_keeps_the_open_ones(
    alice, org, sales, new_lead
):
    bob, dave = sales.attendants
    bobs_lead = new_lead(org, team=sales)
    assert bobs_lead.assignee_id == bob.pk

    response = client_for(alice).post(f"/manage/people/{bob.pk}/active/", {"is_active": "0"})

    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.is_active is False
    assert {new_lead(org, team=sales).assignee_id for _ in range(4)} == {dave.pk}
    bobs_lead.refresh_from_db()
    assert bobs_lead.assignee_id == bob.pk
    assert bobs_lead.status == Lead.Status.OPEN
    assert client_for(alice).get(f"/leads/{bobs_lead.pk}/").status_code == 200
    assert client_for(bob).get("/inbox/").status_code == 403


def test_reactivated_person_is_back_in_the_rotation(alice, org, sales, new_lead):
    bob = sales.attendants[0]
    client = client_for(alice)
    client.post(f"/manage/people/{bob.pk}/active/", {"is_active": "0"})

    client.post(f"/manage/people/{bob.pk}/active/", {"is_active": "1"})

    bob.refresh_from_db()
    assert bob.is_active is True
    assert bob.pk in {new_lead(org, team=sales).assignee_id for _ in range(2)}


def test_people_list_shows_only_the_organizations_people(alice, bob, charlie):
    response = client_for(alice).get("/manage/people/")

    people = set(response.context["page"])
    assert people == {alice, bob}
    assert "charlie" not in response.content.decode()


# --- API keys -----------------------------------------------------------------------------------


def test_api_key_is_shown_once_and_authenticates(alice, org):
    client = client_for(alice)

    response = client.post("/manage/api-keys/new/", {"name": "Landing page"})

    assert response.status_code == 200
    raw = response.context["raw_key"]
    assert raw in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    key = ApiKey.objects.get(organization=org, name="Landing page")
    assert key.prefix == raw[: ApiKey.PREFIX_LEN]
    assert key.created_by == alice.user
    assert raw not in client.get("/manage/api-keys/").content.decode()

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert api.get("/api/v1/leads").status_code == 200
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_api_key_list_shows_prefix_creator_and_last_use_of_the_organizations_keys(
    alice, org, other_org
):
    mine, _ = api_key_create(organization=org, name="CRM", created_by=alice.user)
    theirs, _ = api_key_create(organization=other_org, name="Their bot")

    page = client_for(alice).get("/manage/api-keys/").content.decode()

    assert mine.prefix in page
    assert "Alice" in page
    assert theirs.prefix not in page
    assert "Their bot" not in page


def test_api_key_without_a_name_is_refused(alice, org):
    response = client_for(alice).post("/manage/api-keys/new/", {"name": ""})

    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert not ApiKey.objects.filter(organization=org).exists()


def test_revoked_api_key_is_refused_by_the_api(alice, api_key, api):
    assert api.get("/api/v1/leads").status_code == 200
    client = client_for(alice)

    confirm = client.get(f"/manage/api-keys/{api_key.pk}/revoke/")
    still_valid = api.get("/api/v1/leads").status_code
    response = client.post(f"/manage/api-keys/{api_key.pk}/revoke/")

    assert confirm.status_code == 200
    assert still_valid == 200
    assert response.status_code == 302
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert api.get("/api/v1/leads").status_code == 401


# --- organization settings -------------------------------------------------------------------


def settings_form(**fields):
    data = {"name": "Acme Brasil", "time_zone": "America/Manaus", "language": "en",
            "attendants_see_all": "on", "default_team": ""}
    data.update(fields)
    return data


def test_manager_saves_the_organization_settings(alice, org, sales):
    response = client_for(alice).post(
        "/manage/settings/", settings_form(default_team=str(sales.pk))
    )

    assert response.status_code == 302
    org.refresh_from_db()
    assert (org.name, org.time_zone, org.language) == ("Acme Brasil", "America/Manaus", "en")
    assert org.attendants_see_all is True
    assert org.default_team == sales


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "america/sao_paulo", "UTC+3"])
def test_unknown_time_zone_is_refused_and_nothing_saved(alice, org, zone):
    response = client_for(alice).post("/manage/settings/", settings_form(time_zone=zone))

    assert response.status_code == 200
    assert "time_zone" in response.context["form"].errors
    org.refresh_from_db()
    assert (org.name, org.time_zone) == ("Acme", "America/Sao_Paulo")


def test_default_team_must_be_an_active_team_of_the_organization(
    alice, org, globex_team, make_team
):
    archived = make_team(org, size=0, slug="old", policy=False, is_archived=True)

    for team in (globex_team, archived):
        response = client_for(alice).post(
            "/manage/settings/", settings_form(default_team=str(team.pk))
        )
        assert response.status_code == 200
        assert "default_team" in response.context["form"].errors

    org.refresh_from_db()
    assert org.default_team is None
    assert org.name == "Acme"


def test_settings_change_only_the_managers_organization(alice, other_org):
    client_for(alice).post("/manage/settings/", settings_form())

    other_org.refresh_from_db()
    assert (other_org.name, other_org.time_zone) == ("Globex", "America/Sao_Paulo")
    assert Organization.objects.get(slug="acme").name == "Acme Brasil"
