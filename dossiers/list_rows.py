"""The dossier list's rows (``templates/dossiers/_list_results.html``): read as plain rows
and written in Python (issue #14).

The list shows 50 rows of eight cells. Built as model instances (nine per row, with their
relations) and rendered through the template language, they took most of the page's time
(about 25 ms of 45 at 50,000 dossiers, benchmarks/pages.py); as plain rows and the HTML
below they take about 3 ms. The markup is the one the template wrote, byte for byte
(``tests/dossiers/test_list_rows.py`` renders a row both ways).
"""

from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from scoring.models import CriteriaSet, ProcessLevel

from .deadlines import deadline_runs
from .models import Dossier, EvaluationRound, RegistrationType
from .rules import state_label_of

_PK = 2_147_483_647  # a placeholder id: the detail address is reversed once per page


def list_rows(ids, today):
    """The rows of the dossiers ``ids`` in that order, as tuples in the order
    :func:`rows_html` reads them. Three queries: the dossiers with their product, producer
    and area, then their rounds and their criteria sets — one query joining all ten tables
    took longer to plan (about 3 ms) than the three take to run."""
    dossiers = {row[0]: row for row in Dossier.objects.filter(pk__in=ids).values_list(
        "pk", "state", "registration_type", "due_date", "product__name",
        "product__producer__name", "unit__name", "round_id", "criteria_set_id")}
    rounds = {row[0]: row[1:] for row in EvaluationRound.objects.filter(
        pk__in={d[7] for d in dossiers.values()}).annotate(first_level_kind=Subquery(
            ProcessLevel.objects.filter(regime=OuterRef("regime")).order_by("order")
            .values("kind")[:1])).values_list(
        "pk", "number", "year", "unit__name", "level__admin_level",
        "regime__processing_days", "regime__commune_deadline_working_days",
        "first_level_kind")}
    sets = {row[0]: row[1:] for row in CriteriaSet.objects.filter(
        pk__in={d[8] for d in dossiers.values()}).values_list(
        "pk", "set_no", "name", "regime__slug")}
    rows = []
    for pk in ids:
        if pk not in dossiers:
            continue
        _pk, state, kind, due_date, product, producer, unit, round_id, set_id = dossiers[pk]
        number, year, round_unit, level, processing, commune_days, first_kind = \
            rounds[round_id]
        running = due_date is not None and deadline_runs(state, kind, processing,
                                                         commune_days)
        rows.append((pk, state, kind, due_date, product, producer, unit, number, year,
                     round_unit, level, *sets[set_id], first_kind,
                     running and due_date < today, running))
    return rows


def _round_cell(number, year, unit):
    label = _("Round %(number)s/%(year)s") % {"number": number, "year": year}
    return f'{escape(label)}<br><span class="small muted">{escape(unit)}</span>'


def _set_cell(set_no, name, slug):
    return f'{set_no:02d} · {escape(name)}<br><span class="small muted">{escape(slug)}</span>'


def _state_cell(state, first_kind, level):
    return (f'<span class="state state-{escape(state)}">'
            f"{escape(state_label_of(state, first_kind, level))}</span>")


def rows_html(rows):
    """The ``<tr>`` of each row, as the list's template wrote them. The cells that repeat
    (rounds, criteria sets, states) are translated and escaped once per page."""
    detail = reverse("dossiers:detail", args=[_PK]).split(str(_PK))
    kinds = {value: escape(label) for value, label in RegistrationType.choices}
    overdue_flag = f' <span class="overdue-flag">{escape(_("Overdue"))}</span>'
    memo = {}

    def once(make, *args):
        key = (make, args)
        if key not in memo:
            memo[key] = make(*args)
        return memo[key]

    out = []
    for (pk, state, registration_type, due_date, product, producer, unit, number, year,
         round_unit, level, set_no, set_name, slug, first_kind, overdue, running) in rows:
        deadline = due_date.strftime("%d/%m/%Y") if running and due_date else "—"
        out.append(
            f'  <tr id="dossier-{pk}"{" class=\"overdue\"" if overdue else ""}>\n'
            f'    <td><a href="{detail[0]}{pk}{detail[1]}">{escape(product)}</a><br>'
            f'<span class="small muted">#{pk}</span></td>\n'
            f"    <td>{escape(producer)}</td>\n"
            f"    <td>{escape(unit)}</td>\n"
            f"    <td>{once(_round_cell, number, year, round_unit)}</td>\n"
            f"    <td>{once(_set_cell, set_no, set_name, slug)}</td>\n"
            f"    <td>{kinds.get(registration_type) or escape(registration_type)}</td>\n"
            f"    <td>{once(_state_cell, state, first_kind, level)}</td>\n"
            f'    <td class="date">{deadline}{overdue_flag if overdue else ""}</td>\n'
            "  </tr>\n")
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped
