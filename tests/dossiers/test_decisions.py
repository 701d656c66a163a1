"""Recognition decisions and ratings (dossiers.decisions): drafting, issuing, numbering,
ratings, corrections and the refusals of the issue's "Bad input" list."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from dossiers import decisions
from dossiers.models import (
    Decision,
    DecisionState,
    JobStatus,
    Rating,
    RatingState,
)
from dossiers.services import DossierError
from ocop.accounts.models import Role
from ocop.audit.models import AuditEvent
from ocop.regions.models import AdministrativeUnit, Level
from tests import factories
from tests.dossiers.recognition import issued, province_round, recognised


@pytest.fixture
def world(cantho, criteria, make_user):
    staff = make_user("sonn", Role.DEPARTMENT_STAFF, cantho["province"])
    commune = AdministrativeUnit.objects.current().filter(
        province=cantho["province"], level=Level.COMMUNE).order_by("code").first()
    round_ = province_round(cantho)
    return {"staff": staff, "round": round_, "commune": commune, **cantho}


def test_issue_creates_numbered_decision_and_36_month_ratings(
        world, django_capture_on_commit_callbacks):
    a = recognised(world["round"], stars=4, score="78.50", unit=world["commune"])
    b = recognised(world["round"], stars=3, score="61.00", unit=world["commune"])
    draft = decisions.draft_decision(world["staff"], [a, b])
    assert draft.state == DecisionState.DRAFT
    assert draft.issuer_name == world["province"].name.upper()
    assert "26/2026/QĐ-TTg" in draft.legal_bases
    assert [i.stars for i in draft.items.order_by("order")] == sorted(
        [4, 3], key=lambda s: {4: a, 3: b}[s].product.name)
    day = timezone.localdate() - datetime.timedelta(days=0)
    with django_capture_on_commit_callbacks(execute=True):
        decision = decisions.issue_decision(world["staff"], draft, number=7, date=day,
                                            signer_name="Nguyễn Thực Hiện")
    decision.refresh_from_db()
    assert (decision.state, decision.reference, decision.year) == (
        DecisionState.ISSUED, "07/QĐ-UBND", day.year)
    ratings = {r.product_id: r for r in Rating.objects.filter(decision=decision)}
    assert set(ratings) == {a.product_id, b.product_id}
    rating = ratings[a.product_id]
    assert (rating.stars, rating.score, rating.state) == (4, Decimal("78.50"),
                                                          RatingState.VALID)
    assert rating.valid_from == day
    assert rating.valid_until == decisions.add_months(day, 36) - datetime.timedelta(days=1)
    assert len(rating.verification_code) == 16
    assert rating.verification_code != ratings[b.product_id].verification_code
    assert decision.job_status == JobStatus.DONE
    assert decision.file and decision.bundle
    assert all(r.certificate for r in ratings.values())
    assert AuditEvent.objects.filter(action="decision.issued").count() == 1


def test_valid_until_is_the_day_before_36_months_later():
    assert decisions.valid_until(datetime.date(2026, 2, 26), 36) == datetime.date(2029, 2, 25)
    assert decisions.valid_until(datetime.date(2028, 2, 29), 36) == datetime.date(2031, 2, 27)


def test_number_used_twice_by_the_same_issuer_and_year_is_refused(world):
    first = issued(world["staff"], [recognised(world["round"], unit=world["commune"])],
                   number=3)
    other = recognised(world["round"], unit=world["commune"])
    draft = decisions.draft_decision(world["staff"], [other])
    with pytest.raises(DossierError) as refused:
        decisions.issue_decision(world["staff"], draft, number=3, date=first.date,
                                 signer_name="A")
    assert "03/QĐ-UBND" in refused.value.fields["number"][0]
    draft.refresh_from_db()
    assert draft.state == DecisionState.DRAFT and draft.number is None
    assert not Rating.objects.filter(product=other.product).exists()
    assert decisions.next_number(draft, first.date.year) == 4


def test_results_of_different_issuers_or_regimes_are_refused(world, cantho):
    here = recognised(world["round"], unit=world["commune"])
    district_round = factories.evaluation_round(cantho["ninhkieu"], "148", "district")
    there = recognised(district_round, stars=3, score="60")
    with pytest.raises(DossierError) as refused:
        decisions.draft_decision(world["staff"], [here, there])
    assert "regime" in refused.value.message or "chế độ" in refused.value.message \
        or refused.value.code == "invalid_selection"
    other_round = province_round(cantho)
    also = recognised(other_round, unit=world["commune"])
    decisions.draft_decision(world["staff"], [here, also])  # same issuer, level, regime
    assert not Decision.objects.filter(items__dossier=there).exists()


def test_result_already_on_a_decision_and_low_stars_are_refused(world):
    a = recognised(world["round"], unit=world["commune"])
    decisions.draft_decision(world["staff"], [a])
    with pytest.raises(DossierError) as refused:
        decisions.draft_decision(world["staff"], [a])
    assert refused.value.code == "invalid_selection"
    low = recognised(world["round"], stars=2, score="45", unit=world["commune"])
    with pytest.raises(DossierError):
        decisions.draft_decision(world["staff"], [low])
    assert Decision.objects.count() == 1


def test_outsider_cannot_draft_from_results_of_another_province(world, make_user):
    other = AdministrativeUnit.objects.create(level=Level.PROVINCE, code="99x",
                                              name="Tỉnh Khác")
    outsider = make_user("sonn.khac", Role.DEPARTMENT_STAFF, other)
    a = recognised(world["round"], unit=world["commune"])
    with pytest.raises(DossierError) as refused:
        decisions.draft_decision(outsider, [a])
    assert refused.value.code == "not_found"
    assert not Decision.objects.exists()


def test_issued_decision_is_never_edited_and_correction_replaces_it(world):
    a = recognised(world["round"], unit=world["commune"])
    first = issued(world["staff"], [a], number=1)
    with pytest.raises(DossierError) as refused:
        decisions.update_draft(world["staff"], first, data={"subject": "x"})
    assert refused.value.code == "issued"
    correction = decisions.draft_decision(world["staff"], [], replaces=first)
    assert [i.dossier_id for i in correction.items.all()] == [a.pk]
    decisions.issue_decision(world["staff"], correction, number=2, date=first.date,
                             signer_name="B")
    first.refresh_from_db()
    assert first.state == DecisionState.REPLACED
    old, new = Rating.objects.filter(product=a.product).order_by("pk")
    assert (old.state, old.replaced_by_id) == (RatingState.REPLACED, new.pk)
    assert new.state == RatingState.VALID


def test_decision_dated_before_its_results_or_in_the_future_is_refused(world):
    a = recognised(world["round"], unit=world["commune"])
    draft = decisions.draft_decision(world["staff"], [a])
    for day in (timezone.localdate() + datetime.timedelta(days=1),
                timezone.localdate() - datetime.timedelta(days=30)):
        with pytest.raises(DossierError) as refused:
            decisions.issue_decision(world["staff"], draft, number=1, date=day,
                                     signer_name="A")
        assert refused.value.fields["date"]
    assert Decision.objects.get().state == DecisionState.DRAFT
