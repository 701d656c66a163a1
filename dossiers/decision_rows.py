"""The recognition decisions page (``templates/dossiers/decisions/list.html``): its page of
issued decisions, every count and its drafts read in one prepared statement, and their rows
written in Python (docs/performance.md, "The other lists").

Through the ORM the page ran five queries (the drafts, the count and the page with every
item joined and grouped, and the two dossier counts) and rendered its rows through the
template language. The statement is compiled once per process under what the querysets
read (the user and their area, the reference data's version); the decisions, their items
and the dossiers are read when it runs, so a change shows at once. The issued decisions
the user reads are found once, for their count and their page
(``page_rows.counted_page``). The dossier counts are counted part by part
(``dossiers_visible_in_parts``) from the index ``dossier_unit_state_ids`` alone. The
markup below is the template's, byte for byte (``tests/dossiers/test_decision_rows.py``
renders the rows both ways).
"""

from datetime import datetime

from django.db import connections
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from ocop.lru import LRU
from ocop.versioned_cache import reference

from .models import Decision, DecisionItem, DecisionState
from .page_rows import counted_page, day, escape, text

_PK = 2_147_483_647  # a placeholder id: the address is reversed once per page

#: the page's statements per process: per user and area, at the reference version
_STATEMENTS = LRU(512)
#: the drafts shown (the template's limit)
DRAFTS = 100


def _sql(queryset, connection):
    return queryset.query.get_compiler(connection=connection).as_sql()


def _statements(user, version):
    """``(issued, more)``: the issued decisions' ids (``(sql, params)``, read once per
    request for their count and their page), and the dossier counts and the drafts (a
    list of ``(sql, params)``)."""
    from ocop.accounts.queries import area_signature

    from . import decisions, forwarding
    from .queries import (
        INTAKE_ROLES,
        dossiers_visible_in_parts,
        recognition_decisions_visible_to,
    )

    connection = connections[Decision.objects.db]

    def build():
        issued = _sql(recognition_decisions_visible_to(user)
                      .exclude(state=DecisionState.DRAFT).order_by().values("pk"),
                      connection)
        counts = []
        for kind in (decisions.awaiting_decision, forwarding.awaiting_round):
            parts = [_sql(kind(part).order_by().values("pk"), connection)
                     for part in dossiers_visible_in_parts(user)]
            counts.append((" + ".join(f"(SELECT COUNT(*) FROM ({sql}) c)"
                                      for sql, _params in parts),
                           tuple(p for _sql, params in parts for p in params)))
        q = connection.ops.quote_name
        d, i = q(Decision._meta.db_table), q(DecisionItem._meta.db_table)
        drafts_ids, drafts_params = _sql(recognition_decisions_visible_to(user, drafts=True)
                                         .order_by("-created_at").values("pk")[:DRAFTS],
                                         connection)
        # the drafts as one JSON value of the same statement (a round trip less)
        counts.append((
            "SELECT COALESCE(json_agg(json_build_array(d.id, d.subject, d.replaces_id, "
            f"d.issuer_name, {_lines(i)}, d.created_at) ORDER BY d.created_at DESC), "
            f"'[]'::json) FROM {d} d WHERE d.id IN ({drafts_ids})", tuple(drafts_params)))
        return issued, counts

    return reference.local(version, build, "decision-list", user.pk,
                           area_signature(user, *INTAKE_ROLES), store=_STATEMENTS)


def _lines(items):
    return f"(SELECT COUNT(*) FROM {items} i WHERE i.decision_id = d.id)"


def _page_sql():
    """The page's rows read from the issued decisions' ids (``page_rows.counted_page``),
    in the page's order, each with its number of lines (counted for the page's rows
    alone)."""
    q = connections[Decision.objects.db].ops.quote_name
    d, i = q(Decision._meta.db_table), q(DecisionItem._meta.db_table)
    return (f"SELECT d.id, d.reference, d.date, d.issuer_name, {_lines(i)}, d.state, "
            f"d.origin FROM {d} d WHERE d.id IN (SELECT pk FROM v) "
            "ORDER BY d.date DESC, d.number DESC, d.id DESC "
            "LIMIT {limit} OFFSET {offset}")


def decision_page(user, number, size):
    """``(drafts, page, pending, forwarded)``: the drafts (the tuples :func:`drafts_html`
    reads), page ``number`` of the issued decisions (``Paginator.get_page``'s numbering, a
    :class:`~django.core.paginator.Page` of the tuples :func:`issued_html` reads), the
    number of results waiting for a decision and of forwarded dossiers waiting for a
    round. One prepared statement."""
    if connections[Decision.objects.db].vendor != "postgresql":
        return _portable_page(user, number, size)
    issued, counts = _statements(user, reference.version())
    page, (pending, forwarded, drafts) = counted_page(*issued, _page_sql(), number, size,
                                                      counts)
    drafts = [(pk, subject, replaces, issuer, lines, datetime.fromisoformat(created))
              for pk, subject, replaces, issuer, lines, created in drafts]
    return drafts, page, pending, forwarded


def _portable_page(user, number, size):
    """:func:`decision_page` through the ORM, for the embedded SQLite of ``make run`` (the
    statement above is PostgreSQL's: JSON aggregates, ``LATERAL``): the same values in the
    same shapes, in five queries."""
    from django.core.paginator import Paginator
    from django.db.models import Count

    from . import decisions, forwarding
    from .queries import dossiers_visible_to, recognition_decisions_visible_to

    drafts = list(recognition_decisions_visible_to(user, drafts=True)
                  .annotate(lines=Count("items")).order_by("-created_at").values_list(
                      "pk", "subject", "replaces_id", "issuer_name", "lines",
                      "created_at")[:DRAFTS])
    issued = (recognition_decisions_visible_to(user).exclude(state=DecisionState.DRAFT)
              .annotate(lines=Count("items")).order_by("-date", "-number", "-id")
              .values_list("pk", "reference", "date", "issuer_name", "lines", "state",
                           "origin"))
    page = Paginator(issued, size).get_page(number)
    page.object_list = list(page.object_list)
    return (drafts, page, decisions.pending_results(user).count(),
            forwarding.awaiting_round(dossiers_visible_to(user)).count())


def _detail():
    return reverse("decisions:detail", args=[_PK]).split(str(_PK))


def drafts_html(rows):
    """The drafts' ``<tr>`` as ``decisions/list.html`` wrote them (with its loop's
    whitespace)."""
    detail = _detail()
    correction = f'<br><span class="small muted">{escape(_("correction"))}</span>'
    return mark_safe("".join(  # noqa: S308 - every value is escaped
        f'\n    <tr id="decision-{pk}"><td><a href="{detail[0]}{pk}{detail[1]}">'
        f"{escape(Truncator(subject).chars(90))}</a>{correction if replaces else ''}</td>\n"
        f"      <td>{escape(issuer)}</td><td>{text(lines)}</td>"
        f'<td class="date">{day(created)}</td></tr>\n    '
        for pk, subject, replaces, issuer, lines, created in rows))


def issued_html(rows):
    """The issued decisions' ``<tr>`` as ``decisions/list.html`` wrote them."""
    detail = _detail()
    states = {value: escape(label) for value, label in DecisionState.choices}
    recorded = f' <span class="small muted">{escape(_("recorded"))}</span>'
    return mark_safe("".join(  # noqa: S308 - every value is escaped
        f'\n    <tr id="decision-{pk}"><td><a href="{detail[0]}{pk}{detail[1]}">'
        f"{escape(reference_)}</a></td>\n"
        f'      <td class="date">{day(date)}</td><td>{escape(issuer)}</td>'
        f"<td>{text(lines)}</td>\n"
        f'      <td><span class="state state-{escape(state)}">'
        f"{states.get(state, escape(state))}</span>"
        f"{recorded if origin == 'recorded' else ''}</td></tr>\n    "
        for pk, reference_, date, issuer, lines, state, origin in rows))

