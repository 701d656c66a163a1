"""Between levels: a forwarded dossier reaches the next level (docs/decisions.md).

* A dossier forwarded by a **district council** (148) arrives in the province's intake:
  :func:`receive_forwarded` opens a new dossier of the same product in the province's
  open round of the next level (state ``submitted``, the office checks it), carrying the
  registration form, the self-assessment, the checklist lines and the files — the stored
  files are shared, not copied, and never re-uploaded — and pointing back at the district
  dossier (``Dossier.forwarded_from``), whose result the province sees. ``record_result``
  calls it at once when exactly one such round is open; otherwise the dossier waits in the
  province's list of forwarded dossiers until staff take it into a round.
* A dossier forwarded by the **province** goes to the Ministry, which this system does not
  run: it stays ``forwarded`` ("sent to the Ministry") until department staff record the
  Ministry's result with :func:`record_central_result` — score, stars, decision number and
  date. A star the Ministry recognises (5★) becomes a rating at once, under a recorded
  Ministry decision; below it, the province may recognise a star its own level recognises
  (26/2026: 3★/4★) from that result: the dossier becomes ``recognised`` at the province
  and waits for the province's decision; otherwise it is ``not recognised``.

Which level comes next, and what it recognises, is data (``scoring.ProcessLevel``).
"""

import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ocop.audit.services import record
from ocop.regions.models import AdministrativeUnit
from scoring.models import AdminLevel, ProcessLevel

from . import deadlines, rules
from .models import (
    DocumentFile,
    DocumentState,
    Dossier,
    DossierDocument,
    DossierState,
    EvaluationRound,
    SelfAssessmentEntry,
    Transition,
)
from .queries import filing_q
from .services import DossierError, _invalid, _jsonable, _lock, _raise, _transition


def next_levels(levels):
    """``{level id: the level after it in its regime, or None}`` in one query."""
    levels = {level.pk: level for level in levels}
    following = {pk: None for pk in levels}
    candidates = (ProcessLevel.objects.filter(regime_id__in={lv.regime_id
                                                             for lv in levels.values()})
                  .order_by("regime_id", "order"))
    for pk, level in levels.items():
        following[pk] = next((c for c in candidates if c.regime_id == level.regime_id
                              and c.order > level.order), None)
    return following


def next_level(level):
    """The level after ``level`` in its regime, or None (kept on the level object)."""
    cache = getattr(level, "_next_level", False)
    if cache is False:
        cache = level._next_level = next_levels([level])[level.pk]
    return cache


def goes_to_central(dossier):
    """True when the dossier's next level is the Ministry (recorded, not run here)."""
    following = next_level(dossier.round.level)
    return following is not None and following.admin_level == AdminLevel.CENTRAL


def target_rounds_many(dossiers):
    """``{dossier id: [rounds]}``: for each dossier, the rounds of the next level (same
    regime) still taking dossiers (open, intake deadline not passed) whose area covers
    its unit, oldest first. One query for the levels, one for the rounds, one per round."""
    dossiers = list(dossiers)
    following = next_levels({d.round.level for d in dossiers})
    wanted = {(d.round.regime_id, following[d.round.level_id].pk) for d in dossiers
              if following[d.round.level_id] is not None
              and following[d.round.level_id].admin_level != AdminLevel.CENTRAL}
    result = {d.pk: [] for d in dossiers}
    if not wanted:
        return result
    # rounds taking dossiers today: open, and in force with their unit existing
    # (docs/regimes-and-levels.md, "In force at the date")
    rounds = list(EvaluationRound.objects.filter(
        filing_q(timezone.localdate()),
        regime_id__in={r for r, _l in wanted}, level_id__in={lv for _r, lv in wanted})
        .select_related("unit", "level", "regime").order_by("year", "number", "id"))
    unit_ids = {d.unit_id for d in dossiers}
    covered = {r.pk: set(AdministrativeUnit.objects.within([r.unit])
                         .filter(pk__in=unit_ids).values_list("pk", flat=True))
               for r in rounds}
    for dossier in dossiers:
        level = following[dossier.round.level_id]
        result[dossier.pk] = [r for r in rounds if level is not None
                              and (r.regime_id, r.level_id) == (dossier.round.regime_id,
                                                                 level.pk)
                              and dossier.unit_id in covered[r.pk]]
    return result


def target_rounds(dossier):
    """The rounds one dossier may be taken into (:func:`target_rounds_many`)."""
    return target_rounds_many([dossier])[dossier.pk]


def awaiting_round(queryset):
    """Forwarded dossiers of a council level that have not reached the next level yet.

    "Not reached" is ``NOT IN`` the dossiers' ``forwarded_from``: PostgreSQL reads those
    once into a hash, where the join on ``forwarded_to`` looked each forwarded dossier up
    in turn (a province's 5,500: 4 ms). The rounds of the levels below the province are
    read once too (``any_of``), so the area, the state and the round are all read from
    the index ``dossier_unit_state_ids``."""
    arrived = Dossier.objects.filter(forwarded_from__isnull=False).order_by()
    below = EvaluationRound.objects.exclude(
        level__admin_level__in=[AdminLevel.PROVINCE, AdminLevel.CENTRAL]).order_by()
    return (queryset.filter(state=DossierState.FORWARDED,
                            round__any_of=below.values("pk"))
            .exclude(pk__in=arrived.values("forwarded_from_id")))


def forward(user, dossier):
    """Called by ``services.record_result`` (inside its transaction) once the dossier is
    ``forwarded``: into the next level's round when exactly one is open; the Ministry's
    level is only recorded (the transition says where it went)."""
    if goes_to_central(dossier):
        return None
    rounds = target_rounds(dossier)
    if len(rounds) != 1:
        record("dossier.forward_waiting", dossier, actor=user,
               after={"open_rounds": [r.pk for r in rounds]})
        return None
    return _receive(user, dossier, rounds[0])


def receive_forwarded(user, dossier, round):
    """Department staff take a forwarded dossier into ``round`` (an open round of the next
    level covering its area). Refused when it already arrived somewhere."""
    with transaction.atomic():
        dossier = _lock(dossier)
        _raise(rules.check_unit(user, "receive_forwarded", round.unit))
        if dossier.state != DossierState.FORWARDED or goes_to_central(dossier):
            raise DossierError(_("Only a dossier forwarded by a lower-level council can be "
                                 "taken into a round."), code="state")
        if Dossier.objects.filter(forwarded_from=dossier).exists():
            raise DossierError(_("This dossier has already reached the next level."),
                               code="already_received")
        if round.pk not in {r.pk for r in target_rounds(dossier)}:
            _invalid({"round": [_("Choose an open round of the next level that covers the "
                                  "producer's area.")]})
        return _receive(user, dossier, round)


def _receive(user, source, round_):
    now = timezone.now()
    arrived = Dossier.objects.create(
        round=round_, product=source.product, criteria_set=source.criteria_set,
        unit=source.unit, registration_type=source.registration_type,
        current_rating=source.current_rating, registration=source.registration,
        samples_count=source.samples_count, samples_received_on=source.samples_received_on,
        state=DossierState.SUBMITTED, submitted_at=now, search_text=source.search_text,
        forwarded_from=source, created_by=user if user.pk else None)
    arrived.due_date = deadlines.due_date_for(arrived, timezone.localdate(now))
    arrived.save(update_fields=["due_date"])
    lines = {}
    for line in source.documents.select_related("item").order_by("item__order"):
        lines[line.pk] = DossierDocument.objects.create(
            dossier=arrived, item=line.item,
            state=(DocumentState.SUBMITTED if line.state in (DocumentState.SUBMITTED,
                                                             DocumentState.VERIFIED)
                   else line.state))
    files = {}
    for old in source.files.order_by("id"):
        new = DocumentFile(
            dossier=arrived, document=lines.get(old.document_id),
            stored_name=old.stored_name, original_name=old.original_name,
            content_type=old.content_type, size=old.size, sha256=old.sha256,
            uploaded_by=old.uploaded_by)
        new.file.name = old.file.name  # the same stored file: nothing is uploaded again
        new.save()
        files[old.pk] = new
    SelfAssessmentEntry.objects.bulk_create(
        SelfAssessmentEntry(dossier=arrived, criterion_id=e.criterion_id,
                            option_id=e.option_id, note=e.note,
                            evidence=files.get(e.evidence_id))
        for e in source.self_assessment.all())
    result = {"from_dossier": source.pk, "from_round": source.round_id,
              "score": source.result_score, "stars": source.result_stars}
    Transition.objects.create(dossier=arrived, from_state="", to_state=DossierState.SUBMITTED,
                              actor=user if user.pk else None,
                              details=_jsonable({"forwarded": result,
                                                 "due_date": arrived.due_date}))
    record("dossier.received_forwarded", arrived, actor=user,
           after=_jsonable({"state": arrived.state, "round": round_.pk, **result,
                            "files": len(files)}))
    return arrived


def _parse_score(value):
    try:
        score = Decimal(str(value).replace(",", ".").strip())
    except (InvalidOperation, ValueError):
        return None
    if not score.is_finite() or score < 0 or score > 100:
        return None
    return score.quantize(Decimal("0.01"))


def record_central_result(user, dossier, *, score, stars, decision_number, decision_date):
    """Department staff enter the Ministry's result for a dossier their province sent up
    (docs/decisions.md). Returns the dossier; ``dossier.central_rating`` is the rating
    created for a star the Ministry recognises."""
    from .decisions import record_central_decision

    with transaction.atomic():
        dossier = _lock(dossier)
        _raise(rules.check_access(user, "record_central_result", dossier))
        if dossier.state != DossierState.FORWARDED:
            raise DossierError(_("The Ministry's result is recorded only for a dossier sent to "
                                 "the Ministry and waiting for its result."), code="state")
        if not goes_to_central(dossier):
            raise DossierError(_("This dossier was not sent to the Ministry: its result is "
                                 "decided by the next level's council."), code="not_central")
        errors = {}
        parsed = _parse_score(score)
        if parsed is None:
            errors["score"] = [_("Enter the Ministry's score, between 0 and 100.")]
        if stars not in (1, 2, 3, 4, 5):
            errors["stars"] = [_("Choose the stars from 1 to 5.")]
        number = (decision_number or "").strip()
        if not number:
            errors["decision_number"] = [_("Enter the number of the Ministry's decision.")]
        elif len(number) > 60:
            errors["decision_number"] = [_("At most 60 characters.")]
        if not isinstance(decision_date, datetime.date):
            errors["decision_date"] = [_("Enter the date of the Ministry's decision.")]
        elif decision_date > timezone.localdate():
            errors["decision_date"] = [_("The date cannot be in the future.")]
        if errors:
            _invalid(errors)
        central = next_level(dossier.round.level)
        own = dossier.round.level
        details = {"central": {"score": parsed, "stars": stars, "decision_number": number,
                               "decision_date": decision_date},
                   "province_result": {"score": dossier.result_score,
                                       "stars": dossier.result_stars}}
        dossier.result_score, dossier.result_stars = parsed, stars
        fields = ["result_score", "result_stars"]
        rating = None
        if stars in (central.recognises or ()):
            dossier = _transition(user, dossier, "record_central_result",
                                  DossierState.RECOGNISED, details=details, fields=fields)
            rating = record_central_decision(user, dossier, level=central, number=number,
                                             date=decision_date)
        elif stars in (own.recognises or ()):
            # 26/2026: the province may recognise it from the Ministry's result.
            dossier = _transition(user, dossier, "record_central_result",
                                  DossierState.RECOGNISED, details=details, fields=fields)
        else:
            dossier = _transition(user, dossier, "record_central_result",
                                  DossierState.NOT_RECOGNISED, details=details, fields=fields)
    dossier.central_rating = rating
    return dossier
