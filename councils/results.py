"""A council's result for one agenda item, built from the scoresheets with the pure rules
(``scoring.rules.evaluate``), and the session's quorum.

Everything here only reads; :func:`councils.services.close_item` records what
:func:`item_result` returns.

Who is counted (the result's ``counted``): the SUBMITTED sheets of the council's scoring
members (not advisory, not the secretary) who are not recused from the dossier in the
session. A sheet written before its member declared a recusal is therefore left out, and
a reopened sheet does not count until it is submitted again.

Everything the rules need comes from data, never from the regime's name: the criteria set
of the dossier (``sheet_spec``), the bands of the round's regime (``star_bands``), the
round's process level (``recognises``, ``forward_from``) and the council's
``divergence_threshold``.
"""

import math
from dataclasses import dataclass, field
from decimal import Decimal

from scoring import rules
from scoring.models import Criterion, Scoresheet, SheetState
from scoring.queries import star_bands
from scoring.services import sheet_choices, sheet_spec

from .models import Attendance, CouncilMember, MemberRole, Recusal

CENT = Decimal("0.01")

#: ``scoring.rules.OutcomeKind`` → the ``outcome`` word of ``dossiers.services.record_result``.
DOSSIER_OUTCOME = {
    rules.OutcomeKind.FORWARD: "forward",
    rules.OutcomeKind.RECOGNISE: "recognise",
    rules.OutcomeKind.NOT_RECOGNISED: "not_recognise",
}


def member_name(member):
    user = member.user
    return (getattr(user, "full_name", "") or user.get_full_name() or user.get_username())


def _str(value):
    return None if value is None else str(value)


@dataclass(frozen=True)
class MemberScore:
    """One counted member's sheet: totals per part and in total (exact, not rounded)."""

    member_id: int
    name: str
    role: str
    sheet_id: int
    parts: dict
    total: Decimal

    def as_dict(self):
        return {"member": self.member_id, "name": self.name, "role": self.role,
                "sheet": self.sheet_id,
                "parts": {p: str(v) for p, v in self.parts.items()}, "total": str(self.total)}


@dataclass(frozen=True)
class MemberStatus:
    member_id: int
    name: str
    role: str
    status: str  # not_started / draft / reopened / submitted / recused
    reason: str = ""


@dataclass(frozen=True)
class CapLine:
    """A condition that capped the star, with the criterion's printed code and title."""

    criterion_id: int
    code: str
    position: str
    title: str
    required_star: int
    required_points: Decimal
    median_points: Decimal
    strict: bool

    def as_dict(self):
        return {"criterion": self.criterion_id, "code": self.code, "position": self.position,
                "title": self.title, "required_star": self.required_star,
                "required_points": str(self.required_points),
                "median_points": str(self.median_points), "strict": self.strict}


@dataclass(frozen=True)
class ItemResult:
    session_id: int
    dossier_id: int
    counted: tuple  # MemberScore, in council order
    statuses: tuple  # MemberStatus of every scoring member
    pending: tuple  # MemberStatus of the members whose missing sheet blocks closing
    evaluation: rules.Evaluation | None  # None while no sheet is counted
    cap_lines: tuple = ()
    divergence_threshold: Decimal = Decimal(10)
    recognises: tuple = ()
    forward_from: Decimal | None = None
    admin_level: str = ""
    criteria_set_id: int | None = None
    recused: tuple = field(default=())  # MemberStatus with the recusal reason
    by_meeting: bool = False  # attendance recorded: ``pending`` lists present members

    # -- shortcuts -------------------------------------------------------------------------
    @property
    def members_counted(self):
        return len(self.counted)

    @property
    def mean(self):
        return self.evaluation.mean if self.evaluation else None

    @property
    def band_stars(self):
        return self.evaluation.band_stars if self.evaluation else None

    @property
    def stars(self):
        return self.evaluation.stars if self.evaluation else None

    @property
    def divergence(self):
        return self.evaluation.divergence if self.evaluation else None

    @property
    def outcome(self):
        """``forward`` / ``recognise`` / ``not_recognise`` (the dossier service's words)."""
        return DOSSIER_OUTCOME[self.evaluation.outcome.kind] if self.evaluation else None

    @property
    def outcome_stars(self):
        return self.evaluation.outcome.stars if self.evaluation else None

    @property
    def not_submitted(self):
        return tuple(s for s in self.statuses if s.status not in ("submitted", "recused"))

    def as_dict(self):
        """JSON-friendly, decimals as strings: what ``close_item`` records and passes to
        ``dossiers.services.record_result``."""
        evaluation = self.evaluation
        return {
            "session": self.session_id,
            "criteria_set": self.criteria_set_id,
            "members_counted": self.members_counted,
            "members": [m.as_dict() for m in self.counted],
            "recused": [{"member": r.member_id, "name": r.name, "reason": r.reason}
                        for r in self.recused],
            "mean": ({p: str(v) for p, v in evaluation.mean.parts.items()}
                     if evaluation else None),
            "total": _str(evaluation.mean.total) if evaluation else None,
            "band_stars": self.band_stars,
            "stars": self.stars,
            "cap_reasons": [line.as_dict() for line in self.cap_lines],
            "divergence": ({"spread": str(evaluation.divergence.spread),
                            "threshold": str(self.divergence_threshold),
                            "flagged": evaluation.divergence.flagged}
                           if evaluation else None),
            "outcome": self.outcome,
            "outcome_stars": self.outcome_stars,
            "level": {"admin_level": self.admin_level, "recognises": list(self.recognises),
                      "forward_from": _str(self.forward_from)},
        }


# --- quorum ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quorum:
    """Quorum of a session.

    ``needed = ceil(quorum_ratio × scoring members)``; ``present`` counts the scoring
    members present at the meeting (attendance recorded by ``start_meeting``) or, when the
    session had no meeting (written opinions), those who submitted at least one sheet in
    the session. With ``chair_required`` the chair must be among them.
    """

    scoring_members: int
    needed: int
    present: int
    chair_required: bool
    chair_present: bool
    by_meeting: bool
    present_ids: frozenset

    @property
    def met(self):
        return self.present >= self.needed and (self.chair_present or not self.chair_required)

    def as_dict(self):
        return {"scoring_members": self.scoring_members, "needed": self.needed,
                "present": self.present, "chair_required": self.chair_required,
                "chair_present": self.chair_present, "by_meeting": self.by_meeting,
                "met": self.met}


def quorum_needed(ratio, scoring_members):
    """ceil(ratio × members), exactly (Decimal): 0.75 × 7 = 5.25 → 6; 0.75 × 8 = 6."""
    return math.ceil(Decimal(ratio) * scoring_members)


def _members(session):
    return list(CouncilMember.objects.filter(council_id=session.council_id)
                .select_related("user").order_by("order", "id"))


def _present_ids(session, scoring):
    """(ids of the present scoring members, whether attendance was recorded)."""
    # .order_by(): a set is read, the models' orderings would only add joins
    rows = list(Attendance.objects.filter(session=session).order_by()
                .values_list("member_id", "present"))
    scoring_ids = {m.pk for m in scoring}
    if rows:
        return frozenset(pk for pk, present in rows if present and pk in scoring_ids), True
    submitted = Scoresheet.objects.filter(session=session, state=SheetState.SUBMITTED,
                                          member_id__in=scoring_ids).order_by().values_list(
        "member_id", flat=True)
    return frozenset(submitted), False


def quorum(session, members=None, *, attendance=None):
    """The session's quorum; ``attendance`` = ``(present ids, by meeting)`` when already
    read (``session_board``)."""
    council = session.council
    members = _members(session) if members is None else members
    scoring = [m for m in members if m.scores]
    present, by_meeting = (_present_ids(session, scoring) if attendance is None
                           else attendance)
    chair_ids = {m.pk for m in scoring if m.role == MemberRole.CHAIR}
    return Quorum(
        scoring_members=len(scoring),
        needed=quorum_needed(council.quorum_ratio, len(scoring)),
        present=len(present),
        chair_required=council.chair_required,
        chair_present=bool(chair_ids & present),
        by_meeting=by_meeting,
        present_ids=present,
    )


# --- item results ----------------------------------------------------------------------------


def sheet_status(sheet):
    """The state of a member's sheet as the tracker names it: ``not_started`` until its
    first saved choice (opening the page creates an empty sheet, which starts nothing),
    then the sheet's own state (draft / submitted / reopened)."""
    if sheet is None:
        return "not_started"
    if sheet.state == SheetState.DRAFT and not any(
            entry.option_id is not None for entry in sheet.entries.all()):
        return "not_started"
    return sheet.state


class _Context:
    """What every item of a session shares (loaded once)."""

    def __init__(self, session, members=None):
        self.session = session
        self.members = _members(session) if members is None else members
        self.scoring = [m for m in self.members if m.scores]
        level = session.round.level
        self.bands = star_bands(session.round.regime_id)
        self.recognises = tuple(level.recognises or ())
        self.forward_from = level.forward_from
        self.forward_min_stars = level.forward_min_stars
        self.admin_level = level.admin_level
        self.threshold = Decimal(session.council.divergence_threshold).quantize(CENT)
        self.present_ids, self.by_meeting = _present_ids(session, self.scoring)


def _sheets(session, dossier_ids):
    return (Scoresheet.objects.filter(session=session, dossier_id__in=dossier_ids)
            .select_related("criteria_set").prefetch_related("entries"))


def member_rows(ctx, sheets, recusals, totals_of):
    """Who is counted, who must still submit, who recused, for one agenda item — the one
    rule of it (the results pages and the chair's tracker): ``(counted, statuses, pending,
    recused)``; ``totals_of(sheet)`` gives the totals of a submitted sheet."""
    recused = {r.member_id: r for r in recusals}
    by_member = {s.member_id: s for s in sheets}
    counted, statuses, pending, recused_rows = [], [], [], []
    for member in ctx.scoring:
        name, sheet = member_name(member), by_member.get(member.pk)
        if member.pk in recused:
            status = MemberStatus(member.pk, name, member.role, "recused",
                                  recused[member.pk].reason)
            recused_rows.append(status)
            statuses.append(status)
            continue
        state = sheet_status(sheet)
        status = MemberStatus(member.pk, name, member.role, state)
        statuses.append(status)
        if state == SheetState.SUBMITTED:
            totals = totals_of(sheet)
            counted.append(MemberScore(member.pk, name, member.role, sheet.pk,
                                       dict(totals.parts), totals.total))
        elif (member.pk in ctx.present_ids) if ctx.by_meeting else state != "not_started":
            # present at the meeting, or (before it) started a sheet: must submit
            pending.append(status)
    return counted, statuses, pending, recused_rows


def result_of(ctx, dossier, rows, evaluation, cap_lines):
    """The :class:`ItemResult` of :func:`member_rows`' ``rows`` and the evaluation."""
    counted, statuses, pending, recused_rows = rows
    return ItemResult(
        session_id=ctx.session.pk, dossier_id=dossier.pk, counted=tuple(counted),
        statuses=tuple(statuses), pending=tuple(pending), evaluation=evaluation,
        cap_lines=cap_lines, divergence_threshold=ctx.threshold, recognises=ctx.recognises,
        forward_from=ctx.forward_from, admin_level=ctx.admin_level,
        criteria_set_id=dossier.criteria_set_id, recused=tuple(recused_rows),
        by_meeting=ctx.by_meeting)


def _build(ctx, dossier, sheets, recusals):
    spec = sheet_spec(dossier.criteria_set)
    choices = {}

    def totals_of(sheet):
        choices[sheet.pk] = sheet_choices(sheet, sheet.entries.all())
        return rules.sheet_totals(spec, choices[sheet.pk])

    rows = member_rows(ctx, sheets, recusals, totals_of)
    evaluation = None
    cap_lines = ()
    if choices:
        evaluation = rules.evaluate(
            spec, list(choices.values()), bands=ctx.bands, divergence_threshold=ctx.threshold,
            recognises=ctx.recognises, forward_from=ctx.forward_from,
            forward_min_stars=ctx.forward_min_stars)
        reasons = evaluation.cap.reasons
        if reasons:
            criteria = Criterion.objects.in_bulk([r.criterion_key for r in reasons])
            cap_lines = tuple(
                CapLine(r.criterion_key, criteria[r.criterion_key].code,
                        criteria[r.criterion_key].position, criteria[r.criterion_key].title,
                        r.required_star, r.required_points, r.median_points, r.strict)
                for r in reasons)
    return result_of(ctx, dossier, rows, evaluation, cap_lines)


def item_result(session, dossier):
    """The result of one dossier of the session from its counted sheets (see the module
    docstring). ``evaluation`` is None while no sheet is counted."""
    ctx = _Context(session)
    sheets = list(_sheets(session, [dossier.pk]))
    recusals = list(Recusal.objects.filter(session=session, dossier=dossier))
    return _build(ctx, dossier, sheets, recusals)


def session_board(session):
    """``({dossier id: ItemResult}, Quorum)`` for every agenda item, in agenda order: one
    load for the whole session (members and attendance read once for both)."""
    items = list(session.agenda.select_related("dossier__criteria_set").order_by("order", "id"))
    ctx = _Context(session)
    sheets, recusals = {}, {}
    for sheet in _sheets(session, [i.dossier_id for i in items]):
        sheets.setdefault(sheet.dossier_id, []).append(sheet)
    for recusal in Recusal.objects.filter(session=session):
        recusals.setdefault(recusal.dossier_id, []).append(recusal)
    results = {item.dossier_id: _build(ctx, item.dossier, sheets.get(item.dossier_id, []),
                                       recusals.get(item.dossier_id, []))
               for item in items}
    return results, quorum(session, ctx.members, attendance=(ctx.present_ids, ctx.by_meeting))


def session_results(session):
    """{dossier id: ItemResult} for every agenda item (see :func:`session_board`)."""
    return session_board(session)[0]
