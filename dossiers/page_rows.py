"""A page of a list read as plain rows in a prepared statement, and the helpers that write
them as the templates did (docs/performance.md, "Rows as plain values").

The lists of decisions, ratings and revocations use it the way ``dossiers.list_rows``
reads the dossier list: the statement's text is the same for every page (the limit and
the offset are its last two parameters), so ``ocop.rows.execute`` prepares it once per
connection, and the page's numbering follows ``Paginator.get_page``.
"""

from html import escape as _escape

from django.core.paginator import Page, Paginator
from django.db import connection
from django.utils.formats import localize
from django.utils.timezone import localtime

from ocop.rows import execute
from ocop.versioned_cache import reference
from scoring.models import CriteriaSet


def escape(value):
    """``django.utils.html.escape`` without its wrapping (the same characters)."""
    return _escape(str(value))


def way(offset, size, total, highest):
    """How to read a page of a list whose order an index serves: ``"index"`` when walking
    that index is expected to read no more entries than there are matching rows (``total``
    of about ``highest`` rows: it reads about ``(offset + size) × highest / total``), else
    ``"sorted"``: read the matching rows and sort them (docs/performance.md, "The page,
    read the cheaper of two ways"). PostgreSQL cannot choose itself when the user's area
    is computed as the statement runs."""
    return "index" if (offset + size) * highest <= total * total else "sorted"


def criteria_set_rows(version, ids):
    """``{id: (set number, name, regime slug)}`` of the criteria sets ``ids``, kept per
    process at the reference version (``VersionedCache.local_rows``): the lists' rows show a
    handful of sets, the same on every page."""
    return reference.local_rows(version, "list-sets", ids, lambda missing: {
        row[0]: row[1:] for row in CriteriaSet.objects.filter(pk__in=missing).values_list(
            "pk", "set_no", "name", "regime__slug")})


def set_cell(set_no, name, slug):
    """A criteria set's cell in the lists: its number and name, its regime below."""
    return f'{set_no:02d} · {escape(name)}<br><span class="small muted">{escape(slug)}</span>'


def text(value):
    """``{{ value }}`` of the template language: localised, then escaped. An integer below
    a thousand localises to its digits in every language (no group separator)."""
    if type(value) is int and -1000 < value < 1000:
        return str(value)
    return escape(localize(value))


def day(value):
    """``{{ value|date:"d/m/Y" }}``: an aware datetime in the current time zone first;
    nothing for None."""
    if value is None:
        return ""
    if hasattr(value, "hour"):
        value = localtime(value)
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def _number(number):
    """``Paginator.validate_number``'s reading: an integer (or "2.0"), else page 1."""
    try:
        value = float(number)
        return int(value) if value.is_integer() else 1
    except (TypeError, ValueError, OverflowError):
        return 1


def run_page(sql, params, total, number, size):
    """Page ``number`` (as ``Paginator.get_page``: not a number → the first, out of range →
    the last) of ``size`` rows of ``sql`` — whose last two parameters are the limit and
    the offset — out of ``total``, as a :class:`~django.core.paginator.Page` of the rows.
    One prepared statement (``ocop.rows.execute``); none when there is no row."""
    paginator = Paginator(range(total), size)
    number = _number(number)
    if number < 1 or number > paginator.num_pages:
        number = paginator.num_pages
    found = []
    if total:
        with connection.cursor() as cursor:
            execute(cursor, sql, [*params, size, (number - 1) * size])
            found = cursor.fetchall()
    return Page(found, number, paginator)


def count(sql, params):
    """``SELECT COUNT(*) …`` run as a prepared statement."""
    with connection.cursor() as cursor:
        execute(cursor, sql, params)
        return cursor.fetchone()[0]


#: the offset of the page asked for (its number and the size) as ``Paginator.get_page``
#: finds it: out of range (or below 1), the last page's (``c.total``: the count)
_OFFSET = ("CASE WHEN %s >= 1 AND (%s - 1) * %s < c.total THEN (%s - 1) * %s "
           "ELSE GREATEST(c.total - 1, 0) / %s * %s END")


def counted_page(ids_sql, ids_params, rows_sql, number, size, counts=()):
    """:func:`run_page` and the count in one prepared statement, for a list whose matching
    rows are read once: ``ids_sql`` (one column, its parameters ``ids_params``) is kept
    as ``v(pk)``; ``rows_sql`` reads the page's rows from it, with ``{limit}`` and
    ``{offset}`` where its ``LIMIT`` and ``OFFSET`` go (and no other parameter).
    ``counts``: more ``(sql, params)`` read in the same statement (e.g. a count of another
    table), returned in that order. Returns ``(page, [values of counts])``; the page's
    number is ``Paginator.get_page``'s (not a number → the first, out of range → the
    last)."""
    number = _number(number)
    extra = "".join(f", ({sql}) AS c{i}" for i, (sql, _params) in enumerate(counts))
    # the counts on the first row alone (a JSON value would be decoded on every row)
    first = "".join(f", CASE WHEN COALESCE(p.n_, 1) = 1 THEN c.c{i} END"
                    for i in range(len(counts)))
    sql = (f"WITH v(pk) AS MATERIALIZED ({ids_sql}), "
           f"c AS (SELECT (SELECT COUNT(*) FROM v) AS total{extra}) "
           f"SELECT c.total{first}, p.* FROM c LEFT OUTER JOIN LATERAL "
           f"(SELECT r.*, row_number() OVER () AS n_ FROM "
           f"({rows_sql.format(limit='%s', offset=_OFFSET)}) r) p ON TRUE ORDER BY p.n_")
    params = [*ids_params, *(p for _sql, params in counts for p in params),
              size, number, number, size, number, size, size, size]
    with connection.cursor() as cursor:
        execute(cursor, sql, params)
        found = cursor.fetchall()
    head = 1 + len(counts)
    total, values = found[0][0], list(found[0][1:head])
    paginator = Paginator(range(total), size)
    if number < 1 or number > paginator.num_pages:
        number = paginator.num_pages
    rows = [row[head:-1] for row in found if row[head] is not None]
    return Page(rows, number, paginator), values
