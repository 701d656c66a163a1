"""The producer list's rows (``templates/dossiers/producer_list.html``): read in one
statement as plain rows and written in Python, as the dossier list's are
(``dossiers/list_rows.py``, docs/performance.md).

With 50,000 producers in a province the page took about 60 ms in-process (4 queries):
30 ms for PostgreSQL to sort the visible producers by name, 5 ms to count them, the rest
to build 50 producers with their areas, products, criteria sets and regimes as model
instances and render them through the template language. Now (about 5 ms):

- the index ``producer_list_order`` (name, id, with the area) serves the order;
- the page's producers with their area and products come in one prepared statement;
- the count is kept per process at the statistics' version (:func:`producer_page`);
- the rows are the template's markup, byte for byte
  (``tests/dossiers/test_producer_rows.py`` renders the rows both ways).
"""

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models.lookups import In
from django.db.models.sql.query import Query
from django.db.models.sql.where import WhereNode
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from ocop.accounts.queries import area_signature
from ocop.lookups import AnyOf
from ocop.lru import LRU
from ocop.rows import execute
from ocop.versioned_cache import reference
from scoring.models import CriteriaSet, Regime

from .models import Producer, ProducerType, Product
from .page_rows import escape
from .queries import INTAKE_ROLES, producers_visible_to
from .stats import statistics

_PK = 2_147_483_647  # a placeholder id: the addresses are reversed once per page

#: the list's statement per process (:func:`_statement`): compiled once per user and
#: reference version
_STATEMENTS = LRU(1024)
#: the number of producers per visible area, per process (:func:`producer_page`)
_COUNTS = LRU(1024)


def _as_arrays(queryset):
    """``queryset`` with each ``IN (subquery)`` condition written ``= ANY(ARRAY(subquery))``
    (``field__any_of``, ocop/lookups.py): the same rows. For the count: the array is
    computed once, before the scan, and becomes an index condition, so a province's 50,000
    producers are counted from the area index alone (2 ms; the ``IN`` was a hash join of
    5 ms). Not for the page's rows: PostgreSQL cannot estimate how many rows an array
    matches, and past the first pages it sorted the whole province instead of reading the
    order's index (30 ms)."""

    def rewritten(node):
        if isinstance(node, WhereNode):
            copy = node.create(connector=node.connector, negated=node.negated)
            copy.children = [rewritten(child) for child in node.children]
            return copy
        if isinstance(node, In) and isinstance(node.rhs, Query):
            return AnyOf(node.lhs, node.rhs)
        return node

    queryset = queryset.all()
    queryset.query.where = rewritten(queryset.query.where)
    return queryset


def _statement(user, version):
    """``(sql, params, counted_sql, counted_params, count_sql, count_params)`` of the list's
    statements for ``user``, or ``()`` when the user reads no producer:

    ``SELECT <producer, area, product, set, regime> … WHERE id IN (<visible> ORDER BY
    name, id LIMIT %s OFFSET %s)`` — the page's producers (``producers_visible_to``, in
    the order of the index ``producer_list_order``) with their area and their products (one
    row per product, or one row without a product); ``counted_sql`` adds the number of
    producers the user reads to each row, and ``count_sql`` is that number alone.
    The parameters miss the limit and the offset.

    Kept per process (:data:`_STATEMENTS`) under what the queryset reads: the user's id
    and the units of their roles, at the reference data's version (the units of the
    areas)."""
    connection = connections[Producer.objects.db]

    def build():
        visible = producers_visible_to(user)
        try:
            page_sql, params = visible.order_by("name", "pk").values(
                "pk").query.get_compiler(connection=connection).as_sql()
            count_sql, count_params = _as_arrays(visible.order_by().values(
                "pk")).query.get_compiler(connection=connection).as_sql()
        except EmptyResultSet:  # no area: nothing to show
            return ()
        q = connection.ops.quote_name
        pr, p, cs, r = (q(m._meta.db_table) for m in (Producer, Product, CriteriaSet, Regime))
        u = q(Producer._meta.get_field("unit").related_model._meta.db_table)
        count = f"(SELECT COUNT(*) FROM ({count_sql}) visible)"
        sql = (
            f"SELECT pr.{q('id')}, pr.{q('type')}, pr.{q('name')}, "
            f"pr.{q('registration_no')}, u.{q('name')}, p.{q('id')}, p.{q('name')}, "
            f"r.{q('slug')}, cs.{q('set_no')}{{count}} "
            f"FROM {pr} pr INNER JOIN {u} u ON u.{q('id')} = pr.{q('unit_id')} "
            f"LEFT OUTER JOIN {p} p ON p.{q('producer_id')} = pr.{q('id')} "
            f"LEFT OUTER JOIN {cs} cs ON cs.{q('id')} = p.{q('criteria_set_id')} "
            f"LEFT OUTER JOIN {r} r ON r.{q('id')} = cs.{q('regime_id')} "
            f"WHERE pr.{q('id')} IN ({page_sql} LIMIT %s OFFSET %s) "
            f"ORDER BY pr.{q('name')}, pr.{q('id')}, p.{q('name')}, p.{q('id')}")
        return (sql.format(count=""), tuple(params), sql.format(count=f", {count}"),
                (*count_params, *params), f"SELECT {count}", tuple(count_params))

    return reference.local(version, build, "producer-list", user.pk,
                           area_signature(user, *INTAKE_ROLES), store=_STATEMENTS)


def producer_page(user, number, size):
    """Page ``number`` (a string from the address) of ``size`` producers ``user`` reads
    (``producers_visible_to``) by name, as a :class:`~django.core.paginator.Page` of the
    tuples :func:`rows_html` reads: ``(id, type, name, registration number, area,
    [(product id, name, regime slug, set number), …])``, the products by name.

    The pages are those of ``Paginator.get_page``: anything else than a whole number is
    the first page, a number below 1 or past the end the last.

    One prepared statement (:func:`_statement`). The count is kept per process at the
    statistics' version (``dossiers.stats.statistics``, bumped by every save or delete of
    a producer and by the imports) and the reference data's version, under the count's
    own statement: counting a province's 50,000 producers was two thirds of the
    statement's time. Without it, the statement counts too (``counted_sql``); a page past
    the end then costs two more queries (the count, then the last page)."""
    version = reference.version()
    statement = _statement(user, version)
    try:
        number = int(number)
    except (TypeError, ValueError):
        number = 1
    if not statement:
        return Page([], 1, Paginator([], size))
    sql, params, counted_sql, counted_params, count_sql, count_params = statement
    found = None
    with connections[Producer.objects.db].cursor() as cursor:

        def count():
            nonlocal found
            if number >= 1:
                execute(cursor, counted_sql, [*counted_params, size, (number - 1) * size])
                rows = cursor.fetchall()
                found = [row[:-1] for row in rows]
                if rows or number == 1:
                    return rows[0][-1] if rows else 0
            cursor.execute(count_sql, count_params)
            return cursor.fetchone()[0]

        total = statistics.local(statistics.version(), count, "producer-count", version,
                                 count_sql, count_params, store=_COUNTS)
        last = max(1, -(-total // size))
        if not 1 <= number <= last:
            number, found = last, None
        if found is None:
            execute(cursor, sql, [*params, size, (number - 1) * size])
            found = cursor.fetchall()
    return Page(_rows(found), number, Paginator(range(total), size))


def _rows(found):
    """The statement's rows (one per product) grouped per producer, in their order."""
    rows, current = [], None
    for pk, kind, name, registration_no, unit, product, product_name, slug, set_no in found:
        if current is None or current[0] != pk:
            current = (pk, kind, name, registration_no, unit, [])
            rows.append(current)
        if product is not None:
            current[5].append((product, product_name, slug, set_no))
    return rows


def _product_html(pk, name, slug, set_no, change, delete, edit, remove):
    name = escape(name)
    return (f'<div id="product-{pk}">{name} '
            f'<span class="small muted">{escape(slug)} · {set_no:02d}</span>\n'
            f'      <a class="small" href="{edit[0]}{pk}{edit[1]}">'
            f'{change}<span class="visually-hidden"> {name}</span></a> ·\n'
            f'      <a class="small" href="{remove[0]}{pk}{remove[1]}">'
            f'{delete}<span class="visually-hidden"> {name}</span></a></div>')


def rows_html(rows):
    """The ``<tr>`` of each producer, as the list's template wrote them: its name, type
    and number, the links to change it (and to delete it while it has no product), its
    area, and its products each with their links (or the link to add one)."""

    def address(name):
        return reverse(name, args=[_PK]).split(str(_PK))

    producer_edit = address("dossiers:producer-edit")
    producer_delete = address("dossiers:producer-delete")
    product_edit = address("dossiers:product-edit")
    product_delete = address("dossiers:product-delete")
    product_create = escape(reverse("dossiers:product-create"))
    change, delete, add = escape(_("Change")), escape(_("Delete")), escape(_("Add a product"))
    kinds = {value: escape(label) for value, label in ProducerType.choices}

    out = []
    for pk, kind, name, registration_no, unit, products in rows:
        name = escape(name)
        if products:
            cell = "".join(_product_html(*product, change, delete, product_edit,
                                         product_delete) for product in products)
            remove = ""
        else:
            cell = (f'\n      <a class="small" href="{product_create}?producer={pk}">'
                    f"{add}</a>")
            remove = (f'· <a class="small" href="{producer_delete[0]}{pk}{producer_delete[1]}">'
                      f'{delete}<span class="visually-hidden"> {name}</span></a>')
        out.append(
            f'  <tr id="producer-{pk}">\n'
            f'    <td>{name}<br><span class="small muted">'
            f"{kinds.get(kind) or escape(kind)} · {escape(registration_no or '—')}</span><br>\n"
            f'      <a class="small" href="{producer_edit[0]}{pk}{producer_edit[1]}">'
            f'{change}<span class="visually-hidden"> {name}</span></a>\n'
            f"      {remove}</td>\n"
            f"    <td>{escape(unit)}</td>\n"
            f"    <td>{cell}</td>\n"
            "  </tr>\n")
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped
