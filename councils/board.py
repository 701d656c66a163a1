"""The tracker's and the results' read model: a session's agenda with, per item, what the
requesting user may see of it — who has submitted, the live or recorded aggregates, the
members' totals — decided for every item by ``councils.rules.item_view`` (the
independence rule, ``docs/councils.md``). The pages (tracker, results) and the API
(``sessions/{id}/results/``) render the same :class:`Board`.

The board reads the whole session at once (:func:`board_results`, the same results as
``councils.results.session_board``): its query count depends neither on the number of
members, agenda items and criteria nor on how many items are capped
(``tests/councils/test_tracker_queries.py``). The tracker is polled: it reads sheets as
plain rows, the choices of the submitted sheets only (a draft needs only "anything
answered?", asked in SQL), and the criteria it names from the per-process criteria tree,
instead of ~10,000 model instances per request (issue #14).
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dossiers.models import Dossier
from ocop import rows as sql_rows
from ocop.lru import LRU
from scoring import rules as scoring_rules
from scoring.models import ScoreEntry, Scoresheet, SheetState
from scoring.services import sheet_choices, sheet_spec

from . import rules
from .models import (
    AgendaItem,
    CouncilMember,
    EvaluationSession,
    MemberRole,
    Recusal,
    SessionState,
)
from .results import (
    CapLine,
    Quorum,
    _Context,
    member_rows,
    quorum,
    result_of,
    sheet_status,
)

#: The state of a member's sheet of one dossier, as the tracker names it.
SHEET_STATUS_LABELS = {
    "not_started": gettext_lazy("Not started"),
    SheetState.DRAFT: gettext_lazy("Draft"),
    SheetState.SUBMITTED: gettext_lazy("Submitted"),
    SheetState.REOPENED: gettext_lazy("Reopened for re-scoring"),
    "recused": gettext_lazy("Recused (conflict of interest)"),
}

OUTCOME_LABELS = {
    "forward": gettext_lazy("Forwarded to the next level"),
    "recognise": gettext_lazy("Recognised"),
    "not_recognise": gettext_lazy("Not recognised at this level"),
}



@dataclass
class Summary:
    """The aggregates of one agenda item — live (``councils.results``) or recorded
    (``ItemResultRecord``) — normalised for the templates and the API. Nothing in it
    belongs to one member."""

    recorded: bool
    members_counted: int
    mean: dict  # {"A", "B", "C"}: Decimal
    total: Decimal
    band_stars: int
    stars: int
    cap_reasons: list  # dicts: code, position, title, required_star, required_points, …
    spread: Decimal
    threshold: Decimal
    flagged: bool
    outcome: str
    outcome_stars: int | None
    quorum: dict = field(default_factory=dict)
    statement: str = ""  # the chair's statement on a divergence above the threshold

    @property
    def outcome_label(self):
        label = OUTCOME_LABELS.get(self.outcome, self.outcome)
        if self.outcome == "recognise" and self.outcome_stars:
            return _("%(outcome)s — %(stars)s stars") % {"outcome": label,
                                                         "stars": self.outcome_stars}
        return label

    @property
    def capped(self):
        return self.stars < self.band_stars

    @classmethod
    def from_live(cls, result):
        if result.evaluation is None:
            return None
        evaluation = result.evaluation
        return cls(
            recorded=False, members_counted=result.members_counted,
            mean=dict(evaluation.mean.parts), total=evaluation.mean.total,
            band_stars=evaluation.band_stars, stars=evaluation.stars,
            cap_reasons=[_cap_line(line.as_dict()) for line in result.cap_lines],
            spread=evaluation.divergence.spread, threshold=result.divergence_threshold,
            flagged=evaluation.divergence.flagged, outcome=result.outcome,
            outcome_stars=result.outcome_stars)

    @classmethod
    def from_record(cls, record):
        return cls(
            recorded=True, members_counted=record.members_counted,
            mean=dict(record.mean_parts), total=record.mean_total,
            band_stars=record.band_stars, stars=record.stars,
            cap_reasons=[_cap_line(line) for line in record.cap_reasons or []],
            spread=record.divergence, threshold=record.divergence_threshold,
            flagged=record.divergence_flagged, outcome=record.outcome,
            outcome_stars=record.outcome_stars, quorum=record.quorum or {},
            statement=record.divergence_statement)


def _cap_line(line):
    """A cap reason (``CapLine.as_dict()`` as recorded) with decimals back as Decimal."""
    line = dict(line)
    for key in ("required_points", "median_points"):
        if line.get(key) is not None:
            line[key] = Decimal(str(line[key]))
    return line


@dataclass
class MemberRow:
    member_id: int
    name: str
    role: str
    status: str
    reason: str = ""
    reopenable: bool = False  # the user may reopen this member's submitted sheet

    @property
    def status_label(self):
        return SHEET_STATUS_LABELS.get(self.status, self.status)

    @property
    def role_label(self):
        return MemberRole(self.role).label if self.role in MemberRole.values else self.role


@dataclass
class BoardRow:
    """One agenda item as the requesting user may see it."""

    item: AgendaItem
    dossier: Dossier
    statuses: list  # MemberRow of every scoring member
    submitted: int
    aggregates_visible: bool
    summary: Summary | None  # None when hidden or when no sheet is counted yet
    pending: list  # MemberRow whose missing sheet blocks closing
    member_totals: list = field(default_factory=list)  # per ``rules.item_view``
    counted_names: list = field(default_factory=list)  # who was counted (no scores)
    hidden_reason: str = ""  # why the aggregates are not shown yet
    memo: dict = field(default_factory=dict, repr=False, compare=False)  # escaped texts
    #: the item's section of the tracker when already rendered (``chair_views``)
    section_html: str = field(default="", repr=False, compare=False)

    @property
    def closed(self):
        return self.item.closed_at is not None

    @property
    def statuses_html(self):
        """The member rows of the tracker's table, built here rather than by the template
        engine: 15 members × 20 items are 300 rows on every poll (issue #14)."""
        return status_rows_html(self, self.memo)

    @property
    def totals_html(self):
        """``councils/results/_member_totals.html`` for the tracker, built here."""
        return member_totals_html(self.member_totals)


def _text(value):
    """A value as the template engine prints it: localized, then escaped."""
    return conditional_escape(formats.localize(value))


def status_rows_html(row, memo=None):
    """The ``<tr>`` of every member of ``row`` (what ``_tracker_board.html`` printed in a
    loop, byte for byte). ``memo``: the texts already escaped for the board's other rows
    (the same members, roles and states on every item)."""
    memo = {} if memo is None else memo

    def text(value):
        found = memo.get(value)
        if found is None:
            found = memo[value] = _text(value)
        return found

    reopen_label = None
    url = None
    out = []
    for s in row.statuses:
        reason = f' <span class="small muted">{_text(s.reason)}</span>' if s.reason else ""
        action = ""
        if s.reopenable:
            if url is None:
                reopen_label = escape(_("Reopen for re-scoring…"))
                url = reverse("councils:reopen-sheet",
                              args=(row.item.session_id, row.dossier.pk, _MEMBER_SLOT))
            href = escape(url.replace(str(_MEMBER_SLOT), str(s.member_id)))
            action = f'<a href="{href}" data-action="reopen">{reopen_label}</a>'
        status = text(s.status)
        label = memo.get(("status", s.status))
        if label is None:
            label = memo[("status", s.status)] = _text(s.status_label)
        role = memo.get(("role", s.role))
        if role is None:
            role = memo[("role", s.role)] = _text(s.role_label)
        out.append(
            f'\n      <tr data-member="{text(s.member_id)}">\n'
            f"        <td>{text(s.name)}</td><td>{role}</td>\n"
            f'        <td><span class="sheet-state sheet-{status}" data-state="{status}">'
            f"{label}</span>{reason}</td>\n"
            f"        <td>{action}</td>\n      </tr>\n    ")
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


def member_totals_html(totals):
    """The members' totals table (``councils/results/_member_totals.html``)."""
    head = "".join(f'<th scope="col" class="num">{escape(label)}</th>' for label in (
        _("Part A"), _("Part B"), _("Part C"), _("Total")))
    rows = "".join(
        f'\n    <tr data-member="{_text(m.get("member"))}"><td>{_text(m.get("name"))}</td>'
        f'<td class="num">{_text(m["parts"].get("A", ""))}</td>'
        f'<td class="num">{_text(m["parts"].get("B", ""))}</td>'
        f'<td class="num">{_text(m["parts"].get("C", ""))}</td>'
        f'<td class="num" data-field="member-total">{_text(m["total"])}</td></tr>\n  '
        for m in totals)
    return mark_safe(  # noqa: S308 - every value above is escaped
        f'<table class="results member-totals">\n  <thead><tr><th scope="col">'
        f'{escape(_("Council member"))}</th>{head}</tr></thead>\n  <tbody>\n  {rows}\n'
        f"  </tbody>\n</table>\n")


#: A member id no real row has, replaced in the reversed reopen URL (one ``reverse`` per row).
_MEMBER_SLOT = 987654321987


@dataclass
class Board:
    session: EvaluationSession
    rows: list
    quorum: Quorum
    member: CouncilMember | None
    can_track: bool
    is_chair: bool

    @property
    def scoring_open(self):
        return self.session.is_open_for_scoring

    can_close: bool = False  # may close items and the session now (``rules``)

    @property
    def in_meeting(self):
        return self.session.state == SessionState.MEETING

    @property
    def written(self):
        """Decided by written opinions: no meeting (docs/councils.md)."""
        return rules.is_written(self.session)

    @property
    def meeting_day_reached(self):
        """The meeting is held on the session's date, not before (``rules``)."""
        return rules.meeting_day_refusal(self.session) is None

    @property
    def closed(self):
        return self.session.state == SessionState.CLOSED

    def row(self, dossier_id):
        for row in self.rows:
            if row.dossier.pk == dossier_id:
                return row
        raise Http404


class _Entries:
    """A sheet's entries as ``results`` reads them (``sheet.entries.all()``)."""

    __slots__ = ("rows",)

    def __init__(self, rows):
        self.rows = rows

    def all(self):
        return self.rows


class _Entry:
    __slots__ = ("criterion_id", "option_id")

    def __init__(self, criterion_id, option_id):
        self.criterion_id = criterion_id
        self.option_id = option_id


_ANSWERED = (_Entry(None, True),)  # what "a draft with a saved choice" needs to be seen


class _Sheet:
    """A scoresheet read as a plain row: what ``results.sheet_status`` and the counting
    read (pk, member, state, entries), and what identifies its content (version)."""

    __slots__ = ("pk", "member_id", "dossier_id", "state", "version", "entries")

    def __init__(self, pk, member_id, dossier_id, state, version, entries):
        self.pk, self.member_id, self.dossier_id = pk, member_id, dossier_id
        self.state, self.version = state, version
        self.entries = _Entries(entries)


def _light_sheets(session, dossier_ids):
    """{dossier id: [_Sheet]}: the sheets as rows, in one query; a draft carries only
    whether anything is answered (asked in SQL), a submitted sheet its choices once
    :func:`_load_choices` has read them."""
    rows = (Scoresheet.objects.filter(session=session, dossier_id__in=dossier_ids)
            .annotate(answered=Exists(ScoreEntry.objects.filter(
                sheet_id=OuterRef("pk"), option__isnull=False)))
            .order_by().values_list("id", "member_id", "dossier_id", "state", "version",
                                    "updated_at", "answered"))
    sheets = {}
    for pk, member_id, dossier_id, state, version, updated_at, answered in rows:
        entries = [] if state == SheetState.SUBMITTED else (_ANSWERED if answered else ())
        sheet = _Sheet(pk, member_id, dossier_id, state, (version, updated_at), entries)
        sheets.setdefault(dossier_id, []).append(sheet)
    return sheets


def _load_choices(sheets):
    """Read the choices of the submitted ``sheets`` (one query)."""
    by_pk = {sheet.pk: sheet for sheet in sheets}
    for sheet_id, criterion_id, option_id in (
            ScoreEntry.objects.filter(sheet_id__in=list(by_pk)).order_by()
            .values_list("sheet_id", "criterion_id", "option_id")):
        by_pk[sheet_id].entries.rows.append(_Entry(criterion_id, option_id))


def _cap_criteria(criteria_set):
    """{criterion id: (code, position, title)} of a set, from the per-process tree."""
    from .sheets import sheet_tree

    return {pk: (c["code"], c.get("position", ""), c["title"])
            for pk, c in sheet_tree(criteria_set).by_id.items()}


#: The counted part of an item's result (members' totals, evaluation, cap lines) per
#: process, keyed by the counted sheets and their versions: a submitted sheet cannot
#: change without a new version (reopening, re-submitting), so a poll of an unchanged
#: item neither reads its choices again nor re-evaluates them.
_EVALUATIONS = LRU(1024)


def _counted(ctx, sheets, recusals):
    """The submitted sheets that count, in council order (as ``results._build``)."""
    recused = {r.member_id for r in recusals}
    by_member = {s.member_id: s for s in sheets}
    return [by_member[m.pk] for m in ctx.scoring
            if m.pk not in recused and m.pk in by_member
            and sheet_status(by_member[m.pk]) == SheetState.SUBMITTED]


def _evaluation_key(ctx, dossier, counted):
    cs = dossier.criteria_set
    return (dossier.pk, cs.pk, cs.updated_at, tuple((s.pk, s.version) for s in counted),
            ctx.bands, ctx.threshold, ctx.recognises, ctx.forward_from,
            ctx.forward_min_stars)


def _evaluate(ctx, dossier, counted):
    """{sheet pk: totals}, the evaluation and the cap lines of the counted sheets."""
    spec = sheet_spec(dossier.criteria_set)
    totals, choices = {}, []
    for sheet in counted:
        member_choices = sheet_choices(sheet, sheet.entries.all())
        totals[sheet.pk] = scoring_rules.sheet_totals(spec, member_choices)
        choices.append(member_choices)
    evaluation, cap_lines = None, ()
    if choices:
        evaluation = scoring_rules.evaluate(
            spec, choices, bands=ctx.bands, divergence_threshold=ctx.threshold,
            recognises=ctx.recognises, forward_from=ctx.forward_from,
            forward_min_stars=ctx.forward_min_stars)
        reasons = evaluation.cap.reasons
        if reasons:
            named = _cap_criteria(dossier.criteria_set)
            cap_lines = tuple(
                CapLine(r.criterion_key, *named[r.criterion_key], r.required_star,
                        r.required_points, r.median_points, r.strict)
                for r in reasons)
    return totals, evaluation, cap_lines


def _item_result(ctx, dossier, sheets, recusals, evaluated):
    """``results._build`` on plain rows, with the counted part ``evaluated``
    (:func:`_evaluate`): the same rule (``results.member_rows``)."""
    totals, evaluation, cap_lines = evaluated
    rows = member_rows(ctx, sheets, recusals, lambda sheet: totals[sheet.pk])
    return result_of(ctx, dossier, rows, evaluation, cap_lines)


def board_results(session, items):
    """``({dossier id: ItemResult}, Quorum)`` of the agenda ``items`` (loaded with their
    dossier and criteria set) — what ``results.session_board`` returns, read as rows;
    the choices of counted sheets are read only for items whose evaluation is not cached
    yet (:data:`_EVALUATIONS`)."""
    ctx = _Context(session)
    dossier_ids = [item.dossier_id for item in items]
    sheets = _light_sheets(session, dossier_ids)
    recusals = {}
    for recusal in Recusal.objects.filter(session=session, dossier_id__in=dossier_ids):
        recusals.setdefault(recusal.dossier_id, []).append(recusal)
    cache = _EVALUATIONS
    plan, to_read = [], []
    for item in items:
        counted = _counted(ctx, sheets.get(item.dossier_id, []),
                           recusals.get(item.dossier_id, []))
        key = _evaluation_key(ctx, item.dossier, counted)
        cached = cache.get(key)
        if cached is None:
            to_read += counted
        plan.append((item, counted, key, cached))
    if to_read:
        _load_choices(to_read)
    results = {}
    for item, counted, key, cached in plan:
        if cached is None:
            cached = cache.put(key, _evaluate(ctx, item.dossier, counted))
        results[item.dossier_id] = _item_result(
            ctx, item.dossier, sheets.get(item.dossier_id, []),
            recusals.get(item.dossier_id, []), cached)
    return results, quorum(session, ctx.members, attendance=(ctx.present_ids, ctx.by_meeting))


def build_board(user, session, *, dossier_id=None, actor=None):
    """The session's agenda as ``user`` may see it (see the module docstring).
    ``dossier_id`` limits the rows to one item; ``actor``: the user's ``rules.Actor`` in
    this session when the view already has it."""
    items = AgendaItem.objects.filter(session=session).select_related(
        "dossier__product__producer", "dossier__criteria_set", "result").order_by(
        "order", "id")
    if dossier_id is not None:
        items = items.filter(dossier_id=dossier_id)
    items = list(items)
    live, q = board_results(session, items)
    actor = actor if actor is not None else rules.Actor(user, session)
    own_sheets = None
    reopening = session.is_open_for_scoring and actor.role in (rules.CHAIR,
                                                                 rules.VICE_CHAIR)
    rows = []
    memo = {}  # the member rows' escaped texts, shared by the items
    for item in items:
        result = live.get(item.dossier_id)
        record = getattr(item, "result", None) if item.closed_at is not None else None
        view = rules.item_view(actor, session, result, quorum=q)
        summary = None
        if view.aggregates:
            summary = (Summary.from_record(record) if record is not None
                       else Summary.from_live(result))
        totals = []
        if view.member_totals:
            counted = (record.members if record is not None
                       else [m.as_dict() for m in result.counted] if result else [])
            if view.own_only:
                if own_sheets is None:
                    own_sheets = set(rules.sheets_visible_to(user, session)
                                     .values_list("pk", flat=True))
                counted = [m for m in counted if m.get("sheet") in own_sheets]
            totals = [_member_total(m) for m in counted]
        names = []
        if view.aggregates:
            names = ([m.get("name", "") for m in record.members] if record is not None
                     else [m.name for m in result.counted] if result else [])
        statuses, pending = [], []
        if view.progress and result:
            can_reopen = reopening and item.closed_at is None
            statuses = [MemberRow(s.member_id, s.name, s.role, s.status, s.reason,
                                  reopenable=can_reopen and s.status == SheetState.SUBMITTED
                                  and rules.may_reopen_for(actor, s.member_id, s.role))
                        for s in result.statuses]
            pending = [MemberRow(s.member_id, s.name, s.role, s.status)
                       for s in result.pending]
        rows.append(BoardRow(
            item=item, dossier=item.dossier, statuses=statuses,
            submitted=sum(1 for s in result.statuses if s.status == SheetState.SUBMITTED)
            if result and view.progress else 0,
            aggregates_visible=view.aggregates, summary=summary, pending=pending,
            member_totals=totals, counted_names=names, hidden_reason=view.reason,
            memo=memo))
    return Board(session=session, rows=rows, quorum=q, member=actor.member,
                 can_track=rules.may(actor, "track", session),
                 is_chair=actor.role == MemberRole.CHAIR,
                 can_close=rules.check(actor, "close_item", session) is None)


def _member_total(recorded):
    """A counted member's totals (``MemberScore.as_dict()``), numbers as Decimal."""
    row = dict(recorded)
    row["parts"] = {part: Decimal(str(value))
                    for part, value in (recorded.get("parts") or {}).items()}
    row["total"] = Decimal(str(recorded.get("total")))
    return row


# --- the tracker's fragment, kept per process while nothing it shows changed -----------------

#: One digest of every row the tracker shows of a session (PostgreSQL): the session, its
#: council, its round's process level and star bands; the council's members and their
#: names; the agenda items with their dossier's product, producer, criteria set and
#: recorded result; the recusals and the attendance. The sheets are digested by their
#: number, states and versions: every change of a sheet (a saved choice, a submission, a
#: reopening) gives it a new ``version`` (``scoring.services``, ``services.reopen_sheet``),
#: so their sum grows with each. Related rows are read by scalar subqueries, which
#: PostgreSQL plans in a fraction of the joins' time.
_VERSION_SQL = """
SELECT md5(concat_ws('#',
  (SELECT es::text FROM councils_evaluationsession es WHERE es.id = %(session)s),
  (SELECT c::text FROM councils_council c WHERE c.id = %(council)s),
  (SELECT (er.regime_id, l.*)::text FROM dossiers_evaluationround er
     JOIN scoring_processlevel l ON l.id = er.level_id WHERE er.id = %(round)s),
  (SELECT string_agg((b.stars, b.min_score)::text, ';' ORDER BY b.stars, b.min_score)
     FROM scoring_starband b
    WHERE b.regime_id = (SELECT regime_id FROM dossiers_evaluationround
                          WHERE id = %(round)s)),
  (SELECT string_agg((m.*, u.full_name, u.first_name, u.last_name, u.username)::text, ';'
                     ORDER BY m.id)
     FROM councils_councilmember m JOIN accounts_user u ON u.id = m.user_id
    WHERE m.council_id = %(council)s),
  (SELECT string_agg((i.*, d.criteria_set_id, d.product_id,
                      (SELECT cs.updated_at FROM scoring_criteriaset cs
                        WHERE cs.id = d.criteria_set_id),
                      (SELECT (p.name, pr.name) FROM dossiers_product p
                         JOIN dossiers_producer pr ON pr.id = p.producer_id
                        WHERE p.id = d.product_id),
                      (SELECT (rr.id, rr.recorded_at) FROM councils_itemresultrecord rr
                        WHERE rr.item_id = i.id))::text, ';' ORDER BY i.id)
     FROM councils_agendaitem i JOIN dossiers_dossier d ON d.id = i.dossier_id
    WHERE i.session_id = %(session)s),
  (SELECT (count(*), max(s.id), sum(s.version), max(s.updated_at),
           count(*) FILTER (WHERE s.state = 'submitted'),
           count(*) FILTER (WHERE s.state = 'reopened'))::text
     FROM scoring_scoresheet s WHERE s.session_id = %(session)s),
  (SELECT string_agg(r::text, ';' ORDER BY r.id)
     FROM councils_recusal r WHERE r.session_id = %(session)s),
  (SELECT string_agg(a::text, ';' ORDER BY a.id)
     FROM councils_attendance a WHERE a.session_id = %(session)s)))
"""


def _tracker_statement():
    from .models import Council, CouncilMember, EvaluationSession

    # aliases of their own: the digest's subqueries use the short ones (s, c, m, …)
    digest = _VERSION_SQL % {"session": "t_s.id", "council": "t_s.council_id",
                             "round": "t_s.round_id"}
    return sql_rows.Statement(
        "tracker_session",
        [("t_s", EvaluationSession), ("t_c", Council), ("t_m", CouncilMember)],
        [f"({digest})"],
        f"""FROM {EvaluationSession._meta.db_table} t_s
    JOIN {Council._meta.db_table} t_c ON t_c.id = t_s.council_id
    LEFT JOIN {CouncilMember._meta.db_table} t_m
      ON t_m.council_id = t_s.council_id AND t_m.user_id = %(user)s
    WHERE t_s.id = %(session)s""",
        {"session": "bigint", "user": "bigint"})


def tracker_session(session_id, user):
    """``(session with its council and tracker_version, the user's membership or None)``
    in one prepared statement (``ocop.rows``: its digest's subqueries took longer to plan
    than to run), or None when there is no such session — PostgreSQL only (the digest is
    PostgreSQL's SQL); elsewhere None is never returned but :class:`NotImplementedError`
    is raised, and the caller reads the session through the ORM."""
    if connection.vendor != "postgresql":
        raise NotImplementedError
    found = sql_rows.statement("tracker_session", _tracker_statement).run(
        {"session": session_id, "user": user.pk if user.is_authenticated else None})
    if found is None:
        return None
    tables, (version,) = found
    session = tables["t_s"]
    session.council = tables["t_c"]
    session.tracker_version = version
    return session, tables["t_m"]


def board_version(session):
    """A digest of everything the tracker shows of ``session`` (one query; the tracker
    reads it with the session, :func:`tracker_session`), or None where the database
    cannot compute it (SQLite: nothing is kept)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(_VERSION_SQL, {"session": session.pk, "council": session.council_id,
                                      "round": session.round_id})
        return cursor.fetchone()[0]


#: The tracker's rendered fragment per process (:func:`fragment_key`), with
#: :data:`CSRF_SLOT` where each request's CSRF token goes: a poll of a session where
#: nothing changed reads one digest instead of the whole session, and renders nothing.
_FRAGMENTS = LRU(32)

#: Rendered in place of the CSRF token in a kept fragment; replaced on every request.
CSRF_SLOT = "csrf0slot0b0a7d3e5c1f49a2"


def fragment_key(session, actor, version):
    """What the tracker's fragment depends on besides the rows :func:`board_version`
    digests: who looks (their membership and role), the language, the day (the meeting
    day's link) and the aggregates' floor."""
    if version is None:
        return None
    member = actor.member
    return (session.pk, version, actor.user.pk, member.pk if member else None, actor.role,
            translation.get_language(), timezone.localdate(),
            rules.MIN_SHEETS_FOR_AGGREGATES)


def cached_fragment(key):
    return None if key is None else _FRAGMENTS.get(key)


def keep_fragment(key, session, html):
    """Keep ``html`` under ``key`` unless the session changed while it was built (its
    digest read again): a fragment is never kept under a digest it does not show."""
    if key is not None and board_version(session) == key[1]:
        _FRAGMENTS.put(key, html)


#: The tracker's sections per agenda item per process (:func:`section_key`): when one item
#: changed, the board is built again but only that item's section is rendered.
_SECTIONS = LRU(1024)


def section_key(board, row, number):
    """Everything the tracker's section of ``row`` shows (``_tracker_item.html``), read
    from the built row: its place, the product, the members' states and actions, the
    aggregates (``repr`` of plain values) — and the language and the viewer's actions."""
    product = row.dossier.product
    return (translation.get_language(), number, board.session.pk, board.can_close,
            row.dossier.pk, product.name, product.producer.name, row.closed, row.submitted,
            row.aggregates_visible, str(row.hidden_reason),
            tuple((s.member_id, s.name, s.role, s.status, s.reason, s.reopenable)
                  for s in row.statuses),
            tuple(s.name for s in row.pending), repr(row.member_totals), repr(row.summary))


def cached_section(key):
    return _SECTIONS.get(key)


def keep_section(key, html):
    return _SECTIONS.put(key, html)
