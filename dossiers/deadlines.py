"""Working days and processing deadlines of dossiers.

Policy (the rules give "within 15 working days" and nothing more):

* A working day is Monday to Friday and not a public holiday — Vietnam's calendar from the
  ``holidays`` package, adjusted by the ``PublicHoliday`` rows the administrators keep
  from each year's announcement (extra days off; worked days such as a swapped Saturday).
  The day the dossier is received does not count: ``add_working_days(Friday, 1)`` is the
  next Monday.
* ``due_date`` is set by ``services.submit`` and again by ``services.resubmit``: when the
  round's regime has ``commune_deadline_working_days`` (1489, 26/2026: 15), it is the
  submission (resubmission) date plus that many working days — the clock restarts when the
  completed dossier comes back, as for any administrative procedure; otherwise (148) it is
  the round's intake deadline (the intake level finishes checking when intake closes).
* A **re-evaluation** under a regime with ``processing_days`` (26/2026: 45) is due that
  many *calendar* days after its submission (resubmission restarts it, as above); it is
  overdue past that day in every state from submitted to the council's result (except
  ``returned``): the 45 days cover the whole processing, and replace the commune's 15
  working days as its one deadline.
* A dossier is overdue when ``due_date < today`` and the intake level still owes an action:
  it is ``submitted`` or ``resubmitted`` (not yet accepted), or — under a regime with a
  commune deadline, whose 15 working days also cover the Mẫu 03 report — ``accepted`` but not
  yet pre-assessed. A ``returned`` dossier is never overdue: the producer holds it.
"""

import datetime

from django.db.models import BooleanField, Case, Q, Value, When
from django.utils import timezone

from .models import DossierState, PublicHoliday, RegistrationType

#: States in which the intake level owes an action whatever the regime.
PENDING_STATES = (DossierState.SUBMITTED, DossierState.RESUBMITTED)
#: A re-evaluation's processing limit runs from its submission to the council's result.
REEVALUATION_PENDING_STATES = (*PENDING_STATES, DossierState.ACCEPTED,
                               DossierState.PRE_ASSESSED, DossierState.IN_EVALUATION,
                               DossierState.RESULT_RECORDED)


def add_working_days(start, n, holidays=(), workdays=()):
    """The date ``n`` working days after ``start`` (``start`` itself not counted),
    skipping Saturdays, Sundays and the dates in ``holidays``, except weekend days listed
    in ``workdays`` (a swapped Saturday is worked)."""
    if n < 0:
        raise ValueError("n must not be negative")
    holidays, workdays = set(holidays), set(workdays)
    day = start
    remaining = n
    while remaining:
        day += datetime.timedelta(days=1)
        if (day.weekday() < 5 or day in workdays) and day not in holidays:
            remaining -= 1
    return day


def calendar_holidays(start, end):
    """Vietnam's public holidays in (``start``, ``end``] by the ``holidays`` package (Tết
    Dương lịch, Tết Nguyên Đán, Giỗ Tổ Hùng Vương, 30/4, 1/5, Quốc khánh, and the
    compensating days it knows)."""
    import holidays as calendar

    days = calendar.country_holidays("VN", years=range(start.year, end.year + 1))
    return {day for day in days if start < day <= end}


def holidays_between(start, end):
    """The days off and the worked weekend days in (``start``, ``end``]: the package's
    calendar, plus the announced days off of ``PublicHoliday``, minus its working days."""
    rows = list(PublicHoliday.objects.filter(date__gt=start, date__lte=end)
                .values_list("date", "working_day"))
    worked = {day for day, working in rows if working}
    off = (calendar_holidays(start, end) | {day for day, working in rows if not working})
    return off - worked, worked


def working_days_after(start, n):
    """``add_working_days`` with the calendar and the ``PublicHoliday`` table (read in one
    query, widened only if a long run of holidays pushes the result past the window
    read)."""
    window = datetime.timedelta(days=n * 2 + 30)
    while True:
        end = start + window
        off, worked = holidays_between(start, end)
        due = add_working_days(start, n, off, worked)
        if due <= end:
            return due
        window *= 2


def due_date_for(dossier, received_on):
    """The processing deadline of ``dossier`` received (submitted or resubmitted) on
    ``received_on`` (see the module docstring)."""
    processing = dossier.round.regime.processing_days
    if processing and dossier.registration_type == RegistrationType.REEVALUATION:
        # 26/2026: a re-evaluation is processed within 45 days — calendar days, the rule
        # says "ngày", not "ngày làm việc" (docs/deadlines.md)
        return received_on + datetime.timedelta(days=processing)
    days = dossier.round.regime.commune_deadline_working_days
    if days:
        return working_days_after(received_on, days)
    return max(dossier.round.intake_deadline, received_on)


def _reevaluation_q():
    """A re-evaluation under a regime with a processing limit: overdue in every state
    between its submission and its result (the 45 days cover the whole processing)."""
    return Q(state__in=REEVALUATION_PENDING_STATES,
             registration_type=RegistrationType.REEVALUATION,
             round__regime__processing_days__isnull=False)


def overdue_condition():
    """The states part of "overdue" as a ``Q`` on dossiers."""
    return Q(state__in=PENDING_STATES) | Q(
        state=DossierState.ACCEPTED,
        round__regime__commune_deadline_working_days__isnull=False,
    ) | _reevaluation_q()


def overdue_q(today=None):
    """"Overdue" as a plain condition on dossiers (usable by indexes, unlike filtering on
    the ``is_overdue`` annotation, which becomes a CASE expression)."""
    return Q(due_date__lt=today or timezone.localdate()) & overdue_condition()


#: "Near their deadline" (the home page's card and the dossier list's filter): a running
#: deadline (:func:`overdue_condition`) that falls within this many working days from today
#: (today included, not yet overdue).
DUE_SOON_WORKING_DAYS = 3


def due_soon_q(today=None):
    """"Near their deadline" as a ``Q`` on dossiers — the one definition of the home card
    (``home.due_soon``) and the list's ``due_soon`` filter: a running deadline on a day
    from ``today`` to :data:`DUE_SOON_WORKING_DAYS` working days later (one query: the
    holiday table)."""
    today = today or timezone.localdate()
    last = working_days_after(today, DUE_SOON_WORKING_DAYS)
    return Q(due_date__gte=today, due_date__lte=last) & overdue_condition()


def deadline_running(dossier):
    """True when the processing deadline runs in the dossier's state — the Python twin of
    :func:`overdue_condition` (the page, the list, the ``?overdue=1`` filter and the home
    count use one definition). A closed dossier (recognised, not recognised, withdrawn,
    forwarded), a returned one and a draft have no running deadline."""
    if dossier.due_date is None:
        return False
    regime = dossier.round.regime
    return deadline_runs(dossier.state, dossier.registration_type, regime.processing_days,
                         regime.commune_deadline_working_days)


def deadline_runs(state, registration_type, processing_days, commune_deadline_working_days):
    """:func:`deadline_running` of a dossier with a deadline, from plain values (its state
    and registration type, its round's regime's two limits)."""
    if state in PENDING_STATES:
        return True
    if (registration_type == RegistrationType.REEVALUATION
            and state in REEVALUATION_PENDING_STATES and processing_days is not None):
        return True
    return state == DossierState.ACCEPTED and commune_deadline_working_days is not None


def is_overdue(dossier, today=None):
    today = today or timezone.localdate()
    return (dossier.due_date is not None and dossier.due_date < today
            and deadline_running(dossier))


def annotate_overdue(queryset, today=None):
    """Annotate a dossier queryset with a boolean ``is_overdue`` (filterable in SQL) and
    ``deadline_running`` (the deadline applies in the dossier's state)."""
    today = today or timezone.localdate()
    return queryset.annotate(is_overdue=Case(
        When(overdue_q(today), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    ), deadline_running=Case(
        When(Q(due_date__isnull=False) & overdue_condition(), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    ))
