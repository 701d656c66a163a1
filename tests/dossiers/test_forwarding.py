"""Between levels (dossiers.forwarding): a district-forwarded dossier reaches the province's
intake with its district result and its files; a province-forwarded one waits for the
Ministry's result, which department staff record."""

import datetime
from decimal import Decimal

import pytest

from dossiers import forwarding, services
from dossiers.models import DossierState, Rating
from dossiers.services import DossierError
from ocop.accounts.models import Role
from ocop.regions.models import AdministrativeUnit, Level
from tests import factories
from tests.dossiers import complete_checklist, db_rows, new_dossier

RESULT = {"total": "82.25", "stars": 4, "band_stars": 4, "outcome": "forward"}


@pytest.fixture
def history(cantho, criteria, make_user, era_148):
    """A 148 district dossier of Ninh Kiều filed, accepted and in evaluation; its tests run
    on a day 148 was in force (``era_148``: 10/06/2024)."""
    from ocop.accounts.models import User

    officer = make_user("canbo.nk", Role.LOCAL_OFFICER, cantho["ninhkieu"])
    staff = (User.objects.filter(username="sonn").first()
             or make_user("sonn", Role.DEPARTMENT_STAFF, cantho["province"]))
    ward = cantho["ninhkieu"].children.order_by("code").first()
    district_round = factories.evaluation_round(cantho["ninhkieu"], "148", "district")
    dossier = new_dossier(officer, district_round, ward)
    complete_checklist(officer, dossier)
    dossier = services.submit(officer, dossier)
    dossier = services.accept(officer, dossier)
    dossier = services.start_evaluation(officer, dossier, via_council=True)
    return {"officer": officer, "staff": staff, "dossier": dossier, "ward": ward, **cantho}


def province_round_148(cantho, **extra):
    return factories.evaluation_round(cantho["province_old"], "148", "province", **extra)


def test_district_forwarded_dossier_arrives_in_the_province_round_with_result_and_files(
        history, cantho):
    target = province_round_148(cantho)
    factories.evaluation_round(cantho["province_old"], "148", "province", is_open=False)
    source = history["dossier"]
    files_before = list(source.files.values_list("file", "sha256"))
    dossier = services.record_result(history["officer"], source, outcome="forward",
                                     result=RESULT, via_council=True)
    assert (dossier.state, dossier.result_score, dossier.result_stars) == (
        DossierState.FORWARDED, Decimal("82.25"), 4)
    arrived = dossier.forwarded_to
    assert arrived.round == target and arrived.state == DossierState.SUBMITTED
    assert (arrived.product_id, arrived.criteria_set_id, arrived.unit_id) == (
        source.product_id, source.criteria_set_id, source.unit_id)
    assert sorted(arrived.files.values_list("file", "sha256")) == sorted(files_before)
    assert arrived.documents.count() == source.documents.count()
    first = arrived.transitions.get()
    assert first.details["forwarded"] == {"from_dossier": source.pk,
                                          "from_round": source.round_id,
                                          "score": "82.25", "stars": 4}
    # the department sees it in its intake and may check it
    from dossiers.queries import dossiers_visible_to
    assert dossiers_visible_to(history["staff"]).filter(pk=arrived.pk).exists()
    assert "accept" in services.available_actions(history["staff"], arrived)


def test_without_an_open_round_the_forwarded_dossier_waits_then_staff_take_it_in(
        history, cantho):
    dossier = services.record_result(history["officer"], history["dossier"],
                                     outcome="forward", result=RESULT, via_council=True)
    assert not hasattr(dossier, "forwarded_to") or dossier.forwarded_to is None
    from dossiers.models import Dossier
    assert forwarding.awaiting_round(Dossier.objects.all()).filter(pk=dossier.pk).exists()
    target = province_round_148(cantho)
    with pytest.raises(DossierError) as refused:  # the district officer may not
        forwarding.receive_forwarded(history["officer"], dossier, target)
    assert refused.value.code == "role"
    arrived = forwarding.receive_forwarded(history["staff"], dossier, target)
    assert arrived.forwarded_from_id == dossier.pk and arrived.round == target
    with pytest.raises(DossierError) as again:
        forwarding.receive_forwarded(history["staff"], dossier, target)
    assert again.value.code == "already_received"
    assert not forwarding.awaiting_round(Dossier.objects.all()).exists()


def test_capped_product_is_recognised_by_the_district_not_forwarded(history):
    capped = {"total": "75.00", "stars": 3, "band_stars": 4, "outcome": "recognise"}
    dossier = services.record_result(history["officer"], history["dossier"],
                                     outcome="recognise", result=capped, via_council=True)
    assert (dossier.state, dossier.result_stars) == (DossierState.RECOGNISED, 3)


@pytest.fixture
def sent_up(cantho, criteria, make_user):
    """A 26/2026 province dossier forwarded to the Ministry (≥ 90, 5★)."""
    from ocop.accounts.models import User

    staff = (User.objects.filter(username="sonn").first()
             or make_user("sonn", Role.DEPARTMENT_STAFF, cantho["province"]))
    commune = AdministrativeUnit.objects.current().filter(
        province=cantho["province"], level=Level.COMMUNE).order_by("code").first()
    round_ = factories.evaluation_round(cantho["province"], "26/2026", "province")
    dossier = factories.dossier(round_, commune, set_no=1, state=DossierState.IN_EVALUATION)
    dossier = services.record_result(staff, dossier, outcome="forward", via_council=True,
                                     result={"total": "91.50", "stars": 5})
    return {"staff": staff, "dossier": dossier, "round": round_, "commune": commune}


def test_ministry_5_star_result_creates_the_rating_at_once(sent_up):
    assert forwarding.goes_to_central(sent_up["dossier"])
    day = datetime.date(2026, 11, 20)
    dossier = forwarding.record_central_result(
        sent_up["staff"], sent_up["dossier"], score="92,5", stars=5,
        decision_number="1234/QĐ-BNNMT", decision_date=day)
    assert (dossier.state, dossier.result_score, dossier.result_stars) == (
        DossierState.RECOGNISED, Decimal("92.50"), 5)
    rating = Rating.objects.get(product=dossier.product)
    assert (rating.stars, rating.decision_number, rating.decision_date) == (
        5, "1234/QĐ-BNNMT", day)
    assert rating.decision.issuer_name == "BỘ NÔNG NGHIỆP VÀ MÔI TRƯỜNG"
    assert rating.valid_until == datetime.date(2029, 11, 19)
    details = dossier.transitions.order_by("pk").last().details
    assert details["province_result"] == {"score": "91.50", "stars": 5}


def test_ministry_result_below_90_lets_the_province_recognise(sent_up):
    from dossiers.decisions import pending_results

    dossier = forwarding.record_central_result(
        sent_up["staff"], sent_up["dossier"], score=Decimal("86"), stars=4,
        decision_number="1300/QĐ-BNNMT", decision_date=datetime.date(2026, 11, 25))
    assert (dossier.state, dossier.result_stars) == (DossierState.RECOGNISED, 4)
    assert not Rating.objects.filter(product=dossier.product).exists()
    assert pending_results(sent_up["staff"]).filter(pk=dossier.pk).exists()


@pytest.mark.parametrize(("data", "field"), [
    ({"score": "abc"}, "score"), ({"score": "101"}, "score"), ({"stars": 6}, "stars"),
    ({"decision_number": " "}, "decision_number"),
    ({"decision_date": datetime.date(2099, 1, 1)}, "decision_date"),
])
def test_bad_ministry_result_is_refused_and_changes_nothing(sent_up, data, field):
    values = {"score": "92", "stars": 5, "decision_number": "1/QĐ-BNNMT",
              "decision_date": datetime.date(2026, 11, 20), **data}
    before = db_rows(sent_up["dossier"])
    with pytest.raises(DossierError) as refused:
        forwarding.record_central_result(sent_up["staff"], sent_up["dossier"], **values)
    assert field in refused.value.fields
    assert db_rows(sent_up["dossier"]) == before


def test_ministry_result_only_for_dossiers_sent_to_the_ministry(sent_up, history):
    dossier = services.record_result(history["officer"], history["dossier"],
                                     outcome="forward", result=RESULT, via_council=True)
    with pytest.raises(DossierError) as refused:
        forwarding.record_central_result(
            history["staff"], dossier, score="80", stars=4, decision_number="1/QĐ",
            decision_date=datetime.date(2026, 1, 5))
    assert refused.value.code == "not_central"


def test_a_round_whose_intake_closed_is_not_where_a_forwarded_dossier_goes(history, cantho):
    import datetime as dt

    # the day is 10/06/2024 (era_148): this round's intake closed the day before
    closed = province_round_148(cantho, intake_deadline=dt.date(2024, 6, 9))
    dossier = services.record_result(history["officer"], history["dossier"],
                                     outcome="forward", result=RESULT, via_council=True)
    assert forwarding.target_rounds(dossier) == []
    with pytest.raises(DossierError) as refused:
        forwarding.receive_forwarded(history["staff"], dossier, closed)
    assert "round" in refused.value.fields
