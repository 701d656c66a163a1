"""Re-evaluation of a rating (dossiers.reevaluation): the filing window by hand-computed
dates under the procedure of the regime in force on the day (26/2026, 148, 1489 and the
22/05–21/07/2026 overlap), refused outside it with both dates and nothing created; a 148
rating re-evaluated with the 26/2026 criteria set of the same number (the product moved,
audited; refused naming the set when there is none); the
prefilled dossier whose files are independent copies; the 45-day processing deadline;
the previous rating replaced on issue; the page and the API action for the owner, a
colleague of another commune of the province and an outsider."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from dossiers import reevaluation, services
from dossiers.checklists import SAMPLES_CODE
from dossiers.deadlines import is_overdue, overdue_q
from dossiers.models import (
    Decision,
    DocumentFile,
    DocumentState,
    Dossier,
    DossierState,
    Product,
    Rating,
    RatingState,
    RegistrationType,
    SelfAssessmentEntry,
)
from ocop.accounts.models import Role
from ocop.audit.models import AuditEvent
from ocop.regions.models import AdministrativeUnit, Level
from scoring.models import Criterion, ProcessLevel, Regime
from tests import factories
from tests.dossiers import complete_checklist, new_dossier
from tests.dossiers.recognition import issued, recognised

D = datetime.date


def on(monkeypatch, day):
    monkeypatch.setattr(timezone, "localdate", lambda *args: day)


def rating_of(regime_slug, valid_until, product=None, state=RatingState.VALID, **extra):
    regime = Regime.objects.get(slug=regime_slug)
    decision = Decision.objects.create(
        state="issued", regime=regime, issuer_name="THÀNH PHỐ CẦN THƠ",
        level=ProcessLevel.objects.get(regime=regime, admin_level="province"),
        reference="01/QĐ-UBND", date=D(2024, 6, 21))
    return Rating.objects.create(
        product=product, regime=regime, decision=decision, stars=4, score=Decimal("80"),
        decision_number="01/QĐ-UBND", decision_date=D(2024, 6, 21), valid_until=valid_until,
        state=state, verification_code=f"r{product.pk:015d}", **extra)


# --- the window: pure, hand-computed ---------------------------------------------------------


def test_window_of_26_2026_is_180_to_120_days_before_expiry(db):
    rating = Rating(regime=Regime.objects.get(slug="26/2026"), valid_until=D(2027, 6, 20))
    # 20/06/2027 − 180 days = 22/12/2026; − 120 days = 20/02/2027
    day = D(2026, 12, 22)
    assert reevaluation.filing_window(rating, day) == (D(2026, 12, 22), D(2027, 2, 20))
    assert reevaluation.late_filing_until(rating, day) == D(2027, 6, 20)


def test_window_of_1489_runs_from_the_issuers_notice_to_the_expiry(db):
    rating = Rating(regime=Regime.objects.get(slug="148"), valid_until=D(2026, 3, 31))
    # on 10/03/2026 148 as amended by 1489 is in force: 31/03/2026 − 30 days = 01/03/2026
    day = D(2026, 3, 10)
    assert reevaluation.procedure_regime(rating, day).slug == "148-1489"
    assert reevaluation.filing_window(rating, day) == (D(2026, 3, 1), D(2026, 3, 31))
    assert reevaluation.late_filing_until(rating, day) is None


def test_1048_sets_no_window_while_in_force(db):
    rating = Rating(regime=Regime.objects.get(slug="1048"), valid_until=D(2022, 12, 31))
    assert reevaluation.filing_window(rating, D(2020, 1, 1)) is None
    assert reevaluation.filing_refusal(rating, D(2020, 1, 1)) is None


def test_a_148_rating_follows_the_26_2026_procedure_once_26_2026_is_in_force(db):
    """The lead's rule: the procedure of the day, not of the regime that recognised it."""
    rating = Rating(regime=Regime.objects.get(slug="148"), valid_until=D(2027, 2, 20))
    today = D(2026, 12, 6)
    assert reevaluation.procedure_regime(rating, today).slug == "26/2026"
    # 20/02/2027 − 180 days = 24/08/2026 (back to 20/08/2026 is 184 days: 31 January +
    # 31 December + 30 November + 31 October + 30 September + 31 August, then 4 forward);
    # − 120 days = 23/10/2026 (back to 20/10/2026 is 123 days, then 3 forward)
    assert reevaluation.filing_window(rating, today) == (D(2026, 8, 24), D(2026, 10, 23))
    assert reevaluation.late_filing_until(rating, today) == D(2027, 2, 20)
    # the window closed: accepted as late, up to the expiry itself
    assert reevaluation.filing_refusal(rating, today) is None
    assert reevaluation.is_late(rating, today)
    assert reevaluation.filing_refusal(rating, D(2027, 2, 20)) is None
    refusal = reevaluation.filing_refusal(rating, D(2027, 2, 21))
    assert "24/08/2026" in refusal and "23/10/2026" in refusal and "20/02/2027" in refusal
    # the validity stays as issued
    assert rating.valid_until == D(2027, 2, 20)


def test_a_148_rating_while_148_is_in_force_keeps_the_148_notice(db):
    rating = Rating(regime=Regime.objects.get(slug="148"), valid_until=D(2024, 6, 30))
    day = D(2024, 6, 10)
    # 30/06/2024 − 30 days = 31/05/2024 (June has 30 days)
    assert reevaluation.procedure_regime(rating, day).slug == "148"
    assert reevaluation.filing_window(rating, day) == (D(2024, 5, 31), D(2024, 6, 30))
    assert reevaluation.filing_refusal(rating, day) is None
    assert not reevaluation.is_late(rating, day)
    assert "31/05/2024" in reevaluation.filing_refusal(rating, D(2024, 5, 30))


def test_where_two_regimes_overlap_the_later_one_gives_the_procedure(db):
    rating = Rating(regime=Regime.objects.get(slug="148-1489"), valid_until=D(2026, 8, 31))
    # 01/05/2026: only 1489 in force, its notice 31/08/2026 − 30 days = 01/08/2026
    assert reevaluation.filing_window(rating, D(2026, 5, 1)) == (D(2026, 8, 1), D(2026, 8, 31))
    assert "01/08/2026" in reevaluation.filing_refusal(rating, D(2026, 5, 1))
    # 01/06/2026: 26/2026 (from 22/05/2026) and 1489 (to 21/07/2026) overlap; the later
    # instrument: 31/08/2026 − 180 days = 04/03/2026 (back to 31/03/2026 is 153 days, then
    # 27 more); − 120 days = 03/05/2026 (back to 30/04/2026 is 123 days, then 3 forward);
    # a late filing until the expiry
    day = D(2026, 6, 1)
    assert reevaluation.procedure_regime(rating, day).slug == "26/2026"
    assert reevaluation.filing_window(rating, day) == (D(2026, 3, 4), D(2026, 5, 3))
    assert reevaluation.filing_refusal(rating, day) is None and reevaluation.is_late(
        rating, day)


def test_before_the_first_regime_the_ratings_own_procedure_applies(db):
    rating = Rating(regime=Regime.objects.get(slug="148"), valid_until=D(2019, 3, 31))
    assert reevaluation.procedure_regime(rating, D(2019, 3, 1)).slug == "148"
    assert reevaluation.filing_window(rating, D(2019, 3, 1)) == (D(2019, 3, 1), D(2019, 3, 31))


def test_the_day_defaults_to_today(db, monkeypatch):
    rating = Rating(regime=Regime.objects.get(slug="148"), valid_until=D(2027, 2, 20))
    on(monkeypatch, D(2027, 2, 21))
    assert reevaluation.filing_window(rating) == (D(2026, 8, 24), D(2026, 10, 23))
    assert "24/08/2026" in reevaluation.filing_refusal(rating)
    assert reevaluation.is_late(rating)


@pytest.mark.parametrize(("day", "accepted"), [
    (D(2026, 12, 21), False),   # the day before the window opens
    (D(2026, 12, 22), True),    # opens
    (D(2027, 2, 20), True),     # closes (120 days before)
    (D(2027, 2, 21), True),     # late filer: accepted up to the expiry
    (D(2027, 6, 20), True),     # the expiry itself
    (D(2027, 6, 21), False),    # expired
])
def test_26_2026_edges(db, day, accepted):
    rating = Rating(regime=Regime.objects.get(slug="26/2026"), valid_until=D(2027, 6, 20))
    refusal = reevaluation.filing_refusal(rating, day)
    assert (refusal is None) is accepted
    if not accepted:
        assert "22/12/2026" in refusal and "20/02/2027" in refusal
        assert "20/06/2027" in refusal  # the late filing's last day
    assert reevaluation.is_late(rating, day) is (day > D(2027, 2, 20))


@pytest.mark.parametrize(("day", "accepted"), [
    (D(2026, 2, 28), False), (D(2026, 3, 1), True), (D(2026, 3, 31), True),
    (D(2026, 4, 1), False),
])
def test_148_edges(db, day, accepted):
    rating = Rating(regime=Regime.objects.get(slug="148"), valid_until=D(2026, 3, 31))
    refusal = reevaluation.filing_refusal(rating, day)
    assert (refusal is None) is accepted
    if not accepted:
        assert "01/03/2026" in refusal and "31/03/2026" in refusal


# --- the world -------------------------------------------------------------------------------


@pytest.fixture
def world(recognition_world, make_user, monkeypatch):
    """A recognised 26/2026 dossier of a commune of Cần Thơ (files, Mẫu 02) and its rating
    valid until 20/06/2027; today 28/12/2026 (inside the window, the round still open)."""
    w = recognition_world
    staff, round_, commune = w["staff"], w["round"], w["commune"]
    on(monkeypatch, D(2026, 12, 1))
    source = new_dossier(staff, round_, commune, set_no=1,
                         registration={"product_name": "Bưởi Năm Roi", "contact": "Bà Mai"})
    complete_checklist(staff, source)
    criterion = Criterion.objects.filter(criteria_set=source.criteria_set).order_by("pk")[0]
    evidence = services.upload_file(staff, source, _pdf("chung-cu.pdf"))
    services.set_self_assessment(staff, source, criterion=criterion,
                                 option=criterion.options.order_by("pk").first(),
                                 note="đạt", evidence=evidence)
    Dossier.objects.filter(pk=source.pk).update(state=DossierState.RECOGNISED)
    rating = rating_of("26/2026", D(2027, 6, 20), product=source.product,
                       state=RatingState.DUE, source_dossier=source)
    on(monkeypatch, D(2026, 12, 28))
    other_commune = AdministrativeUnit.objects.current().filter(
        province=w["province"], level=Level.COMMUNE).exclude(pk=commune.pk).order_by(
        "code").first()
    other = AdministrativeUnit.objects.create(level=Level.PROVINCE, code="99x",
                                              name="Tỉnh Khác")
    outsider = make_user("sonn.khac", Role.DEPARTMENT_STAFF, other)
    foreign_commune = AdministrativeUnit.objects.create(
        level=Level.COMMUNE, code="99901", name="Xã Bên Kia", parent=other, province=other)
    foreign_product = Product.objects.create(
        producer=factories.producer(foreign_commune), name="Mắm Tỉnh Khác",
        criteria_set=source.criteria_set)
    return {**w, "source": source, "rating": rating, "criterion": criterion,
            "evidence": evidence,
            "officer": make_user("canbo.xa", Role.LOCAL_OFFICER, commune),
            "colleague": make_user("canbo.xakhac", Role.LOCAL_OFFICER, other_commune),
            "nobody": make_user("khach"),
            "outsider": outsider,
            "foreign": rating_of("26/2026", D(2027, 6, 20), product=foreign_product)}


def _pdf(name):
    from tests.dossiers import upload

    return upload(name)


def counts():
    return (Dossier.objects.count(), DocumentFile.objects.count(),
            AuditEvent.objects.count())


# --- the service -----------------------------------------------------------------------------


def test_create_dossier_refuses_a_reevaluation_outside_the_window_and_changes_nothing(
        world, monkeypatch):
    on(monkeypatch, D(2026, 12, 21))
    before = counts()
    with pytest.raises(services.DossierError) as refused:
        services.create_dossier(world["staff"], round=world["round"],
                                product=world["rating"].product,
                                registration_type=RegistrationType.REEVALUATION,
                                current_rating=world["rating"])
    assert refused.value.code == "filing_window"
    assert "22/12/2026" in refused.value.message and "20/02/2027" in refused.value.message
    assert counts() == before
    with pytest.raises(services.DossierError):
        reevaluation.start_reevaluation(world["staff"], world["rating"])
    assert counts() == before


def test_an_upgrade_is_not_bound_to_the_window(world, monkeypatch):
    on(monkeypatch, D(2026, 12, 21))
    dossier = services.create_dossier(world["staff"], round=world["round"],
                                      product=world["rating"].product,
                                      registration_type=RegistrationType.UPGRADE,
                                      current_rating=world["rating"])
    assert dossier.registration_type == "upgrade"


def test_prefilled_dossier_copies_registration_files_and_self_assessment(world):
    source, staff = world["source"], world["staff"]
    originals = {f.pk: (f.file.name, f.sha256) for f in source.files.all()}
    dossier = reevaluation.start_reevaluation(staff, world["rating"])

    assert dossier.registration_type == RegistrationType.REEVALUATION
    assert dossier.current_rating_id == world["rating"].pk
    assert dossier.round_id == world["round"].pk  # the one open round, picked
    assert dossier.registration == source.registration
    copies = list(dossier.files.select_related("document__item"))
    source_files = list(source.files.select_related("document__item"))
    assert len(copies) == len(source_files) > 1
    for copy, original in zip(sorted(copies, key=lambda f: f.pk),
                              sorted(source_files, key=lambda f: f.pk), strict=True):
        assert copy.file.name != original.file.name
        assert copy.file.name.startswith(f"dossiers/{dossier.pk}/")
        assert copy.sha256 == original.sha256 and copy.original_name == original.original_name
        assert copy.file.read() == original.file.read()
        assert (copy.document.item.code if copy.document else None) == (
            original.document.item.code if original.document else None)
    lines = {d.item.code: d.state for d in dossier.documents.select_related("item")}
    assert all(lines[f.document.item.code] == DocumentState.SUBMITTED
               for f in copies if f.document)
    assert lines[SAMPLES_CODE] == DocumentState.MISSING  # new samples are taken
    entry = SelfAssessmentEntry.objects.get(dossier=dossier)
    assert entry.criterion_id == world["criterion"].pk and entry.note == "đạt"
    assert entry.evidence.dossier_id == dossier.pk and entry.evidence_id != world[
        "evidence"].pk

    # the officer removes a copy: the original file and row stay
    copy = next(f for f in copies if f.document)
    services.remove_file(staff, copy)
    assert {f.pk: (f.file.name, f.sha256) for f in source.files.all()} == originals
    for name, _sha in originals.values():
        assert DocumentFile._meta.get_field("file").storage.exists(name)


def test_reevaluation_due_in_45_calendar_days_and_overdue_after(world, monkeypatch):
    staff = world["staff"]
    dossier = reevaluation.start_reevaluation(staff, world["rating"])
    services.update_dossier(staff, dossier, samples_count=5,
                            samples_received_on=D(2026, 12, 28))
    dossier = services.submit(staff, dossier)
    # 28/12/2026 + 45 calendar days = 11/02/2027 (3 days left in December, 31 in January,
    # 11 in February)
    assert dossier.due_date == D(2027, 2, 11)
    dossier = services.accept(staff, dossier)
    assert not is_overdue(dossier, D(2027, 2, 11))
    assert is_overdue(dossier, D(2027, 2, 12))  # accepted, still no result
    assert Dossier.objects.filter(overdue_q(D(2027, 2, 12)), pk=dossier.pk).exists()
    assert not Dossier.objects.filter(overdue_q(D(2027, 2, 11)), pk=dossier.pk).exists()


def test_a_draft_created_in_the_window_is_not_submitted_after_the_expiry(world, monkeypatch):
    staff = world["staff"]
    late_round = factories.evaluation_round(world["province"], "26/2026", "province",
                                            intake_deadline=D(2027, 12, 31))
    dossier = reevaluation.start_reevaluation(staff, world["rating"], round=late_round)
    services.update_dossier(staff, dossier, samples_count=5,
                            samples_received_on=D(2026, 12, 28))
    on(monkeypatch, D(2027, 6, 21))
    with pytest.raises(services.DossierError) as refused:
        services.submit(staff, dossier)
    assert "22/12/2026" in refused.value.message
    assert Dossier.objects.get(pk=dossier.pk).state == DossierState.DRAFT


def test_first_evaluation_keeps_the_commune_working_days(recognition_world, monkeypatch):
    # 20/04/2026: 148 as amended by 1489 is in force (26/2026 from 22/05/2026)
    on(monkeypatch, D(2026, 4, 20))
    staff = recognition_world["staff"]
    round_ = factories.evaluation_round(recognition_world["province"], "148-1489",
                                        "province")
    dossier = new_dossier(staff, round_, recognition_world["commune"])
    complete_checklist(staff, dossier)
    # received Mon 20/04/2026 → 15 working days → 14/05/2026 (docs/deadlines.md)
    assert services.submit(staff, dossier).due_date == D(2026, 5, 14)


# --- replacement on issue --------------------------------------------------------------------


@pytest.mark.parametrize("kind", [RegistrationType.REEVALUATION, RegistrationType.UPGRADE])
def test_issuing_the_new_decision_replaces_the_previous_rating(recognition_world, kind):
    staff, round_ = recognition_world["staff"], recognition_world["round"]
    dossier = recognised(round_, stars=4, unit=recognition_world["commune"])
    regime = Regime.objects.get(slug="26/2026")
    old = Rating.objects.create(
        product=dossier.product, regime=regime, stars=3, score=Decimal("65"),
        decision_number="09/QĐ-UBND", decision_date=D(2024, 6, 21),
        valid_until=D(2027, 6, 20), verification_code=f"old{dossier.pk:013d}",
        state=RatingState.DUE if kind == RegistrationType.REEVALUATION else
        RatingState.VALID)
    Dossier.objects.filter(pk=dossier.pk).update(registration_type=kind, current_rating=old)
    decision = issued(staff, [dossier], number=7)

    old.refresh_from_db()
    new = Rating.objects.get(decision=decision)
    assert old.state == RatingState.REPLACED and old.replaced_by_id == new.pk
    assert new.state == RatingState.VALID and new.stars == 4
    assert Rating.objects.filter(product=dossier.product).count() == 2  # history kept


# --- the page --------------------------------------------------------------------------------


def test_owner_sees_the_window_and_creates_the_dossier(client, world):
    rating = world["rating"]
    client.force_login(world["staff"])
    detail = client.get(f"/ratings/{rating.pk}/").content.decode()
    assert f'href="/ratings/{rating.pk}/reevaluate/"' in detail
    page = client.get(f"/ratings/{rating.pk}/reevaluate/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "22/12/2026" in html and "20/02/2027" in html and "20/06/2027" in html
    assert f'href="/dossiers/{world["source"].pk}/"' in html
    before = Dossier.objects.count()
    response = client.post(f"/ratings/{rating.pk}/reevaluate/")
    dossier = Dossier.objects.latest("pk")
    assert Dossier.objects.count() == before + 1
    assert response.status_code == 302 and response["Location"] == f"/dossiers/{dossier.pk}/"
    assert dossier.registration_type == "reevaluation"


def test_commune_officer_of_the_product_may_too(client, world):
    client.force_login(world["officer"])
    response = client.post(f"/ratings/{world['rating'].pk}/reevaluate/")
    assert response.status_code == 302
    assert Dossier.objects.latest("pk").current_rating_id == world["rating"].pk


@pytest.mark.parametrize("who", ["colleague", "outsider", "nobody"])
def test_colleague_outsider_and_no_role_get_404_and_nothing_is_created(client, world, who):
    client.force_login(world[who])
    before = counts()
    for response in (client.get(f"/ratings/{world['rating'].pk}/reevaluate/"),
                     client.post(f"/ratings/{world['rating'].pk}/reevaluate/")):
        assert response.status_code == 404
        assert "Bưởi" not in response.content.decode()
    assert counts() == before


def test_outside_the_window_the_page_says_why_and_creates_nothing(client, world,
                                                                  monkeypatch):
    on(monkeypatch, D(2026, 12, 21))
    client.force_login(world["staff"])
    html = client.get(f"/ratings/{world['rating'].pk}/reevaluate/").content.decode()
    assert 'id="window-refusal"' in html
    before = counts()
    response = client.post(f"/ratings/{world['rating'].pk}/reevaluate/")
    assert response.status_code == 422
    assert "22/12/2026" in response.content.decode()
    assert counts() == before


def test_several_rounds_ask_which_one(client, world):
    second = factories.evaluation_round(world["province"], "26/2026", "province",
                                        intake_deadline=D(2027, 4, 30))
    client.force_login(world["staff"])
    before = counts()
    response = client.post(f"/ratings/{world['rating'].pk}/reevaluate/")
    assert response.status_code == 422 and counts() == before
    response = client.post(f"/ratings/{world['rating'].pk}/reevaluate/",
                           {"round": second.pk})
    assert response.status_code == 302
    assert Dossier.objects.latest("pk").round_id == second.pk


def test_a_first_evaluation_of_a_rated_product_is_refused_and_nothing_created(world):
    """A second active rating for a product would follow: the officer files an upgrade or
    a re-evaluation of the one it holds instead."""
    Dossier.objects.filter(pk=world["source"].pk).update(state=DossierState.RECOGNISED)
    before = counts()
    with pytest.raises(services.DossierError) as refused, translation.override("en"):
        services.create_dossier(world["staff"], round=world["round"],
                                product=world["source"].product)
    assert counts() == before
    message = refused.value.fields["registration_type"][0]
    assert "already holds an active rating (4★, decision 01/QĐ-UBND, valid until " \
           "20/06/2027)" in message


def test_a_producer_registered_before_2025_finds_the_current_provinces_round(world):
    """Its unit is a former commune of a former province the current Cần Thơ absorbed: the
    round of today's province covers it, as ``create_dossier`` reads areas."""
    legacy = AdministrativeUnit.objects.filter(
        level=Level.COMMUNE, valid_to__isnull=False,
        province__in=AdministrativeUnit.objects.within([world["province"]]).filter(
            level=Level.PROVINCE, valid_to__isnull=False)).order_by("code").first()
    product = Product.objects.create(producer=factories.producer(legacy), name="Dâu Hạ Châu",
                                     criteria_set=world["source"].criteria_set)
    rating = rating_of("26/2026", D(2027, 6, 20), product=product, state=RatingState.DUE)

    assert reevaluation.candidate_rounds(world["staff"], rating) == [world["round"]]
    assert reevaluation.candidate_rounds(world["outsider"], rating) == []


# --- the API ---------------------------------------------------------------------------------


def api(user):
    from tests.dossiers.test_api_recognition import client_for

    return client_for(user)


def test_api_action_creates_the_prefilled_dossier(world):
    response = api(world["staff"]).post(f"/api/v1/ratings/{world['rating'].pk}/reevaluate/",
                                        {}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    dossier = Dossier.objects.get(pk=body["id"])
    assert dossier.registration_type == "reevaluation"
    assert dossier.files.count() == world["source"].files.count()


def test_api_action_outside_the_window_is_400_with_both_dates(world, monkeypatch):
    on(monkeypatch, D(2027, 6, 21))
    before = counts()
    response = api(world["staff"]).post(f"/api/v1/ratings/{world['rating'].pk}/reevaluate/",
                                        {}, format="json")
    assert response.status_code == 400
    text = response.content.decode()
    assert "22/12/2026" in text and "20/02/2027" in text
    assert counts() == before


@pytest.mark.parametrize("who", ["colleague", "outsider"])
def test_api_action_on_a_foreign_rating_is_404(world, who):
    before = counts()
    response = api(world[who]).post(f"/api/v1/ratings/{world['rating'].pk}/reevaluate/",
                                    {}, format="json")
    assert response.status_code == 404
    assert counts() == before


def test_api_refuses_a_round_that_does_not_fit_and_unknown_fields(world):
    client = api(world["staff"])
    url = f"/api/v1/ratings/{world['rating'].pk}/reevaluate/"
    before = counts()
    assert client.post(url, {"round": 999999}, format="json").status_code == 400
    assert client.post(url, {"bogus": 1}, format="json").status_code == 400
    assert counts() == before


# --- a 148 rating re-evaluated under 26/2026: the criteria set of the round's regime -------


@pytest.fixture
def set09_2026(db):
    """The 26/2026 set 09 (fish sauce), the same number as the 148 set the tests load."""
    from scoring.loader import DATA_DIR, load_criteria_files

    load_criteria_files([DATA_DIR / "26-2026" / "09-tuong-nuoc-mam-gia-vi-dang-long-khac.yaml"])
    return factories.criteria_set("26/2026", 9)


@pytest.fixture
def world148(recognition_world, make_user, monkeypatch):
    """A 4★ rating under 148 (set 09) of a producer now in a commune of today's Cần Thơ,
    valid until 20/02/2027, from a recognised Ninh Kiều dossier with a Mẫu 02 choice; today
    06/12/2026 (26/2026 in force: the window 24/08–23/10/2026 closed, a late filing)."""
    w = recognition_world
    on(monkeypatch, D(2026, 12, 6))
    round148 = factories.evaluation_round(w["ninhkieu"], "148", "district", year=2024,
                                          intake_deadline=D(2024, 5, 31))
    source = factories.dossier(round148, w["commune"], set_no=9,
                               state=DossierState.RECOGNISED,
                               registration={"product_name": "Nước mắm Cái Răng"})
    criterion = Criterion.objects.filter(criteria_set=source.criteria_set).order_by("pk")[0]
    SelfAssessmentEntry.objects.create(dossier=source, criterion=criterion,
                                       option=criterion.options.order_by("pk").first(),
                                       note="đạt")
    rating = rating_of("148", D(2027, 2, 20), product=source.product,
                       state=RatingState.DUE, source_dossier=source)
    other = AdministrativeUnit.objects.create(level=Level.PROVINCE, code="99y",
                                              name="Tỉnh Xa")
    foreign_commune = AdministrativeUnit.objects.create(
        level=Level.COMMUNE, code="99902", name="Xã Xa", parent=other, province=other)
    rating_of("148", D(2027, 2, 20), product=Product.objects.create(
        producer=factories.producer(foreign_commune), name="Mắm Tỉnh Xa",
        criteria_set=source.criteria_set))
    other_commune = AdministrativeUnit.objects.current().filter(
        province=w["province"], level=Level.COMMUNE).exclude(pk=w["commune"].pk).order_by(
        "code").first()
    return {**w, "source": source, "rating": rating, "old_set": source.criteria_set,
            "colleague": make_user("canbo.khac148", Role.LOCAL_OFFICER, other_commune),
            "outsider": make_user("sonn.xa", Role.DEPARTMENT_STAFF, other)}


def product_set(rating):
    return Product.objects.get(pk=rating.product_id).criteria_set_id


def test_a_148_rating_is_reevaluated_with_the_26_2026_set_of_the_same_number(world148,
                                                                           set09_2026):
    staff, rating, old_set = world148["staff"], world148["rating"], world148["old_set"]
    dossier = reevaluation.start_reevaluation(staff, rating)

    assert dossier.round_id == world148["round"].pk  # the 26/2026 provincial round
    assert dossier.criteria_set_id == set09_2026.pk and set09_2026.set_no == old_set.set_no
    assert product_set(rating) == set09_2026.pk
    assert dossier.registration == {"product_name": "Nước mắm Cái Răng"}
    # another criteria set: the Mẫu 02 choices are not copied; the history keeps its set
    assert not SelfAssessmentEntry.objects.filter(dossier=dossier).exists()
    assert Dossier.objects.get(pk=world148["source"].pk).criteria_set_id == old_set.pk
    moved = AuditEvent.objects.get(action="product.criteria_set_changed")
    assert moved.object_id == str(rating.product_id) and moved.actor_id == staff.pk
    assert moved.before == {"criteria_set": old_set.pk, "regime": "148", "set_no": 9,
                            "version": old_set.version}
    assert moved.after == {"criteria_set": set09_2026.pk, "regime": "26/2026", "set_no": 9,
                           "version": set09_2026.version}
    assert "26/2026/QĐ-TTg" in moved.reason
    started = AuditEvent.objects.get(action="dossier.reevaluation_started")
    assert started.after["late"] is True  # 06/12/2026 is after 23/10/2026
    assert started.after["criteria_set"] == {"from": old_set.pk, "to": set09_2026.pk}


@pytest.mark.parametrize("how", ["not_loaded", "not_published"])
def test_refused_naming_the_set_when_the_rounds_regime_has_none(world148, how):
    if how == "not_published":
        from scoring.loader import DATA_DIR, load_criteria_files
        from scoring.models import CriteriaSet

        load_criteria_files([DATA_DIR / "26-2026"
                             / "09-tuong-nuoc-mam-gia-vi-dang-long-khac.yaml"])
        CriteriaSet.objects.filter(regime__slug="26/2026", set_no=9).update(status="draft")
    before = counts()
    with pytest.raises(services.DossierError) as refused:
        reevaluation.start_reevaluation(world148["staff"], world148["rating"])
    assert refused.value.code == "criteria_set"
    message = refused.value.message
    assert "09" in message and "Tương, nước mắm, gia vị dạng lỏng khác" in message
    assert "26/2026/QĐ-TTg" in message
    assert counts() == before
    assert product_set(world148["rating"]) == world148["old_set"].pk


def test_the_148_window_by_todays_procedure_refuses_after_the_expiry(world148, set09_2026,
                                                                     monkeypatch):
    on(monkeypatch, D(2027, 2, 21))
    before = counts()
    with pytest.raises(services.DossierError) as refused:
        reevaluation.start_reevaluation(world148["staff"], world148["rating"])
    assert refused.value.code == "filing_window"
    for day in ("24/08/2026", "23/10/2026", "20/02/2027"):
        assert day in refused.value.message
    assert counts() == before and product_set(world148["rating"]) == world148["old_set"].pk


def test_a_26_2026_rating_keeps_its_set(world):
    dossier = reevaluation.start_reevaluation(world["staff"], world["rating"])
    assert dossier.criteria_set_id == world["source"].criteria_set_id
    assert product_set(world["rating"]) == world["source"].criteria_set_id
    assert not AuditEvent.objects.filter(action="product.criteria_set_changed").exists()
    assert SelfAssessmentEntry.objects.filter(dossier=dossier).count() == 1  # same set


def test_a_refusal_after_the_move_rolls_the_move_back(world148, set09_2026):
    # the round closes for intake: create_dossier refuses after the product was moved
    round_ = world148["round"]
    round_.is_open = False
    round_.save(update_fields=["is_open"])
    before = counts()
    with pytest.raises(services.DossierError) as refused:
        reevaluation.start_reevaluation(world148["staff"], world148["rating"], round=round_)
    assert refused.value.code == "round_closed"
    assert counts() == before and product_set(world148["rating"]) == world148["old_set"].pk


# --- the service that moves a product ------------------------------------------------------


def test_move_refused_while_an_open_dossier_uses_the_old_set(world148, set09_2026):
    product = world148["rating"].product
    open_one = Dossier.objects.create(
        round=world148["source"].round, product=product, criteria_set=world148["old_set"],
        unit=world148["commune"], state=DossierState.SUBMITTED)
    before = counts()
    for call in (lambda: services.move_product_to_criteria_set(
                     world148["staff"], product, set09_2026, reason="26/2026"),
                 lambda: reevaluation.start_reevaluation(world148["staff"],
                                                         world148["rating"])):
        with pytest.raises(services.DossierError) as refused:
            call()
        assert refused.value.code == "open_dossier"
        assert f"#{open_one.pk}" in refused.value.message
    assert counts() == before and product_set(world148["rating"]) == world148["old_set"].pk


def test_move_needs_a_published_set_a_reason_and_the_area(world148, set09_2026):
    from scoring.models import CriteriaSet

    staff, product = world148["staff"], world148["rating"].product
    before = counts()
    with pytest.raises(services.DossierError) as refused:
        services.move_product_to_criteria_set(staff, product, set09_2026, reason="  ")
    assert "reason" in refused.value.fields
    CriteriaSet.objects.filter(pk=set09_2026.pk).update(status="retired")
    set09_2026.refresh_from_db()
    with pytest.raises(services.DossierError) as refused:
        services.move_product_to_criteria_set(staff, product, set09_2026, reason="26/2026")
    assert "criteria_set" in refused.value.fields
    CriteriaSet.objects.filter(pk=set09_2026.pk).update(status="published")
    set09_2026.refresh_from_db()
    for who in ("colleague", "outsider"):
        with pytest.raises(services.DossierError):
            services.move_product_to_criteria_set(world148[who], product, set09_2026,
                                                  reason="26/2026")
    assert counts() == before and product_set(world148["rating"]) == world148["old_set"].pk
    # the owner (department staff of the area) may; the same set again changes nothing
    moved = services.move_product_to_criteria_set(staff, product, set09_2026,
                                                  reason="26/2026")
    assert moved.criteria_set_id == set09_2026.pk
    events = AuditEvent.objects.count()
    services.move_product_to_criteria_set(staff, product, set09_2026, reason="again")
    assert AuditEvent.objects.count() == events


# --- the page and the API for a 148 rating ---------------------------------------------------


def test_page_says_which_set_the_new_dossier_will_use(client, world148, set09_2026):
    rating = world148["rating"]
    client.force_login(world148["staff"])
    html = client.get(f"/ratings/{rating.pk}/reevaluate/").content.decode()
    assert "24/08/2026" in html and "23/10/2026" in html and "20/02/2027" in html
    assert "26/2026/QĐ-TTg" in html  # the procedure in force today
    assert 'id="window-refusal"' not in html  # a late filing, accepted
    block = html[html.index('id="criteria-set"'):]
    block = block[:block.index("</dd>")]
    assert str(world148["old_set"]) in block and str(set09_2026) in block
    response = client.post(f"/ratings/{rating.pk}/reevaluate/")
    dossier = Dossier.objects.latest("pk")
    assert response.status_code == 302 and response["Location"] == f"/dossiers/{dossier.pk}/"
    assert dossier.criteria_set_id == set09_2026.pk == product_set(rating)


def test_page_of_a_26_2026_rating_names_no_new_set(client, world):
    client.force_login(world["staff"])
    html = client.get(f"/ratings/{world['rating'].pk}/reevaluate/").content.decode()
    block = html[html.index('id="criteria-set"'):]
    block = block[:block.index("</dd>")]
    assert str(world["source"].criteria_set) in block and "<strong>" not in block


def test_page_says_why_when_the_set_is_missing_and_creates_nothing(client, world148):
    rating = world148["rating"]
    client.force_login(world148["staff"])
    html = client.get(f"/ratings/{rating.pk}/reevaluate/").content.decode()
    assert 'id="criteria-set-refusal"' in html and "Tương, nước mắm" in html
    before = counts()
    response = client.post(f"/ratings/{rating.pk}/reevaluate/")
    assert response.status_code == 422 and "26/2026/QĐ-TTg" in response.content.decode()
    assert counts() == before and product_set(rating) == world148["old_set"].pk


@pytest.mark.parametrize("who", ["colleague", "outsider"])
def test_colleague_and_outsider_cannot_move_a_148_product(client, world148, set09_2026, who):
    client.force_login(world148[who])
    before = counts()
    pk = world148["rating"].pk
    url = f"/ratings/{pk}/reevaluate/"
    for response in (client.get(url), client.post(url), api(world148[who]).post(
            f"/api/v1/ratings/{pk}/reevaluate/", {}, format="json")):
        assert response.status_code == 404
        assert "Cái Răng" not in response.content.decode()
    assert counts() == before and product_set(world148["rating"]) == world148["old_set"].pk


def test_api_moves_the_product_to_the_26_2026_set(world148, set09_2026):
    response = api(world148["staff"]).post(
        f"/api/v1/ratings/{world148['rating'].pk}/reevaluate/", {}, format="json")
    assert response.status_code == 201, response.content
    dossier = Dossier.objects.get(pk=response.json()["id"])
    assert dossier.criteria_set_id == set09_2026.pk == product_set(world148["rating"])


def test_api_refuses_naming_the_missing_set(world148):
    before = counts()
    response = api(world148["staff"]).post(
        f"/api/v1/ratings/{world148['rating'].pk}/reevaluate/", {}, format="json")
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "criteria_set" and "Tương, nước mắm" in body["message"]
    assert counts() == before and product_set(world148["rating"]) == world148["old_set"].pk
