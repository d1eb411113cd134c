"""Why a lead came to me (issue 14, part 2): on the lead page and in its history, translated."""

import html
import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from history.models import LeadEvent
from history.selectors import lead_history
from leads.arrival import arrivals_explain
from leads.queue import presence_change, queue_drain
from leads.selectors import lead_get
from leads.services import lead_assign_to_me, lead_transfer
from leads.sweep import overflow_sweep
from routing.models import RoutingRule
from teams.models import Membership, Team

pytestmark = pytest.mark.django_db

ONLINE, OFFLINE = Membership.Presence.ONLINE, Membership.Presence.OFFLINE


def named(team, *names):
    for membership, first in zip(team.attendants, names, strict=False):
        membership.user.first_name, membership.user.last_name = first, ""
        membership.user.save()
    return team


def page_of(client, membership, lead, language="en"):
    client.force_login(membership.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(f"/leads/{lead.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def text(fragment):
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def why_label(doc):
    (label,) = re.findall(r"<dt>([^<]*)</dt>\s*<dd id=\"why-here\"", doc)
    return text(label)


def why_here(doc):
    found = re.findall(r'<dd id="why-here" data-why="([^"]*)">(.*?)</dd>', doc, re.S)
    assert len(found) == 1, found
    return found[0][0], text(found[0][1])


def no_why_here(doc):
    return 'id="why-here"' not in doc


def history_whys(doc):
    history = doc.split('id="history"', 1)[1].split("</ol>", 1)[0]
    return [(kind, text(body)) for kind, body in
            re.findall(r'<div class="small" data-why="([^"]*)">(.*?)</div>', history, re.S)]


def test_round_robin_in_both_languages(client, org, make_team, new_lead):
    team = named(make_team(org, size=2, slug="plantao"), "Ana", "Bruno")
    lead = new_lead(org, team=team)
    ana = team.attendants[0]
    kind, text = why_here(page_of(client, ana, lead))
    assert kind == "round_robin"
    assert text == "Round robin: it was Ana's turn in Plantao."
    kind, text = why_here(page_of(client, ana, lead, "pt-br"))
    assert text == "Rodízio: era a vez de Ana em Plantao."
    doc = page_of(client, ana, lead, "pt-br")
    assert why_label(doc) == "Por que veio para você"
    assert history_whys(doc) == [("round_robin", "Rodízio: era a vez de Ana em Plantao.")]


def test_least_open(client, org, make_team, new_lead):
    team = named(make_team(org, size=2, slug="desk", strategy=Team.Strategy.LEAST_OPEN),
                 "Ana", "Bruno")
    new_lead(org, team=team)
    second = new_lead(org, team=team)
    bruno = team.attendants[1]
    assert second.assignee_id == bruno.pk
    assert why_here(page_of(client, bruno, second)) == (
        "least_open", "Least open leads: Bruno had the fewest open leads in Desk.")


def test_returning_customer_back_to_who_held_them(client, org, make_team, new_lead):
    team = named(make_team(org, size=2, slug="desk"), "Ana", "Bruno")
    new_lead(org, team=team, email="maria@example.com")
    again = new_lead(org, team=team, email="Maria@Example.com")
    ana = team.attendants[0]
    assert again.assignee_id == ana.pk
    assert why_here(page_of(client, ana, again)) == (
        "returning", "Returning customer: back to Ana, who attended them before.")
    assert why_here(page_of(client, ana, again, "pt-br"))[1] == (
        "Cliente que voltou: de volta para Ana, que já o atendeu.")


def test_returning_customer_whose_attendant_could_not_take_it(client, org, make_team, new_lead):
    team = named(make_team(org, size=2, slug="desk", sticky_returning=False), "Ana", "Bruno")
    new_lead(org, team=team, phone="+55 11 91234-5678")
    again = new_lead(org, team=team, phone="11912345678")
    bruno = team.attendants[1]
    assert again.assignee_id == bruno.pk
    assert why_here(page_of(client, bruno, again)) == (
        "round_robin",
        "Round robin: it was Bruno's turn in Desk. A returning customer: Ana attended them "
        "before but could not take it now.",
    )


def test_dedicated_by_a_named_rule(client, org, make_team, new_lead):
    team = named(make_team(org, size=3, slug="desk", policy=None), "Ana", "Bruno", "Carla")
    carla = team.attendants[2]
    rule = RoutingRule.objects.create(
        organization=org, name="Grandes contas", position=0, attendant=carla,
        conditions=[{"field": "custom.value", "op": "gte", "value": 10000}],
    )
    lead = new_lead(org, team=team, custom={"value": 50000})
    assert lead.assignee_id == carla.pk
    assert why_here(page_of(client, carla, lead)) == (
        "dedicated", "Dedicated to Carla by the rule “Grandes contas”.")
    assert why_here(page_of(client, carla, lead, "pt-br"))[1] == (
        "Direcionado para Carla pela regra “Grandes contas”.")
    rule.delete()
    assert why_here(page_of(client, carla, lead)) == (
        "dedicated", "Dedicated to Carla by a routing rule removed since.")


def test_transferred_by_overflow_from_x(client, org, make_team, new_lead):
    team = named(make_team(org, size=2, slug="desk", service_minutes=10), "Ana", "Bruno")
    ana, bruno = team.attendants
    now = timezone.now()
    lead = new_lead(org, team=team, now=now)
    with time_machine.travel(now + timedelta(minutes=11), tick=False):
        assert overflow_sweep() == 1
    lead.refresh_from_db()
    assert lead.assignee_id == bruno.pk
    doc = page_of(client, bruno, lead)
    assert why_here(doc) == (
        "overflow",
        "Transferred by overflow (transbordo) from Ana, who did not open it in time.")
    assert [kind for kind, _text in history_whys(doc)] == ["round_robin", "overflow"]
    assert why_here(page_of(client, bruno, lead, "pt-br"))[1] == (
        "Transferido por transbordo de Ana, que não o abriu a tempo.")


def test_transferred_by_hand_by_x_with_their_note(client, org, make_team, new_lead):
    team = named(make_team(org, size=2, slug="desk"), "Ana", "Bruno")
    ana, bruno = team.attendants
    lead = new_lead(org, team=team)
    lead_transfer(organization=org, lead_id=lead.pk, membership=ana, to_member=bruno,
                  note="Cliente prefere WhatsApp")
    kind, text = why_here(page_of(client, bruno, lead))
    assert kind == "by_hand"
    assert text == "Transferred by hand by Ana. Cliente prefere WhatsApp"
    assert why_here(page_of(client, bruno, lead, "pt-br"))[1] == (
        "Transferido manualmente por Ana. Cliente prefere WhatsApp")


def test_transferred_by_hand_by_a_manager_from_the_holder(client, org, make_team, new_lead,
                                                          alice):
    team = named(make_team(org, size=2, slug="desk"), "Ana", "Bruno")
    ana, bruno = team.attendants
    lead = new_lead(org, team=team)
    lead_transfer(organization=org, lead_id=lead.pk, membership=alice, to_member=bruno,
                  note="Ela pediu um especialista")
    assert why_here(page_of(client, bruno, lead)) == (
        "by_hand",
        f"Transferred by hand by {alice.display_name}, from Ana. Ela pediu um especialista")


def test_from_the_queue_and_taken_from_it(client, org, make_team, new_lead):
    team = named(make_team(org, size=2, slug="desk", policy=None, online_only=True),
                 "Ana", "Bruno")
    ana, bruno = team.attendants
    Membership.objects.filter(pk__in=[ana.pk, bruno.pk]).update(presence=OFFLINE)
    waiting = new_lead(org, team=team)
    taken = new_lead(org, team=team)
    assert waiting.assignee_id is None and taken.assignee_id is None
    # A queued lead says why nobody holds it yet, in its history; the card says nothing.
    doc = page_of(client, ana, waiting)
    assert no_why_here(doc)
    assert history_whys(doc) == [("queued", "Waiting in the queue: nobody could take it yet.")]

    lead_assign_to_me(organization=org, lead_id=taken.pk, membership=bruno)
    assert why_here(page_of(client, bruno, taken)) == ("self", "Bruno took it from the queue.")

    Membership.objects.filter(pk=ana.pk).update(presence=ONLINE)
    assert queue_drain(team=team) == 1
    assert why_here(page_of(client, ana, waiting)) == (
        "queue", "From the queue: it waited until Ana could take it.")
    assert why_here(page_of(client, ana, waiting, "pt-br"))[1] == (
        "Da fila: esperou até Ana poder recebê-lo.")


def test_passed_on_because_the_holder_went_offline(client, org, make_team, new_lead):
    team = named(make_team(org, size=2, slug="desk", policy=None, online_only=True),
                 "Ana", "Bruno")
    ana, bruno = team.attendants
    lead = new_lead(org, team=team)
    presence_change(membership=ana, presence=OFFLINE)
    lead.refresh_from_db()
    assert lead.assignee_id == bruno.pk
    assert why_here(page_of(client, bruno, lead)) == (
        "passed_on", "Passed on from Ana: they went offline.")


def test_a_manager_reads_why_it_is_with_someone_else(client, org, make_team, new_lead, alice):
    team = named(make_team(org, size=2, slug="desk"), "Ana", "Bruno")
    lead = new_lead(org, team=team)
    doc = page_of(client, alice, lead)
    assert why_label(doc) == "Why it is with them"
    assert why_here(doc)[0] == "round_robin"


def test_the_explanation_costs_no_query_per_event(client, org, make_team, new_lead,
                                                  django_assert_max_num_queries):
    team = named(make_team(org, size=3, slug="desk"), "Ana", "Bruno", "Carla")
    ana, bruno, carla = team.attendants
    lead = new_lead(org, team=team)
    for giver, taker in ((ana, bruno), (bruno, carla), (carla, ana), (ana, bruno)):
        lead_transfer(organization=org, lead_id=lead.pk, membership=giver, to_member=taker)
    events = list(lead_history(organization=org, lead_id=lead.pk))
    lead = lead_get(organization=org, lead_id=lead.pk)  # as the page loads them
    with django_assert_max_num_queries(0):
        current = arrivals_explain(lead=lead, events=events)
    assert current.type == LeadEvent.Type.TRANSFERRED and current.to_member_id == bruno.pk
