"""One-tap contact from the lead page: WhatsApp (``https://wa.me/<digits>?text=…`` with the
team's greeting), ``tel:`` and ``mailto:`` links.

Numbers are read as Brazilian unless written with another country code (``+``/``00``):
``(11) 91234-5678`` → ``5511912345678``. A mobile number still written the old way, with
eight digits starting 6–9 (``11 8765-4321``), gets the ninth digit every Brazilian mobile
has had since 2016 (``5511987654321``); landlines (eight digits starting 2–5) keep theirs.
Our own ten lines over ``leads.normalize`` rather than the phonenumbers library: it
validates numbers but does not add the missing 9, which is the one repair needed here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from string import Formatter
from urllib.parse import quote

from django.utils.translation import gettext as _

from teams.models import Membership, Team

from .models import Lead
from .normalize import DEFAULT_COUNTRY_CODE, normalize_phone

# E.164 allows at most 15 digits; fewer than 10 is no full number anywhere we serve.
MIN_DIGITS, MAX_DIGITS = 10, 15
# A Brazilian area code (DDD): two digits, neither of them 0.
BR_AREA = re.compile(r"^[1-9]{2}$")


def phone_international(phone: str) -> str:
    """Digits with the country code, Brazilian mobiles with their ninth digit; ``""`` when
    it cannot be a full number."""
    digits = normalize_phone(phone)
    if digits.startswith(DEFAULT_COUNTRY_CODE):
        national = digits[len(DEFAULT_COUNTRY_CODE):]
        if len(national) == 10 and BR_AREA.match(national[:2]) and national[2] in "6789":
            digits = DEFAULT_COUNTRY_CODE + national[:2] + "9" + national[2:]
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        return ""
    return digits


def first_name(full_name: str) -> str:
    return (full_name or "").strip().split(" ")[0]


def greeting_text(*, lead: Lead, membership: Membership) -> str:
    """The team's WhatsApp greeting (or the default) with the lead's and the attendant's
    first names and the team's name filled in; a missing name leaves no stray space."""
    team: Team | None = lead.team
    template = (team.whatsapp_greeting if team else "") or _(
        "Hello {lead_first_name}! This is {attendant_first_name}, from {team}.")
    values = {
        "lead_first_name": first_name(lead.name),
        "attendant_first_name": membership.first_name,
        "team": team.name if team else lead.organization.name,
    }
    out = []
    for literal, name, _spec, _conversion in Formatter().parse(template):
        out.append(literal)
        if name is not None:
            out.append(values.get(name, ""))
    text = "".join(out)
    # A missing name leaves "Hello !" or "Olá, !": close the gap.
    text = re.sub(r"[ \t]+([,.!?;:])", r"\1", text)
    text = re.sub(r",([.!?])", r"\1", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


@dataclass(frozen=True)
class ContactLinks:
    whatsapp: str = ""
    tel: str = ""
    mailto: str = ""


def contact_links(*, lead: Lead, membership: Membership) -> ContactLinks:
    digits = phone_international(lead.phone)
    whatsapp = tel = ""
    if digits:
        text = quote(greeting_text(lead=lead, membership=membership), safe="")
        whatsapp = f"https://wa.me/{digits}?text={text}"
        tel = f"tel:+{digits}"
    mailto = f"mailto:{quote(lead.email, safe='@')}" if lead.email else ""
    return ContactLinks(whatsapp=whatsapp, tel=tel, mailto=mailto)
