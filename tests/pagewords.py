"""Every page a person can reach (``walk``), and what a page says, for the checks that
every page speaks one language: its visible text and the words assistive technology reads
(placeholders, labels, titles), leaving out code, scripts and anything marked as another
language (``lang``) or ``translate=no``."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

from .catalogs import entries, po_files

SKIPPED = {"script", "style", "code", "pre", "textarea", "svg"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
SPOKEN_ATTRIBUTES = ("placeholder", "aria-label", "title", "alt")

# Words that give the other language away, whatever the page shows as data.
TELLTALE = {
    "pt-br": re.compile(
        r"\b(the|and|your|you|with|nobody|Save|Inbox|Preferences|Log out|Received|Search|"
        r"Filter|Settings|Remove|Cancel|Delete|Attendants?|Teams?|Overflow)\b"),
    "en": re.compile(
        r"\b(não|você|nenhum|nenhuma|Salvar|Sair|Equipes?|Atendentes?|Preferências|"
        r"Caixa de entrada|Recebido|Buscar|Filtrar|Configurações|Remover|Cancelar|Excluir|"
        r"Transferir|Concluir)\b", re.IGNORECASE),
}
RAW = re.compile(r"%\(\w+\)[sd]|\{\{|\{%|\bmsgid\b")
# A code shown as it is stored ("attendant_offline"); e-mail addresses and paths aside.
# Placeholders ("{first_name}") and quoted API names ("“required_skills”") are meant so.
CODE = re.compile(r"(?<![@/.\w{“])[a-z]+(?:_[a-z]+)+\b(?![@/.}”])")


class Words(HTMLParser):
    def __init__(self, language: str):
        super().__init__(convert_charrefs=True)
        self.language = language
        self.stack: list[tuple[str, bool]] = []
        self.pieces: list[str] = []

    @property
    def hidden(self) -> bool:
        return any(skip for _tag, skip in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        lang = (attrs.get("lang") or "").lower()
        skip = (tag in SKIPPED or attrs.get("translate") == "no"
                or (tag != "html" and lang and lang != self.language))
        if not self.hidden and not skip:
            for name in SPOKEN_ATTRIBUTES:
                if attrs.get(name):
                    self.pieces.append(attrs[name])
            if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
                self.pieces.append(attrs["value"])
        if tag not in VOID:
            self.stack.append((tag, skip))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break

    def handle_data(self, data):
        if not self.hidden and data.strip():
            self.pieces.append(" ".join(data.split()))


def spoken(html: str, language: str) -> list[str]:
    parser = Words(language)
    parser.feed(html)
    return parser.pieces


def _other_language_strings() -> dict[str, set[str]]:
    """Per page language, whole strings that only the other language uses: on a pt-BR
    page an English msgid that pt-BR translates differently; on an English page such a
    pt-BR translation."""
    (po,) = [p for p in po_files() if p.parent.parent.name == "pt_BR"]
    english, portuguese = set(), set()
    for entry in entries(po):
        if not entry.msgid or not entry.translated or "%(" in entry.msgid:
            continue
        pairs = [(entry.msgid, entry.msgstr[0])]
        if entry.msgid_plural:
            pairs.append((entry.msgid_plural, entry.msgstr[-1]))
        for source, target in pairs:
            if source.strip().lower() != target.strip().lower():
                english.add(source.strip())
                portuguese.add(target.strip())
    same = english & portuguese | {"Transbordo"}  # alike in both (and the product's name)
    return {"pt-br": english - same, "en": portuguese - same}


OTHER_LANGUAGE = _other_language_strings()


def problems(html: str, language: str) -> list[str]:
    found = []
    for piece in spoken(html, language):
        if piece in OTHER_LANGUAGE[language]:
            found.append(f"untranslated: {piece!r}")
        elif match := TELLTALE[language].search(piece):
            found.append(f"{match.group(0)!r} in {piece!r}")
        elif match := RAW.search(piece) or CODE.search(piece):
            found.append(f"raw {match.group(0)!r} in {piece!r}")
    return found


# Not pages: actions, downloads, the API and Django's admin.
NOT_PAGES = re.compile(r"^/(api/|admin/|i18n/|static/|logout/|language/|healthz|readyz|metrics)"
                       r"|\.csv$|/export")
MAX_PAGES = 120
LINK = re.compile(r"<a\s[^>]*href=\"([^\"]+)\"([^>]*)>")


def pattern(url: str) -> str:
    """Pages that differ only by ids or by page number are one page."""
    parts = urlsplit(url)
    keys = sorted(f"{k}={v}" if k == "tab" else k for k, v in parse_qsl(parts.query)
                  if k not in ("page", "next"))
    return re.sub(r"\d+", "N", parts.path) + "?" + "&".join(keys)


def walk(client, start: str) -> dict[str, str]:
    """Follow every same-site link from ``start``: {url: html} of each page pattern."""
    seen, pages, todo = set(), {}, [start]
    while todo and len(pages) < MAX_PAGES:
        url = todo.pop(0)
        key = pattern(url)
        if key in seen:
            continue
        seen.add(key)
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response["Content-Type"]:
            continue
        html = response.content.decode()
        pages[url] = html
        for href, rest in LINK.findall(html):
            href = href.replace("&amp;", "&")
            if " download" in rest or not href.startswith(("/", "?")):
                continue
            if href.startswith("?"):
                href = urlsplit(url).path + href
            if not NOT_PAGES.search(urlsplit(href).path):
                todo.append(href)
    return pages
