"""My past leads (issue 14, part 2): leads that passed on from me stay findable, read only,
with what happened to them; the inbox searches external ids and filters by date and (for
managers) by attendant."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from leads.models import Lead
from leads.services import lead_transfer
from leads.sweep import overflow_sweep
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


def inbox(membership, language="en", **params):
    client = client_for(membership)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get("/inbox/", params)
    assert response.status_code == 200
    return response


def ids(response):
    return [lead.pk for lead in response.context["page"].object_list]


@pytest.fixture
def desk(org, make_team):
    team = make_team(org, size=3, slug="desk", service_minutes=10)
    for membership, first in zip(team.attendants, ("Ana", "Bruno", "Carla"), strict=True):
        membership.user.first_name, membership.user.last_name = first, ""
        membership.user.save()
    return team


@pytest.fixture
def history(org, desk, new_lead):
    """Ana held three leads: one overflowed to Bruno, one she handed to Carla by hand (who
    concluded it), one she still holds. Bruno's own lead never touched Ana."""
    ana, bruno, carla = desk.attendants
    now = timezone.now()
    overflowed = new_lead(org, team=desk, name="Olga Overflow", external_id="crm-77",
                          now=now - timedelta(minutes=30))
    own_bruno = new_lead(org, team=desk, name="Bia do Bruno", now=now - timedelta(minutes=29))
    handed = new_lead(org, team=desk, name="Helena Handed", now=now - timedelta(minutes=28))
    kept = new_lead(org, team=desk, name="Kátia Kept", now=now - timedelta(minutes=3))
    assert [overflowed.assignee_id, own_bruno.assignee_id, handed.assignee_id,
            kept.assignee_id] == [ana.pk, bruno.pk, carla.pk, ana.pk]
    lead_transfer(organization=org, lead_id=handed.pk, membership=carla, to_member=ana)
    lead_transfer(organization=org, lead_id=handed.pk, membership=ana, to_member=carla,
                  note="Ela quer falar com a Carla")
    from leads.services import lead_conclude

    lead_conclude(organization=org, lead_id=handed.pk, membership=carla)
    # Only the oldest is overdue; Bruno gets it (he is next after Ana).
    Lead.objects.filter(pk__in=[own_bruno.pk, kept.pk, handed.pk]).update(overflow_active=False)
    assert overflow_sweep(now=now) == 1
    overflowed.refresh_from_db()
    assert overflowed.assignee_id == bruno.pk
    return overflowed, handed, kept, own_bruno


def test_past_tab_lists_leads_that_passed_on_from_me_open_or_concluded(desk, history):
    overflowed, handed, kept, own_bruno = history
    ana, bruno, _carla = desk.attendants
    response = inbox(ana, tab="past")
    assert response.context["tab"] == "past"
    assert ids(response) == [handed.pk, overflowed.pk]  # newest first, concluded too
    assert "Past leads" in response.content.decode()
    # Bruno never passed a lead on: nothing there; Carla neither (she concluded hers) but she
    # handed "handed" to Ana once before it came back: it is with her now, so not past.
    assert ids(inbox(bruno, tab="past")) == []
    assert ids(inbox(desk.attendants[2], tab="past")) == []
    assert ids(inbox(ana, tab="past", status="open")) == [overflowed.pk]


def test_a_past_lead_opens_read_only_with_what_happened(desk, history):
    overflowed, handed, _kept, _own = history
    ana = desk.attendants[0]
    client = client_for(ana)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "pt-br"
    page = client.get(f"/leads/{overflowed.pk}/").content.decode()
    assert "Um dos seus leads anteriores: somente leitura." in page
    assert "Está com Bruno agora." in page
    assert "Transferido por transbordo de Ana, que não o abriu a tempo." in page
    for form in ("transfer-form", "conclude-form", "note-form", "stage-form", "assign-to-me"):
        assert f'id="{form}"' not in page
    page = client.get(f"/leads/{handed.pk}/").content.decode()
    assert "Está concluído agora." in page and "Ela quer falar com a Carla" in page
    assert not overflowed.events.filter(type="accessed", to_member=ana).exists()


@pytest.mark.parametrize(("action", "data"), [
    ("assign", {}), ("transfer", {"note": "x"}), ("conclude", {"note": "feito"}),
    ("reopen", {}), ("stage", {"stage": "contacted"}), ("note", {"text": "ainda é meu?"}),
])
def test_a_former_holder_cannot_act_on_a_past_lead(desk, history, action, data):
    overflowed, _handed, _kept, _own = history
    ana, bruno, _carla = desk.attendants
    before = list(overflowed.events.values_list("pk", flat=True))
    data = dict(data)
    if action == "transfer":
        data["to_member"] = ana.pk
    response = client_for(ana).post(f"/leads/{overflowed.pk}/{action}/", data)
    assert response.status_code == 403 and 'id="moved-on"' in response.content.decode()
    overflowed.refresh_from_db()
    assert overflowed.assignee_id == bruno.pk and overflowed.status == "open"
    assert overflowed.stage == "new"
    assert list(overflowed.events.values_list("pk", flat=True)) == before


def test_search_finds_a_lead_by_external_id(desk, history, alice):
    overflowed, _handed, _kept, _own = history
    ana = desk.attendants[0]
    assert ids(inbox(ana, tab="past", q="crm-77")) == [overflowed.pk]
    assert ids(inbox(alice, tab="all", q="crm-77")) == [overflowed.pk]
    assert ids(inbox(alice, tab="all", q="crm-7")) == []  # the whole id, not a piece


def test_filter_by_received_date(org, desk, new_lead, bob):
    ana = desk.attendants[0]
    today = timezone.localdate()
    now = timezone.now()
    old = new_lead(org, team=desk, now=now - timedelta(days=3))
    new = new_lead(org, team=desk, now=now)
    Lead.objects.filter(pk__in=[old.pk, new.pk]).update(assignee=ana)
    day = (today - timedelta(days=3)).isoformat()
    assert ids(inbox(ana, received_from=today.isoformat())) == [new.pk]
    assert ids(inbox(ana, received_to=day)) == [old.pk]
    assert set(ids(inbox(ana, received_from=day, received_to=today.isoformat()))) == {
        old.pk, new.pk}
    # A date that is no date is ignored like any bad filter, never a 500.
    assert inbox(ana, received_from="2026-02-30").status_code == 200


def test_managers_filter_by_attendant_and_attendants_cannot(org, desk, history, alice,
                                                            charlie):
    overflowed, handed, kept, own_bruno = history
    ana, bruno, _carla = desk.attendants
    response = inbox(alice, tab="all", assignee=bruno.pk)
    assert set(ids(response)) == {overflowed.pk, own_bruno.pk}
    assert 'name="assignee"' in response.content.decode()
    # An attendant has no such filter: the parameter is ignored.
    response = inbox(ana, tab="mine", assignee=bruno.pk)
    assert ids(response) == [kept.pk] and 'name="assignee"' not in response.content.decode()
    # Another organization's person is no choice: the filter is refused (ignored), not a leak.
    response = inbox(alice, tab="all", assignee=charlie.pk)
    assert response.context["filters"].errors.get("assignee")


def test_past_leads_stay_in_their_organization(org, other_org, desk, history, make_team,
                                               new_lead, charlie):
    overflowed, _handed, _kept, _own = history
    # Someone of another organization: the lead is 404, and their past tab is empty.
    assert client_for(charlie).get(f"/leads/{overflowed.pk}/").status_code == 404
    assert ids(inbox(charlie, tab="past")) == []
    assert ids(inbox(charlie, tab="all", q="crm-77")) == []
