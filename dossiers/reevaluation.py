"""Re-evaluation of a rating (docs/ratings-lifecycle.md, "Re-evaluation"; docs/deadlines.md):
the filing window, and a re-evaluation dossier prefilled from the rating's last dossier.

CONTRACT (services, pages, the API and the expiry notices call exactly these):

    procedure_regime(rating, day=None, *, regimes=None) -> Regime
        # the regime whose re-evaluation procedure applies on ``day`` (today by default):
        # the regime in force that day (``scoring.queries.regime_in_force``), else the
        # rating's own; ``regimes``: all regimes, to read them once
    filing_window(rating, day=None, *, regimes=None) -> (opens, closes) | None
        # the producer's window of that regime (26/2026: valid_until − 180 days …
        # valid_until − 120 days), else the issuer's notice (148, 1489: valid_until − 30
        # days … valid_until); None for a regime with neither (1048)
    late_filing_until(rating, day=None, *, regimes=None) -> date | None
        # the last day a late filing is still accepted (26/2026: the expiry), or None
    is_late(rating, day=None, *, regimes=None) -> bool
        # filed after the window closed (the late filer of 26/2026)
    filing_refusal(rating, day=None, *, regimes=None) -> str | None
        # why a re-evaluation of ``rating`` cannot be filed on ``day``, or None
    candidate_rounds(user, rating) -> list[EvaluationRound]
        # the open rounds a re-evaluation of the rating may be filed in
    reevaluation_criteria_set(product, round) -> CriteriaSet
        # the published set of the round's criteria regime the new dossier uses (the
        # product's own, else the one of the same number); DossierError naming the set
    criteria_set_change(rating, rounds) -> (CriteriaSet | None, str | None)
        # for the page: the new set when it changes, or why there is none
    all_regimes() -> list[Regime]                  # for ``regimes=``
    start_reevaluation(user, rating, *, round=None) -> Dossier
        # a draft re-evaluation dossier (through ``services.create_dossier``), the product
        # first moved to ``reevaluation_criteria_set`` (``services
        # .move_product_to_criteria_set``), registration copied, files carried over as
        # copies, self-assessment copied (same criteria set only)

Choices (docs/ratings-lifecycle.md):

* The procedure — when a rating falls due, its filing window, the late filer's grace — is
  that of the **regime in force on the day** (the later instrument where two overlap), not
  of the regime that recognised the rating: 148 is no longer in force, so a 148 rating
  expiring in 2027 is re-evaluated under 26/2026's window and late-filer rule (its
  transitional provision keeps a late filer's certificate at most 180 days after expiry).
  The validity (``valid_until``) stays as issued. Before the first regime, the rating's
  own regime. (docs/ratings-lifecycle.md, "Which regime's rules".)
* **Criteria set of the round's regime**: the sets are numbered 1–26 with the same meaning
  in 148 and 26/2026 (``scoring/data/criteria/INDEX.md``); a product whose set is not a
  published set of the round's criteria regime is moved to the published set of that
  regime with the same number, in the same transaction as the new dossier (refused, naming
  the set, when there is none). The Mẫu 02 choices are then not copied.
* **Late filer** (26/2026): after the window closes and up to the expiry (``valid_until``,
  that day included) a filing is still accepted — the regime keeps the certificate of a
  late filer until the decision, at most ``grace_days_after_expiry`` days after expiry,
  and ``dossiers.expiry`` counts a re-evaluation submitted on or before ``valid_until``
  as filed in time. Only a regime with a grace has a late period.
* The check runs on the day the dossier is created **and** on the day it is submitted
  (``services.create_dossier`` and ``services.submit``): the submission day is the filing
  day the law counts; a draft prepared inside the window cannot be submitted outside it.
* Files are carried over as **copies** (new stored files under new random names, new
  ``DocumentFile`` rows on the checklist line of the same item code): the officer replaces
  or removes them like any upload; the originals are never touched. The samples line is
  not carried over (new samples are taken). Self-assessment evidence (files on no line) is
  copied too, and the Mẫu 02 choices when the criteria set is the same.
"""

import datetime
import os
import secrets

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ocop.audit.services import record
from scoring.models import CriteriaSet, ProcessKind, Regime
from scoring.queries import regime_in_force

from . import services
from .checklists import SAMPLES_CODE
from .models import (
    ACTIVE_RATING_STATES,
    DocumentFile,
    DocumentState,
    Dossier,
    DossierDocument,
    DossierState,
    RegistrationType,
    SelfAssessmentEntry,
)
from .queries import filing_rounds

DAY = datetime.timedelta(days=1)


def _fmt(day):
    return day.strftime("%d/%m/%Y")


# --- the window ----------------------------------------------------------------------------


def procedure_regime(rating, day=None, *, regimes=None):
    """The regime whose re-evaluation procedure applies to ``rating`` on ``day`` (today by
    default): the regime in force that day — the later instrument where two overlap — else,
    before the first regime, the rating's own (docs/ratings-lifecycle.md, "Which regime's
    rules"). ``regimes``: all regimes, to read them once."""
    day = day or timezone.localdate()
    return regime_in_force(day, regimes) or rating.regime


def all_regimes():
    """Every regime, read once for several calls (the ``regimes`` argument)."""
    return list(Regime.objects.order_by("effective_from"))


def filing_window(rating, day=None, *, regimes=None):
    """``(opens, closes)`` — both days included — in which a re-evaluation of ``rating``
    is filed under the procedure in force on ``day``, or None when that regime sets
    neither a window nor a notice."""
    regime = procedure_regime(rating, day, regimes=regimes)
    until = rating.valid_until
    if regime.filing_window_start_days_before is not None:
        closes_before = regime.filing_window_end_days_before or 0
        return (until - datetime.timedelta(days=regime.filing_window_start_days_before),
                until - datetime.timedelta(days=closes_before))
    if regime.notify_days_before_expiry is not None:
        return until - datetime.timedelta(days=regime.notify_days_before_expiry), until
    return None


def late_filing_until(rating, day=None, *, regimes=None):
    """The last day a late filing (after the window) is accepted under the procedure in
    force on ``day``: the expiry, under a regime whose late filer keeps the certificate for
    a grace (26/2026); else None."""
    regime = procedure_regime(rating, day, regimes=regimes)
    if regime.filing_window_start_days_before is not None and regime.grace_days_after_expiry:
        return rating.valid_until
    return None


def is_late(rating, day=None, *, regimes=None):
    """Filed on ``day`` after the window of the procedure in force that day closed."""
    day = day or timezone.localdate()
    window = filing_window(rating, day, regimes=regimes)
    return window is not None and day > window[1]


def filing_refusal(rating, day=None, *, regimes=None):
    """Why a re-evaluation dossier of ``rating`` cannot be filed on ``day`` (today by
    default) under the procedure in force that day (a message giving the window's dates),
    or None."""
    day = day or timezone.localdate()
    regimes = all_regimes() if regimes is None else regimes
    window = filing_window(rating, day, regimes=regimes)
    if window is None:
        return None
    opens, closes = window
    late_until = late_filing_until(rating, day, regimes=regimes)
    if opens <= day <= (late_until or closes):
        return None
    message = _("A re-evaluation dossier can only be filed from %(opens)s to %(closes)s.") % {
        "opens": _fmt(opens), "closes": _fmt(closes)}
    if late_until is not None and late_until > closes:
        message += " " + _("A late filing is still accepted until the rating expires on "
                           "%(expiry)s.") % {"expiry": _fmt(late_until)}
    return message


# --- rounds ------------------------------------------------------------------------------------


def candidate_rounds(user, rating, today=None):
    """The rounds a re-evaluation of ``rating`` may be filed in by ``user``: visible to
    them, open for intake today, covering the producer's unit, of the first council level
    of their regime (where a new dossier starts: the province under 26/2026, the district
    under 148). The criteria set is resolved by ``reevaluation_criteria_set``, which says
    why when the round's regime has none."""
    from ocop.regions.models import AdministrativeUnit

    today = today or timezone.localdate()
    unit = rating.product.producer.unit
    rounds = [
        round_ for round_ in filing_rounds(user, today).filter(
            level__kind=ProcessKind.COUNCIL)
        .select_related("regime", "level", "unit").order_by("-year", "-number", "pk")
        # the round's area holds the producer — as ``create_dossier`` reads it: a current
        # province covers the units of the provinces it absorbed (a producer registered
        # before 2025 keeps its former commune)
        if AdministrativeUnit.objects.within([round_.unit]).filter(pk=unit.pk).exists()]
    first = {}
    for round_ in rounds:
        first.setdefault(round_.regime_id, round_.regime.levels.filter(
            kind=ProcessKind.COUNCIL).order_by("order").values_list("pk", flat=True).first())
    return [r for r in rounds if r.level_id == first[r.regime_id]]


# --- the criteria set ------------------------------------------------------------------------


def reevaluation_criteria_set(product, round):
    """The criteria set a re-evaluation of ``product`` in ``round`` is scored with: the
    product's own when it is a published set of the round's criteria regime, else that
    regime's published set of the same number (the sets are numbered 1–26 with the same
    meaning in 148 and 26/2026, scoring/data/criteria/INDEX.md; one published version per
    number). ``DossierError`` naming the set when that regime has none."""
    current = product.criteria_set
    criteria_regime = round.regime.criteria_regime
    if current.is_scorable and current.regime_id == criteria_regime.pk:
        return current
    target = (CriteriaSet.objects.published()
              .filter(regime=criteria_regime, set_no=current.set_no)
              .select_related("regime").order_by("-version").first())
    if target is None:
        message = _("Criteria set %(number)s “%(name)s” has no published version under "
                    "%(regime)s: this product cannot be re-evaluated in this round.") % {
            "number": f"{current.set_no:02d}", "name": current.name,
            "regime": round.regime.code}
        raise services.DossierError(message, code="criteria_set",
                                    fields={"product": [message]})
    return target


def criteria_set_change(rating, rounds):
    """For the confirmation page: ``(set, refusal)`` — the criteria set a re-evaluation of
    ``rating`` in ``rounds`` will move the product to when it is not the product's own, or
    the message refusing it when the round's regime has none. ``(None, None)`` when the set
    stays, and when ``rounds`` belong to several criteria regimes (it depends on the round
    chosen)."""
    if len({r.regime.criteria_regime.pk for r in rounds}) != 1:
        return None, None
    try:
        target = reevaluation_criteria_set(rating.product, rounds[0])
    except services.DossierError as error:
        return None, error.message
    if target.pk == rating.product.criteria_set_id:
        return None, None
    return target, None


# --- the prefilled dossier ---------------------------------------------------------------------


def source_dossier(rating):
    """The dossier the rating came from, else the product's latest recognised dossier."""
    if rating.source_dossier_id:
        return rating.source_dossier
    return (Dossier.objects.filter(product_id=rating.product_id,
                                   state=DossierState.RECOGNISED)
            .order_by("-updated_at", "-pk").first())


def _copy_file(original, dossier, line, user, stored):
    """A new stored file and row with the content of ``original`` (never moved)."""
    # a new random name with the extension checked at the original's upload
    # (docs/uploads.md: stored names never come from the user)
    extension = os.path.splitext(original.stored_name or "")[1]
    copy = DocumentFile(
        dossier=dossier, document=line, stored_name=secrets.token_hex(16) + extension,
        original_name=original.original_name, content_type=original.content_type,
        size=original.size, sha256=original.sha256, uploaded_by=user)
    with original.file.open("rb") as handle:
        copy.file.save(copy.stored_name, ContentFile(handle.read()), save=False)
    stored.append(copy.file.name)
    copy.save()
    return copy


def _carry_over(user, dossier, source, stored):
    """Copy the source's files onto the lines of the same item code (and its evidence),
    and its Mẫu 02 choices when the criteria set is the same; returns what was copied."""
    lines = {line.item.code: line for line in
             DossierDocument.objects.filter(dossier=dossier).select_related("item")}
    copied, by_original = [], {}
    for original in (source.files.select_related("document__item")
                     .order_by("uploaded_at", "pk")):
        line = None
        if original.document_id is not None:
            code = original.document.item.code
            line = lines.get(code)
            if line is None or code == SAMPLES_CODE:
                continue
        copy = _copy_file(original, dossier, line, user, stored)
        by_original[original.pk] = copy.pk
        if line is not None and line.state != DocumentState.SUBMITTED:
            line.state = DocumentState.SUBMITTED
            line.save(update_fields=["state"])
        copied.append({"from": original.pk, "to": copy.pk,
                       "item": line.item.code if line else None})
    entries = 0
    if source.criteria_set_id == dossier.criteria_set_id:
        rows = [SelfAssessmentEntry(dossier=dossier, criterion_id=e.criterion_id,
                                    option_id=e.option_id, note=e.note,
                                    evidence_id=by_original.get(e.evidence_id))
                for e in source.self_assessment.all()]
        SelfAssessmentEntry.objects.bulk_create(rows)
        entries = len(rows)
    return copied, entries


def start_reevaluation(user, rating, *, round=None):
    """A draft re-evaluation dossier of ``rating`` in ``round`` (or the one candidate
    round), created by ``services.create_dossier`` (which checks the area, the round, the
    rating and the filing window), prefilled from the rating's last dossier. The product
    is first moved, in the same transaction, to the set ``reevaluation_criteria_set`` gives
    (``services.move_product_to_criteria_set``) when its own is not one of the round's
    regime. Refused (``DossierError``, nothing created or moved) when no round or several
    rounds fit and none is given, or when the round's regime has no set of the number."""
    if rating.state not in ACTIVE_RATING_STATES:
        raise services.DossierError(
            _("Only a valid rating, or one due for re-evaluation, can be re-evaluated."),
            code="rating_state")
    message = filing_refusal(rating, timezone.localdate())
    if message:  # first: the reason that matters, whatever the rounds
        raise services.DossierError(message, code="filing_window",
                                    fields={"current_rating": [message]})
    if round is None:
        rounds = candidate_rounds(user, rating)
        if not rounds:
            raise services.DossierError(
                _("No evaluation round is open for this product's area; a re-evaluation "
                  "dossier needs one."), code="no_round",
                fields={"round": [_("No open round.")]})
        if len(rounds) > 1:
            raise services.DossierError(
                _("Several evaluation rounds are open; choose one."), code="choose_round",
                fields={"round": [_("Choose the round.")]},
                details={"rounds": [r.pk for r in rounds]})
        round = rounds[0]
    source = source_dossier(rating)
    product = rating.product
    criteria_set = reevaluation_criteria_set(product, round)
    moved_from = product.criteria_set_id
    stored = []
    try:
        with transaction.atomic():
            if criteria_set.pk != product.criteria_set_id:
                # the round's regime scores with its own sets: same number, new set
                product = services.move_product_to_criteria_set(
                    user, product, criteria_set, reason=_(
                        "Re-evaluation of rating #%(rating)s under %(regime)s.") % {
                        "rating": rating.pk, "regime": round.regime.code})
            dossier = services.create_dossier(
                user, round=round, product=product,
                registration_type=RegistrationType.REEVALUATION, current_rating=rating,
                registration=dict(source.registration or {}) if source else None)
            copied, entries = ([], 0) if source is None else _carry_over(
                user, dossier, source, stored)
            record("dossier.reevaluation_started", dossier, actor=user, after={
                "rating": rating.pk, "source_dossier": source.pk if source else None,
                "files": copied, "self_assessment": entries,
                "criteria_set": {"from": moved_from, "to": dossier.criteria_set_id},
                "late": is_late(rating, timezone.localdate())})
    except BaseException:
        storage = DocumentFile._meta.get_field("file").storage
        for name in stored:
            storage.delete(name)
        raise
    return dossier
