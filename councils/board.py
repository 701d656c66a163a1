"""The tracker's and the results' read model: a session's agenda with, per item, what the
requesting user may see of it — who has submitted, the live or recorded aggregates, the
members' totals — decided for every item by ``councils.rules.item_view`` (the
independence rule, ``docs/councils.md``). The pages (tracker, results) and the API
(``sessions/{id}/results/``) render the same :class:`Board`.

The board reads the whole session at once (``councils.results.session_board``): its
query count does not depend on the number of members or criteria
(``tests/councils/test_tracker_queries.py``).
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dossiers.models import Dossier
from scoring.models import SheetState

from . import rules
from .models import AgendaItem, CouncilMember, EvaluationSession, MemberRole, SessionState
from .results import Quorum, session_board

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

    @property
    def closed(self):
        return self.item.closed_at is not None


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


def build_board(user, session, *, dossier_id=None):
    """The session's agenda as ``user`` may see it (see the module docstring).
    ``dossier_id`` limits the rows to one item."""
    items = AgendaItem.objects.filter(session=session).select_related(
        "dossier__product__producer", "dossier__criteria_set", "result").order_by(
        "order", "id")
    if dossier_id is not None:
        items = items.filter(dossier_id=dossier_id)
    items = list(items)
    live, q = session_board(session)
    actor = rules.Actor(user, session)
    own_sheets = None
    reopening = session.is_open_for_scoring and actor.role in (rules.CHAIR,
                                                                 rules.VICE_CHAIR)
    rows = []
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
            member_totals=totals, counted_names=names, hidden_reason=view.reason))
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
