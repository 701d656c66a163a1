"""Working days and processing deadlines of dossiers.

Policy (the rules give "within 15 working days" and nothing more):

* A working day is Monday to Friday and not a ``PublicHoliday``. The day the dossier is
  received does not count: ``add_working_days(Friday, 1)`` is the next Monday.
* ``due_date`` is set by ``services.submit`` and again by ``services.resubmit``: when the
  round's regime has ``commune_deadline_working_days`` (1489, 26/2026: 15), it is the
  submission (resubmission) date plus that many working days — the clock restarts when the
  completed dossier comes back, as for any administrative procedure; otherwise (148) it is
  the round's intake deadline (the intake level finishes checking when intake closes).
* A dossier is overdue when ``due_date < today`` and the intake level still owes an action:
  it is ``submitted`` or ``resubmitted`` (not yet accepted), or — under a regime with a
  commune deadline, whose 15 working days also cover the Mẫu 03 report — ``accepted`` but not
  yet pre-assessed. A ``returned`` dossier is never overdue: the producer holds it.
"""

import datetime

from django.db.models import BooleanField, Case, Q, Value, When
from django.utils import timezone

from .models import DossierState, PublicHoliday

#: States in which the intake level owes an action whatever the regime.
PENDING_STATES = (DossierState.SUBMITTED, DossierState.RESUBMITTED)


def add_working_days(start, n, holidays=()):
    """The date ``n`` working days after ``start`` (``start`` itself not counted),
    skipping Saturdays, Sundays and the dates in ``holidays``."""
    if n < 0:
        raise ValueError("n must not be negative")
    holidays = set(holidays)
    day = start
    remaining = n
    while remaining:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5 and day not in holidays:
            remaining -= 1
    return day


def holidays_between(start, end):
    return set(PublicHoliday.objects.filter(date__gt=start, date__lte=end)
               .values_list("date", flat=True))


def working_days_after(start, n):
    """``add_working_days`` with the ``PublicHoliday`` table (read in one query, widened
    only if a long run of holidays pushes the result past the window read)."""
    window = datetime.timedelta(days=n * 2 + 30)
    while True:
        end = start + window
        due = add_working_days(start, n, holidays_between(start, end))
        if due <= end:
            return due
        window *= 2


def due_date_for(dossier, received_on):
    """The processing deadline of ``dossier`` received (submitted or resubmitted) on
    ``received_on`` (see the module docstring)."""
    days = dossier.round.regime.commune_deadline_working_days
    if days:
        return working_days_after(received_on, days)
    return max(dossier.round.intake_deadline, received_on)


def overdue_condition():
    """The states part of "overdue" as a ``Q`` on dossiers."""
    return Q(state__in=PENDING_STATES) | Q(
        state=DossierState.ACCEPTED,
        round__regime__commune_deadline_working_days__isnull=False,
    )


def overdue_q(today=None):
    """"Overdue" as a plain condition on dossiers (usable by indexes, unlike filtering on
    the ``is_overdue`` annotation, which becomes a CASE expression)."""
    return Q(due_date__lt=today or timezone.localdate()) & overdue_condition()


def is_overdue(dossier, today=None):
    today = today or timezone.localdate()
    if dossier.due_date is None or dossier.due_date >= today:
        return False
    if dossier.state in PENDING_STATES:
        return True
    return (dossier.state == DossierState.ACCEPTED
            and dossier.round.regime.commune_deadline_working_days is not None)


def annotate_overdue(queryset, today=None):
    """Annotate a dossier queryset with a boolean ``is_overdue`` (filterable in SQL)."""
    today = today or timezone.localdate()
    return queryset.annotate(is_overdue=Case(
        When(overdue_q(today), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    ))
