"""Ratings entering their re-evaluation window, and ratings past their validity
(docs/deadlines.md, "Expiry of ratings").

:func:`check_rating_expiry` is the one service that moves ratings by the calendar; the
command ``manage.py check_rating_expiry [--date YYYY-MM-DD]`` runs it for any day. Per
regime (data: ``scoring.Regime``):

* **valid → due** once the day reaches ``valid_until`` minus the regime's window: the
  start of the producer's filing window (26/2026: 180 days before expiry) or, without
  one, the issuer's notice (148: 30 days before). A regime with neither has no due state.
* **valid or due → expired** once the day is past ``valid_until``, except under the
  regime's grace (26/2026: at most 180 days after expiry) while a re-evaluation dossier of
  that rating, submitted on or before its expiry, waits for its result.

Set-based: one UPDATE per regime and change, whose WHERE repeats the state it leaves, so a
second run (or two overlapping runs) changes and counts nothing twice, and a run cut short
is finished by the next. Each run writes one audit event with the ratings it moved.
"""

import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from ocop.audit.services import record
from scoring.models import Regime

from .models import (
    ACTIVE_RATING_STATES,
    Dossier,
    DossierState,
    Rating,
    RatingState,
    RegistrationType,
)

#: A re-evaluation dossier in these states is no longer waiting for a result.
FINISHED = (DossierState.RECOGNISED, DossierState.NOT_RECOGNISED, DossierState.WITHDRAWN,
            DossierState.DRAFT)


def due_from_days(regime):
    """Days before expiry at which a rating of ``regime`` becomes due, or None."""
    if regime.filing_window_start_days_before is not None:
        return regime.filing_window_start_days_before
    return regime.notify_days_before_expiry


def _waiting_reevaluation():
    """A re-evaluation dossier of the rating, submitted by its expiry, not finished."""
    return Dossier.objects.filter(
        current_rating=OuterRef("pk"), registration_type=RegistrationType.REEVALUATION,
        submitted_at__isnull=False, submitted_at__date__lte=OuterRef("valid_until"),
    ).exclude(state__in=FINISHED)


def _move(queryset, to_state):
    """Set ``to_state`` on the rows of ``queryset`` (locked, skipping rows another run
    holds); returns their ids."""
    ids = list(queryset.select_for_update(skip_locked=True).values_list("pk", flat=True))
    if ids:
        Rating.objects.filter(pk__in=ids).update(state=to_state)
    return ids


def check_rating_expiry(day=None):
    """Move the ratings by ``day`` (default today); returns {"due": [ids], "expired":
    [ids]}."""
    day = day or timezone.localdate()
    moved = {"due": [], "expired": []}
    with transaction.atomic():
        for regime in Regime.objects.order_by("pk"):
            ratings = Rating.objects.filter(regime=regime)
            expired = ratings.filter(state__in=ACTIVE_RATING_STATES, valid_until__lt=day)
            if regime.grace_days_after_expiry:
                last_grace_day = day - datetime.timedelta(days=regime.grace_days_after_expiry)
                # still in its grace: a waiting re-evaluation filed by the expiry
                expired = expired.exclude(Q(valid_until__gte=last_grace_day)
                                          & Exists(_waiting_reevaluation()))
            moved["expired"] += _move(expired, RatingState.EXPIRED)
            days = due_from_days(regime)
            if days is not None:
                due = ratings.filter(state=RatingState.VALID,
                                     valid_until__lte=day + datetime.timedelta(days=days))
                moved["due"] += _move(due, RatingState.DUE)
        if moved["due"] or moved["expired"]:
            record("ratings.expiry_checked", after={"day": day.isoformat(), **moved})
    return moved
