"""The revocations page (``templates/dossiers/inspections/revocations.html``): its counts
and page read in one prepared statement and its rows written in Python
(docs/performance.md, "The other lists").

Through the ORM the page ran the count, the page with four related models, and every
inspection line waiting for a revocation (up to 500 instances, to count them), and rendered
its rows and their deadlines through the template language. The statements are compiled
once per process under the user and their area at the reference data's version; the
revocations and inspections are read when they run. The markup below is the template's,
byte for byte (``tests/dossiers/test_revocation_rows.py`` renders the rows both ways).
"""

from django.db import connections
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ocop.lru import LRU
from ocop.versioned_cache import reference

from .models import (
    Decision,
    Producer,
    Product,
    Rating,
    Revocation,
    RevocationGround,
    RevocationState,
)
from .page_rows import counted_page, day, escape, text

_PK = 2_147_483_647  # a placeholder id: the address is reversed once per page

#: the page's statements per process: per user and area, at the reference version
_STATEMENTS = LRU(512)
#: ``inspections.pending_revocations`` reads at most this many lines: the page counted them
PENDING_LIMIT = 500


def _statements(user, version):
    """``(ids, pending)``, each ``(sql, params)``: the ids of the user's revocations (read
    once per request for their count and their page) and the number of inspection lines
    waiting for a revocation (at most :data:`PENDING_LIMIT`)."""
    from ocop.accounts.queries import area_signature

    from .inspections import pending_revocation_items
    from .queries import INTAKE_ROLES, revocations_visible_to

    connection = connections[Revocation.objects.db]

    def compiled(queryset):
        return queryset.query.get_compiler(connection=connection).as_sql()

    def build():
        ids_sql, ids_params = compiled(revocations_visible_to(user).order_by().values("pk"))
        pending_sql, pending_params = compiled(
            pending_revocation_items(user).order_by().values("pk")[:PENDING_LIMIT])
        return ((ids_sql, tuple(ids_params)),
                (f"SELECT COUNT(*) FROM ({pending_sql}) p", tuple(pending_params)))

    return reference.local(version, build, "revocation-list", user.pk,
                           area_signature(user, *INTAKE_ROLES), store=_STATEMENTS)


def _page_sql():
    """The page's rows read from the revocations' ids (``page_rows.counted_page``): the
    page's ids in its order, then their rating, product, producer and decision."""
    q = connections[Revocation.objects.db].ops.quote_name
    r, ra, p, pr, d = (q(m._meta.db_table)
                       for m in (Revocation, Rating, Product, Producer, Decision))
    return ("SELECT r.id, p.name, ra.stars, pr.name, r.ground, r.conclusion_date, "
            "r.deadline, r.state, r.decision_id, d.reference, d.date "
            f"FROM (SELECT s.id FROM {r} s WHERE s.id IN (SELECT pk FROM v) "
            "ORDER BY s.state ASC, s.deadline ASC, s.id DESC LIMIT {limit} OFFSET {offset}) o "
            f"INNER JOIN {r} r ON r.id = o.id "
            f"INNER JOIN {ra} ra ON ra.id = r.rating_id "
            f"INNER JOIN {p} p ON p.id = ra.product_id "
            f"INNER JOIN {pr} pr ON pr.id = p.producer_id "
            f"LEFT OUTER JOIN {d} d ON d.id = r.decision_id "
            "ORDER BY r.state ASC, r.deadline ASC, r.id DESC")


def revocation_page(user, number, size):
    """``(page, pending)``: page ``number`` (``Paginator.get_page``'s numbering) of the
    user's revocations, a :class:`~django.core.paginator.Page` of the tuples
    :func:`rows_html` reads, and the number of inspection lines waiting for a revocation
    (``len(inspections.pending_revocations(user))``). One prepared statement."""
    if connections[Revocation.objects.db].vendor != "postgresql":
        return _portable_page(user, number, size)
    ids, pending = _statements(user, reference.version())
    page, (pending,) = counted_page(*ids, _page_sql(), number, size, [pending])
    return page, pending


def _portable_page(user, number, size):
    """:func:`revocation_page` through the ORM, for the embedded SQLite of ``make run``
    (``counted_page`` is PostgreSQL's: ``LATERAL``, ``GREATEST``): the same values in the
    same shapes."""
    from django.core.paginator import Paginator

    from .inspections import pending_revocation_items
    from .queries import revocations_visible_to

    rows = revocations_visible_to(user).order_by("state", "deadline", "-id").values_list(
        "pk", "rating__product__name", "rating__stars", "rating__product__producer__name",
        "ground", "conclusion_date", "deadline", "state", "decision_id",
        "decision__reference", "decision__date")
    page = Paginator(rows, size).get_page(number)
    page.object_list = list(page.object_list)
    pending = pending_revocation_items(user).order_by().values("pk")[:PENDING_LIMIT].count()
    return page, pending


def _deadline(deadline, late, done, today):
    """``dossiers/inspections/_deadline.html`` (``days_left`` from ``today``)."""
    if not deadline:
        return f'<span class="muted">{escape(_("no deadline"))}</span>\n'
    out = [f'<span class="deadline{" overdue-flag" if late else ""}" '
           f'data-deadline="{deadline.isoformat()}"{" data-late=\"1\"" if late else ""}>'
           f"{day(deadline)}"]
    days_left = (deadline - today).days
    if done:
        if late:
            out.append(f' · {escape(_("decided late"))}')
    elif days_left < 0:
        out.append(" · " + ngettext("%(days)s day overdue", "%(days)s days overdue",
                                    -days_left) % {"days": text(-days_left)})
    else:
        out.append(" · " + ngettext("%(days)s day left", "%(days)s days left",
                                    days_left) % {"days": text(days_left)})
    out.append("</span>\n")
    return "".join(out)


def rows_html(rows, today):
    """The ``<tr>`` of each row as ``revocations.html`` wrote them (with its loop's
    whitespace); late as ``revocations.is_late``."""
    detail = reverse("inspections:revocation", args=[_PK]).split(str(_PK))
    grounds = {value: escape(label) for value, label in RevocationGround.choices}
    states = {value: escape(label) for value, label in RevocationState.choices}
    out = []
    for (pk, product, stars, producer, ground, concluded, deadline, state, decision_id,
         reference_, decided) in rows:
        if deadline is None:
            late = False
        elif decision_id and decided:
            late = decided > deadline
        else:
            late = today > deadline
        decision = (f'{escape(reference_)} <span class="small muted">{day(decided)}</span>'
                    if decision_id else "—")
        out.append(
            f'\n    <tr id="revocation-{pk}"{" class=\"overdue\"" if late else ""}>'
            f'<td><a href="{detail[0]}{pk}{detail[1]}">{escape(product)}</a> · '
            f'{text(stars)}★<br><span class="small muted">{escape(producer)}</span></td>\n'
            f"      <td>{grounds.get(ground, escape(ground))}</td>"
            f'<td class="date">{day(concluded)}</td>\n'
            f"      <td>{_deadline(deadline, late, decision_id, today)}</td>\n"
            f'      <td><span class="state state-{escape(state)}" data-state="{escape(state)}">'
            f"{states.get(state, escape(state))}</span></td>\n"
            f"      <td>{decision}</td></tr>\n    ")
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped
