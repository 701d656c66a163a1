"""Council services: the only way councils, sessions, agendas, recusals, reopened sheets
and results change.

CONTRACT (pages, API, tasks and demo data call exactly these). Each asks
``councils.rules`` (who may, in which session state), checks the preconditions, runs in
one transaction, writes the audit event and raises ``CouncilError(message, code=…,
details=…)`` with a Vietnamese message when refused. The rules are written in
``docs/councils.md``.

    class CouncilError(Exception): .message, .code, .details

    create_council(user, *, data: dict, members: list[dict]) -> Council
    create_session(user, *, council, round, date, place="", mode="meeting",
                   opinions_due=None) -> EvaluationSession
    set_agenda(user, session, dossiers) -> EvaluationSession
        accepted / pre-assessed dossiers of the round; THE way a dossier enters evaluation
        (dossiers.services.start_evaluation(..., via_council=True))
    open_scoring(user, session) -> EvaluationSession            preparing → open
    start_meeting(user, session, *, present) -> EvaluationSession
        open → meeting on (or after) the session's date, records attendance
    record_attendance(user, session, *, present) -> EvaluationSession
    declare_recusal(user, session, *, member, dossier, reason) -> Recusal
    reopen_sheet(user, sheet, reason) -> Scoresheet
        the chair reopens a member's submitted sheet, the vice-chair the chair's; nobody
        their own; not once the item is closed
    item_result(session, dossier) -> ItemResult                  pure read
    close_item(user, session, dossier, *, divergence_statement="") -> AgendaItem
        the chair, in the meeting, with quorum and every present member's sheet in; a
        divergence above the threshold needs a re-score or the statement; records the
        council's result (ItemResultRecord)
    close_session(user, session) -> EvaluationSession
        the chair, every item closed; THE way a dossier's result is recorded
        (dossiers.services.record_result(..., via_council=True)); queues the minutes
    queue_minutes(user, session) -> GeneratedDocument
    quorum(session) -> results.Quorum

POLICIES (the council's quy chế leaves them open; docs/councils.md explains each):

* Quorum: ``present ≥ ceil(quorum_ratio × scoring members)`` at the meeting and, with
  ``chair_required``, the chair present. Scoring members = not advisory, not the
  secretary. A recused member present counts for the quorum, not for that result.
* Closing an item with sheets still out: refused, naming the members, while a PRESENT
  scoring member who is not recused has not submitted. An absent member who never
  submitted is not counted ("did not score" in the minutes); a submitted sheet of an
  absent member counts. At least one sheet must count.
* Divergence above the threshold blocks closing until a re-score brings the spread within
  it, or the chair records that the council discussed it and the members confirm their
  scores (``divergence_statement``: printed in the minutes, audited).
* Members' written opinions without a meeting (``mode="written"``, 26/2026
  re-evaluations only, ``rules.WRITTEN_ACTIONS``): no meeting, attendance or quorum; the
  chair or the secretary closes an item once every non-recused scoring member has
  submitted, or after ``opinions_due`` (a sheet not submitted by then is not counted),
  and closes the session while it is open for scoring.
* The agenda only grows: a dossier already on it is in evaluation and cannot be taken off;
  ``set_agenda`` with a list that omits one is refused.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dossiers import rules as dossier_rules
from dossiers import services as dossier_services
from dossiers.models import Dossier, DossierState, RegistrationType
from ocop.audit.services import record
from ocop.regions.models import AdministrativeUnit
from scoring.models import ProcessKind, Regime, Scoresheet, SheetState

from . import queries, rules
from .models import (
    AgendaItem,
    Attendance,
    Council,
    CouncilMember,
    DocumentKind,
    DocumentStatus,
    EvaluationSession,
    GeneratedDocument,
    ItemResultRecord,
    MemberRole,
    Recusal,
    SessionMode,
    SessionState,
)
from .results import ItemResult, quorum
from .results import item_result as _item_result

__all__ = [
    "AGENDA_STATES",
    "CouncilError",
    "ItemResult",
    "close_item",
    "close_session",
    "create_council",
    "create_session",
    "declare_recusal",
    "item_result",
    "open_scoring",
    "queue_minutes",
    "reopen_sheet",
    "quorum",
    "record_attendance",
    "set_agenda",
    "start_meeting",
]


class CouncilError(Exception):
    """A refused council action; ``message`` is for the user, ``details`` carries data for
    the caller (e.g. the members who have not submitted)."""

    def __init__(self, message, *, code="refused", details=None):
        super().__init__(str(message))
        self.message = str(message)
        self.code = code
        self.details = details or {}

    def __str__(self):
        return self.message


#: Dossiers that may be put on a session's agenda.
AGENDA_STATES = (DossierState.ACCEPTED, DossierState.PRE_ASSESSED)

COUNCIL_FIELDS = ("name", "level", "unit", "decision_number", "decision_date",
                  "decision_signer", "term_start", "term_end", "quorum_ratio",
                  "chair_required", "divergence_threshold", "peer_visibility")
MEMBER_FIELDS = ("user", "role", "organisation", "advisory", "order")


# Refusal of ``queries.can_manage_unit`` (the pages say the same before showing a form).
REFUSED_SETUP = gettext_lazy("Only department staff of the area, officers of the council's "
                             "own district or an administrator may set up a council.")


def _refuse(message, code, **details):
    raise CouncilError(message, code=code, details=details)


def _check(refusal):
    """Raise a ``councils.rules`` refusal as ``CouncilError``."""
    if refusal is not None:
        raise CouncilError(refusal.message, code=refusal.code)


def _validation_details(error):
    if hasattr(error, "message_dict"):
        return {key: [str(m) for m in value] for key, value in error.message_dict.items()}
    return {"__all__": [str(m) for m in error.messages]}


def _lock_session(session):
    return (EvaluationSession.objects.select_for_update(of=("self",))
            .select_related("council", "round__level", "round__regime", "round__unit")
            .get(pk=session.pk))


def _product_label(dossier):
    return str(dossier.product) if dossier.product_id else str(dossier.pk)


# --- councils --------------------------------------------------------------------------------


def create_council(user, *, data, members):
    """A council with its establishing decision, settings and members.

    ``data``: the ``Council`` fields (``unit`` an AdministrativeUnit); ``members``: dicts
    ``{user, role="member", organisation="", advisory=False, order=<position>}``. Exactly
    one chair, who scores (not advisory); a user appears once.
    """
    data = dict(data or {})
    unknown = sorted(set(data) - set(COUNCIL_FIELDS))
    if unknown:
        _refuse(_("Unknown council fields: %(list)s.") % {"list": ", ".join(unknown)},
                "invalid", fields={key: [_("Not a council field.")] for key in unknown})
    unit = data.get("unit")
    if unit is not None and not isinstance(unit, AdministrativeUnit):
        unit = data["unit"] = AdministrativeUnit.objects.filter(pk=unit).first()
    if unit is None:
        _refuse(_("Choose the area of the council."), "invalid",
                fields={"unit": [_("This field is required.")]})
    if not queries.can_manage_unit(user, unit):
        _refuse(REFUSED_SETUP, "permission")
    council = Council(**data)
    try:
        council.full_clean()
    except ValidationError as error:
        _refuse(_("Please correct the council's details."), "invalid",
                fields=_validation_details(error))
    if council.divergence_threshold is not None and council.divergence_threshold < 0:
        _refuse(_("The divergence threshold cannot be negative."), "invalid",
                fields={"divergence_threshold": [_("Must be 0 or more.")]})
    if council.level in ("district", "province") and unit.level != council.level:
        _refuse(_("A %(level)s council must belong to a %(level)s.")
                % {"level": council.get_level_display().lower()}, "invalid",
                fields={"unit": [_("The area does not match the council's level.")]})
    _check_council_in_force(council, unit)

    rows = []
    for i, raw in enumerate(members or []):
        raw = dict(raw)
        extra = sorted(set(raw) - set(MEMBER_FIELDS))
        if extra:
            _refuse(_("Unknown member fields: %(list)s.") % {"list": ", ".join(extra)},
                    "invalid")
        raw.setdefault("role", MemberRole.MEMBER)
        raw.setdefault("order", i)
        raw["advisory"] = bool(raw.get("advisory", False))
        rows.append(raw)
    users = [getattr(r.get("user"), "pk", r.get("user")) for r in rows]
    if None in users:
        _refuse(_("Every member must be a user account."), "invalid")
    if len(set(users)) != len(users):
        _refuse(_("A person can be listed only once in a council."), "duplicate_member")
    chairs = [r for r in rows if r["role"] == MemberRole.CHAIR]
    if len(chairs) != 1:
        _refuse(_("A council has exactly one chair."), "chair_count")
    if chairs[0]["advisory"]:
        _refuse(_("The chair scores and cannot be an advisory-team member."), "invalid")

    with transaction.atomic():
        council.save()
        objs = []
        for raw in rows:
            person = raw.pop("user")
            member = CouncilMember(council=council, **raw)
            if hasattr(person, "pk"):
                member.user = person
            else:
                member.user_id = person
            try:
                member.full_clean(exclude=["council"])
            except ValidationError as error:
                _refuse(_("Please correct the member list."), "invalid",
                        fields=_validation_details(error))
            objs.append(member)
        CouncilMember.objects.bulk_create(objs)
        record("council.created", council, actor=user, after={
            "decision": council.decision_number, "unit": unit.pk,
            "quorum_ratio": str(council.quorum_ratio),
            "chair_required": council.chair_required,
            "divergence_threshold": str(council.divergence_threshold),
            "peer_visibility": council.peer_visibility,
            "members": [{"user": m.user_id, "role": m.role, "advisory": m.advisory}
                        for m in objs],
        })
    return council


def _check_council_in_force(council, unit):
    """The council's unit exists on its decision date and a regime then in force has a
    council at its level (docs/regimes-and-levels.md, "In force at the date")."""
    regimes = list(Regime.objects.filter(
        levels__kind=ProcessKind.COUNCIL, levels__admin_level=council.level).distinct()
        .values_list("code", "effective_from", "effective_to"))
    refusal = rules.council_date_refusal(unit, council.get_level_display().lower(),
                                         council.decision_date, regimes)
    if refusal is not None:
        _refuse(refusal.message, refusal.code, fields={"decision_date": [refusal.message]})


def _check_session_in_force(council, round_, date):
    """The council's unit and the round's exist on the session's date, the round's regime
    is in force then and the date keeps the regime's round calendar
    (docs/regimes-and-levels.md, "In force at the date")."""
    refusal = rules.session_date_refusal(council.unit, round_, date,
                                         dossier_rules.regime_windows(round_.regime))
    if refusal is not None:
        _refuse(refusal.message, refusal.code, fields={"date": [refusal.message]})


# --- sessions --------------------------------------------------------------------------------


def _check_mode(round_, date, mode, opinions_due):
    """A written-opinion session (docs/councils.md): only where the round's regime allows
    it (26/2026), with the opinions' deadline on or after the session's date."""
    if mode not in SessionMode.values:
        _refuse(_("Unknown way of deciding."), "invalid",
                fields={"mode": [_("Choose a meeting or written opinions.")]})
    if mode == SessionMode.MEETING:
        return None
    if not round_.regime.written_reevaluation:
        message = _("Under %(regime)s the council decides in a meeting; written opinions "
                    "without a meeting are allowed only where the regime provides for them "
                    "(re-evaluations under 26/2026).") % {"regime": round_.regime.code}
        _refuse(message, "written_not_allowed", fields={"mode": [message]})
    if opinions_due is None:
        _refuse(_("Give the date by which the members send their written opinions."),
                "invalid", fields={"opinions_due": [_("This field is required.")]})
    if date is not None and opinions_due < date:
        message = _("The written opinions cannot be due before the session's date "
                    "(%(date)s).") % {"date": date.strftime("%d/%m/%Y")}
        _refuse(message, "invalid", fields={"opinions_due": [message]})
    return opinions_due


def create_session(user, *, council, round, date, place="", mode=SessionMode.MEETING,
                   opinions_due=None):
    """A session of ``council`` for an evaluation round of the council's level and area;
    ``mode="written"`` with ``opinions_due``: decided by the members' written opinions
    (re-evaluations, where the regime allows it)."""
    if not queries.can_manage_council(user, council):
        _refuse(rules.WHO_LABELS["plan_session"], "permission")
    level = round.level
    if level.kind != ProcessKind.COUNCIL or level.admin_level != council.level:
        _refuse(_("This round is not evaluated by a council of this level (%(level)s).")
                % {"level": council.get_level_display()}, "wrong_round")
    if not AdministrativeUnit.objects.within([council.unit]).filter(
            pk=round.unit_id).exists():
        _refuse(_("This round belongs to another area than the council's."), "wrong_round")
    if date is None:
        _refuse(_("Give the date of the session."), "invalid",
                fields={"date": [_("This field is required.")]})
    _check_session_in_force(council, round, date)
    opinions_due = _check_mode(round, date, mode, opinions_due)
    with transaction.atomic():
        session = EvaluationSession.objects.create(council=council, round=round, date=date,
                                                   place=(place or "").strip(), mode=mode,
                                                   opinions_due=opinions_due)
        record("session.created", session, actor=user,
               after={"council": council.pk, "round": round.pk, "date": str(date),
                      "place": session.place, "mode": mode,
                      "opinions_due": str(opinions_due) if opinions_due else None})
    return session


def set_agenda(user, session, dossiers):
    """The session's agenda becomes ``dossiers`` in this order. New dossiers must belong to
    the session's round and be accepted or pre-assessed; each enters evaluation here and
    only here (``dossiers.services.start_evaluation`` with ``via_council``). A dossier
    already on the agenda cannot be left out (its evaluation has started)."""
    wanted_ids = list(dict.fromkeys(d.pk for d in dossiers))
    fresh = Dossier.objects.select_related("product").in_bulk(wanted_ids)
    dossiers = [fresh[pk] for pk in wanted_ids]
    with transaction.atomic():
        session = _lock_session(session)
        _check(rules.check(user, "set_agenda", session))
        existing = {item.dossier_id: item for item in
                    session.agenda.select_for_update().select_related("dossier__product")}
        wanted = {d.pk for d in dossiers}
        dropped = [item.dossier for pk, item in existing.items() if pk not in wanted]
        if dropped:
            _refuse(_("A dossier on the agenda cannot be taken off, its evaluation has "
                      "started: %(list)s.")
                    % {"list": "; ".join(_product_label(d) for d in dropped)},
                    "cannot_remove", dossiers=[d.pk for d in dropped])
        new = [d for d in dossiers if d.pk not in existing]
        wrong_round = [d for d in new if d.round_id != session.round_id]
        if wrong_round:
            _refuse(_("These dossiers belong to another evaluation round than the "
                      "session's: %(list)s.")
                    % {"list": "; ".join(_product_label(d) for d in wrong_round)},
                    "wrong_round", dossiers=[d.pk for d in wrong_round])
        if rules.is_written(session):
            not_reevaluation = [d for d in new
                                if d.registration_type != RegistrationType.REEVALUATION]
            if not_reevaluation:
                _refuse(_("A session decided by written opinions takes re-evaluation "
                          "dossiers only; these are not: %(list)s.")
                        % {"list": "; ".join(f"{_product_label(d)} "
                                             f"({d.get_registration_type_display()})"
                                             for d in not_reevaluation)},
                        "not_reevaluation", dossiers=[d.pk for d in not_reevaluation])
        not_ready = [d for d in new if d.state not in AGENDA_STATES]
        if not_ready:
            _refuse(_("Only accepted or pre-assessed dossiers can be put on the agenda; "
                      "these are not: %(list)s.")
                    % {"list": "; ".join(f"{_product_label(d)} ({d.get_state_display()})"
                                         for d in not_ready)},
                    "dossier_state", dossiers=[d.pk for d in not_ready])
        for order, dossier in enumerate(dossiers):
            item = existing.get(dossier.pk)
            if item is None:
                try:
                    dossier_services.start_evaluation(user, dossier, via_council=True)
                except dossier_services.DossierError as error:
                    _refuse(_("%(product)s: %(message)s")
                            % {"product": _product_label(dossier), "message": error.message},
                            "dossier_refused", dossier=dossier.pk, dossier_code=error.code)
                AgendaItem.objects.create(session=session, dossier=dossier, order=order)
            elif item.order != order:
                item.order = order
                item.save(update_fields=["order"])
        record("session.agenda_set", session, actor=user,
               before={"dossiers": list(existing)},
               after={"dossiers": [d.pk for d in dossiers]})
    return session


def open_scoring(user, session):
    """preparing → open: members can open and fill their sheets."""
    with transaction.atomic():
        session = _lock_session(session)
        _check(rules.check(user, "open_scoring", session))
        if not session.agenda.exists():
            _refuse(_("Put at least one dossier on the agenda before opening the scoring."),
                    "empty_agenda")
        session.state = SessionState.OPEN
        session.save(update_fields=["state"])
        record("session.opened", session, actor=user, before={"state": "preparing"},
               after={"state": session.state})
    return session


def _write_attendance(user, session, present):
    members = list(session.council.members.all())
    ids = {m.pk for m in members}
    present_ids = {getattr(m, "pk", m) for m in present or ()}
    foreign = present_ids - ids
    if foreign:
        _refuse(_("Only members of this council can be marked present."), "not_member",
                members=sorted(foreign))
    for member in members:
        Attendance.objects.update_or_create(
            session=session, member=member,
            defaults={"present": member.pk in present_ids, "recorded_by": user})
    return sorted(present_ids)


def start_meeting(user, session, *, present):
    """open → meeting on the session's date (not before), recording who is present (every
    other member: absent). Quorum is checked when an item is closed, not here; the audit
    event carries it."""
    with transaction.atomic():
        session = _lock_session(session)
        _check(rules.check(user, "start_meeting", session))
        _check(rules.meeting_day_refusal(session))
        present_ids = _write_attendance(user, session, present)
        session.state = SessionState.MEETING
        session.save(update_fields=["state"])
        record("session.meeting_started", session, actor=user, before={"state": "open"},
               after={"state": session.state, "present": present_ids,
                      "quorum": quorum(session).as_dict()})
    return session


def record_attendance(user, session, *, present):
    """Correct the attendance during the meeting (late arrival, early leave)."""
    with transaction.atomic():
        session = _lock_session(session)
        _check(rules.check(user, "record_attendance", session))
        before = sorted(session.attendance.filter(present=True).values_list("member_id",
                                                                             flat=True))
        present_ids = _write_attendance(user, session, present)
        record("session.attendance", session, actor=user, before={"present": before},
               after={"present": present_ids, "quorum": quorum(session).as_dict()})
    return session


# --- recusals --------------------------------------------------------------------------------


def declare_recusal(user, session, *, member, dossier, reason):
    """A member declares a conflict of interest with a dossier of the session (or the
    secretary records it for them). From then on the member cannot open or score the
    dossier and any sheet they already have is left out of its result."""
    reason = (reason or "").strip()
    with transaction.atomic():
        session = _lock_session(session)
        _check(rules.recusal_refusal(user, session, member))
        item = session.agenda.filter(dossier=dossier).first()
        if item is None:
            _refuse(_("This dossier is not on the session's agenda."), "not_on_agenda")
        if item.closed_at is not None:
            _refuse(_("The result of this dossier has already been recorded."), "item_closed")
        if not reason:
            _refuse(_("Please give the reason for the recusal."), "reason_required")
        sheet = member.scoresheets.filter(session=session, dossier=dossier).first()
        try:
            with transaction.atomic():
                recusal = Recusal.objects.create(session=session, member=member,
                                                 dossier=dossier, reason=reason,
                                                 recorded_by=user)
        except IntegrityError:
            _refuse(_("%(member)s has already declared a recusal for this dossier.")
                    % {"member": member.user.display_name}, "already_recused")
        record("session.recusal", recusal, actor=user, reason=reason, after={
            "member": member.pk, "dossier": dossier.pk,
            "sheet": sheet.pk if sheet else None,
            "sheet_state": sheet.state if sheet else None,
        })
    return recusal


# --- scoresheets -------------------------------------------------------------------------------


def reopen_sheet(user, sheet, reason):
    """A submitted sheet goes back to its member for re-scoring, with the reason they are
    shown (``councils.rules.reopen_refusal``: the chair reopens members' sheets, the
    vice-chair the chair's, nobody their own, never once the item is closed)."""
    reason = (reason or "").strip()
    with transaction.atomic():
        sheet = (Scoresheet.objects.select_for_update(of=("self",))
                 .select_related("session__council", "member").get(pk=sheet.pk))
        item = (AgendaItem.objects.select_for_update(of=("self",))
                .filter(session_id=sheet.session_id, dossier_id=sheet.dossier_id).first())
        _check(rules.reopen_refusal(user, sheet, item))
        if not reason:
            _refuse(_("Please give the reason for reopening the scoresheet."),
                    "reason_required")
        sheet.state = SheetState.REOPENED
        sheet.reopen_reason = reason
        sheet.version += 1
        sheet.save(update_fields=["state", "reopen_reason", "version", "updated_at"])
        record("scoresheet.reopened", sheet, actor=user, before={"state": "submitted"},
               after={"state": sheet.state}, reason=reason)
    return sheet


# --- results ---------------------------------------------------------------------------------


def item_result(session, dossier):
    """Pure read: see ``councils.results.item_result``."""
    return _item_result(session, dossier)


def _check_quorum(session):
    q = quorum(session)
    problems = []
    if q.present < q.needed:
        problems.append(
            _("The meeting has no quorum: at least %(needed)s of the %(total)s scoring "
              "members must be present, %(present)s are.")
            % {"needed": q.needed, "total": q.scoring_members, "present": q.present})
    if q.chair_required and not q.chair_present:
        problems.append(_("The council's rules require the chair to be present."))
    if problems:
        _refuse(" ".join(problems), "no_quorum", **q.as_dict())
    return q


def close_item(user, session, dossier, *, divergence_statement=""):
    """The chair closes scoring of one dossier in the meeting: on or after the session's
    date, with quorum, every present non-recused member's sheet submitted and — when the
    members' totals diverge above the threshold — a re-score or the chair's statement that
    the council discussed it (``docs/councils.md``). The result is recorded
    (``ItemResultRecord``); the dossier takes it when the session closes."""
    statement = (divergence_statement or "").strip()
    with transaction.atomic():
        session = _lock_session(session)
        _check(rules.check(user, "close_item", session))
        written = rules.is_written(session)
        if not written:
            _check(rules.meeting_day_refusal(session))
        item = (AgendaItem.objects.select_for_update(of=("self",))
                .select_related("dossier__product", "dossier__criteria_set")
                .filter(session=session, dossier=dossier).first())
        if item is None:
            _refuse(_("This dossier is not on the session's agenda."), "not_on_agenda")
        if item.closed_at is not None:
            _refuse(_("The result of this dossier has already been recorded."), "item_closed")
        if written:  # no meeting, no quorum: every opinion in, or the deadline passed
            q = quorum(session)
            result = _item_result(session, item.dossier)
            _check(rules.written_close_refusal(session, result))
        else:
            q = _check_quorum(session)
            result = _item_result(session, item.dossier)
        if result.pending and not written:
            _refuse(_("These members have not submitted their scoresheet: %(list)s.")
                    % {"list": ", ".join(s.name for s in result.pending)}, "not_submitted",
                    members=[s.member_id for s in result.pending])
        if result.evaluation is None:
            _refuse(_("No submitted scoresheet counts for this dossier; it cannot be "
                      "closed."), "no_sheets")
        evaluation = result.evaluation
        if evaluation.divergence.flagged and not statement:
            _refuse(_("The members' totals differ by %(spread)s points (more than the "
                      "council's threshold of %(threshold)s). Reopen the divergent sheets "
                      "for re-scoring, or record that the council discussed the divergence "
                      "and the members confirm their scores.")
                    % {"spread": evaluation.divergence.spread,
                       "threshold": result.divergence_threshold},
                    "divergent", spread=str(evaluation.divergence.spread))
        if not evaluation.divergence.flagged:
            statement = ""
        payload = result.as_dict()
        payload["quorum"] = q.as_dict()
        record_row = ItemResultRecord.objects.create(
            item=item, members_counted=result.members_counted,
            members=payload["members"],
            mean_a=evaluation.mean.parts["A"], mean_b=evaluation.mean.parts["B"],
            mean_c=evaluation.mean.parts["C"], mean_total=evaluation.mean.total,
            band_stars=evaluation.band_stars, stars=evaluation.stars,
            cap_reasons=payload["cap_reasons"],
            divergence=evaluation.divergence.spread,
            divergence_threshold=result.divergence_threshold,
            divergence_flagged=evaluation.divergence.flagged,
            divergence_statement=statement,
            outcome=result.outcome, outcome_stars=result.outcome_stars,
            quorum=q.as_dict(), recorded_by=user)
        item.closed_at = timezone.now()
        item.save(update_fields=["closed_at"])
        # the audit trail keeps the council's aggregate; each member's totals stay in the
        # record, shown only as ``councils.rules.item_view`` allows
        record("session.item_closed", item, actor=user, reason=statement,
               after={**public_result(record_row), "quorum": q.as_dict()})
    return item


def public_result(record_row):
    """What the dossier's timeline keeps of a recorded result: the council's aggregate,
    never a member's name or score."""
    return {
        "session": record_row.item.session_id,
        "members_counted": record_row.members_counted,
        "mean": {part: str(value) for part, value in record_row.mean_parts.items()},
        "total": str(record_row.mean_total),
        "band_stars": record_row.band_stars,
        "stars": record_row.stars,
        "cap_reasons": record_row.cap_reasons,
        "divergence": {"spread": str(record_row.divergence),
                       "threshold": str(record_row.divergence_threshold),
                       "flagged": record_row.divergence_flagged,
                       "statement": record_row.divergence_statement},
        "outcome": record_row.outcome,
        "outcome_stars": record_row.outcome_stars,
    }


def close_session(user, session):
    """The chair closes the session in its meeting once every item is closed: each
    dossier takes the council's recorded result (``dossiers.services.record_result``, the
    only caller) and the minutes are built in the background (``GeneratedDocument``)."""
    from .tasks import build_minutes

    with transaction.atomic():
        session = _lock_session(session)
        _check(rules.check(user, "close_session", session))
        items = list(session.agenda.select_related("dossier__product", "result")
                     .order_by("order", "id"))
        open_items = [item for item in items if item.closed_at is None]
        if open_items:
            _refuse(_("Close every dossier first; still open: %(list)s.")
                    % {"list": "; ".join(_product_label(i.dossier) for i in open_items)},
                    "items_open", dossiers=[i.dossier_id for i in open_items])
        for item in items:
            if item.dossier.state != DossierState.IN_EVALUATION:
                continue  # took its result when its item closed (sessions before 0004)
            try:
                dossier_services.record_result(user, item.dossier,
                                               outcome=item.result.outcome,
                                               result=public_result(item.result),
                                               via_council=True)
            except dossier_services.DossierError as error:
                _refuse(_("%(product)s: %(message)s")
                        % {"product": _product_label(item.dossier), "message": error.message},
                        "dossier_refused", dossier=item.dossier_id, dossier_code=error.code)
        before = session.state
        session.state = SessionState.CLOSED
        session.closed_at = timezone.now()
        session.save(update_fields=["state", "closed_at"])
        record("session.closed", session, actor=user, before={"state": before},
               after={"state": session.state})
        wake = _queue(session, DocumentKind.MINUTES, user, build_minutes)
    session.minutes_wake_failed = wake["sent"] is False
    return session


def _queue(session, kind, user, task):
    """Mark the row queued (its file, if any, stays until a new one replaces it) and send
    the wake-up once committed. Returns ``{"sent": …}``: True/False once the commit has
    run (False: the broker was down; the beat sweep sends it again), None before."""
    from .tasks import wake

    GeneratedDocument.objects.update_or_create(
        session=session, kind=kind,
        defaults={"status": DocumentStatus.QUEUED, "reason": "", "requested_by": user,
                  "started_at": None, "finished_at": None, "queued_at": timezone.now()})
    session_id = session.pk
    outcome = {"sent": None}

    def send():
        outcome["sent"] = wake(task, session_id)

    transaction.on_commit(send)
    return outcome


def queue_minutes(user, session):
    """Build the minutes again (e.g. after a failure). The chair, the secretary or a
    manager of the council; the session must be closed."""
    from .minutes import is_running
    from .tasks import build_minutes

    with transaction.atomic():
        session = _lock_session(session)
        _check(rules.check(user, "request_minutes", session))
        doc = GeneratedDocument.objects.filter(session=session,
                                               kind=DocumentKind.MINUTES).first()
        if doc is not None and is_running(doc):  # a dead worker's row is taken over
            _refuse(_("The minutes are being made; please wait."), "running")
        wake = _queue(session, DocumentKind.MINUTES, user, build_minutes)
        record("session.minutes_queued", session, actor=user)
    doc = GeneratedDocument.objects.get(session=session, kind=DocumentKind.MINUTES)
    doc.wake_failed = wake["sent"] is False  # the view tells the user it will be retried
    return doc
