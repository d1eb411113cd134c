"""The translation catalogs are complete and the committed .mo files are what the .po
files compile to (a stale .mo fails here, not in front of a user)."""

import gettext
import subprocess

import pytest

from .catalogs import entries, po_files


def _catalog(path) -> dict:
    with open(path, "rb") as handle:
        return dict(gettext.GNUTranslations(handle)._catalog)


@pytest.mark.gettext
@pytest.mark.parametrize("po", po_files(), ids=lambda p: p.parent.parent.name)
def test_the_committed_mo_is_what_the_po_compiles_to(po, tmp_path):
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(fresh), str(po)], check=True,
                   capture_output=True, timeout=60)
    committed = po.with_suffix(".mo")
    assert committed.exists(), f"{committed} is missing: run compilemessages and commit it"
    stale = _catalog(committed)
    current = _catalog(fresh)
    changed = sorted(
        str(key) for key in current.keys() | stale.keys() if current.get(key) != stale.get(key))
    assert not changed, (
        f"{committed} is stale ({len(changed)} messages differ, e.g. {changed[:3]}): run "
        "manage.py compilemessages -l pt_BR -l en --ignore .venv and commit the .mo")


def test_every_portuguese_message_is_translated_and_none_is_fuzzy():
    (po,) = [p for p in po_files() if p.parent.parent.name == "pt_BR"]
    live = [e for e in entries(po) if e.msgid]  # the header has no msgid
    assert len(live) > 500
    untranslated = [f"{e.where} {e.msgid!r}" for e in live if not e.translated]
    fuzzy = [f"{e.where} {e.msgid!r}" for e in live if "fuzzy" in e.flags]
    assert not untranslated, "untranslated in pt_BR:\n" + "\n".join(untranslated)
    assert not fuzzy, "fuzzy (a guess to check) in pt_BR:\n" + "\n".join(fuzzy)
    plural_forms = [e for e in live if e.msgid_plural]
    assert plural_forms and all(len(e.msgstr) == 2 for e in plural_forms)


def test_portuguese_counts_zero_as_plural():
    """"0 transferências", not "0 transferência" (gettext's usual pt_BR rule is n > 1)."""
    (po,) = [p for p in po_files() if p.parent.parent.name == "pt_BR"]
    header = next(e for e in entries(po) if not e.msgid).msgstr[0]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header
