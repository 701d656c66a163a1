"""The dossier list's rows (``templates/dossiers/_list_results.html``): read as plain rows
and written in Python (issue #14).

The list shows 50 rows of eight cells. Built as model instances (nine per row, with their
relations) and rendered through the template language, they took most of the page's time
(about 25 ms of 45 at 50,000 dossiers, benchmarks/pages.py); as plain rows and the HTML
below they take about 3 ms. The markup is the one the template wrote, byte for byte
(``tests/dossiers/test_list_rows.py`` renders a row both ways).
"""

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from ocop.accounts.queries import area_signature
from ocop.lru import LRU
from ocop.rows import execute
from ocop.versioned_cache import reference
from scoring.models import ProcessLevel

from .deadlines import deadline_runs
from .models import Dossier, EvaluationRound, Producer, Product, RegistrationType
from .page_rows import criteria_set_rows, escape, set_cell
from .page_rows import way as _way
from .queries import INTAKE_ROLES, dossiers_visible_in_parts, dossiers_visible_to, filter_dossiers
from .rules import state_label_of

_PK = 2_147_483_647  # a placeholder id: the detail address is reversed once per page


#: the list's statements per process (:func:`_statements`): compiled once per user, filters,
#: day and reference version
_STATEMENTS = LRU(1024)


def _statements(user, filters, today, version):
    """The list's statements for ``user`` and ``filters`` on ``today``, as ``{name:
    (sql, params)}`` (``()`` when nothing can match):

    - ``count``: how many dossiers the user reads that match the filters — the sum of the
      counts of the visible parts (``dossiers_visible_in_parts``: the user's areas are
      counted from the area index alone) — and the highest dossier id (the table's size,
      read from the primary key);
    - ``index`` and ``sorted``: the page's dossiers with their product, producer and area,
      newest change first (``params`` miss the limit and the offset). ``index`` walks the
      index of the list's order and keeps the matching dossiers; ``sorted`` reads the
      matching dossiers and sorts them. :func:`list_page` chooses. ``index+count`` and
      ``sorted+count`` add the two numbers of ``count`` to every row.

    Building and compiling the querysets took 2–3 ms of the page (issue #14): the result
    is kept per process (:data:`_STATEMENTS`) under everything the querysets read — the
    user (their areas and what the councils let them read), the filters, the day and the
    reference data's version (the units of the areas, the holidays of ``due_soon``)."""
    connection = connections[Dossier.objects.db]

    def build():
        def compiled(queryset, *columns):
            return filter_dossiers(queryset, filters, today).order_by().values(
                *columns).query.get_compiler(connection=connection).as_sql()

        try:
            matching, params = compiled(dossiers_visible_to(user), "pk")
            dated, _params = compiled(dossiers_visible_to(user), "pk", "updated_at")
        except EmptyResultSet:  # nothing can match: no statement
            return ()
        counts, count_params = [], []
        for part in dossiers_visible_in_parts(user):
            try:
                sql, part_params = compiled(part, "pk")
            except EmptyResultSet:  # e.g. no area: that part counts nothing
                continue
            counts.append(f"(SELECT COUNT(*) FROM ({sql}) part)")
            count_params += part_params
        q = connection.ops.quote_name
        d, p, pr = (q(m._meta.db_table) for m in (Dossier, Product, Producer))
        u = q(Dossier._meta.get_field("unit").related_model._meta.db_table)
        order = f"{{table}}.{q('updated_at')} DESC, {{table}}.{q('id')} DESC"
        columns = ", ".join(f"d.{q(c)}" for c in ("id", "state", "registration_type",
                                                   "due_date"))
        count = f"{' + '.join(counts) or '0'}, (SELECT MAX({q('id')}) FROM {d})"

        def rows(counted):
            return (f"SELECT {columns}, p.{q('name')}, pr.{q('name')}, u.{q('name')}, "
                    f"d.{q('round_id')}, d.{q('criteria_set_id')}"
                    f"{', ' + count if counted else ''} "
                    f"FROM {d} d INNER JOIN {p} p ON p.{q('id')} = d.{q('product_id')} "
                    f"INNER JOIN {pr} pr ON pr.{q('id')} = p.{q('producer_id')} "
                    f"INNER JOIN {u} u ON u.{q('id')} = d.{q('unit_id')} ")

        last = f" ORDER BY {order.format(table='d')}"
        statements = {"count": (f"SELECT {count}", tuple(count_params))}
        for counted in (False, True):
            extra = tuple(count_params) if counted else ()
            suffix = "+count" if counted else ""
            statements["index" + suffix] = (
                f"{rows(counted)}WHERE d.{q('id')} IN ({matching} ORDER BY "
                f"{order.format(table=d)} LIMIT %s OFFSET %s){last}", (*extra, *params))
            # MATERIALIZED: read the matching dossiers as the filters say, not along the
            # index of the order
            statements["sorted" + suffix] = (
                f"WITH matching ({q('id')}, {q('updated_at')}) AS MATERIALIZED "
                f"({dated}) {rows(counted)}WHERE d.{q('id')} IN (SELECT {q('id')} FROM "
                f"matching ORDER BY {order.format(table='matching')} "
                f"LIMIT %s OFFSET %s){last}", (*params, *extra))
        return statements

    return reference.local(version, build, "dossier-list", user.pk,
                           area_signature(user, *INTAKE_ROLES),
                           tuple(sorted(filters.items())), today, store=_STATEMENTS)


def list_page(user, filters, number, size, today):
    """Page ``number`` (a string from the address; anything else than a page number: the
    first page, past the end: the last) of ``size`` rows of the dossiers ``user`` reads
    that match ``filters`` (``filter_dossiers``), newest change first, as a
    :class:`~django.core.paginator.Page` of the tuples :func:`rows_html` reads.

    The count, then the page's dossiers with their product, producer and area, as
    prepared statements (:func:`_statements`); through the ORM the count, the page's ids
    and its rows were three queries, each built, compiled and planned (issue #14). Once
    the same statements have been run in this process, one statement reads both: the
    page, read the way the last count says (a hint: if the area has changed much since,
    the page is read more slowly, never wrongly), with the count of now. The rounds
    and criteria sets of the rows are reference data kept per process
    (:func:`_reference_rows`).

    The page is read one of two ways, chosen by the count, because PostgreSQL cannot
    estimate the size of the user's area when it plans (the area is computed as the
    statement runs): along the index of the list's order, which reads about ``(offset +
    size) × dossiers / matching`` entries — quick when many dossiers match; or by reading
    the matching dossiers and sorting them — quick when few do. Along the index, a
    commune of 90 dossiers among 50,000 read 20,000 entries (14 ms, against 1.6 ms
    sorted); sorted, a commune of 4,500 took 4.4 ms against 0.8 ms along the index."""
    version = reference.version()
    statements = _statements(user, filters, today, version)
    try:
        number = max(1, int(number))
    except (TypeError, ValueError):
        number = 1
    if not statements:
        return Page([], 1, Paginator([], size))
    found = None
    with connections[Dossier.objects.db].cursor() as cursor:
        hint = statements.get("hint")
        if hint and hint[0]:  # (the last count found dossiers)
            # the count of the last request with these statements chooses the way; the
            # page comes with the count of now, in one statement
            total, highest = hint
            number = min(number, max(1, -(-total // size)))
            offset = (number - 1) * size
            sql, params = statements[_way(offset, size, total, highest) + "+count"]
            execute(cursor, sql, [*params, size, offset])
            rows = cursor.fetchall()
            if rows:
                total, highest = rows[0][-2:]
                found = [row[:-2] for row in rows]
        if found is None:  # the first request, or the page is past the end now
            execute(cursor, *statements["count"])
            total, highest = cursor.fetchone()
            found = []
            number = min(number, max(1, -(-total // size)))
            if total:
                offset = (number - 1) * size
                sql, params = statements[_way(offset, size, total, highest)]
                execute(cursor, sql, [*params, size, offset])
                found = cursor.fetchall()
    statements["hint"] = (total, highest)
    paginator = Paginator(range(total), size)
    return Page(_rows(found, today, version), number, paginator)


def _reference_rows(rounds, sets, version):
    """The rounds and criteria sets of the rows, kept per process at the reference data's
    version (ocop/versioned_cache.py): a list shows a handful of each, the same on every
    page; those not kept yet cost a query each (a set's name, a round's number and
    deadlines change only through a save, which changes the version)."""
    return (
        reference.local_rows(version, "list-rounds", rounds, lambda ids: {
            row[0]: row[1:] for row in EvaluationRound.objects.filter(pk__in=ids).annotate(
                first_level_kind=Subquery(
                    ProcessLevel.objects.filter(regime=OuterRef("regime")).order_by("order")
                    .values("kind")[:1])).values_list(
                "pk", "number", "year", "unit__name", "level__admin_level",
                "regime__processing_days", "regime__commune_deadline_working_days",
                "first_level_kind")}),
        criteria_set_rows(version, sets))


def _rows(found, today, version):
    """The tuples :func:`rows_html` reads, from the statement's rows (id, state, type, due
    date, product, producer, area, round id, criteria set id)."""
    rounds, sets = _reference_rows({row[7] for row in found}, {row[8] for row in found},
                                   version)
    rows = []
    for pk, state, kind, due_date, product, producer, unit, round_id, set_id in found:
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
            f"    <td>{once(set_cell, set_no, set_name, slug)}</td>\n"
            f"    <td>{kinds.get(registration_type) or escape(registration_type)}</td>\n"
            f"    <td>{once(_state_cell, state, first_kind, level)}</td>\n"
            f'    <td class="date">{deadline}{overdue_flag if overdue else ""}</td>\n'
            "  </tr>\n")
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped
