"""Evaluation rounds (đợt đánh giá, phân hạng): the one service that opens a round, and the
checks the admin's round form shares with it.

A round belongs to a regime in force at its dates and to an administrative unit that exists
at them (docs/regimes-and-levels.md, "In force at the date"):

* the regime is in force on the intake deadline and on the planned session date;
* the round's unit exists on both (districts ended on 30/06/2025);
* the level is one of the regime's, at the unit's administrative level;
* the intake deadline falls in the round's year;
* a regime with a round calendar (26/2026: received by 30/4 → finished by 30/6, by 30/10 →
  by 30/12) takes an intake deadline on or before a received-by date of its year, and a
  planned session date on or before that slot's finished-by date.

CONTRACT:

    round_refusals(*, regime, level, unit, year, intake_deadline, planned_session_date=None)
        -> dict field → [messages]          # empty when the round may exist
    create_round(user, *, regime, level, unit, year, number, intake_deadline,
                 planned_session_date=None, is_open=True) -> EvaluationRound
"""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from ocop.audit.services import record

from . import rules
from .models import EvaluationRound
from .services import DossierError


def round_refusals(*, regime, level, unit, year, intake_deadline, planned_session_date=None):
    """{field: [messages]} of every reason the round may not exist (empty: it may)."""
    errors = {}

    def add(field, refusal):
        if refusal is not None:
            errors.setdefault(field, []).append(refusal.message)

    if level is not None and regime is not None and level.regime_id != regime.pk:
        add("level", rules.Refusal("level", _("This level is not one of %(regime)s.")
                                   % {"regime": regime.code}))
    if level is not None and unit is not None and level.admin_level in (
            "commune", "district", "province") and unit.level != level.admin_level:
        add("unit", rules.Refusal("level", _(
            "A round of the %(level)s level belongs to a unit of that level; %(unit)s is "
            "not one.") % {"level": level.get_admin_level_display().lower(),
                           "unit": unit.name}))
    if intake_deadline is None:
        return errors
    if year is not None and intake_deadline.year != year:
        add("intake_deadline", rules.Refusal("year", _(
            "The intake deadline must fall in the round's year (%(year)s).") % {"year": year}))
    days = [("intake_deadline", intake_deadline)]
    if planned_session_date is not None:
        if planned_session_date < intake_deadline:
            add("planned_session_date", rules.Refusal("order", _(
                "The session cannot be planned before the intake deadline.")))
        days.append(("planned_session_date", planned_session_date))
    for field, day in days:
        if regime is not None:
            add(field, rules.regime_refusal(regime, day))
        if unit is not None:
            add(field, rules.unit_refusal(unit, day))
    if regime is not None:
        refusal = rules.round_calendar_refusal(regime.code, rules.regime_windows(regime),
                                               intake_deadline, planned_session_date)
        if refusal is not None:
            field = ("intake_deadline" if rules.round_window(
                rules.regime_windows(regime), intake_deadline) is None
                else "planned_session_date")
            add(field, refusal)
    return errors


def create_round(user, *, regime, level, unit, year, number, intake_deadline,
                 planned_session_date=None, is_open=True):
    """Open an evaluation round after :func:`round_refusals`; raises ``DossierError``
    (code ``invalid`` with the fields, ``role`` or ``duplicate``) and changes nothing when
    refused."""
    refusal = rules.round_role_refusal(user, unit)
    if refusal is not None:
        raise DossierError(refusal.message, code=refusal.code)
    errors = round_refusals(regime=regime, level=level, unit=unit, year=year,
                            intake_deadline=intake_deadline,
                            planned_session_date=planned_session_date)
    if errors:
        first = next(iter(errors.values()))[0]
        raise DossierError(first, code="invalid", fields=errors)
    try:
        with transaction.atomic():
            round_ = EvaluationRound.objects.create(
                regime=regime, level=level, unit=unit, year=year, number=number,
                intake_deadline=intake_deadline, planned_session_date=planned_session_date,
                is_open=is_open)
            record("round.created", round_, actor=user, after={
                "regime": regime.pk, "level": level.pk, "unit": unit.pk, "year": year,
                "number": number, "intake_deadline": str(intake_deadline),
                "planned_session_date": str(planned_session_date or ""),
                "is_open": is_open})
    except IntegrityError:
        message = _("Round %(number)s/%(year)s of this unit and level already exists.") % {
            "number": number, "year": year}
        raise DossierError(message, code="duplicate", fields={"number": [message]}) from None
    return round_
