"""The regimes seeded by the data migration (docs/regimes-and-levels.md, docs/deadlines.md)."""

import datetime
from decimal import Decimal

import pytest

from scoring.models import CriteriaSet, ProcessLevel, Regime, StarBand
from scoring.regimes import REGIMES, sync_regimes

pytestmark = pytest.mark.django_db

BANDS = [(5, Decimal(90)), (4, Decimal(70)), (3, Decimal(50)), (2, Decimal(30)),
         (1, Decimal(0))]


def levels(slug):
    return [
        (lvl.order, lvl.kind, lvl.admin_level, lvl.recognises, lvl.forward_from)
        for lvl in Regime.objects.get(slug=slug).levels.order_by("order")
    ]


def test_four_regimes_exist_after_migrate():
    assert list(Regime.objects.order_by("effective_from").values_list("slug", "code")) == [
        ("1048", "1048/QĐ-TTg"),
        ("148", "148/QĐ-TTg"),
        ("148-1489", "148/QĐ-TTg sửa đổi bởi 1489/QĐ-TTg"),
        ("26/2026", "26/2026/QĐ-TTg"),
    ]
    # criteria sets come from ``load_criteria``, not from migrate (and none leaked from
    # the module-scoped load of test_loader.py)
    assert not CriteriaSet.objects.exists()


def test_periods_follow_the_instruments():
    periods = {r.slug: (r.effective_from, r.effective_to) for r in Regime.objects.all()}
    assert periods["1048"][1] == datetime.date(2023, 2, 23)
    assert periods["148"] == (datetime.date(2023, 2, 24), datetime.date(2025, 7, 5))
    assert periods["148-1489"] == (datetime.date(2025, 7, 6), datetime.date(2026, 7, 21))
    assert periods["26/2026"] == (datetime.date(2026, 5, 22), None)
    # the 60-day transition: 148 + 1489 and 26/2026 both apply in June 2026
    in_force = {r.slug for r in Regime.objects.all() if r.is_in_force(datetime.date(2026, 6, 1))}
    assert in_force == {"148-1489", "26/2026"}


def test_148_district_then_province_then_central():
    assert levels("148") == [
        (1, "council", "district", [3], Decimal(70)),
        (2, "council", "province", [4], Decimal(90)),
        (3, "council", "central", [5], None),
    ]


@pytest.mark.parametrize("slug", ["148-1489", "26/2026"])
def test_commune_pre_assessment_then_province_then_ministry(slug):
    assert levels(slug) == [
        (1, "pre_assessment", "commune", [], None),
        (2, "council", "province", [3, 4], Decimal(90)),
        (3, "council", "central", [5], None),
    ]


def test_1048_legacy_levels():
    assert [(o, kind, level) for o, kind, level, _r, _f in levels("1048")] == [
        (1, "council", "district"), (2, "council", "province"), (3, "council", "central")]


@pytest.mark.parametrize("slug", ["1048", "148", "148-1489", "26/2026"])
def test_star_bands_are_the_same_in_every_regime(slug):
    regime = Regime.objects.get(slug=slug)
    assert list(regime.bands.values_list("stars", "min_score")) == BANDS


def test_part_maxima():
    maxima = {r.slug: r.part_maxima for r in Regime.objects.all()}
    assert maxima["1048"] == {"A": 35, "B": 25, "C": 40}
    for slug in ("148", "148-1489", "26/2026"):
        assert maxima[slug] == {"A": 40, "B": 25, "C": 35}
        assert sum(maxima[slug].values()) == 100


def test_validity_and_re_evaluation_windows():
    r = {regime.slug: regime for regime in Regime.objects.all()}
    assert {regime.validity_months for regime in r.values()} == {36}
    assert r["148"].notify_days_before_expiry == 30
    assert r["148"].commune_deadline_working_days is None
    assert r["148"].filing_window_start_days_before is None
    new = r["26/2026"]
    assert (new.filing_window_start_days_before, new.filing_window_end_days_before,
            new.grace_days_after_expiry, new.processing_days) == (180, 120, 180, 45)
    assert new.notify_days_before_expiry is None
    assert new.commune_deadline_working_days == 15
    assert r["148-1489"].commune_deadline_working_days == 15


def test_amended_148_scores_with_the_148_criteria_sets():
    amended = Regime.objects.get(slug="148-1489")
    assert amended.criteria_regime.slug == "148"
    assert Regime.objects.get(slug="26/2026").criteria_regime.slug == "26/2026"


def test_sync_regimes_again_changes_nothing():
    before = {
        "regimes": list(Regime.objects.order_by("pk").values()),
        "levels": list(ProcessLevel.objects.order_by("pk").values()),
        "bands": list(StarBand.objects.order_by("pk").values()),
    }

    sync_regimes(Regime, ProcessLevel, StarBand)

    assert list(Regime.objects.order_by("pk").values()) == before["regimes"]
    assert list(ProcessLevel.objects.order_by("pk").values()) == before["levels"]
    assert list(StarBand.objects.order_by("pk").values()) == before["bands"]
    assert len(before["regimes"]) == len(REGIMES)
