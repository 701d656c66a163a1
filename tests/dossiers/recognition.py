"""Builders for the recognition tests: recognised results as a council's session close
leaves them, and decisions issued through ``dossiers.decisions``."""

import datetime
from decimal import Decimal

from django.utils import timezone

from dossiers import decisions
from dossiers.models import DossierState, Transition
from tests import factories


def recognised(round_, *, stars=4, score="78.50", unit=None, product_name=None,
               at=None):
    """A dossier of ``round_`` whose result was recorded as recognised with ``stars``
    (as ``councils.services.close_session`` leaves it)."""
    set_no = 1 if round_.regime.criteria_regime.slug == "26/2026" else 9
    dossier = factories.dossier(round_, unit, set_no=set_no, state=DossierState.RECOGNISED,
                                product_name=product_name, result_stars=stars,
                                result_score=Decimal(score))
    transition = Transition.objects.create(
        dossier=dossier, from_state=DossierState.RESULT_RECORDED,
        to_state=DossierState.RECOGNISED, details={"outcome": "recognise"})
    if at is not None:
        Transition.objects.filter(pk=transition.pk).update(at=at)
    return dossier


def issued(user, dossiers, *, number=1, date=None, signer="Trần Văn Ký"):
    """A decision drafted and issued by ``user`` (its documents are rendered only when the
    caller runs the on-commit callbacks, e.g. ``django_capture_on_commit_callbacks``)."""
    draft = decisions.draft_decision(user, dossiers)
    date = date or timezone.localdate()
    return decisions.issue_decision(user, draft, number=number, date=date,
                                    signer_name=signer)


def province_round(cantho, **extra):
    """A 26/2026 provincial round of current Cần Thơ."""
    return factories.evaluation_round(cantho["province"], "26/2026", "province", **extra)


YESTERDAY = datetime.timedelta(days=1)
