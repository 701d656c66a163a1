"""The demo dossiers of ``seed_demo`` (``dossiers.demo.seed_dossiers``): idempotent, varied,
consistent timelines, a 26/2026 product code, and scoped like real data.

The demo is seeded once for the module (twice, to check that the second run changes
nothing) inside a transaction that is rolled back at the end; each test runs in a
savepoint inside it.
"""

import datetime
import re
from collections import Counter

import pytest
from django.apps import apps
from django.db import transaction
from django.test import override_settings

from dossiers import rules
from dossiers.models import DocumentState, Dossier, DossierState
from dossiers.queries import dossiers_visible_to
from dossiers.uploads import PDF, detect_type
from ocop.accounts.models import User
from ocop.regions.models import AdministrativeUnit, Level

CODE = re.compile(r"^92-\d{5}-\d{3}-\d{4}$")


def table_counts():
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in {"dossiers", "audit", "accounts", "regions", "scoring"}
    }


class _Rollback(Exception):
    pass


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    """Seed the demo twice; yield the row counts after the first and the second run."""
    from ocop.demo import seed_demo

    media = override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media")))
    media.enable()
    try:
        with django_db_blocker.unblock():
            atomic = transaction.atomic()
            atomic.__enter__()
            try:
                seed_demo()
                first = table_counts()
                seed_demo()
                yield first, table_counts()
            finally:
                transaction.set_rollback(True)
                atomic.__exit__(None, None, None)
    finally:
        media.disable()


@pytest.fixture
def demo_data(seeded, db):
    return seeded


def _district(code):
    return AdministrativeUnit.objects.legacy().get(level=Level.DISTRICT, code=code)


def _district_dossiers(code):
    return Dossier.objects.filter(unit__parent=_district(code), round__regime__slug="148")


def test_seeding_twice_changes_nothing(demo_data):
    first, second = demo_data
    assert first == second
    assert first["dossiers.Dossier"] >= 25
    assert first["dossiers.DocumentFile"] > 0
    assert first["dossiers.Transition"] > first["dossiers.Dossier"]


def test_148_dossiers_in_both_districts_cover_the_states(demo_data):
    ninh_kieu, phong_dien = _district_dossiers("916"), _district_dossiers("926")
    assert ninh_kieu.count() >= 8 and phong_dien.count() >= 8
    assert ninh_kieu.count() + phong_dien.count() >= 20
    states = Counter(ninh_kieu.values_list("state", flat=True))
    states.update(phong_dien.values_list("state", flat=True))
    assert len(states) >= 8
    for state in (DossierState.DRAFT, DossierState.SUBMITTED, DossierState.RETURNED,
                  DossierState.RESUBMITTED, DossierState.ACCEPTED, DossierState.PRE_ASSESSED,
                  DossierState.IN_EVALUATION, DossierState.RECOGNISED,
                  DossierState.NOT_RECOGNISED, DossierState.FORWARDED,
                  DossierState.WITHDRAWN):
        assert states[state] >= 1, state
    # One round of 2023 per district (Ninh Kiều 1/2023, Phong Điền 2/2023), under 148, at
    # the district level, its intake closed long before the districts ended (the councils
    # demo adds Ninh Kiều's 2025 history and the province round its forwarded product went
    # to: docs/regimes-and-levels.md, "Demo timeline").
    for dossiers, number in ((ninh_kieu, 1), (phong_dien, 2)):
        rounds = {d.round for d in dossiers.filter(round__year=2023)
                  .select_related("round__regime", "round__level")}
        assert len(rounds) == 1
        (round_,) = rounds
        assert (round_.regime.slug, round_.level.admin_level, round_.year, round_.number,
                round_.is_open) == ("148", "district", 2023, number, True)
        assert round_.intake_deadline < datetime.date(2024, 1, 1)
        assert round_.regime.is_in_force(round_.intake_deadline)


def _allowed_steps():
    steps = {("", DossierState.DRAFT)}
    for from_states, to in rules.STATE_MACHINE.values():
        if to is not None:
            steps |= {(state, to) for state in from_states}
    steps |= {(DossierState.RESULT_RECORDED, state) for state in rules.OUTCOME_STATES.values()}
    return steps


def test_every_timeline_is_a_consistent_chain_ending_in_the_state(demo_data):
    allowed = _allowed_steps()
    for dossier in Dossier.objects.prefetch_related("transitions"):
        chain = list(dossier.transitions.all())
        assert chain, dossier
        if dossier.forwarded_from_id:  # arrived from the lower level, in the intake
            assert (chain[0].from_state, chain[0].to_state) == ("", DossierState.SUBMITTED)
            assert chain[0].details["forwarded"]["from_dossier"] == dossier.forwarded_from_id
            steps = allowed | {("", DossierState.SUBMITTED)}
        else:
            steps = allowed
            assert chain[0].from_state == "" and chain[0].to_state == DossierState.DRAFT
        for before, after in zip(chain, chain[1:], strict=False):
            assert after.from_state == before.to_state, dossier
            assert after.at >= before.at, dossier
        assert all((t.from_state, t.to_state) in steps for t in chain), dossier
        assert chain[-1].to_state == dossier.state, dossier
        if dossier.state == DossierState.RETURNED:
            reasons = chain[-1].details["reasons"]
            assert reasons and all(r["reason"] for r in reasons)
            assert dossier.documents.filter(state=DocumentState.REJECTED).exclude(
                reason="").exists()


def test_files_are_valid_pdfs_and_some_lines_are_rejected(demo_data):
    dossier = Dossier.objects.filter(state=DossierState.RECOGNISED).first()
    files = list(dossier.files.all())
    assert files and all(f.content_type == "application/pdf" for f in files)
    with files[0].file.open("rb") as handle:
        assert detect_type(handle) == PDF
    # Besides the returned dossiers, one submitted dossier has a line rejected on review.
    assert Dossier.objects.filter(state=DossierState.SUBMITTED,
                                  documents__state=DocumentState.REJECTED).exists()


def test_26_2026_round_has_coded_and_pre_assessed_dossiers(demo_data):
    dossiers = Dossier.objects.filter(round__regime__slug="26/2026").select_related(
        "product", "round__level", "round__unit", "unit")
    assert dossiers.count() >= 3
    round_ = dossiers[0].round
    assert (round_.level.admin_level, round_.unit.level, round_.unit.code,
            round_.unit.valid_to) == ("province", Level.PROVINCE, "92", None)
    assert all(d.unit.level == Level.COMMUNE and d.unit.valid_to is None for d in dossiers)
    states = {d.state for d in dossiers}
    assert {DossierState.ACCEPTED, DossierState.PRE_ASSESSED} <= states
    coded = [d for d in dossiers if d.state in (DossierState.ACCEPTED,
                                                DossierState.PRE_ASSESSED)]
    for dossier in coded:
        assert CODE.match(dossier.product.code), dossier.product.code
        assert dossier.product.code.startswith(f"92-{dossier.unit.code}-")
    pre_assessed = next(d for d in coded if d.state == DossierState.PRE_ASSESSED)
    form_03 = pre_assessed.pre_assessment
    assert form_03.raw_materials_verdict and form_03.local_identity_verdict
    assert form_03.conclusion


def test_district_officers_see_only_their_district(demo_data):
    phong_dien = User.objects.get(username="canbo.phongdien")
    ninh_kieu = User.objects.get(username="canbo.ninhkieu")
    ninh_kieu_ids = set(_district_dossiers("916").values_list("pk", flat=True))
    phong_dien_ids = set(_district_dossiers("926").values_list("pk", flat=True))
    assert set(dossiers_visible_to(phong_dien).values_list("pk", flat=True)) == phong_dien_ids
    assert set(dossiers_visible_to(ninh_kieu).values_list("pk", flat=True)) == ninh_kieu_ids
    staff = set(dossiers_visible_to(User.objects.get(username="sonn.cantho"))
                .values_list("pk", flat=True))
    assert staff == set(Dossier.objects.values_list("pk", flat=True))


def test_buoi_nam_roi_is_found_by_the_accent_free_search(demo_data):
    phong_dien = User.objects.get(username="canbo.phongdien")
    found = dossiers_visible_to(phong_dien).filter(search_text__contains="buoi nam roi")
    assert [d.product.name for d in found] == ["Bưởi Năm Roi Phong Điền"]


# --- a coherent timeline (docs/regimes-and-levels.md, "Demo timeline") ------------------------

DISTRICTS_ENDED = datetime.date(2025, 6, 30)


def test_every_rating_and_session_is_dated_under_a_regime_in_force_and_existing_units(
        demo_data):
    from councils.models import EvaluationSession
    from dossiers.models import Decision, Rating

    ratings = list(Rating.objects.select_related("decision", "regime"))
    assert ratings
    for rating in ratings:
        assert rating.regime.is_in_force(rating.decision.date), rating
    for decision in Decision.objects.select_related("issuer_unit", "regime"):
        assert decision.regime.is_in_force(decision.date), decision
        if decision.issuer_unit is not None:
            assert rules.unit_refusal(decision.issuer_unit, decision.date) is None, decision
    sessions = list(EvaluationSession.objects.select_related("council__unit", "round__regime",
                                                             "round__unit"))
    assert len(sessions) >= 3
    for session in sessions:
        assert rules.unit_refusal(session.council.unit, session.date) is None, session
        assert rules.unit_refusal(session.round.unit, session.date) is None, session
        assert session.round.regime.is_in_force(session.date), session
        assert rules.round_calendar_refusal(
            session.round.regime.code, rules.regime_windows(session.round.regime),
            session.round.intake_deadline, session.date) is None, session


def test_the_district_story_ends_before_the_districts_did(demo_data):
    from councils.models import Council, EvaluationSession
    from dossiers.models import Decision, EvaluationRound, Transition

    districts = AdministrativeUnit.objects.legacy().filter(level=Level.DISTRICT)
    rounds = EvaluationRound.objects.filter(unit__in=districts)
    assert rounds.count() >= 3
    for round_ in rounds:
        assert round_.intake_deadline <= DISTRICTS_ENDED
        assert round_.planned_session_date <= DISTRICTS_ENDED
        assert round_.regime.slug == "148"
    times = Transition.objects.filter(dossier__round__in=rounds).values_list("at", flat=True)
    assert times and max(times).date() <= DISTRICTS_ENDED
    assert all(c.decision_date <= DISTRICTS_ENDED
               for c in Council.objects.filter(unit__in=districts))
    assert all(s.date <= DISTRICTS_ENDED
               for s in EvaluationSession.objects.filter(council__unit__in=districts))
    decided = Decision.objects.filter(issuer_unit__in=districts)
    assert decided.filter(date__year=2023).count() == 2
    assert all(d.date <= DISTRICTS_ENDED for d in decided)
    # no district result contradicts the 148 district level: a recognised result is 3★
    recognised = Dossier.objects.filter(round__in=rounds, state=DossierState.RECOGNISED)
    assert recognised and all(d.result_stars == 3 and d.result_score < 70 for d in recognised
                              if d.round.number != 1 or d.round.year != 2025)


def test_the_2023_ratings_are_due_and_expired_on_6_december_2026(demo_data):
    from dossiers.expiry import check_rating_expiry
    from dossiers.models import Rating

    check_rating_expiry(datetime.date(2026, 12, 6))
    of_2023 = list(Rating.objects.filter(decision__date__year=2023).select_related("decision"))
    # 20/06/2023 → valid until 19/06/2026: expired; 20/12/2023 → until 19/12/2026, due
    # from 22/06/2026 (the procedure of 26/2026, in force on the day: 180 days before the
    # expiry — docs/deadlines.md). (The oversight demo may have revoked one of them.)
    june = [r for r in of_2023 if r.decision.date == datetime.date(2023, 6, 20)]
    december = [r for r in of_2023 if r.decision.date == datetime.date(2023, 12, 20)]
    assert june and all((r.valid_until, r.state) == (datetime.date(2026, 6, 19), "expired")
                        for r in june)
    assert all(r.valid_until == datetime.date(2026, 12, 19) for r in december)
    assert any(r.state == "due" for r in december)
    assert all(r.state in ("due", "revoked") for r in december)


def test_the_26_2026_rounds_keep_the_calendar_and_the_new_officers_see_their_dossiers(
        demo_data, client):
    from dossiers.models import EvaluationRound
    from ocop.demo import DEMO_PASSWORD

    for round_ in EvaluationRound.objects.filter(regime__slug="26/2026"):
        windows = rules.regime_windows(round_.regime)
        assert rules.round_calendar_refusal(round_.regime.code, windows,
                                            round_.intake_deadline,
                                            round_.planned_session_date) is None
        assert rules.round_window(windows, round_.intake_deadline)[0] == round_.intake_deadline
    for username, ward in (("canbo.phuongninhkieu", "Phường Ninh Kiều"),
                           ("canbo.xaphongdien", "Xã Phong Điền")):
        user = User.objects.get(username=username)
        unit = AdministrativeUnit.objects.current().get(level=Level.COMMUNE, name=ward)
        mine = dossiers_visible_to(user)
        assert mine.exists()
        # the ward's own dossiers, and the history of the pre-2025 communes merged into it
        # (docs/regimes-and-levels.md)
        areas = {unit.pk, *unit.predecessors.filter(level=Level.COMMUNE).values_list(
            "pk", flat=True)}
        assert {d.unit_id for d in mine} <= areas and mine.filter(unit=unit).exists()
        assert all(d.round.regime.slug == "26/2026"
                   for d in mine.filter(unit=unit).select_related("round__regime"))
        client.post("/login/", {"username": username, "password": DEMO_PASSWORD})
        assert client.session.get("_auth_user_id") == str(user.pk)
        page = client.get("/dossiers/").content.decode()
        assert mine.filter(unit=unit).first().product.name in page
        client.post("/logout/")
