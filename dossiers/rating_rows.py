"""The ratings register's page (``templates/dossiers/ratings/_results.html``): its rows read
in one prepared statement and written in Python, and its filter's choices kept per
process (docs/performance.md, "The other lists").

Through the ORM the page ran the area and criteria-set choices (two queries over every
rating of the area), the count and the rows with five related models, and rendered 50 rows
of ten cells through the template language. The markup below is the template's, byte for
byte (``tests/dossiers/test_rating_rows.py`` renders a row both ways).
"""

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db import connections
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ocop.lru import LRU
from ocop.rows import execute
from ocop.versioned_cache import reference

from .models import Dossier, Producer, Product, Rating, RatingState
from .page_rows import criteria_set_rows, day, escape, set_cell, text
from .page_rows import way as _way

_PK = 2_147_483_647  # a placeholder id: the addresses are reversed once per page

#: the register's statements per process: per user, filters, day and reference version
_STATEMENTS = LRU(512)
#: the register's counts and pages' rating ids per process (:func:`_kept`)
_COUNTS = LRU(1024)


def _key(user, filters, today):
    from ocop.accounts.queries import area_signature

    from .queries import INTAKE_ROLES

    return (user.pk, area_signature(user, *INTAKE_ROLES),
            tuple(sorted((k, str(getattr(v, "pk", v))) for k, v in filters.items())), today)


def _expiry_order(filters):
    """Whether the register is sorted by the end of validity (``ratings.register_order``)."""
    return filters.get("expiring_within") not in (None, "") or bool(filters.get("expires_month"))


def _statements(user, filters, today, version):
    """The register's statements for ``user`` and ``filters`` on ``today``, as ``{name:
    (sql, params)}`` (``{}`` when nothing can match):

    - ``count``: how many ratings match, and the highest rating id (the table's size, read
      from the primary key);
    - ``index`` and ``sorted``: the page's ratings in the register's order
      (``ratings.register_order``) with their product, producer and area (``params``
      miss the limit and the offset). ``index`` walks the index of the order
      (``rating_register_order`` serves the default one) and keeps the matching ratings;
      ``sorted`` reads the matching ratings and sorts them. :func:`register_page` chooses;
    - ``ids``: the same rows for a list of rating ids (``params`` miss it), for a page
      whose ratings are kept (:func:`_kept`).

    Compiled once per process under what the querysets read (the user and their area, the
    filters, the day, the reference data's version): building and compiling them took
    longer than running them, and so did reading the user's area."""
    from .queries import ratings_visible_to
    from .ratings import filter_ratings, register_order

    connection = connections[Rating.objects.db]

    def build():
        matching = filter_ratings(ratings_visible_to(user), filters, today)
        expiry = _expiry_order(filters)
        keys = ("valid_until", "product__name") if expiry else ("decision_date",)
        try:
            ordered, params = register_order(matching, filters).values("pk").query \
                .get_compiler(connection=connection).as_sql()
            dated, _params = matching.order_by().values("pk", *keys).query.get_compiler(
                connection=connection).as_sql()
            counted, count_params = matching.order_by().values("pk").query.get_compiler(
                connection=connection).as_sql()
        except EmptyResultSet:  # nothing can match: no statement
            return {}
        q = connection.ops.quote_name
        r, p, pr, d = (q(m._meta.db_table) for m in (Rating, Product, Producer, Dossier))
        u = q(Producer._meta.get_field("unit").related_model._meta.db_table)
        if expiry:
            order = "{t}.valid_until ASC, {n} ASC, {t}.id ASC"
            last = order.format(t="r", n="p.name")
            kept = order.format(t="matching", n="matching.name")
            columns = "id, valid_until, name"
        else:
            order = "{t}.decision_date DESC, {t}.id DESC"
            last = order.format(t="r")
            kept = order.format(t="matching")
            columns = "id, decision_date"
        rows = ("SELECT r.id, p.name, r.product_code, p.code, pr.name, u.name, "
                "COALESCE(d.criteria_set_id, p.criteria_set_id), r.stars, r.score, "
                "r.decision_id, r.decision_number, r.decision_date, r.valid_until, r.state "
                f"FROM {r} r INNER JOIN {p} p ON p.id = r.product_id "
                f"INNER JOIN {pr} pr ON pr.id = p.producer_id "
                f"INNER JOIN {u} u ON u.id = pr.unit_id "
                f"LEFT OUTER JOIN {d} d ON d.id = r.source_dossier_id ")
        return {
            "count": (f"SELECT (SELECT COUNT(*) FROM ({counted}) c), "
                      f"(SELECT MAX(id) FROM {r})", tuple(count_params)),
            "index": (f"{rows}WHERE r.id IN ({ordered} LIMIT %s OFFSET %s) ORDER BY {last}",
                      tuple(params)),
            # MATERIALIZED: read the matching ratings as the filters say, not along the
            # index of the order
            "sorted": (f"WITH matching ({columns}) AS MATERIALIZED ({dated}) {rows}"
                       f"WHERE r.id IN (SELECT id FROM matching ORDER BY {kept} "
                       f"LIMIT %s OFFSET %s) ORDER BY {last}", tuple(params)),
            "ids": (f"{rows}WHERE r.id = ANY(%s) ORDER BY {last}", ()),
        }

    return reference.local(version, build, "rating-list", *_key(user, filters, today),
                           store=_STATEMENTS)


#: the filters whose count a rating's state changes: a bulk UPDATE of the states (the
#: nightly expiry job) may send no signal, so neither their count nor their pages are kept
_STATE_FILTERS = ("state", "expiring_within")


def _kept(user, filters, today, versions, name, compute):
    """``compute()`` — the count, or a page's rating ids — kept per process at ``versions``
    (:func:`versions`), which every save or delete of a rating, product, producer or
    dossier and every import changes (which ratings there are, their order and where they
    lie); computed every time for the filters on the state (:data:`_STATE_FILTERS`) and
    while the shared cache is down. Counting joins every rating of the area to its
    product and producer (20 ms and more for a province's 20,000); a commune's first page
    walked 1,200 entries of the order's index, checking each one's product and producer
    (5–8 ms)."""
    if versions is None or any(filters.get(f) not in (None, "") for f in _STATE_FILTERS):
        return compute()
    return reference.local(versions[0], compute, "rating-kept", versions[1], name,
                           *_key(user, filters, today), store=_COUNTS)


def _fetch(sql, params):
    with connections[Rating.objects.db].cursor() as cursor:
        execute(cursor, sql, params)
        return cursor.fetchall()


def register_page(user, filters, number, size, today, versions):
    """Page ``number`` of the register (``Paginator.get_page``'s numbering: not a number →
    the first page, out of range → the last) as a :class:`~django.core.paginator.Page` of
    the tuples :func:`rows_html` reads.

    The count and the page's rating ids are kept per process (:func:`_kept`): a page read
    again runs one prepared statement, the rows of those ids (their names, decision and
    state are read as they are now). Otherwise the count, then the page's rows, read one
    of two ways (``page_rows.way``): read sorted, a commune's matching ratings cost a
    scan of the ratings and products (a rating's area is its producer's unit, two joins
    away: 12–20 ms at 20,000 ratings), hence the kept ids. The rows' criteria sets are
    reference data kept per process."""
    version = versions[0] if versions else reference.version()
    statements = _statements(user, filters, today, version)
    if not statements:
        return Page([], 1, Paginator([], size))
    total, highest = _kept(user, filters, today, versions, "count",
                           lambda: _fetch(*statements["count"])[0])
    number = Paginator(range(total), size).get_page(number).number
    found = []
    if total:
        offset = (number - 1) * size

        def read():
            sql, params = statements[_way(offset, size, total, highest)]
            read.rows = _fetch(sql, [*params, size, offset])
            return tuple(row[0] for row in read.rows)

        read.rows = None
        ids = _kept(user, filters, today, versions, ("page", number, size), read)
        found = read.rows if read.rows is not None else _fetch(statements["ids"][0],
                                                               [list(ids)])
    sets = criteria_set_rows(version, {row[6] for row in found})
    rows = [(*row[:6], *sets[row[6]], *row[7:]) for row in found]
    return Page(rows, number, Paginator(range(total), size))


def _stars_cell(stars):
    label = ngettext("%(stars)s star", "%(stars)s stars", stars) % {"stars": text(stars)}
    return f'<td class="num stars" aria-label="{label}">{text(stars)}★</td>'


def rows_html(rows):
    """The ``<tr>`` of each row as ``_results.html`` wrote them (with the whitespace of
    its loop). The cells that repeat (areas, criteria sets, stars, scores, dates, states)
    are written once per page."""
    detail = reverse("ratings:detail", args=[_PK]).split(str(_PK))
    again = reverse("ratings:reevaluate", args=[_PK]).split(str(_PK))
    decision = reverse("decisions:detail", args=[_PK]).split(str(_PK))
    states = {value: escape(label) for value, label in RatingState.choices}
    reevaluate = escape(_("Re-evaluate"))
    memo = {}

    def once(make, *args):
        key = (make, *args)
        found = memo.get(key)
        if found is None:
            found = memo[key] = make(*args)
        return found

    scores = {"None": "—"}  # by their text: Decimal("1.5") == Decimal("1.50")
    out = []
    for (pk, product, rating_code, product_code, producer, unit, set_no, set_name, slug,
         stars, score, decision_id, number, decision_date, valid_until, state) in rows:
        code = rating_code or product_code or "—"
        number = escape(number)
        if decision_id:
            number = f'<a href="{decision[0]}{decision_id}{decision[1]}">{number}</a>'
        due = (f'<br><a class="small" href="{again[0]}{pk}{again[1]}">{reevaluate}</a>'
               if state == RatingState.DUE else "")
        shown = scores.get(str(score))
        if shown is None:
            shown = scores[str(score)] = text(score)
        out.append(
            f'\n  <tr id="rating-{pk}">\n'
            f'    <td><a href="{detail[0]}{pk}{detail[1]}">{escape(product)}</a></td>\n'
            f"    <td>{escape(code)}</td>\n"
            f"    <td>{escape(producer)}</td>\n"
            f"    <td>{once(escape, unit)}</td>\n"
            f"    <td>{once(set_cell, set_no, set_name, slug)}</td>\n"
            f"    {once(_stars_cell, stars)}\n"
            f'    <td class="num">{shown}</td>\n'
            f"    <td>{number}<br><span class=\"small muted\">{once(day, decision_date)}"
            "</span></td>\n"
            f'    <td class="date">{once(day, valid_until)}</td>\n'
            f'    <td><span class="rating-state rating-state-{once(escape, state)}">'
            f"{states.get(state) or once(escape, state)}</span>\n{due}</td>\n"
            "  </tr>\n  ")
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


#: the filter's choices and rendered fields per process (:func:`filter_choices`,
#: :func:`fields_html`): a typed search is a new entry, so they have their own store
_FILTERS = LRU(256)


def versions():
    """The reference data's version and the ratings' (the statistics' version,
    ``dossiers.stats``: any save or delete of a rating, product, producer, dossier or
    decision, and every import, changes it), or None while the shared cache is down. Both
    in one round trip when both are set."""
    from .stats import statistics

    found = cache.get_many([reference.version_key, statistics.version_key])
    ref, stats = found.get(reference.version_key), found.get(statistics.version_key)
    if ref is None:
        ref = reference.version()
    if stats is None:
        stats = statistics.version()
    return None if ref is None or stats is None else (ref, stats)


def filter_choices(user, versions):
    """``RatingFilterForm``'s choices (``ratings.register_choices``) for the user's area,
    kept per process at ``versions`` (:func:`versions`): the areas and criteria sets of
    the user's ratings change when a rating, product, producer or dossier is saved; the
    units' names and the sets' labels with the reference data. Reading them took two
    queries over every rating of the area (50 ms and more at 20,000 ratings)."""
    from .queries import ratings_visible_to
    from .ratings import register_choices
    from .stats import scope_signature

    def compute():
        return register_choices(ratings_visible_to(user))

    if versions is None:
        return compute()
    return reference.local(versions[0], compute, "rating-choices", versions[1],
                           scope_signature(user), store=_FILTERS)


def fields_html(form, user, versions):
    """The filter's fields as ``ratings/_filter_fields.html`` writes them, kept per process
    under the values asked for, the user's area, the language and ``versions``."""
    from django.template.loader import render_to_string

    from .stats import scope_signature

    def render():
        return render_to_string("dossiers/ratings/_filter_fields.html", {"form": form})

    if versions is None:
        return render()
    data = form.is_bound and tuple((name, tuple(form.data.getlist(name)))
                                   for name in form.fields if name in form.data)
    return reference.local(versions[0], render, "rating-fields", versions[1],
                           scope_signature(user), data, store=_FILTERS)
