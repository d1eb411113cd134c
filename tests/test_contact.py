"""One-tap contact (issue 14, part 2): WhatsApp with the team's greeting, tel: and mailto:."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings

from audit.models import AuditEvent
from leads.contact import phone_international
from teams.models import Team
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("typed", "digits"), [
    ("+55 (11) 91234-5678", "5511912345678"),      # a mobile, as it should be written
    ("(11) 91234-5678", "5511912345678"),          # national: +55 added
    ("011 91234 5678", "5511912345678"),           # with the trunk 0
    ("11 8765-4321", "5511987654321"),             # an old 8-digit mobile: the 9th digit
    ("+55 21 7654-3210", "5521976543210"),
    ("(11) 3456-7890", "551134567890"),            # a landline keeps 8 digits
    ("5511912345678", "5511912345678"),            # already international, without +
    ("+1 415 555 0100", "14155550100"),            # another country: left alone
    ("+351 912 345 678", "351912345678"),
    ("", ""), ("12345", ""), ("+55 11", ""), ("+1 2345 6789 0123 4567", ""),
])
def test_phone_international(typed, digits):
    assert phone_international(typed) == digits


def contact_of(html):
    """The contact buttons' links by kind: ``{"whatsapp": ..., "tel": ..., "mailto": ...}``."""
    found = re.findall(r'<a [^>]*href="([^"]+)"[^>]*data-contact="(\w+)"', html)
    return {kind: href for href, kind in found}


def page(membership, lead, language="pt-br"):
    client = client_for(membership)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(f"/leads/{lead.pk}/")
    assert response.status_code == 200
    return response.content.decode().replace("&amp;", "&")


def test_whatsapp_link_for_a_brazilian_mobile_with_the_default_greeting(
    org, make_team, new_lead
):
    team = make_team(org, size=1, slug="plantao")
    ana = team.attendants[0]
    ana.user.first_name = "Ana"
    ana.user.save()
    lead = new_lead(org, team=team, name="Maria Silva", phone="(11) 8765-4321",
                    email="maria+lp@example.com")
    links = contact_of(page(ana, lead))
    url = urlsplit(links["whatsapp"])
    assert (url.scheme, url.netloc, url.path) == ("https", "wa.me", "/5511987654321")
    assert parse_qs(url.query)["text"] == ["Olá, Maria! Aqui é Ana, da equipe Plantao."]
    assert links["tel"] == "tel:+5511987654321"
    assert links["mailto"] == "mailto:maria%2Blp@example.com"
    english = contact_of(page(ana, lead, "en"))
    assert parse_qs(urlsplit(english["whatsapp"]).query)["text"] == [
        "Hello Maria! This is Ana, from Plantao."]


def test_the_teams_greeting_with_its_placeholders(org, make_team, new_lead, alice):
    team = make_team(org, size=1, slug="vendas")
    ana = team.attendants[0]
    ana.user.first_name = "Ana"
    ana.user.save()
    response = client_for(alice).post(f"/manage/teams/{team.pk}/edit/", {
        "name": "Vendas", "slug": "vendas", "strategy": "round_robin",
        "sticky_returning": "on",
        "whatsapp_greeting": "Oi {lead_first_name}, tudo bem? Sou {attendant_first_name} "
                             "da {team} & vi seu pedido.",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    team.refresh_from_db()
    assert team.whatsapp_greeting.startswith("Oi {lead_first_name}")
    event = AuditEvent.objects.filter(organization=org).latest("id")
    assert "whatsapp_greeting" in str(event.changes)

    lead = new_lead(org, team=team, name="joão pedro", phone="+55 21 99876-5432")
    text = parse_qs(urlsplit(contact_of(page(ana, lead))["whatsapp"]).query)["text"]
    assert text == ["Oi joão, tudo bem? Sou Ana da Vendas & vi seu pedido."]

    nameless = new_lead(org, team=team, name="", phone="+55 21 99876-5433")
    text = parse_qs(urlsplit(contact_of(page(ana, nameless))["whatsapp"]).query)["text"]
    assert text == ["Oi, tudo bem? Sou Ana da Vendas & vi seu pedido."]


def test_an_unknown_placeholder_is_refused_and_nothing_changes(org, make_team, alice):
    team = make_team(org, size=1, slug="vendas")
    response = client_for(alice).post(f"/manage/teams/{team.pk}/edit/", {
        "name": "Vendas", "slug": "vendas", "strategy": "round_robin",
        "whatsapp_greeting": "Oi {nome}",
    })
    assert response.status_code == 200
    assert "whatsapp_greeting" in response.context["form"].errors
    assert Team.objects.get(pk=team.pk).whatsapp_greeting == ""


def test_no_whatsapp_or_call_without_a_usable_number(org, make_team, new_lead):
    team = make_team(org, size=1)
    ana = team.attendants[0]
    lead = new_lead(org, team=team, phone="123", email="")
    html = page(ana, lead)
    assert contact_of(html) == {}
    assert 'id="contact"' not in html
    assert ">123<" in html  # the number is still shown as typed


def test_another_organizations_lead_has_no_contact_page(org, other_org, make_team, new_lead,
                                                        charlie):
    team = make_team(org, size=1)
    lead = new_lead(org, team=team, phone="(11) 91234-5678")
    response = client_for(charlie).get(f"/leads/{lead.pk}/")
    assert response.status_code == 404
    assert b"wa.me" not in response.content
