"""The Vietnamese catalog is complete and compiled: no entry left empty or fuzzy in
``locale/vi/LC_MESSAGES/django.po``, and ``django.mo`` says the same as the ``.po``."""

import ast
import gettext
from pathlib import Path

from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale" / "vi" / "LC_MESSAGES"


def po_entries(path):
    """The ``.po`` entries as dicts: ``flags`` (set), ``msgctxt``, ``msgid``,
    ``msgid_plural``, ``msgstr`` (a list: one per plural form), obsolete ones skipped."""
    entries, entry, key = [], None, None

    def finish():
        if entry is not None and "msgid" in entry:
            entries.append(entry)

    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            finish()
            entry, key = None, None
            continue
        if line.startswith("#~"):
            continue
        entry = entry if entry is not None else {"flags": set(), "msgstr": []}
        if line.startswith("#,"):
            entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if key == "msgstr":
                entry["msgstr"][-1] += value
            else:
                entry[key] += value
        else:
            word, _sep, rest = line.partition(" ")
            value = ast.literal_eval(rest)
            if word.startswith("msgstr"):
                key = "msgstr"
                entry["msgstr"].append(value)
            else:
                key = word
                entry[key] = value
    return entries


def test_every_vietnamese_entry_is_translated_and_none_is_fuzzy():
    entries = [e for e in po_entries(LOCALE / "django.po") if e["msgid"]]
    assert len(entries) > 500  # the parser read the catalog
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    empty = [e["msgid"] for e in entries if not all(e["msgstr"])]
    assert fuzzy == []
    assert empty == []


def test_compiled_catalog_matches_the_po_file():
    with open(LOCALE / "django.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in po_entries(LOCALE / "django.po"):
        if not entry["msgid"]:
            continue
        context = entry.get("msgctxt")
        if "msgid_plural" in entry:
            got = (compiled.npgettext(context, entry["msgid"], entry["msgid_plural"], 1)
                   if context is not None else
                   compiled.ngettext(entry["msgid"], entry["msgid_plural"], 1))
        else:
            got = (compiled.pgettext(context, entry["msgid"]) if context is not None
                   else compiled.gettext(entry["msgid"]))
        if got != entry["msgstr"][0]:
            stale.append(entry["msgid"])
    assert stale == [], "django.mo is out of date: run make messages (or msgfmt)"
