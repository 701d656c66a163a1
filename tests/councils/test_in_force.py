"""The law in force at the date for councils and sessions (docs/regimes-and-levels.md, "In
force at the date"): the pure predicates of ``councils.rules`` with hand-computed dates,
the services refusing with the reason and changing nothing, and the session page showing
the refusal (owner, colleague, outsider)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import translation

from councils import rules, services
from councils.models import Council, EvaluationSession
from ocop.accounts.models import Role
from ocop.audit.models import AuditEvent
from scoring.models import Regime
from tests import factories
from tests.councils import build

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings):
    """The refusals are asserted in their English source (the Vietnamese catalog translates
    them; tests/ocop/test_catalog.py checks it is complete)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield

D = datetime.date


def council_data(unit, level="district", **extra):
    data = {"name": f"Hội đồng {unit.name}", "level": level, "unit": unit,
            "decision_number": "12/QĐ-UBND", "decision_date": D(2025, 3, 1),
            "decision_signer": "Chủ tịch UBND"}
    data.update(extra)
    return data


def members(make_user):
    return [{"user": make_user("chu.tich"), "role": "chair"}]


# --- pure predicates ---------------------------------------------------------------------------


def _148_district():
    return [("148/QĐ-TTg", D(2023, 2, 24), D(2025, 7, 5))]


def test_council_date_refusal_unit_and_regime(cantho):
    district = cantho["ninhkieu"]
    assert rules.council_date_refusal(district, "district", D(2025, 6, 30),
                                      _148_district()) is None
    ended = rules.council_date_refusal(district, "district", D(2025, 7, 1), _148_district())
    assert ended.code == "unit_ended" and "Quận Ninh Kiều" in ended.message
    assert "01/07/2025" in ended.message and "30/06/2025" in ended.message
    # a province council before any regime had one
    none = rules.council_date_refusal(cantho["province_old"], "province", D(2019, 1, 1),
                                      [("148/QĐ-TTg", D(2023, 2, 24), D(2025, 7, 5))])
    assert none.code == "regime" and "01/01/2019" in none.message


def test_session_of_a_district_council_on_1_july_2025_is_refused(cantho):
    district = cantho["ninhkieu"]
    round_ = factories.evaluation_round(district, year=2025, intake_deadline=D(2025, 6, 1),
                                        planned_session_date=D(2025, 6, 20))
    assert rules.session_date_refusal(district, round_, D(2025, 6, 30)) is None
    refusal = rules.session_date_refusal(district, round_, D(2025, 7, 1))
    assert refusal.message == ("Quận Ninh Kiều no longer existed on 01/07/2025: it ended on "
                               "30/06/2025 (the 2025 reorganisation of administrative "
                               "units).")


def test_session_after_the_regime_ended_or_after_the_calendar_is_refused(cantho):
    province = cantho["province"]
    round_1489 = factories.evaluation_round(province, regime_slug="148-1489",
                                            admin_level="province", year=2026,
                                            intake_deadline=D(2026, 6, 30))
    assert rules.session_date_refusal(province, round_1489, D(2026, 7, 21)) is None
    ended = rules.session_date_refusal(province, round_1489, D(2026, 7, 22))
    assert ended.code == "regime_ended" and "21/07/2026" in ended.message
    round_26 = factories.evaluation_round(province, regime_slug="26/2026",
                                          admin_level="province", year=2026,
                                          intake_deadline=D(2026, 10, 30))
    windows = [((30, 4), (30, 6)), ((30, 10), (30, 12))]
    assert rules.session_date_refusal(province, round_26, D(2026, 12, 30), windows) is None
    late = rules.session_date_refusal(province, round_26, D(2026, 12, 31), windows)
    assert late.code == "round_calendar" and "30/12/2026" in late.message


# --- services ----------------------------------------------------------------------------------


def test_create_council_of_a_district_after_june_2025_is_refused(cantho, make_user):
    staff = make_user("so.nn", Role.DEPARTMENT_STAFF, cantho["province"])
    chair = members(make_user)
    with pytest.raises(services.CouncilError) as refused:
        services.create_council(staff, data=council_data(
            cantho["ninhkieu"], decision_date=D(2025, 7, 2)), members=chair)
    assert refused.value.code == "unit_ended"
    assert "02/07/2025" in refused.value.message and "30/06/2025" in refused.value.message
    assert refused.value.details["fields"]["decision_date"] == [refused.value.message]
    assert not Council.objects.exists()
    assert not AuditEvent.objects.filter(action="council.created").exists()
    council = services.create_council(staff, data=council_data(cantho["ninhkieu"]),
                                      members=chair)
    assert council.decision_date == D(2025, 3, 1)


def test_create_session_of_a_district_council_on_1_july_2025_is_refused(cantho, make_user):
    world = build(cantho, make_user, n_dossiers=0)
    before = EvaluationSession.objects.count()
    with pytest.raises(services.CouncilError) as refused:
        services.create_session(world.staff, council=world.council, round=world.round,
                                date=D(2025, 7, 1), place="Hội trường")
    assert refused.value.code == "unit_ended"
    assert "Quận Ninh Kiều" in refused.value.message and "01/07/2025" in refused.value.message
    assert EvaluationSession.objects.count() == before
    session = services.create_session(world.staff, council=world.council, round=world.round,
                                      date=D(2025, 6, 30), place="Hội trường")
    assert session.date == D(2025, 6, 30)


def test_create_session_of_a_26_2026_round_after_its_finish_date_is_refused(cantho,
                                                                            make_user):
    world = build(cantho, make_user, regime="26/2026", admin_level="province",
                  unit="province", n_dossiers=0)
    round_ = world.round
    round_.intake_deadline = D(2026, 10, 30)
    round_.save(update_fields=["intake_deadline"])
    assert Regime.objects.get(slug="26/2026").round_windows.count() == 2
    with pytest.raises(services.CouncilError) as refused:
        services.create_session(world.staff, council=world.council, round=round_,
                                date=D(2027, 1, 4))
    assert refused.value.code == "round_calendar"
    assert "30/10/2026" in refused.value.message and "30/12/2026" in refused.value.message
    session = services.create_session(world.staff, council=world.council, round=round_,
                                      date=D(2026, 12, 30))
    assert session.date == D(2026, 12, 30)


# --- the page ----------------------------------------------------------------------------------


def test_session_page_shows_the_refusal_and_plans_nothing(client, cantho, make_user):
    world = build(cantho, make_user, n_dossiers=0)
    world.session.delete()
    colleague = make_user("canbo.xa", Role.LOCAL_OFFICER,
                          cantho["ninhkieu"].children.order_by("code").first())
    outsider = make_user("canbo.pd", Role.LOCAL_OFFICER, cantho["phongdien"])
    page = reverse("councils:session-create", args=[world.council.pk])
    form = {"round": world.round.pk, "date": "2025-07-01", "place": "Hội trường",
            "mode": "meeting"}

    client.force_login(world.staff, backend="ocop.accounts.backends.UserWithRolesBackend")
    response = client.post(page, form)
    assert response.status_code == 200
    assert "Quận Ninh Kiều no longer existed on 01/07/2025" in response.content.decode()
    assert not world.council.sessions.exists()

    for user in (colleague, outsider):
        client.force_login(user, backend="ocop.accounts.backends.UserWithRolesBackend")
        assert client.post(page, form).status_code in (403, 404)
        assert not world.council.sessions.exists()

    client.force_login(world.staff, backend="ocop.accounts.backends.UserWithRolesBackend")
    planned = client.post(page, {**form, "date": "2025-06-30"})
    assert planned.status_code == 302
    assert world.council.sessions.get().date == D(2025, 6, 30)
