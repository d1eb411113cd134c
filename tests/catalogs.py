"""Read gettext catalogs (.po) for the catalog checks: a small reader, enough for the files
makemessages writes (no dependency for a test helper)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "locale"


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str = ""
    msgctxt: str | None = None
    msgstr: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    where: str = ""

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr)


def _unquote(text: str) -> str:
    return ast.literal_eval(text)


def entries(path: Path) -> list[Entry]:
    """The live entries of a .po file (obsolete ``#~`` ones left out), header included."""
    found: list[Entry] = []
    entry = Entry()
    key = None
    index = 0

    def close():
        nonlocal entry, key
        if key is not None:
            found.append(entry)
        entry, key = Entry(), None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            close()
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#,"):
            if key is not None and key.startswith("msgstr"):
                close()
            entry.flags |= {f.strip() for f in line[2:].split(",")}
            continue
        if line.startswith("#"):
            if key is not None and key.startswith("msgstr"):
                close()
            continue
        if line.startswith('"'):
            value = _unquote(line)
        else:
            word, _, rest = line.partition(" ")
            value = _unquote(rest)
            if word.startswith("msgstr") and key is None:
                raise ValueError(f"{path}:{number}: msgstr without msgid")
            if word in ("msgctxt", "msgid") and key is not None and key.startswith("msgstr"):
                close()
            key = word
            entry.where = entry.where or f"{path.name}:{number}"
            if word.startswith("msgstr"):
                index = int(word[7:-1]) if "[" in word else 0
                while len(entry.msgstr) <= index:
                    entry.msgstr.append("")
            if word == "msgctxt":
                entry.msgctxt = ""
        if key == "msgid":
            entry.msgid += value
        elif key == "msgid_plural":
            entry.msgid_plural += value
        elif key == "msgctxt":
            entry.msgctxt += value
        elif key and key.startswith("msgstr"):
            entry.msgstr[index] += value
    close()
    return found


def po_files() -> list[Path]:
    return sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))
