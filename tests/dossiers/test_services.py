"""Dossier services: producers, products, dossiers, the checklist and the workflow.

Users: the Ninh Kiều district officer (owner of 148 dossiers), the Phong Điền officer
(outsider, whose own dossier exists), a commune officer of a current Cần Thơ commune
(26/2026 intake) and the department staff of Cần Thơ (sees both, runs the provincial round).
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dossiers import deadlines, rules, services
from dossiers.checklists import ITEMS, SAMPLES_CODE
from dossiers.models import (
    ChecklistItem,
    DocumentState,
    Dossier,
    DossierState,
    PreAssessment,
    PublicHoliday,
    Rating,
    RegistrationType,
    Transition,
)
from ocop.accounts.models import Role
from ocop.audit.models import AuditEvent
from ocop.text import fold
from scoring.models import Criterion
from tests import factories
from tests.dossiers import (
    complete_checklist,
    current_communes,
    db_rows,
    new_dossier,
    producer_data,
    timeline,
    upload,
)

pytestmark = pytest.mark.django_db

S = DossierState

MAU_03 = {
    "raw_materials": "Cá cơm mua của ngư dân trong xã", "raw_materials_verdict": "met",
    "labour": "12 lao động địa phương", "labour_verdict": "met",
    "idea_origin": "Công thức gia truyền của gia đình", "idea_origin_verdict": "met",
    "local_identity": "Gắn với làng nghề truyền thống", "local_identity_verdict": "not_met",
    "conclusion": "Đủ điều kiện chuyển cấp tỉnh đánh giá",
}


@pytest.fixture
def area(cantho, criteria, make_user, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    communes = list(current_communes(cantho)[:2])
    return {
        "units": cantho,
        "commune": communes[0],
        "other_commune": communes[1],
        "round_nk": factories.evaluation_round(cantho["ninhkieu"], "148", "district"),
        "round_pd": factories.evaluation_round(cantho["phongdien"], "148", "district"),
        "round_26": factories.evaluation_round(cantho["province"], "26/2026", "province"),
        "officer": make_user("canbo.nk", Role.LOCAL_OFFICER, cantho["ninhkieu"]),
        "outsider": make_user("canbo.pd", Role.LOCAL_OFFICER, cantho["phongdien"]),
        "commune_officer": make_user("canbo.xa", Role.LOCAL_OFFICER, communes[0]),
        "staff": make_user("so.nn", Role.DEPARTMENT_STAFF, cantho["province"]),
        "nobody": make_user("khach"),
    }


@pytest.fixture
def nk_dossier(area, era_148):
    """A Ninh Kiều 148 dossier — and Phong Điền's own one, the data that could leak; filed
    on a day 148 was in force, where its test runs (``era_148``: 10/06/2024)."""
    area["pd_dossier"] = new_dossier(area["outsider"], area["round_pd"],
                                     area["units"]["phongdien"])
    return new_dossier(area["officer"], area["round_nk"], area["units"]["ninhkieu"])


@pytest.fixture
def commune_dossier(area):
    return new_dossier(area["commune_officer"], area["round_26"], area["commune"],
                       product_name="Mắm cá linh Mỹ Khánh")


def line(dossier, code):
    return dossier.documents.select_related("item").get(item__code=code)


def submitted(user, dossier):
    complete_checklist(user, dossier)
    return services.submit(user, dossier)


# --- checklist data ----------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["148", "148-1489", "26/2026"])
def test_checklist_seeded_for_regime_with_the_legal_titles(slug):
    items = ChecklistItem.objects.filter(regime__slug=slug).order_by("order")

    assert [item.code for item in items] == [item["code"] for item in ITEMS]
    assert items.get(code="form_01").title == "Phiếu đăng ký sản phẩm (Mẫu 01)"
    assert items.get(code="form_02").title == "Báo cáo tự đánh giá về sản phẩm (Mẫu 02)"
    assert [item.code for item in items if not item.required] == ["intellectual_property"]
    samples = items.get(code=SAMPLES_CODE)
    assert samples.excluded_set_numbers == [26] and not samples.applies_to(26)
    assert samples.applies_to(1)


def test_checklist_sync_is_idempotent():
    from dossiers.checklists import sync_checklists
    from scoring.models import Regime

    before = list(ChecklistItem.objects.order_by("pk").values())
    sync_checklists(Regime, ChecklistItem)

    assert list(ChecklistItem.objects.order_by("pk").values()) == before


# --- producers and products ----------------------------------------------------------------


def test_create_producer_normalises_the_registration_number(area):
    data = producer_data(area["units"]["ninhkieu"], registration_no=" 57a 800.1234 ")

    producer = services.create_producer(area["officer"], data=data)

    producer.refresh_from_db()
    assert producer.registration_no == "57A8001234"
    assert producer.created_by == area["officer"]
    assert AuditEvent.objects.filter(action="producer.created",
                                     object_id=str(producer.pk)).exists()


def test_create_producer_refuses_a_badly_formed_registration_number(area):
    data = producer_data(area["units"]["ninhkieu"], registration_no="12-345")

    with pytest.raises(services.DossierError) as refused:
        services.create_producer(area["officer"], data=data)

    assert refused.value.code == "invalid"
    assert "12-345" in refused.value.fields["registration_no"][0]
    assert not services.Producer.objects.filter(name=data["name"]).exists()


def test_create_producer_refuses_a_duplicate_registration_number(area):
    services.create_producer(area["officer"], data=producer_data(
        area["units"]["ninhkieu"], registration_no="1801234567"))

    with pytest.raises(services.DossierError) as refused:
        services.create_producer(area["officer"], data=producer_data(
            area["units"]["ninhkieu"], registration_no="1801 234 567"))

    assert "registration_no" in refused.value.fields
    assert services.Producer.objects.filter(registration_no="1801234567").count() == 1


def test_create_producer_refuses_a_unit_outside_the_officers_area(area):
    data = producer_data(area["units"]["phongdien"])

    with pytest.raises(services.DossierError) as refused:
        services.create_producer(area["officer"], data=data)

    assert refused.value.code == "area"
    assert not services.Producer.objects.filter(name=data["name"]).exists()


def test_create_producer_refuses_a_user_without_an_intake_role(area):
    with pytest.raises(services.DossierError) as refused:
        services.create_producer(area["nobody"],
                                 data=producer_data(area["units"]["ninhkieu"]))

    assert refused.value.code == "role"


def test_create_product_refuses_an_unpublished_criteria_set(area):
    producer = services.create_producer(area["officer"],
                                        data=producer_data(area["units"]["ninhkieu"]))
    draft = factories.criteria_set("148", 9)
    draft.status = "draft"

    with pytest.raises(services.DossierError) as refused:
        services.create_product(area["officer"], producer=producer, name="Nước mắm",
                                criteria_set=draft)

    assert "criteria_set" in refused.value.fields
    assert not producer.products.exists()


# --- create_dossier ----------------------------------------------------------------------------


def test_create_dossier_creates_checklist_lines_timeline_and_search_text(area, commune_dossier):
    dossier = commune_dossier
    product = dossier.product

    assert dossier.state == S.DRAFT
    assert dossier.unit == area["commune"]
    assert dossier.criteria_set == product.criteria_set
    assert [d.item.code for d in dossier.documents.select_related("item")
            .order_by("item__order")] == [item["code"] for item in ITEMS]
    assert set(dossier.documents.values_list("state", flat=True)) == {DocumentState.MISSING}
    assert timeline(dossier) == [("", S.DRAFT)]
    assert dossier.transitions.get().actor == area["commune_officer"]
    assert dossier.search_text == fold(
        f"{product.name} {product.producer.name} {product.producer.registration_no}")
    assert "mam ca linh my khanh" in dossier.search_text
    assert AuditEvent.objects.filter(action="dossier.created",
                                     object_id=str(dossier.pk)).exists()


def test_create_dossier_for_tourism_services_has_no_samples_line(area):
    from scoring.loader import DATA_DIR, load_criteria_files

    load_criteria_files(list((DATA_DIR / "26-2026").glob("26-*.yaml")))

    dossier = new_dossier(area["commune_officer"], area["round_26"], area["commune"],
                          set_no=26)

    codes = set(dossier.documents.values_list("item__code", flat=True))
    assert SAMPLES_CODE not in codes
    assert len(codes) == len(ITEMS) - 1
    with pytest.raises(services.DossierError) as refused:
        services.update_dossier(area["commune_officer"], dossier, samples_count=5)
    assert "samples_count" in refused.value.fields
    dossier.refresh_from_db()
    assert dossier.samples_count is None


def _product(area, unit=None, regime_slug="148", set_no=9, user=None):
    user = user or area["officer"]
    producer = services.create_producer(user, data=producer_data(
        unit or area["units"]["ninhkieu"]))
    return services.create_product(user, producer=producer, name="Nước mắm Cái Răng",
                                   criteria_set=factories.criteria_set(regime_slug, set_no))


@pytest.mark.usefixtures("era_148")  # 148 district rounds
def test_create_dossier_refuses_a_closed_round(area):
    product = _product(area)
    area["round_nk"].is_open = False
    area["round_nk"].save()

    with pytest.raises(services.DossierError) as refused:
        services.create_dossier(area["officer"], round=area["round_nk"], product=product)

    assert refused.value.code == "round_closed"
    assert not Dossier.objects.filter(product=product).exists()


@pytest.mark.usefixtures("era_148")  # 148 district rounds
def test_create_dossier_refuses_a_round_whose_intake_deadline_passed(area):
    product = _product(area)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    late = factories.evaluation_round(area["units"]["ninhkieu"], intake_deadline=yesterday)

    with pytest.raises(services.DossierError) as refused:
        services.create_dossier(area["officer"], round=late, product=product)

    assert refused.value.code == "intake_closed"
    assert yesterday.strftime("%d/%m/%Y") in refused.value.message
    assert not Dossier.objects.filter(product=product).exists()


@pytest.mark.usefixtures("era_148")  # 148 district rounds
def test_create_dossier_accepts_a_round_on_its_intake_deadline_day(area):
    product = _product(area)
    today = factories.evaluation_round(area["units"]["ninhkieu"],
                                       intake_deadline=timezone.localdate())

    dossier = services.create_dossier(area["officer"], round=today, product=product)

    assert dossier.state == S.DRAFT


@pytest.mark.usefixtures("era_148")  # 148 district rounds
def test_create_dossier_refuses_a_round_of_another_area(area):
    product = _product(area)

    with pytest.raises(services.DossierError) as refused:
        services.create_dossier(area["officer"], round=area["round_pd"], product=product)

    assert refused.value.code == "area"
    assert not Dossier.objects.filter(product=product).exists()


@pytest.mark.usefixtures("era_148")  # 148 district rounds
def test_create_dossier_refuses_a_product_of_another_area(area):
    foreign = _product(area, unit=area["units"]["phongdien"], user=area["outsider"])

    with pytest.raises(services.DossierError) as refused:
        services.create_dossier(area["officer"], round=area["round_nk"], product=foreign)

    assert refused.value.code == "area"
    assert not Dossier.objects.filter(product=foreign).exists()


def test_create_dossier_refuses_a_criteria_set_of_another_regime(area):
    product = _product(area, unit=area["commune"], user=area["commune_officer"])  # 148 set

    with pytest.raises(services.DossierError) as refused:
        services.create_dossier(area["commune_officer"], round=area["round_26"],
                                product=product)

    assert "product" in refused.value.fields
    assert "26/2026/QĐ-TTg" in refused.value.fields["product"][0]
    assert not Dossier.objects.filter(product=product).exists()


def _rating(product, state="valid", valid_until=datetime.date(2027, 3, 1)):
    return Rating.objects.create(
        product=product, regime=product.criteria_set.regime, stars=3,
        decision_number="12/QĐ-UBND", decision_date=datetime.date(2024, 3, 1),
        valid_until=valid_until, state=state)


@pytest.mark.usefixtures("era_148")  # 148 district rounds
@pytest.mark.parametrize("registration_type",
                         [RegistrationType.UPGRADE, RegistrationType.REEVALUATION])
def test_create_dossier_upgrade_or_reevaluation_needs_a_current_rating(area,
                                                                       registration_type):
    product = _product(area)
    other = _product(area)

    for rating in (None, _rating(product, "expired"), _rating(other)):
        with pytest.raises(services.DossierError) as refused:
            services.create_dossier(area["officer"], round=area["round_nk"], product=product,
                                    registration_type=registration_type,
                                    current_rating=rating)
        assert "current_rating" in refused.value.fields
    assert not Dossier.objects.filter(product=product).exists()

    # inside the re-evaluation window (148: the 30 days before expiry; test_reevaluation.py)
    due = _rating(product, "due", timezone.localdate() + datetime.timedelta(days=10))
    dossier = services.create_dossier(area["officer"], round=area["round_nk"],
                                      product=product, registration_type=registration_type,
                                      current_rating=due)
    assert dossier.current_rating == due


def test_create_dossier_refuses_a_second_open_dossier_of_the_product(area, nk_dossier):
    with pytest.raises(services.DossierError) as refused:
        services.create_dossier(area["officer"], round=area["round_nk"],
                                product=nk_dossier.product)

    assert refused.value.code == "duplicate"
    assert Dossier.objects.filter(product=nk_dossier.product).count() == 1


def test_search_text_follows_product_and_producer_changes(area, nk_dossier):
    product = nk_dossier.product

    services.update_product(area["officer"], product, name="Nước mắm Hậu Giang")
    services.update_producer(area["officer"], product.producer,
                             data={"name": "Hộ kinh doanh Lê Đức", "registration_no": "1800000999"})

    nk_dossier.refresh_from_db()
    assert nk_dossier.search_text == "nuoc mam hau giang ho kinh doanh le duc 1800000999"


# --- the full path ----------------------------------------------------------------------------


def test_full_path_26_2026_from_draft_to_recognised(area, commune_dossier):
    officer, staff = area["commune_officer"], area["staff"]
    dossier = commune_dossier
    today = timezone.localdate()
    PublicHoliday.objects.create(date=deadlines.add_working_days(today, 3), name="Nghỉ bù")

    dossier = submitted(officer, dossier)
    assert dossier.state == S.SUBMITTED and dossier.submitted_at is not None
    holidays, worked = deadlines.holidays_between(today, today + datetime.timedelta(days=90))
    assert deadlines.add_working_days(today, 3) in holidays
    assert dossier.due_date == deadlines.add_working_days(today, 15, holidays, worked)

    label, test_report = line(dossier, "label"), line(dossier, "test_report")
    dossier = services.return_for_completion(
        staff, dossier, note="Bổ sung trong 10 ngày",
        reasons={label.pk: "Nhãn thiếu hạn sử dụng", str(test_report.pk): "Phiếu quá 12 tháng"})
    assert dossier.state == S.RETURNED
    label.refresh_from_db()
    assert (label.state, label.reason, label.reviewed_by) == (
        DocumentState.REJECTED, "Nhãn thiếu hạn sử dụng", staff)
    returned = dossier.transitions.get(to_state=S.RETURNED)
    assert returned.reason == "Bổ sung trong 10 ngày"
    assert {r["item"]: r["reason"] for r in returned.details["reasons"]} == {
        "test_report": "Phiếu quá 12 tháng", "label": "Nhãn thiếu hạn sử dụng"}

    complete_checklist(officer, dossier, only={"label", "test_report"})
    dossier = services.resubmit(officer, dossier)
    assert dossier.state == S.RESUBMITTED
    assert line(dossier, "label").state == DocumentState.SUBMITTED

    dossier = services.accept(staff, dossier)
    assert dossier.state == S.ACCEPTED and dossier.accepted_at is not None
    commune = area["commune"]
    assert dossier.product.code == f"92-{commune.code}-001-{area['round_26'].year}"
    assert dossier.product.code.lower() in dossier.search_text
    assert set(dossier.documents.filter(item__required=True)
               .values_list("state", flat=True)) == {DocumentState.VERIFIED}

    dossier = services.record_pre_assessment(officer, dossier, data=MAU_03)
    assert dossier.state == S.PRE_ASSESSED
    report = PreAssessment.objects.get(dossier=dossier)
    assert report.local_identity_verdict == "not_met" and report.assessed_by == officer

    # the council's steps (councils.services: set_agenda, close_session) — never asked
    # directly: the dossier service refuses them to everybody else
    before = db_rows(dossier)
    with pytest.raises(services.DossierError) as refused:
        services.start_evaluation(staff, dossier)
    assert refused.value.code == "council_only"
    assert db_rows(dossier) == before
    dossier = services.start_evaluation(staff, dossier, via_council=True)
    assert dossier.state == S.IN_EVALUATION

    result = {"mean": Decimal("78.25"), "stars": 4, "parts": {"A": Decimal("30.5")}}
    before = db_rows(dossier)
    with pytest.raises(services.DossierError) as refused:
        services.record_result(staff, dossier, outcome="recognise", result=result)
    assert refused.value.code == "council_only"
    assert db_rows(dossier) == before
    dossier = services.record_result(staff, dossier, outcome="recognise", result=result,
                                     via_council=True)
    assert dossier.state == S.RECOGNISED

    assert timeline(dossier) == [
        ("", S.DRAFT), (S.DRAFT, S.SUBMITTED), (S.SUBMITTED, S.RETURNED),
        (S.RETURNED, S.RESUBMITTED), (S.RESUBMITTED, S.ACCEPTED),
        (S.ACCEPTED, S.PRE_ASSESSED), (S.PRE_ASSESSED, S.IN_EVALUATION),
        (S.IN_EVALUATION, S.RESULT_RECORDED), (S.RESULT_RECORDED, S.RECOGNISED)]
    actors = list(dossier.transitions.order_by("at", "id").values_list("actor__username",
                                                                        flat=True))
    assert actors == ["canbo.xa", "canbo.xa", "so.nn", "canbo.xa", "so.nn", "canbo.xa",
                      "so.nn", "so.nn", "so.nn"]
    recorded = dossier.transitions.get(to_state=S.RESULT_RECORDED)
    assert recorded.details == {"mean": "78.25", "stars": 4, "parts": {"A": "30.5"}}
    assert dossier.transitions.get(to_state=S.RECOGNISED).details == {"outcome": "recognise"}
    pre = dossier.transitions.get(to_state=S.PRE_ASSESSED).details
    assert pre["form"] == "03" and pre["local_identity_verdict"] == "not_met"
    actions = set(AuditEvent.objects.filter(object_type="dossiers.dossier",
                                            object_id=str(dossier.pk))
                  .values_list("action", flat=True))
    assert actions >= {"dossier.created", "dossier.submit", "dossier.return_for_completion",
                       "dossier.resubmit", "dossier.accept", "dossier.record_pre_assessment",
                       "dossier.start_evaluation", "dossier.record_result",
                       "dossier.record_outcome", "dossier.updated"}


def test_full_path_148_district_acceptance_then_forward(area, nk_dossier):
    officer = area["officer"]

    dossier = submitted(officer, nk_dossier)
    assert dossier.due_date == area["round_nk"].intake_deadline
    dossier = services.accept(officer, dossier)
    assert dossier.product.code == ""  # no product code under 148
    dossier = services.record_pre_assessment(officer, dossier,
                                             data={"conclusion": "Đủ điều kiện"})
    dossier = services.start_evaluation(officer, dossier, via_council=True)
    dossier = services.record_result(officer, dossier, outcome="forward",
                                     result={"mean": "81.00"}, via_council=True)

    assert dossier.state == S.FORWARDED
    assert PreAssessment.objects.get(dossier=dossier).raw_materials_verdict == ""
    assert timeline(dossier)[-4:] == [
        (S.ACCEPTED, S.PRE_ASSESSED), (S.PRE_ASSESSED, S.IN_EVALUATION),
        (S.IN_EVALUATION, S.RESULT_RECORDED), (S.RESULT_RECORDED, S.FORWARDED)]


def test_start_evaluation_148_may_skip_the_district_acceptance(area, nk_dossier):
    dossier = services.accept(area["officer"], submitted(area["officer"], nk_dossier))

    dossier = services.start_evaluation(area["officer"], dossier, via_council=True)

    assert dossier.state == S.IN_EVALUATION


def test_start_evaluation_26_2026_needs_the_commune_pre_assessment(area, commune_dossier):
    dossier = services.accept(area["staff"], submitted(area["commune_officer"],
                                                        commune_dossier))
    before = db_rows(dossier)

    with pytest.raises(services.DossierError) as refused:
        services.start_evaluation(area["staff"], dossier, via_council=True)

    assert refused.value.code == "pre_assessment_required"
    assert db_rows(dossier) == before
    assert "start_evaluation" not in services.available_actions(area["staff"], dossier)


def test_record_pre_assessment_26_2026_needs_all_four_items(area, commune_dossier):
    dossier = services.accept(area["staff"], submitted(area["commune_officer"],
                                                        commune_dossier))
    data = {**MAU_03, "labour_verdict": "", "idea_origin": " "}
    before = db_rows(dossier)

    with pytest.raises(services.DossierError) as refused:
        services.record_pre_assessment(area["commune_officer"], dossier, data=data)

    assert set(refused.value.fields) == {"labour_verdict", "idea_origin"}
    assert db_rows(dossier) == before


def test_record_pre_assessment_148_takes_a_conclusion_only(area, nk_dossier):
    dossier = services.accept(area["officer"], submitted(area["officer"], nk_dossier))

    with pytest.raises(services.DossierError) as refused:
        services.record_pre_assessment(area["officer"], dossier, data=MAU_03)

    assert "raw_materials" in refused.value.fields
    assert "conclusion" not in refused.value.fields


def test_record_result_by_the_council_chair_of_the_session(area, nk_dossier, make_user):
    """Neither a member nor the chair of the session's council records a result through
    the dossier's service; the chair's result reaches the dossier when the chair closes the
    session (``councils.services``), from the council's own sheets."""
    from councils import services as councils
    from tests.councils import pick, score

    chair, member, third = (make_user(f"hd.{n}") for n in ("chutich", "uyvien", "ba"))
    officer = area["officer"]
    dossier = services.accept(officer, submitted(officer, nk_dossier))
    # the district council and its meeting of 148's time (the day is 10/06/2024)
    council = factories.council(area["units"]["ninhkieu"], [chair, member, third],
                                decision_date=datetime.date(2024, 3, 1))
    session = factories.session(council, area["round_nk"], state="preparing",
                                date=datetime.date(2024, 6, 10))
    councils.set_agenda(officer, session, [dossier])
    dossier = Dossier.objects.get(pk=dossier.pk)
    assert dossier.state == S.IN_EVALUATION
    before = db_rows(dossier)

    for user in (member, chair):
        with pytest.raises(services.DossierError) as refused:
            services.record_result(user, dossier, outcome="not_recognise",
                                   result={"mean": "42.10", "stars": 2})
        assert refused.value.code == "council_only", user
    assert db_rows(dossier) == before

    session = councils.open_scoring(officer, session)
    low = pick(dossier.criteria_set, 42, stars=1)
    for row in council.members.order_by("order"):
        score(session, dossier, row, low)
    session = councils.start_meeting(officer, session, present=council.members.all())
    councils.close_item(chair, session, dossier)
    assert Dossier.objects.get(pk=dossier.pk).state == S.IN_EVALUATION
    councils.close_session(chair, session)

    dossier = Dossier.objects.get(pk=dossier.pk)
    assert dossier.state == S.NOT_RECOGNISED
    recorded = dossier.transitions.get(to_state=S.RESULT_RECORDED)
    assert recorded.actor == chair
    assert (recorded.details["total"], recorded.details["stars"]) == ("42.00", 2)


def test_record_result_refuses_an_unknown_outcome(area, nk_dossier):
    dossier = services.start_evaluation(area["officer"], services.accept(
        area["officer"], submitted(area["officer"], nk_dossier)), via_council=True)
    before = db_rows(dossier)

    with pytest.raises(services.DossierError) as refused:
        services.record_result(area["officer"], dossier, outcome="approve", result={},
                               via_council=True)

    assert "outcome" in refused.value.fields
    assert db_rows(dossier) == before


def test_withdraw_needs_a_reason_and_closes_the_dossier(area, nk_dossier):
    before = db_rows(nk_dossier)
    with pytest.raises(services.DossierError):
        services.withdraw(area["officer"], nk_dossier, reason="  ")
    assert db_rows(nk_dossier) == before

    dossier = services.withdraw(area["officer"], nk_dossier, reason="Chủ thể xin rút")

    assert dossier.state == S.WITHDRAWN
    assert dossier.transitions.get(to_state=S.WITHDRAWN).reason == "Chủ thể xin rút"
    assert services.available_actions(area["officer"], dossier) == []
    with pytest.raises(services.DossierError) as refused:
        services.withdraw(area["officer"], dossier, reason="lần nữa")
    assert refused.value.code == "state"


# --- preconditions --------------------------------------------------------------------------


def test_submit_lists_the_missing_required_documents(area, nk_dossier):
    complete_checklist(area["officer"], nk_dossier,
                       only={"form_01", "form_02", "business_registration"})
    before = db_rows(nk_dossier)

    with pytest.raises(services.DossierError) as refused:
        services.submit(area["officer"], nk_dossier)

    assert refused.value.code == "incomplete"
    message = refused.value.message
    assert "Nhãn sản phẩm" in message and "Sản phẩm mẫu" in message
    assert "Phiếu đăng ký sản phẩm" not in message
    assert "Giấy tờ sở hữu trí tuệ" not in message  # not required
    assert db_rows(nk_dossier) == before


def test_submit_reports_self_assessment_completeness_without_requiring_it(area, nk_dossier):
    criterion = Criterion.objects.filter(criteria_set=nk_dossier.criteria_set).first()
    services.set_self_assessment(area["officer"], nk_dossier, criterion=criterion,
                                 option=criterion.options.first(), note="Có hồ sơ kèm theo")

    dossier = submitted(area["officer"], nk_dossier)

    details = dossier.transitions.get(to_state=S.SUBMITTED).details
    total = Criterion.objects.filter(criteria_set=dossier.criteria_set).count()
    assert details["self_assessment"] == {"answered": 1, "criteria": total}


def test_submit_twice_submits_once(area, nk_dossier):
    complete_checklist(area["officer"], nk_dossier)
    first = services.submit(area["officer"], nk_dossier)
    before = db_rows(first)

    with pytest.raises(services.DossierError) as refused:
        services.submit(area["officer"], nk_dossier)  # the stale instance, as a 2nd click

    assert refused.value.code == "already_submitted"
    assert "already been submitted" in refused.value.message or "đã" in refused.value.message
    assert db_rows(first) == before
    assert Transition.objects.filter(dossier=first, to_state=S.SUBMITTED).count() == 1
    assert AuditEvent.objects.filter(action="dossier.submit",
                                     object_id=str(first.pk)).count() == 1


def test_submit_locks_the_dossier_row(area, nk_dossier):
    complete_checklist(area["officer"], nk_dossier)

    with CaptureQueriesContext(connection) as queries:
        services.submit(area["officer"], nk_dossier)

    if connection.features.has_select_for_update:
        locking = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]
        assert locking and '"dossiers_dossier"' in locking[0]
    else:  # SQLite serialises writers; the state check happens inside the transaction
        assert any(q["sql"].startswith("SELECT") for q in queries)


def test_submit_refused_after_the_intake_deadline(area, nk_dossier):
    complete_checklist(area["officer"], nk_dossier)
    round_ = area["round_nk"]
    round_.intake_deadline = timezone.localdate() - datetime.timedelta(days=1)
    round_.save()
    before = db_rows(nk_dossier)

    with pytest.raises(services.DossierError) as refused:
        services.submit(area["officer"], nk_dossier)

    assert refused.value.code == "intake_closed"
    assert db_rows(nk_dossier) == before


def test_return_for_completion_needs_a_reason(area, nk_dossier):
    dossier = submitted(area["officer"], nk_dossier)
    before = db_rows(dossier)

    for reasons in ({}, {line(dossier, "label").pk: "  "},
                    {area["pd_dossier"].documents.first().pk: "của hồ sơ khác"}):
        with pytest.raises(services.DossierError) as refused:
            services.return_for_completion(area["staff"], dossier, reasons=reasons)
        assert refused.value.fields["reasons"]
        assert db_rows(dossier) == before


def test_return_for_completion_keeps_lines_rejected_by_review(area, nk_dossier):
    dossier = submitted(area["officer"], nk_dossier)
    services.review_document(area["staff"], line(dossier, "photos"), state="rejected",
                             reason="Ảnh mờ")

    dossier = services.return_for_completion(area["staff"], dossier, reasons={})

    details = dossier.transitions.get(to_state=S.RETURNED).details
    assert details["reasons"] == [{"document": line(dossier, "photos").pk, "item": "photos",
                                   "title": "Hình ảnh sản phẩm", "reason": "Ảnh mờ"}]


def test_resubmit_lists_the_lines_not_yet_uploaded_again(area, nk_dossier):
    dossier = submitted(area["officer"], nk_dossier)
    dossier = services.return_for_completion(area["staff"], dossier, reasons={
        line(dossier, "label").pk: "Thiếu", line(dossier, "photos").pk: "Mờ"})
    complete_checklist(area["officer"], dossier, only={"photos"})
    before = db_rows(dossier)

    with pytest.raises(services.DossierError) as refused:
        services.resubmit(area["officer"], dossier)

    assert refused.value.code == "incomplete"
    assert "Nhãn sản phẩm" in refused.value.message
    assert "Hình ảnh sản phẩm" not in refused.value.message
    assert refused.value.details["documents"] == [line(dossier, "label").pk]
    assert db_rows(dossier) == before


def test_accept_refuses_a_rejected_line(area, nk_dossier):
    dossier = submitted(area["officer"], nk_dossier)
    services.review_document(area["staff"], line(dossier, "label"), state="rejected",
                             reason="Sai quy cách")
    before = db_rows(dossier)

    with pytest.raises(services.DossierError) as refused:
        services.accept(area["staff"], dossier)

    assert "Nhãn sản phẩm" in refused.value.message
    assert db_rows(dossier) == before


def test_review_document_rejection_needs_a_reason(area, nk_dossier):
    dossier = submitted(area["officer"], nk_dossier)
    before = db_rows(dossier)

    with pytest.raises(services.DossierError) as refused:
        services.review_document(area["staff"], line(dossier, "label"), state="rejected")

    assert "reason" in refused.value.fields
    assert db_rows(dossier) == before


def test_product_codes_number_per_commune_and_year(area, commune_dossier, make_user):
    officer, staff = area["commune_officer"], area["staff"]
    other_officer = make_user("canbo.xa2", Role.LOCAL_OFFICER, area["other_commune"])
    second = new_dossier(officer, area["round_26"], area["commune"])
    elsewhere = new_dossier(other_officer, area["round_26"], area["other_commune"])

    codes = [services.accept(staff, submitted(user, d)).product.code
             for user, d in ((officer, commune_dossier), (officer, second),
                             (other_officer, elsewhere))]

    year = area["round_26"].year
    assert codes == [f"92-{area['commune'].code}-001-{year}",
                     f"92-{area['commune'].code}-002-{year}",
                     f"92-{area['other_commune'].code}-001-{year}"]
    assert all(re.fullmatch(r"\d{2}-\d{5}-\d{3}-\d{4}", code) for code in codes)


# --- refusals: role, area, state -------------------------------------------------------------


def _workflow_calls(dossier, document, *, via_council=False):
    """Every dossier action, as ``call(user)``; the council-only two as
    ``councils.services`` asks them when ``via_council``."""
    return {
        "submit": lambda u: services.submit(u, dossier),
        "return_for_completion": lambda u: services.return_for_completion(
            u, dossier, reasons={document.pk: "Thiếu"}),
        "resubmit": lambda u: services.resubmit(u, dossier),
        "accept": lambda u: services.accept(u, dossier),
        "record_pre_assessment": lambda u: services.record_pre_assessment(
            u, dossier, data={"conclusion": "Đạt"}),
        "start_evaluation": lambda u: services.start_evaluation(u, dossier,
                                                                via_council=via_council),
        "record_result": lambda u: services.record_result(u, dossier, outcome="recognise",
                                                          result={},
                                                          via_council=via_council),
        "withdraw": lambda u: services.withdraw(u, dossier, reason="Rút"),
        "upload_file": lambda u: services.upload_file(u, dossier, upload(), document=document),
        "update_dossier": lambda u: services.update_dossier(u, dossier, registration={"a": 1}),
        "review_document": lambda u: services.review_document(u, document, state="verified"),
    }


def test_every_action_refused_to_an_officer_of_another_area(area, nk_dossier):
    outsider = area["outsider"]
    document = line(nk_dossier, "label")
    before = db_rows(nk_dossier)
    pd_before = db_rows(area["pd_dossier"])

    for name, call in _workflow_calls(nk_dossier, document).items():
        with pytest.raises(services.DossierError) as refused:
            call(outsider)
        if name in rules.COUNCIL_ONLY:  # nobody's, whatever the area: the council's alone
            assert refused.value.code == "council_only", name
            assert refused.value.message == str(rules.COUNCIL_ONLY[name])
            continue
        assert refused.value.code == "area", name
        assert "outside your area" in refused.value.message or "địa bàn" in \
            refused.value.message

    assert db_rows(nk_dossier) == before
    assert db_rows(area["pd_dossier"]) == pd_before
    assert services.available_actions(outsider, nk_dossier) == []


def test_every_action_refused_to_a_user_without_a_role(area, nk_dossier):
    document = line(nk_dossier, "label")
    before = db_rows(nk_dossier)

    for name, call in _workflow_calls(nk_dossier, document).items():
        with pytest.raises(services.DossierError) as refused:
            call(area["nobody"])
        expected = "council_only" if name in rules.COUNCIL_ONLY else "role"
        assert refused.value.code == expected, name

    assert db_rows(nk_dossier) == before


def test_actions_in_the_wrong_state_are_refused(area, nk_dossier):
    document = line(nk_dossier, "label")
    # the council-only actions as the council's services ask them: their state still applies
    calls = _workflow_calls(nk_dossier, document, via_council=True)
    before = db_rows(nk_dossier)

    for name in ("return_for_completion", "resubmit", "accept", "record_pre_assessment",
                 "start_evaluation", "record_result", "review_document"):
        with pytest.raises(services.DossierError) as refused:
            calls[name](area["officer"])
        assert refused.value.code == "state", name
        assert "Draft" in refused.value.message or "Đang soạn" in refused.value.message

    assert db_rows(nk_dossier) == before


def test_content_is_read_only_once_submitted(area, nk_dossier):
    dossier = submitted(area["officer"], nk_dossier)
    document = line(dossier, "label")
    criterion = Criterion.objects.filter(criteria_set=dossier.criteria_set).first()
    before = db_rows(dossier)

    for call in (
        lambda: services.upload_file(area["officer"], dossier, upload(), document=document),
        lambda: services.remove_file(area["officer"], document.files.first()),
        lambda: services.update_dossier(area["officer"], dossier, registration={"x": 1}),
        lambda: services.set_self_assessment(area["officer"], dossier, criterion=criterion,
                                             option=None),
    ):
        with pytest.raises(services.DossierError) as refused:
            call()
        assert refused.value.code == "state"

    assert db_rows(dossier) == before


def test_commune_officer_cannot_start_the_provincial_evaluation(area, commune_dossier,
                                                                make_user):
    """Nobody starts an evaluation through the dossier's service (not the commune officer,
    not the province's staff, not an administrator); it starts when the dossier is put on
    the agenda of a session of the provincial council, which the commune officer may not
    do and the department staff may."""
    from councils import services as councils

    officer, staff = area["commune_officer"], area["staff"]
    admin = make_user("quantri", is_superuser=True, is_staff=True)
    dossier = services.accept(officer, submitted(officer, commune_dossier))
    dossier = services.record_pre_assessment(officer, dossier, data=MAU_03)
    council = factories.council(area["units"]["province"], [make_user("hd.tinh")],
                                level="province")
    session = factories.session(council, area["round_26"], state="preparing")
    before = db_rows(dossier)

    for user in (officer, staff, admin):
        with pytest.raises(services.DossierError) as refused:
            services.start_evaluation(user, dossier)
        assert refused.value.code == "council_only", user
        assert "start_evaluation" not in services.available_actions(user, dossier)
    with pytest.raises(councils.CouncilError) as refused:
        councils.set_agenda(officer, session, [dossier])
    assert refused.value.code == "permission"
    assert db_rows(dossier) == before
    assert not session.agenda.exists()

    councils.set_agenda(staff, session, [dossier])
    dossier = Dossier.objects.get(pk=dossier.pk)
    assert dossier.state == S.IN_EVALUATION
    assert dossier.transitions.get(to_state=S.IN_EVALUATION).actor == staff


def test_department_staff_may_return_and_accept_in_the_province(area, nk_dossier):
    dossier = submitted(area["officer"], nk_dossier)

    actions = services.available_actions(area["staff"], dossier)

    assert {"return_for_completion", "accept", "review_document", "withdraw"} <= set(actions)
    assert services.accept(area["staff"], dossier).state == S.ACCEPTED


def test_available_actions_of_the_officer_on_a_draft(area, nk_dossier):
    assert services.available_actions(area["officer"], nk_dossier) == [
        "update_registration", "record_samples", "upload_file", "remove_file",
        "set_self_assessment", "submit", "withdraw"]


def test_transitions_table_matches_the_state_machine():
    council_only = set(rules.COUNCIL_ONLY)
    assert council_only == {"start_evaluation", "record_result"}
    assert council_only <= set(rules.WORKFLOW_ACTIONS)
    # the transition endpoint runs every workflow action but the council's
    assert set(services.TRANSITIONS) == set(rules.WORKFLOW_ACTIONS) - council_only
    assert set(rules.ACTION_LABELS) >= set(rules.ACTION_ROLES) | council_only
    # every action has its roles, except the council's, which no role opens
    assert set(rules.STATE_MACHINE) - council_only <= set(rules.ACTION_ROLES)
    assert not council_only & set(rules.ACTION_ROLES)


# --- update_dossier and samples ---------------------------------------------------------------


def test_recording_five_samples_marks_the_samples_line_submitted(area, nk_dossier):
    services.update_dossier(area["officer"], nk_dossier, samples_count=3)
    assert line(nk_dossier, SAMPLES_CODE).state == DocumentState.MISSING

    dossier = services.update_dossier(area["officer"], nk_dossier, samples_count=5,
                                      samples_received_on=timezone.localdate())

    assert dossier.samples_count == 5
    assert line(dossier, SAMPLES_CODE).state == DocumentState.SUBMITTED


def test_update_registration_is_audited(area, nk_dossier):
    form = {"product_name": "Nước mắm", "volume": "500 ml"}

    dossier = services.update_dossier(area["officer"], nk_dossier, registration=form)

    dossier.refresh_from_db()
    assert dossier.registration == form
    event = AuditEvent.objects.get(action="dossier.updated", object_id=str(dossier.pk))
    assert event.after == {"registration": form}


def test_set_self_assessment_refuses_a_criterion_of_another_set(area, nk_dossier):
    foreign = Criterion.objects.exclude(criteria_set=nk_dossier.criteria_set).first()
    before = db_rows(nk_dossier)

    with pytest.raises(services.DossierError) as refused:
        services.set_self_assessment(area["officer"], nk_dossier, criterion=foreign,
                                     option=foreign.options.first())

    assert "criterion" in refused.value.fields
    assert db_rows(nk_dossier) == before
