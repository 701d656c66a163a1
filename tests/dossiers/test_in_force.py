"""The law in force at the date for rounds (docs/regimes-and-levels.md, "In force at the
date"): the pure predicates of ``dossiers.rules`` with hand-computed dates, and
``dossiers.rounds.create_round`` / the admin's round form refusing with the reason and
changing nothing."""

import datetime

import pytest
from django.utils import translation

from dossiers import rules
from dossiers.models import EvaluationRound
from dossiers.rounds import create_round, round_refusals
from dossiers.services import DossierError
from ocop.accounts.models import Role
from scoring.models import ProcessLevel, Regime


@pytest.fixture(autouse=True)
def english(settings):
    """The refusals are asserted in their English source (the Vietnamese catalog translates
    them; tests/ocop/test_catalog.py checks it is complete)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield

D = datetime.date
WINDOWS_26 = [((30, 4), (30, 6)), ((30, 10), (30, 12))]


# --- pure predicates ---------------------------------------------------------------------------


def test_unit_period_the_last_day_counts_and_the_next_is_refused():
    assert rules.unit_period_refusal("Quận Ninh Kiều", None, D(2025, 6, 30), D(2025, 6, 30)) \
        is None
    refusal = rules.unit_period_refusal("Quận Ninh Kiều", None, D(2025, 6, 30), D(2025, 7, 1))
    assert refusal.code == "unit_ended"
    assert "Quận Ninh Kiều" in refusal.message and "01/07/2025" in refusal.message
    assert "30/06/2025" in refusal.message
    before = rules.unit_period_refusal("Phường Ninh Kiều", D(2025, 7, 1), None, D(2025, 6, 30))
    assert before.code == "unit_not_yet" and "01/07/2025" in before.message


def test_regime_periods_148_as_written_ended_on_5_july_2025():
    assert rules.regime_period_refusal("148/QĐ-TTg", D(2023, 2, 24), D(2025, 7, 5),
                                       D(2025, 7, 5)) is None
    refusal = rules.regime_period_refusal("148/QĐ-TTg", D(2023, 2, 24), D(2025, 7, 5),
                                          D(2025, 7, 6))
    assert refusal.code == "regime_ended"
    assert "148/QĐ-TTg" in refusal.message and "06/07/2025" in refusal.message
    assert "05/07/2025" in refusal.message
    early = rules.regime_period_refusal("26/2026/QĐ-TTg", D(2026, 5, 22), None, D(2026, 5, 15))
    assert early.code == "regime_not_yet" and "22/05/2026" in early.message


@pytest.mark.parametrize(("intake", "session", "slot"), [
    (D(2026, 4, 30), D(2026, 6, 30), (D(2026, 4, 30), D(2026, 6, 30))),
    (D(2026, 3, 1), None, (D(2026, 4, 30), D(2026, 6, 30))),
    (D(2026, 5, 1), D(2026, 12, 30), (D(2026, 10, 30), D(2026, 12, 30))),
    (D(2026, 10, 30), D(2026, 12, 30), (D(2026, 10, 30), D(2026, 12, 30))),
])
def test_round_calendar_accepts_a_deadline_on_or_before_a_received_by_date(intake, session,
                                                                           slot):
    assert rules.round_window(WINDOWS_26, intake) == slot
    assert rules.round_calendar_refusal("26/2026/QĐ-TTg", WINDOWS_26, intake, session) is None


def test_round_calendar_refuses_a_late_session_and_a_late_intake_listing_the_windows():
    late = rules.round_calendar_refusal("26/2026/QĐ-TTg", WINDOWS_26, D(2026, 4, 30),
                                        D(2026, 7, 1))
    assert late.code == "round_calendar"
    assert "30/04/2026" in late.message and "30/06/2026" in late.message
    assert "01/07/2026" in late.message
    assert "received by 30/04, finished by 30/06; received by 30/10, finished by 30/12" \
        in late.message
    after = rules.round_calendar_refusal("26/2026/QĐ-TTg", WINDOWS_26, D(2026, 10, 31))
    assert after.code == "round_calendar" and "31/10/2026" in after.message
    # no calendar (148): nothing checked
    assert rules.round_calendar_refusal("148/QĐ-TTg", [], D(2026, 11, 15), D(2027, 3, 1)) \
        is None


# --- rounds ------------------------------------------------------------------------------------


def _level(slug, admin_level):
    regime = Regime.objects.get(slug=slug)
    return regime, ProcessLevel.objects.get(regime=regime, admin_level=admin_level)


@pytest.fixture
def staff(cantho, make_user):
    return make_user("so.nn", Role.DEPARTMENT_STAFF, cantho["province"])


def test_regime_data_has_the_dates_of_the_instruments(db):
    periods = dict(Regime.objects.values_list("slug", "effective_to"))
    assert periods["148"] == D(2025, 7, 5)
    assert periods["148-1489"] == D(2026, 7, 21)
    assert Regime.objects.get(slug="26/2026").effective_from == D(2026, 5, 22)
    assert periods["26/2026"] is None


def test_a_148_round_dated_6_july_2025_is_refused_and_nothing_is_made(cantho, staff):
    regime, level = _level("148", "province")
    with pytest.raises(DossierError) as refused:
        create_round(staff, regime=regime, level=level, unit=cantho["province_old"], year=2025,
                     number=3, intake_deadline=D(2025, 7, 6))
    assert refused.value.code == "invalid"
    messages = " ".join(refused.value.fields["intake_deadline"])
    assert "148/QĐ-TTg" in messages and "05/07/2025" in messages
    # the pre-2025 province ended too
    assert "30/06/2025" in messages
    assert not EvaluationRound.objects.exists()


def test_a_district_round_after_the_districts_ended_is_refused(cantho, staff):
    regime, level = _level("148", "district")
    with pytest.raises(DossierError) as refused:
        create_round(staff, regime=regime, level=level, unit=cantho["ninhkieu"], year=2025,
                     number=2, intake_deadline=D(2025, 6, 20),
                     planned_session_date=D(2025, 7, 1))
    assert refused.value.fields["planned_session_date"] == [
        "Quận Ninh Kiều no longer existed on 01/07/2025: it ended on 30/06/2025 (the 2025 "
        "reorganisation of administrative units)."]
    assert not EvaluationRound.objects.exists()


def test_a_26_2026_round_received_15_may_finished_10_july_2026_is_refused(cantho, staff):
    regime, level = _level("26/2026", "province")
    with pytest.raises(DossierError) as refused:
        create_round(staff, regime=regime, level=level, unit=cantho["province"], year=2026,
                     number=1, intake_deadline=D(2026, 5, 15),
                     planned_session_date=D(2026, 7, 10))
    # 15/05/2026 is before 26/2026 came into force (22/05/2026)
    assert refused.value.fields["intake_deadline"] == [
        "26/2026/QĐ-TTg was not yet in force on 15/05/2026: it applies from 22/05/2026."]
    assert not EvaluationRound.objects.exists()


def test_a_26_2026_round_outside_the_calendar_is_refused_with_the_windows(cantho, staff):
    regime, level = _level("26/2026", "province")
    with pytest.raises(DossierError) as late_session:
        create_round(staff, regime=regime, level=level, unit=cantho["province"], year=2026,
                     number=2, intake_deadline=D(2026, 10, 30),
                     planned_session_date=D(2027, 1, 5))
    assert "30/12/2026" in late_session.value.fields["planned_session_date"][0]
    with pytest.raises(DossierError) as late_intake:
        create_round(staff, regime=regime, level=level, unit=cantho["province"], year=2026,
                     number=2, intake_deadline=D(2026, 11, 15),
                     planned_session_date=D(2026, 12, 20))
    assert "received by 30/10, finished by 30/12" in \
        late_intake.value.fields["intake_deadline"][0]
    assert not EvaluationRound.objects.exists()


def test_a_26_2026_round_received_30_october_finished_30_december_is_accepted(cantho, staff):
    regime, level = _level("26/2026", "province")
    round_ = create_round(staff, regime=regime, level=level, unit=cantho["province"],
                          year=2026, number=2, intake_deadline=D(2026, 10, 30),
                          planned_session_date=D(2026, 12, 30))
    assert (round_.intake_deadline, round_.planned_session_date, round_.is_open) == (
        D(2026, 10, 30), D(2026, 12, 30), True)
    from ocop.audit.models import AuditEvent

    assert AuditEvent.objects.filter(action="round.created").count() == 1


def test_create_round_refused_to_officer_colleague_and_outsider(cantho, make_user):
    regime, level = _level("26/2026", "province")
    ward = cantho["province"].children.order_by("code").first()
    officer = make_user("canbo.xa", Role.LOCAL_OFFICER, ward)  # colleague: same area
    from ocop.regions.loader import load_units
    from ocop.regions.models import AdministrativeUnit, Level

    load_units([12])  # Lai Châu: another province, whose staff are outsiders here
    other = AdministrativeUnit.objects.current().get(level=Level.PROVINCE, code="12")
    outsider = make_user("so.khac", Role.DEPARTMENT_STAFF, other)
    for user in (officer, outsider):
        with pytest.raises(DossierError) as refused:
            create_round(user, regime=regime, level=level, unit=cantho["province"], year=2026,
                         number=2, intake_deadline=D(2026, 10, 30),
                         planned_session_date=D(2026, 12, 30))
        assert refused.value.code == "role"
    assert not EvaluationRound.objects.exists()


def test_round_refusals_checks_level_unit_and_year(cantho):
    regime, level = _level("26/2026", "province")
    _r148, district_level = _level("148", "district")
    errors = round_refusals(regime=regime, level=district_level, unit=cantho["province"],
                            year=2027, intake_deadline=D(2026, 10, 30))
    assert "level" in errors and "unit" in errors and "intake_deadline" in errors


def test_admin_round_form_refuses_with_the_reason(cantho, admin_client):
    regime, level = _level("148", "district")
    response = admin_client.post("/admin/dossiers/evaluationround/add/", {
        "regime": regime.pk, "level": level.pk, "unit": cantho["ninhkieu"].pk,
        "year": 2026, "number": 1, "intake_deadline": "2026-10-30",
        "planned_session_date": "2026-12-20", "is_open": "on"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "148/QĐ-TTg was no longer in force on 30/10/2026" in html
    assert "Quận Ninh Kiều no longer existed on 30/10/2026" in html
    assert not EvaluationRound.objects.exists()
    ok = admin_client.post("/admin/dossiers/evaluationround/add/", {
        "regime": regime.pk, "level": level.pk, "unit": cantho["ninhkieu"].pk,
        "year": 2025, "number": 1, "intake_deadline": "2025-05-15",
        "planned_session_date": "2025-06-10", "is_open": "on"})
    assert ok.status_code == 302
    assert EvaluationRound.objects.get().intake_deadline == D(2025, 5, 15)
