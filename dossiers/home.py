"""Figures for the home page panels of officers and department staff (one query each):
``home_panel``, registered in ``DossiersConfig.ready`` (see ``ocop.web.panels``)."""

import datetime

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone

from .deadlines import DUE_SOON_WORKING_DAYS, overdue_q
from .models import DossierState
from .queries import dossiers_visible_to, filing_rounds


def dossier_counts(user):
    return dossiers_visible_to(user).aggregate(
        total=Count("pk"),
        submitted=Count("pk", filter=Q(state=DossierState.SUBMITTED)),
        resubmitted=Count("pk", filter=Q(state=DossierState.RESUBMITTED)),
        returned=Count("pk", filter=Q(state=DossierState.RETURNED)),
        drafts=Count("pk", filter=Q(state=DossierState.DRAFT)),
        overdue=Count("pk", filter=overdue_q()),
    )


def open_rounds(user):
    """The rounds taking dossiers today (``queries.filing_rounds``), soonest intake first."""
    return list(
        filing_rounds(user, timezone.localdate()).select_related("unit", "regime")
        .order_by("intake_deadline")[:5]
    )


def recognition_counts(user, today=None):
    """What waits after the councils (docs/decisions.md): results without a decision,
    drafts, forwarded dossiers without a round, ratings and those expiring soon."""
    from .decisions import pending_results
    from .forwarding import awaiting_round
    from .models import ACTIVE_RATING_STATES, DecisionState, RatingState
    from .queries import ratings_visible_to, recognition_decisions_visible_to

    today = today or timezone.localdate()
    ratings = ratings_visible_to(user).aggregate(
        active=Count("pk", filter=Q(state__in=ACTIVE_RATING_STATES)),
        due=Count("pk", filter=Q(state=RatingState.DUE)),
        expired=Count("pk", filter=Q(state=RatingState.EXPIRED)),
        revoked=Count("pk", filter=Q(state=RatingState.REVOKED)),
        expiring=Count("pk", filter=Q(state__in=ACTIVE_RATING_STATES,
                                      valid_until__lte=today + datetime.timedelta(
                                          days=EXPIRING_DAYS))))
    return {
        "pending": pending_results(user).count(),
        "drafts": recognition_decisions_visible_to(user).filter(
            state=DecisionState.DRAFT).count(),
        "forwarded": awaiting_round(dossiers_visible_to(user)).count(),
        "expiring_days": EXPIRING_DAYS, **ratings,
    }


#: "Expiring soon" on the home page: the 26/2026 re-evaluation window opens 180 days before.
EXPIRING_DAYS = 180
#: Months shown by the expiry calendar of the department's home.
CALENDAR_MONTHS = 12


def month_start(day, months_later=0):
    """The first day of the month ``months_later`` months after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months_later
    return datetime.date(index // 12, index % 12 + 1, 1)


def expiry_calendar(user, today=None):
    """The active ratings the user sees that reach the end of their validity in each of the
    next ``CALENDAR_MONTHS`` months, this month first (one query): a list of
    ``{"month": date (the 1st), "count": n}``, months without an expiry included."""
    from .models import ACTIVE_RATING_STATES
    from .queries import ratings_visible_to

    today = today or timezone.localdate()
    first, end = month_start(today), month_start(today, CALENDAR_MONTHS)
    counts = dict(
        ratings_visible_to(user)
        .filter(state__in=ACTIVE_RATING_STATES, valid_until__gte=first, valid_until__lt=end)
        .annotate(month=TruncMonth("valid_until")).order_by()
        .values_list("month").annotate(n=Count("pk")).values_list("month", "n"))
    counts = {(m.date() if isinstance(m, datetime.datetime) else m): n
              for m, n in counts.items()}
    return [{"month": month, "count": counts.get(month, 0)}
            for month in (month_start(today, k) for k in range(CALENDAR_MONTHS))]


def oversight_counts(user):
    """After recognition (docs/ratings-lifecycle.md): inspections planned, products an
    inspection failed that wait for a revocation, revocations drafted (three queries)."""
    from .inspections import pending_revocation_items
    from .models import InspectionState, RevocationState
    from .queries import inspections_visible_to, revocations_visible_to

    return {
        "planned": inspections_visible_to(user).filter(
            state=InspectionState.PLANNED).count(),
        "pending": pending_revocation_items(user).count(),
        "drafts": revocations_visible_to(user).filter(state=RevocationState.DRAFT).count(),
    }


#: Dossiers near their deadline listed by name on the home page (the nearest first); the
#: card's "see all" opens the dossier list with ``?due_soon=1`` (:data:`DUE_SOON_LIST_QUERY`).
DUE_SOON_SHOWN = 10
#: The dossier list's query string of the same dossiers (``deadlines.due_soon_q``).
DUE_SOON_LIST_QUERY = "due_soon=1"


def due_soon(user, today=None):
    """The dossiers ``user`` sees near their deadline (``deadlines.due_soon_q``: a running
    deadline in the next ``DUE_SOON_WORKING_DAYS`` working days, today included), nearest
    first (two queries: the holiday table, the dossiers)."""
    from .deadlines import due_soon_q

    today = today or timezone.localdate()
    return list(dossiers_visible_to(user).filter(due_soon_q(today))
                .select_related("product").order_by("due_date", "id")[:DUE_SOON_SHOWN])


def home_panel(user, context):
    """The dossier counts and open rounds of the department and officer panels, for a user
    with either role (``web/home.html`` shows them in those panels)."""
    if not (context.get("department_units") or context.get("officer_units")):
        return None
    return {"counts": dossier_counts(user), "rounds": open_rounds(user),
            "recognition": recognition_counts(user), "oversight": oversight_counts(user),
            "expiry_calendar": (expiry_calendar(user) if context.get("department_units")
                                else None),
            "due_soon": due_soon(user), "due_soon_days": DUE_SOON_WORKING_DAYS,
            "due_soon_url": f"{reverse('dossiers:list')}?{DUE_SOON_LIST_QUERY}"}
