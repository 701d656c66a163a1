"""Figures for the home page panels of officers and department staff (one query each):
``home_panel``, registered in ``DossiersConfig.ready`` (see ``ocop.web.panels``)."""

from django.db.models import Count, Q

from .deadlines import overdue_q
from .models import DossierState
from .queries import dossiers_visible_to, rounds_visible_to


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
    return list(
        rounds_visible_to(user).filter(is_open=True).select_related("unit", "regime")
        .order_by("intake_deadline")[:5]
    )


def home_panel(user, context):
    """The dossier counts and open rounds of the department and officer panels, for a user
    with either role (``web/home.html`` shows them in those panels)."""
    if not (context.get("department_units") or context.get("officer_units")):
        return None
    return {"counts": dossier_counts(user), "rounds": open_rounds(user)}
