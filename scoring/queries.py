"""Reusable reads of regimes and criteria sets.

:func:`criteria_tree` reads a whole set (parts → sections → criterion groups → criteria →
options) in a fixed number of queries, one per level, whatever the size of the set, and
assembles plain nested dicts in Python. Pages, the API and the blank scoresheet PDF all
render from it.
"""

import re
from collections import defaultdict

from django.db.models import Q

from . import rules
from .models import (
    CriteriaSet,
    Criterion,
    CriterionGroup,
    Option,
    Part,
    Regime,
    Section,
    StarBand,
)

#: Number of queries :func:`criteria_tree` runs (one per level).
TREE_QUERIES = 5

_ERRATUM_ID = re.compile(r"^\s*(E[0-9A-Z]+-\d+)")

_COMMON = ("id", "code", "title", "max", "notes", "erratum", "data_warning")


def star_mark(stars):
    """``3`` → ``"***"`` as printed on the decision's sheets; ``None`` → ``""``."""
    return "*" * stars if stars else ""


def erratum_id(text):
    """The ERRATA.md ID an erratum text starts with (``"E26-02"``), or ``""``."""
    match = _ERRATUM_ID.match(text or "")
    return match.group(1) if match else ""


def _annotate(row):
    row["erratum_id"] = erratum_id(row.get("erratum"))
    return row


# --- regimes ---------------------------------------------------------------------------------


class MissingBands(LookupError):
    """A regime has no star bands: its data is incomplete (no silent default)."""


def star_bands_many(regime_ids):
    """{regime id: its star bands for ``scoring.rules.band``}, in one query. The bands are
    data of the regime (``StarBand`` rows); a regime without them raises
    :class:`MissingBands` rather than scoring against bands it does not have."""
    ids = set(regime_ids)
    found = {pk: [] for pk in ids}
    for regime_id, stars, min_score in (StarBand.objects.filter(regime_id__in=ids).order_by()
                                        .values_list("regime_id", "stars", "min_score")):
        found[regime_id].append((stars, min_score))
    missing = sorted(pk for pk, rows in found.items() if not rows)
    if missing:
        raise MissingBands(f"Regime(s) {missing} have no star bands; load the regime data "
                           "(scoring/regimes.py).")
    return {pk: bands_of(pk, rows) for pk, rows in found.items()}


def bands_of(regime_id, rows):
    """The star bands of one regime from its ``(stars, min_score)`` rows, read by the
    caller (e.g. in the same query as a sheet): highest star first; none raises
    :class:`MissingBands`."""
    if not rows:
        raise MissingBands(f"Regime(s) {[regime_id]} have no star bands; load the regime data "
                           "(scoring/regimes.py).")
    return tuple(sorted((rules.Band(stars, min_score) for stars, min_score in rows),
                        key=lambda b: -b.stars))


def star_bands(regime_id):
    """The star bands of one regime (see :func:`star_bands_many`)."""
    return star_bands_many([regime_id])[regime_id]



def regimes_with_rules():
    """Regimes with their process levels and star bands (three queries in all)."""
    return Regime.objects.select_related("criteria_from").prefetch_related("levels", "bands")


def resolve_regime(value):
    """The regime named by its short code or its code (``"26/2026"``, ``"148-1489"``,
    ``"26/2026/QĐ-TTg"``; case-insensitive), or ``None``."""
    value = (value or "").strip()
    if not value:
        return None
    return (Regime.objects.select_related("criteria_from")
            .filter(Q(slug__iexact=value) | Q(code__iexact=value)).first())


# --- criteria sets ---------------------------------------------------------------------------


def criteria_sets():
    """Every version of every set with what a listing shows (one query)."""
    return CriteriaSet.objects.select_related("regime", "group", "subgroup").order_by(
        "regime__effective_from", "set_no", "-version")


def grouped_by_product_group(sets):
    """``sets`` (ordered by set number) as ``[{"group": ProductGroup, "sets": […]}]``, runs
    of consecutive sets of the same product group (each set still carries its sub-group)."""
    blocks = []
    for cs in sets:
        if not blocks or blocks[-1]["group"].pk != cs.group_id:
            blocks.append({"group": cs.group, "sets": []})
        blocks[-1]["sets"].append(cs)
    return blocks


def criteria_tree(criteria_set):
    """The whole tree of ``criteria_set`` as plain nested dicts, in :data:`TREE_QUERIES`
    queries (one per level, each filtered on the set).

    Returns ``{"parts": […], "criteria_count": n, "options_count": m}``; each part has
    ``sections``; each section ``criterion_groups`` (heading rows), ``criteria`` (in order,
    each with ``group``: the code of its heading or ``None``) and ``blocks`` (the criteria
    as runs ``{"group": heading dict or None, "criteria": […]}``, the order a sheet prints
    them); each criterion ``options`` and, when it has cases, ``case_blocks``
    (``{"case": {code, title, max}, "options": […]}``). Every element carries its
    ``erratum`` text and ``erratum_id``; criteria and options their ``min_star`` and
    ``stars`` (``"***"``). Points and maxima are :class:`~decimal.Decimal`.
    """
    pk = criteria_set.pk if isinstance(criteria_set, CriteriaSet) else criteria_set
    parts = [_annotate(p) for p in Part.objects.filter(criteria_set_id=pk)
             .order_by("order").values(*_COMMON)]
    sections = [_annotate(s) for s in Section.objects.filter(criteria_set_id=pk)
                .order_by("part__order", "order").values(*_COMMON, "part_id")]
    groups = [_annotate(g) for g in CriterionGroup.objects.filter(criteria_set_id=pk)
              .order_by("order").values(*_COMMON, "section_id")]
    criteria = [_annotate(c) for c in Criterion.objects.filter(criteria_set_id=pk)
                .order_by("order").values(*_COMMON, "section_id", "group_id", "position",
                                          "min_star", "mandatory_for_stars", "implicit",
                                          "cases")]
    options = [_annotate(o) for o in Option.objects.filter(criteria_set_id=pk)
               .order_by("criterion_id", "order")
               .values("id", "criterion_id", "label", "points", "points_raw", "min_star",
                       "case", "erratum", "data_warning")]

    options_of = defaultdict(list)
    for o in options:
        o["stars"] = star_mark(o["min_star"])
        options_of[o.pop("criterion_id")].append(o)

    group_by_id = {}
    groups_of = defaultdict(list)
    for g in groups:
        group_by_id[g["id"]] = g
        groups_of[g.pop("section_id")].append(g)

    criteria_of = defaultdict(list)
    for c in criteria:
        c["options"] = options_of.get(c["id"], [])
        c["stars"] = star_mark(c["min_star"])
        c["mandatory_marks"] = [star_mark(n) for n in c["mandatory_for_stars"] or []]
        group = group_by_id.get(c.pop("group_id"))
        c["group"] = group["code"] if group else None
        c["group_title"] = group["title"] if group else ""
        if c["cases"]:
            c["case_blocks"] = [
                {"case": case, "options": [o for o in c["options"]
                                           if o["case"] == case.get("code")]}
                for case in c["cases"]
            ]
        else:
            c["case_blocks"] = []
        section_id = c.pop("section_id")
        blocks = criteria_of[section_id]
        if not blocks or blocks[-1]["group"] is not group:
            blocks.append({"group": group, "criteria": []})
        blocks[-1]["criteria"].append(c)

    sections_of = defaultdict(list)
    for s in sections:
        s["criterion_groups"] = groups_of.get(s["id"], [])
        s["blocks"] = criteria_of.get(s["id"], [])
        s["criteria"] = [c for block in s["blocks"] for c in block["criteria"]]
        sections_of[s.pop("part_id")].append(s)

    for p in parts:
        p["sections"] = sections_of.get(p["id"], [])

    return {"parts": parts, "criteria_count": len(criteria), "options_count": len(options)}


def regime_in_force(day, regimes=None):
    """The regime whose period covers ``day`` — where two overlap (26/2026 and 148 as
    amended by 1489, 22/05–21/07/2026), the later instrument, which governs the procedure
    (docs/regimes-and-levels.md); None before the first. ``regimes``: all regimes, to read
    them once."""
    if regimes is None:
        regimes = list(Regime.objects.order_by("effective_from"))
    covering = [r for r in regimes if r.is_in_force(day)]
    return max(covering, key=lambda r: r.effective_from) if covering else None
