"""Ratings by the calendar (dossiers.expiry): due at the start of the regime's window,
expired after their validity, the 26/2026 grace while a re-evaluation filed by the expiry
waits; idempotent; the command takes any day. Dates are computed by hand."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from dossiers.expiry import check_rating_expiry
from dossiers.models import Decision, DossierState, Product, Rating, RatingState
from ocop.audit.models import AuditEvent
from scoring.models import ProcessLevel, Regime
from tests import factories

D = datetime.date


@pytest.fixture
def make_rating(cantho, criteria):
    def make(regime_slug, valid_until, state=RatingState.VALID):
        regime = Regime.objects.get(slug=regime_slug)
        owner = factories.producer(cantho["province"])
        set_no = 1 if regime.criteria_regime.slug == "26/2026" else 9
        product = Product.objects.create(
            producer=owner, name=f"Sản phẩm {owner.pk}",
            criteria_set=factories.criteria_set(regime.criteria_regime.slug, set_no))
        decision = Decision.objects.create(
            state="issued", regime=regime, issuer_name="THÀNH PHỐ CẦN THƠ",
            level=ProcessLevel.objects.get(regime=regime, admin_level="province"),
            reference="01/QĐ-UBND", date=D(2023, 6, 1))
        return Rating.objects.create(
            product=product, regime=regime, decision=decision, stars=4,
            score=Decimal("80"), decision_number="01/QĐ-UBND", decision_date=D(2023, 6, 1),
            valid_until=valid_until, state=state, verification_code=f"c{product.pk:015d}")
    return make


def states(*ratings):
    return [Rating.objects.get(pk=r.pk).state for r in ratings]


def test_26_2026_becomes_due_180_days_before_expiry(make_rating):
    rating = make_rating("26/2026", D(2027, 6, 30))
    # 30/06/2027 − 180 days = 01/01/2027
    assert check_rating_expiry(D(2026, 12, 31)) == {"due": [], "expired": []}
    assert states(rating) == ["valid"]
    assert check_rating_expiry(D(2027, 1, 1)) == {"due": [rating.pk], "expired": []}
    assert states(rating) == ["due"]


def test_148_becomes_due_30_days_before_expiry(make_rating):
    rating = make_rating("148", D(2026, 3, 31))
    check_rating_expiry(D(2026, 2, 28))       # 31 days before
    assert states(rating) == ["valid"]
    check_rating_expiry(D(2026, 3, 1))        # 30 days before
    assert states(rating) == ["due"]


def test_expired_the_day_after_valid_until(make_rating):
    rating = make_rating("148", D(2026, 3, 31))
    check_rating_expiry(D(2026, 3, 31))
    assert states(rating) == ["due"]          # its last day
    check_rating_expiry(D(2026, 4, 1))
    assert states(rating) == ["expired"]


def test_grace_of_26_2026_while_a_reevaluation_filed_in_time_waits(make_rating, cantho):
    kept, lapsed = make_rating("26/2026", D(2026, 9, 30)), make_rating("26/2026",
                                                                        D(2026, 9, 30))
    round_ = factories.evaluation_round(cantho["province"], "26/2026", "province")
    factories.dossier(round_, set_no=1, registration_type="reevaluation", current_rating=kept,
                      state=DossierState.SUBMITTED,
                      submitted_at=datetime.datetime(2026, 5, 4, 9, tzinfo=datetime.UTC))
    check_rating_expiry(D(2026, 10, 1))
    assert states(kept, lapsed) == ["due", "expired"]
    # 30/09/2026 + 180 days = 29/03/2027: the last day of the grace
    check_rating_expiry(D(2027, 3, 29))
    assert states(kept) == ["due"]
    check_rating_expiry(D(2027, 3, 30))
    assert states(kept) == ["expired"]


def test_a_second_run_changes_and_records_nothing(make_rating):
    rating = make_rating("148", D(2026, 3, 31))
    first = check_rating_expiry(D(2026, 4, 2))
    assert first == {"due": [], "expired": [rating.pk]}
    events = AuditEvent.objects.filter(action="ratings.expiry_checked").count()
    assert check_rating_expiry(D(2026, 4, 2)) == {"due": [], "expired": []}
    assert AuditEvent.objects.filter(action="ratings.expiry_checked").count() == events == 1


def test_revoked_and_replaced_ratings_are_left_alone(make_rating):
    revoked = make_rating("148", D(2026, 3, 31), state=RatingState.REVOKED)
    replaced = make_rating("148", D(2026, 3, 31), state=RatingState.REPLACED)
    check_rating_expiry(D(2026, 6, 1))
    assert states(revoked, replaced) == ["revoked", "replaced"]


def test_command_takes_a_date_and_refuses_a_bad_one(make_rating):
    rating = make_rating("148", D(2026, 3, 31))
    out = StringIO()
    call_command("check_rating_expiry", "--date", "2026-03-15", stdout=out)
    assert states(rating) == ["due"]
    assert "1" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("check_rating_expiry", "--date", "15/03/2026")
