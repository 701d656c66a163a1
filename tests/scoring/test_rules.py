"""Tests of the pure scoring core ``scoring.rules`` (no Django, no database).

Run alone with ``pytest -p no:django tests/scoring/test_rules.py``.
"""

from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.rules import (
    DEFAULT_BANDS,
    PARTS,
    Band,
    CapReason,
    CapResult,
    CriterionSpec,
    Divergence,
    Evaluation,
    OptionSpec,
    Outcome,
    OutcomeKind,
    Requirement,
    SheetSpec,
    Totals,
    band,
    cap,
    divergence,
    evaluate,
    level_outcome,
    lower_median,
    mean_totals,
    requirement,
    round_half_up,
    sheet_totals,
)

# 26/2026 provincial council: recognises 3★ and 4★, forwards ≥90 to the Ministry.
PROVINCE_2026 = {"divergence_threshold": D(10), "recognises": {3, 4}, "forward_from": D(90)}


def opt(key, points, min_star=None, case=None):
    return OptionSpec(key, D(points), min_star, case)


def totals(a, b, c):
    return Totals(parts={"A": D(a), "B": D(b), "C": D(c)}, total=D(a) + D(b) + D(c))


def abc_sheets(rows):
    """A spec with one unmarked criterion per part ("a", "b", "c") whose options are exactly
    the point values used in ``rows`` (option key = the value as written), and the members'
    sheets choosing them. Lets a test fix each member's A/B/C points directly."""
    criteria = []
    for i, part in enumerate(PARTS):
        values = sorted({row[i] for row in rows}, key=D)
        criteria.append(CriterionSpec(part.lower(), part, tuple(opt(v, v) for v in values)))
    members = [{"a": a, "b": b, "c": c} for a, b, c in rows]
    return SheetSpec(tuple(criteria)), members


# A small sheet with every kind of mark, after the 26/2026 and 148 sets.
MARKED = SheetSpec(
    (
        # 5★ mark on the top option only (26/2026 set 1, 1.3).
        CriterionSpec("1.3", "A", (opt("o1", 1), opt("o2", 2), opt("o3", 3, 5))),
        # Two marks on one criterion: 2 pts for 4★, 3 pts for 5★ (26/2026 set 1, 1.5).
        CriterionSpec("1.5", "A", (opt("o0", 0), opt("o1", 1), opt("o2", 2, 4), opt("o3", 3, 5))),
        # 4★ mark on the lowest option: any answer will do, unanswered will not (set 1, 1.6).
        CriterionSpec("1.6", "A", (opt("o1", 1, 4), opt("o2", 2), opt("o3", 3))),
        # 3★ mark on the middle option.
        CriterionSpec("2.2", "A", (opt("o0", 0), opt("o1", 1, 3), opt("o2", 2))),
        # Criterion-level 4★ mark: must score > 0 (148 "Sở hữu trí tuệ****").
        CriterionSpec("3.e", "A", (opt("o0", 0), opt("o1", 1), opt("o2", 2)), min_star=4),
        # Unmarked filler so that totals can reach every band.
        CriterionSpec("fill", "C", (opt("o0", 0), opt("o10", 10), opt("o60", 60), opt("o80", 80))),
    )
)
# Best answers everywhere: 3 + 3 + 3 + 2 + 2 + 80 = 93.
TOP = {"1.3": "o3", "1.5": "o3", "1.6": "o3", "2.2": "o2", "3.e": "o2", "fill": "o80"}


def top(**changes):
    """TOP with some criteria changed; keyword ``c1_5`` stands for criterion "1.5"."""
    sheet = dict(TOP)
    for name, value in changes.items():
        key = name if name in TOP else name[1:].replace("_", ".")
        assert key in TOP, name
        sheet[key] = value
    return sheet


# --------------------------------------------------------------------------- sheet_totals


def test_sheet_totals_sums_points_per_part_and_total():
    result = sheet_totals(MARKED, top(c1_5="o1", c3_e="o0"))
    assert result == Totals(parts={"A": D(9), "B": D(0), "C": D(80)}, total=D(89))


def test_sheet_totals_unanswered_criterion_scores_zero():
    absent = {"fill": "o10"}
    explicit_none = dict.fromkeys(TOP, None) | {"fill": "o10"}
    assert sheet_totals(MARKED, absent) == totals(0, 0, 10)
    assert sheet_totals(MARKED, explicit_none) == totals(0, 0, 10)


def test_sheet_totals_option_of_other_criterion_is_refused():
    with pytest.raises(ValueError, match=r"option 'o80' does not belong to criterion '1\.5'"):
        sheet_totals(MARKED, top(c1_5="o80"))


def test_sheet_totals_unknown_criterion_is_refused():
    with pytest.raises(ValueError, match=r"unknown criterion '9\.9'"):
        sheet_totals(MARKED, {"9.9": "o1"})


def test_sheet_totals_cases_choice_is_one_option_key():
    # Tourism set 26 (148, section 8): pick case a or b, then one option of that case.
    spec = SheetSpec(
        (
            CriterionSpec(
                "8.a",
                "C",
                (
                    opt("a1", 1, case="a"),
                    opt("a2", 2, case="a"),
                    opt("a3", 3, case="a"),
                    opt("b1", 1, case="b"),
                    opt("b2", 2, case="b"),
                    opt("b3", 3, case="b"),
                ),
            ),
        )
    )
    assert sheet_totals(spec, {"8.a": "b2"}) == totals(0, 0, 2)
    assert spec.criteria[0].max_points == D(3)


def test_spec_duplicate_keys_are_refused():
    with pytest.raises(ValueError, match="duplicate option key 'o1'"):
        CriterionSpec("x", "A", (opt("o1", 1), opt("o1", 2)))
    with pytest.raises(ValueError, match="duplicate criterion key 'x'"):
        SheetSpec(
            (CriterionSpec("x", "A", (opt("o", 1),)), CriterionSpec("x", "B", (opt("o", 1),)))
        )


def test_spec_float_points_are_refused():
    with pytest.raises(TypeError, match="must be a Decimal or an int"):
        OptionSpec("o", 0.1)


# --------------------------------------------------------------------------- mean_totals


def test_mean_totals_rounds_up_to_band_edge_when_three_members_70_70_69_99():
    # Exact mean 209.99 / 3 = 69.99666…; rounded half-up to 2 places: 70.00.
    result = mean_totals([totals(30, 20, 20), totals(30, 20, 20), totals(30, 20, "19.99")])
    assert str(result.total) == "70.00"
    assert result.parts == {"A": D("30.00"), "B": D("20.00"), "C": D("20.00")}
    assert str(result.parts["C"]) == "20.00"  # 59.99 / 3 = 19.99666…


def test_mean_totals_tie_rounds_half_up_not_to_even():
    # 12.34 and 12.35 → 12.345 exactly: HALF_UP gives 12.35 (HALF_EVEN would give 12.34).
    result = mean_totals([totals("12.34", 0, 0), totals("12.35", 0, 0)])
    assert str(result.parts["A"]) == "12.35"
    assert str(result.total) == "12.35"


def test_mean_totals_total_is_rounded_mean_not_sum_of_rounded_parts():
    result = mean_totals([totals(10, 10, 10), totals(10, 10, 10), totals(11, 11, 11)])
    assert result.parts == {"A": D("10.33"), "B": D("10.33"), "C": D("10.33")}
    assert str(result.total) == "31.00"  # 93 / 3, whereas 10.33 × 3 = 30.99


def test_mean_totals_places_parameter_controls_rounding():
    members = [totals(30, 20, 20), totals(30, 20, 20), totals(30, 20, "19.99")]
    assert str(mean_totals(members, places=3).total) == "69.997"
    assert str(mean_totals(members, places=0).total) == "70"


def test_mean_totals_empty_list_is_refused():
    with pytest.raises(ValueError, match="empty list"):
        mean_totals([])


def test_round_half_up_negative_tie_rounds_away_from_zero():
    assert str(round_half_up(D("-2.345"))) == "-2.35"
    assert str(round_half_up(Fraction(20999, 300))) == "70.00"
    assert str(round_half_up(D("0"))) == "0.00"


# --------------------------------------------------------------------------- band

BAND_TABLE = [
    ("0", 1),
    ("29.99", 1),
    ("30", 2),
    ("49.99", 2),
    ("50", 3),
    ("69.99", 3),
    ("70", 4),
    ("89.99", 4),
    ("90", 5),
    ("100", 5),
]


@pytest.mark.parametrize(("score", "stars"), BAND_TABLE)
def test_band_boundaries_match_decision(score, stars):
    assert band(D(score)) == stars


@pytest.mark.parametrize("score", ["-0.01", "100.01"])
def test_band_score_out_of_range_is_refused(score):
    with pytest.raises(ValueError, match="between 0 and 100"):
        band(D(score))


def test_band_float_score_is_refused():
    with pytest.raises(TypeError):
        band(69.99)


def test_band_custom_bands_are_used():
    two_bands = (Band(3, D(60)), Band(1, D(0)))
    assert band(D("59.99"), two_bands) == 1
    assert band(D(60), two_bands) == 3


def test_band_inconsistent_bands_are_refused():
    with pytest.raises(ValueError, match="lowest band must start at 0"):
        band(D(50), (Band(5, D(90)), Band(1, D(10))))
    with pytest.raises(ValueError, match="more stars for a higher threshold"):
        band(D(50), (Band(2, D(90)), Band(3, D(0))))


def test_default_bands_are_the_decision_bands():
    assert [(b.stars, b.min_score) for b in DEFAULT_BANDS] == [
        (5, D(90)),
        (4, D(70)),
        (3, D(50)),
        (2, D(30)),
        (1, D(0)),
    ]


# ------------------------------------------------------------------ evaluate at every band edge

# Members' (A, B, C) points → hand-computed mean (A, B, C, total) → stars.
EVALUATE_BAND_TABLE = [
    # (10+10+9.98=29.98, 30) → 29.99
    ([("10", "10", "9.98"), ("10", "10", "10")], ("10.00", "10.00", "9.99", "29.99"), 1),
    # (25, 35) → 30
    ([("10", "10", "5"), ("15", "10", "10")], ("12.50", "10.00", "7.50", "30.00"), 2),
    # (49.99, 50, 49.98) → 149.97 / 3 = 49.99
    (
        [("20", "15", "14.99"), ("20", "15", "15"), ("20", "15", "14.98")],
        ("20.00", "15.00", "14.99", "49.99"),
        2,
    ),
    # (45, 55) → 50
    ([("25", "10", "10"), ("25", "15", "15")], ("25.00", "12.50", "12.50", "50.00"), 3),
    # (69.98, 70) → 69.99
    ([("30", "20", "19.98"), ("30", "20", "20")], ("30.00", "20.00", "19.99", "69.99"), 3),
    # (60, 70, 80) → 70
    (
        [("30", "15", "15"), ("30", "20", "20"), ("30", "25", "25")],
        ("30.00", "20.00", "20.00", "70.00"),
        4,
    ),
    # (89.98, 90) → 89.99
    ([("35", "20", "34.98"), ("35", "20", "35")], ("35.00", "20.00", "34.99", "89.99"), 4),
    # (100, 80) → 90
    ([("40", "25", "35"), ("30", "20", "30")], ("35.00", "22.50", "32.50", "90.00"), 5),
    # (100, 100) → 100
    ([("40", "25", "35"), ("40", "25", "35")], ("40.00", "25.00", "35.00", "100.00"), 5),
]


@pytest.mark.parametrize(("rows", "mean", "stars"), EVALUATE_BAND_TABLE)
def test_evaluate_band_boundaries_on_hand_computed_means(rows, mean, stars):
    spec, members = abc_sheets(rows)
    result = evaluate(spec, members, **PROVINCE_2026)
    a, b, c, total = mean
    assert result.mean == Totals(parts={"A": D(a), "B": D(b), "C": D(c)}, total=D(total))
    assert str(result.mean.total) == total
    assert result.band_stars == stars
    assert result.stars == stars  # no marks in this spec: no cap


# Exactly what the rounding policy does at a band edge: the band is read off the mean
# rounded half-up to 2 decimals, so an exact mean of 69.99666… is 70.00 and gets 4★.
ROUNDING_TABLE = [
    # 70, 70, 69.99 → 69.99666… → 70.00 → 4★
    ([("30", "20", "20"), ("30", "20", "20"), ("30", "20", "19.99")], "70.00", 4),
    # 69.99, 69.99, 70 → 69.99333… → 69.99 → 3★
    ([("30", "20", "19.99"), ("30", "20", "19.99"), ("30", "20", "20")], "69.99", 3),
    # 69.99, 70 → 69.995 exactly → half-up → 70.00 → 4★
    ([("30", "20", "19.99"), ("30", "20", "20")], "70.00", 4),
    # 89.99, 90, 90 → 89.99666… → 90.00 → 5★ (and forwarded)
    ([("35", "20", "34.99"), ("35", "20", "35"), ("35", "20", "35")], "90.00", 5),
]


@pytest.mark.parametrize(("rows", "total", "stars"), ROUNDING_TABLE)
def test_evaluate_band_decided_on_rounded_mean(rows, total, stars):
    spec, members = abc_sheets(rows)
    result = evaluate(spec, members, **PROVINCE_2026)
    assert str(result.mean.total) == total
    assert result.band_stars == stars


# --------------------------------------------------------------------------- requirement / median


def test_requirement_is_max_points_over_marks_at_or_below_level():
    c15 = MARKED.criterion("1.5")
    assert requirement(c15, 3) is None
    assert requirement(c15, 4) == Requirement(D(2))
    assert requirement(c15, 5) == Requirement(D(3))


def test_requirement_criterion_mark_means_more_than_zero():
    c3e = MARKED.criterion("3.e")
    assert requirement(c3e, 3) is None
    assert requirement(c3e, 4) == Requirement(D(0), strict=True)
    assert requirement(c3e, 4).is_met(D(0)) is False
    assert requirement(c3e, 4).is_met(D(1)) is True


def test_requirement_criterion_and_option_marks_combine():
    both = CriterionSpec("x", "A", (opt("o0", 0), opt("o1", 1), opt("o2", 2, 5)), min_star=4)
    assert requirement(both, 4) == Requirement(D(0), strict=True)
    assert requirement(both, 5) == Requirement(D(2))


def test_requirement_unordered_marks_take_the_highest_points():
    # Not in the published data (validate.py refuses it) but the rule stays well defined.
    odd = CriterionSpec("x", "A", (opt("o3", 3, 5), opt("o5", 5, 3)))
    assert requirement(odd, 3) == Requirement(D(5))
    assert requirement(odd, 5) == Requirement(D(5))


def test_lower_median_even_count_takes_lower_middle():
    assert lower_median([D(3), D(1), D(2), D(1)]) == D(1)
    assert lower_median([D(2), D(3)]) == D(2)
    assert lower_median([D(0), D(3), D(3)]) == D(3)


# --------------------------------------------------------------------------- cap


def test_cap_option_mark_3_failed_takes_band_5_to_2():
    members = [top(c2_2="o0")] * 3
    assert cap(MARKED, members, 5) == CapResult(2, (CapReason("2.2", 3, D(1), D(0)),))


def test_cap_option_mark_4_on_lowest_option_fails_when_unanswered():
    members = [top(c1_6=None)] * 3
    assert cap(MARKED, members, 5) == CapResult(3, (CapReason("1.6", 4, D(1), D(0)),))


def test_cap_option_mark_5_failed_gives_4():
    members = [top(c1_3="o2")] * 3
    assert cap(MARKED, members, 5) == CapResult(4, (CapReason("1.3", 5, D(3), D(2)),))


@pytest.mark.parametrize(
    ("choice", "stars", "reasons"),
    [
        ("o0", 3, (CapReason("1.5", 4, D(2), D(0)), CapReason("1.5", 5, D(3), D(0)))),
        ("o1", 3, (CapReason("1.5", 4, D(2), D(1)), CapReason("1.5", 5, D(3), D(1)))),
        ("o2", 4, (CapReason("1.5", 5, D(3), D(2)),)),
        ("o3", 5, ()),
    ],
)
def test_cap_multiple_marks_on_one_criterion(choice, stars, reasons):
    members = [top(c1_5=choice)] * 3
    assert cap(MARKED, members, 5) == CapResult(stars, reasons)


def test_cap_criterion_mark_zero_points_fails():
    members = [top(c3_e="o0")] * 3
    expected = CapResult(3, (CapReason("3.e", 4, D(0), D(0), strict=True),))
    assert cap(MARKED, members, 5) == expected


def test_cap_criterion_mark_any_positive_points_passes():
    members = [top(c3_e="o1")] * 3
    assert cap(MARKED, members, 5) == CapResult(5, ())


def test_cap_even_count_uses_lower_median():
    # Points 1, 1, 2, 3 on 1.5: lower median 1 fails 4★ (the upper median 2 would pass it).
    members = [top(c1_5="o1"), top(c1_5="o3"), top(c1_5="o1"), top(c1_5="o2")]
    result = cap(MARKED, members, 5)
    assert result.stars == 3
    assert result.reasons == (CapReason("1.5", 4, D(2), D(1)), CapReason("1.5", 5, D(3), D(1)))


def test_cap_even_count_lower_median_of_two_members():
    members = [top(c1_5="o3"), top(c1_5="o2")]
    assert cap(MARKED, members, 5) == CapResult(4, (CapReason("1.5", 5, D(3), D(2)),))


def test_cap_odd_count_single_dissenter_does_not_cap():
    members = [top(c1_5="o0"), top(c1_5="o3"), top(c1_5="o3")]
    assert cap(MARKED, members, 5) == CapResult(5, ())


def test_cap_unanswered_counts_as_zero_for_median():
    members = [top(), top(c2_2=None), {k: v for k, v in TOP.items() if k != "2.2"}]
    assert cap(MARKED, members, 5) == CapResult(2, (CapReason("2.2", 3, D(1), D(0)),))


@pytest.mark.parametrize(("band_stars", "choice"), [(3, "o0"), (4, "o2"), (2, "o0"), (1, "o0")])
def test_cap_does_not_apply_when_band_is_lower(band_stars, choice):
    # 1.5 at o0 fails the 4★ and 5★ marks; o2 fails only 5★. Neither matters below them.
    members = [top(c1_5=choice)] * 3
    assert cap(MARKED, members, band_stars) == CapResult(band_stars, ())


def test_cap_reasons_list_exactly_the_failing_conditions():
    # Fails: 1.3 (5★ needs 3, has 2), 1.5 (4★ needs 2 and 5★ needs 3, has 1), 3.e (4★ > 0).
    # Passes: 1.6 (answered), 2.2 (3★ needs 1, has 2).
    members = [top(c1_3="o2", c1_5="o1", c3_e="o0")] * 2 + [top(c1_5="o0", c3_e="o0")]
    result = cap(MARKED, members, 5)
    assert result.stars == 3
    assert result.reasons == (
        CapReason("1.5", 4, D(2), D(1)),
        CapReason("3.e", 4, D(0), D(0), strict=True),
        CapReason("1.3", 5, D(3), D(2)),
        CapReason("1.5", 5, D(3), D(1)),
    )
    assert result.limiting == result.reasons[:2]


def test_cap_reasons_omit_levels_above_band():
    members = [top(c1_3="o2", c1_5="o1")] * 3
    assert cap(MARKED, members, 4) == CapResult(3, (CapReason("1.5", 4, D(2), D(1)),))


def test_cap_never_goes_below_one():
    spec = SheetSpec(
        (
            CriterionSpec("low", "A", (opt("o0", 0), opt("o1", 1, 1))),
            CriterionSpec("two", "A", (opt("o0", 0), opt("o1", 1, 2))),
        )
    )
    both_failed = [{"low": "o0", "two": "o0"}]
    assert cap(spec, both_failed, 2) == CapResult(
        1, (CapReason("low", 1, D(1), D(0)), CapReason("two", 2, D(1), D(0)))
    )
    assert cap(spec, [{"low": "o1", "two": "o0"}], 2) == CapResult(
        1, (CapReason("two", 2, D(1), D(0)),)
    )


def test_cap_invalid_input_is_refused():
    with pytest.raises(ValueError, match="without any member"):
        cap(MARKED, [], 5)
    with pytest.raises(ValueError, match="band_stars"):
        cap(MARKED, [TOP], 0)
    with pytest.raises(ValueError, match="does not belong"):
        cap(MARKED, [top(c2_2="o9")], 5)


# --------------------------------------------------------------------------- divergence


@pytest.mark.parametrize(
    ("member_totals", "spread", "flagged"),
    [
        (["60", "70.5", "65"], "10.5", True),
        (["60", "70"], "10", False),  # "more than 10": exactly 10 is not flagged
        (["60", "70.01"], "10.01", True),
        (["88"], "0", False),
        ([], "0", False),
    ],
)
def test_divergence_spread_and_flag(member_totals, spread, flagged):
    result = divergence([D(t) for t in member_totals], D(10))
    assert result == Divergence(D(spread), flagged)


# --------------------------------------------------------------------------- level_outcome

FORWARD, RECOGNISE, NOT_RECOGNISED = OutcomeKind


@pytest.mark.parametrize(
    ("final_stars", "mean_total", "recognises", "forward_from", "min_stars", "expected"),
    [
        # 148 district council: recognises 3★, forwards ≥ 70 when the capped star is ≥ 4★.
        (3, "65.00", {3}, "70", 4, Outcome(RECOGNISE, 3)),
        (4, "75.00", {3}, "70", 4, Outcome(FORWARD)),
        # capped to 3★: recognised by the district, not sent to a province that
        # recognises only 4★ (docs/regimes-and-levels.md, Forwarding)
        (3, "75.00", {3}, "70", 4, Outcome(RECOGNISE, 3)),
        (3, "72.00", {3}, "70", None, Outcome(FORWARD)),  # no star condition: on the score
        (2, "45.00", {3}, "70", 4, Outcome(NOT_RECOGNISED)),
        # 26/2026 provincial council: recognises 3★ and 4★, forwards ≥ 90 at 5★.
        (4, "89.99", {3, 4}, "90", 5, Outcome(RECOGNISE, 4)),
        (3, "55.00", {3, 4}, "90", 5, Outcome(RECOGNISE, 3)),
        (5, "90.00", {3, 4}, "90", 5, Outcome(FORWARD)),
        (4, "92.00", {3, 4}, "90", 5, Outcome(RECOGNISE, 4)),  # capped: the province decides
        (2, "92.00", {3, 4}, "90", 5, Outcome(NOT_RECOGNISED)),
        (2, "49.99", {3, 4}, "90", 5, Outcome(NOT_RECOGNISED)),
        (1, "20.00", {3, 4}, "90", 5, Outcome(NOT_RECOGNISED)),
        # Ministry: recognises 5★, nothing above it.
        (5, "95.00", {5}, None, None, Outcome(RECOGNISE, 5)),
        (4, "85.00", {5}, None, None, Outcome(NOT_RECOGNISED)),
    ],
)
def test_level_outcome_forwards_on_score_and_capped_star(
    final_stars, mean_total, recognises, forward_from, min_stars, expected
):
    forward = None if forward_from is None else D(forward_from)
    assert level_outcome(final_stars, D(mean_total), recognises, forward,
                         min_stars) == expected


def test_level_outcome_kind_values_are_plain_strings():
    assert [k.value for k in OutcomeKind] == ["forward", "recognise", "not_recognised"]
    assert Outcome(OutcomeKind.FORWARD).kind == "forward"


# --------------------------------------------------------------------------- evaluate


def test_evaluate_returns_everything_for_a_capped_product():
    # Totals 92, 91, 71 → 254 / 3 = 84.67 → band 4; 3.e points 1, 0, 0 → median 0 fails its
    # criterion-level 4★ mark → 3★, which the 26/2026 province recognises.
    members = [top(c3_e="o1"), top(c3_e="o0"), top(c3_e="o0", fill="o60")]
    result = evaluate(MARKED, members, **PROVINCE_2026)
    assert result == Evaluation(
        # A: 34/3 = 11.33, C: 220/3 = 73.33, total 84.67 (not 11.33 + 73.33 = 84.66).
        mean=Totals(parts={"A": D("11.33"), "B": D("0.00"), "C": D("73.33")}, total=D("84.67")),
        band_stars=4,
        cap=CapResult(3, (CapReason("3.e", 4, D(0), D(0), strict=True),)),
        divergence=Divergence(D(21), True),
        outcome=Outcome(OutcomeKind.RECOGNISE, 3),
    )


def test_evaluate_band_5_failing_3_star_mark_gives_2_stars():
    members = [top(c2_2="o0")] * 3  # 91 points each
    result = evaluate(
        MARKED, members, divergence_threshold=D(10), recognises={3}, forward_from=None
    )
    assert result.mean.total == D("91.00")
    assert result.band_stars == 5
    assert result.stars == 2
    assert result.cap.reasons == (CapReason("2.2", 3, D(1), D(0)),)
    assert result.outcome == Outcome(OutcomeKind.NOT_RECOGNISED)
    assert result.divergence == Divergence(D(0), False)


def test_evaluate_low_band_ignores_marks_of_higher_levels():
    # Totals 19, 19, 91 → 129 / 3 = 43.00 → 2★; the failed 4★/5★ marks do not matter.
    members = [top(c3_e="o0", fill="o10", c1_3="o1")] * 2 + [top(c3_e="o0")]
    result = evaluate(MARKED, members, **PROVINCE_2026)
    assert (result.mean.total, result.band_stars, result.stars) == (D("43.00"), 2, 2)
    assert result.cap.reasons == ()
    assert result.outcome == Outcome(OutcomeKind.NOT_RECOGNISED)


def test_evaluate_capped_product_scoring_90_is_recognised_by_the_province():
    # All at 91 with 3.e at 0: band 5, capped to 3★ by 3.e; 91 ≥ 90 but the capped star is
    # not 5★, so the province recognises 3★ instead of forwarding (see level_outcome).
    result = evaluate(MARKED, [top(c3_e="o0")] * 3, **PROVINCE_2026, forward_min_stars=5)
    assert (result.mean.total, result.band_stars, result.stars) == (D("91.00"), 5, 3)
    assert result.outcome == Outcome(OutcomeKind.RECOGNISE, 3)


def test_evaluate_no_members_is_refused():
    with pytest.raises(ValueError, match="without any member"):
        evaluate(MARKED, [], **PROVINCE_2026)


# --------------------------------------------------------------------------- properties

PART_CAPS = {"A": 40, "B": 25, "C": 35}


@st.composite
def specs(draw):
    """Random sheets whose criteria maxima sum to at most 40 / 25 / 35 per part.

    Points are multiples of 0.5; marks anywhere (3–5★, not necessarily increasing with points).
    """
    criteria = []
    for part, cap_points in PART_CAPS.items():
        remaining = cap_points * 2  # in half points
        for i in range(draw(st.integers(1, 5))):
            best = draw(st.integers(0, remaining))
            remaining -= best
            lower = draw(st.lists(st.integers(0, best), max_size=3, unique=True))
            options = tuple(
                OptionSpec(f"o{j}", D(v) / 2, draw(st.none() | st.integers(3, 5)))
                for j, v in enumerate(sorted(set(lower) | {best}))
            )
            marked = draw(st.none() | st.integers(3, 5))
            criteria.append(CriterionSpec(f"{part}{i}", part, options, marked))
    return SheetSpec(tuple(criteria))


def sheets_for(spec):
    return st.fixed_dictionaries(
        {c.key: st.none() | st.sampled_from([o.key for o in c.options]) for c in spec.criteria}
    )


@st.composite
def spec_and_members(draw, max_members=7):
    spec = draw(specs())
    members = draw(st.lists(sheets_for(spec), min_size=1, max_size=max_members))
    return spec, members


@settings(deadline=None)
@given(spec_and_members())
def test_sheet_total_never_exceeds_criteria_maxima(case):
    spec, members = case
    for choices in members:
        result = sheet_totals(spec, choices)
        assert result.total == sum(result.parts.values())
        assert result.total <= spec.max_points() <= 100
        for part, cap_points in PART_CAPS.items():
            assert result.parts[part] <= spec.max_points(part) <= cap_points


@settings(deadline=None)
@given(spec_and_members(), st.integers(1, 5))
def test_cap_never_raises_star(case, band_stars):
    spec, members = case
    result = cap(spec, members, band_stars)
    assert 1 <= result.stars <= band_stars
    assert all(r.required_star <= band_stars for r in result.reasons)
    # Marks are 3–5★ here, so the star is lowered exactly when something is unmet.
    assert (result.stars < band_stars) == bool(result.reasons)


def median_member(spec, members):
    """A sheet whose points equal the members' lower median on every criterion: on each
    criterion, the choice of the member whose points are that median (possibly None)."""
    sheet = {}
    for c in spec.criteria:
        ranked = sorted((m.get(c.key) for m in members), key=c.points_for)
        sheet[c.key] = ranked[(len(ranked) - 1) // 2]
    return sheet


# Why this holds, for both parities, with the LOWER median (values sorted p_0 ≤ … ≤ p_{n-1},
# lower median at index (n-1)//2, inserting a copy m of it):
#   n = 2k+1: m = p_k; the new list has 2k+2 values, lower median index k: p_0..p_k, m, … → p_k.
#   n = 2k:   m = p_{k-1}; the new list has 2k+1 values, median index k: p_0..p_{k-1}, m, … → m.
# So every criterion's median, hence every condition and reason, is unchanged. The lower
# median is always a value some member gave, so a sheet reaching it exactly always exists;
# with the averaged median of an even count ((p_{k-1}+p_k)/2) it may not be any option's
# points. The property is about ``cap`` at a fixed band: the new member's total changes the
# mean, so ``evaluate``'s band (and then its capped star) may change — that is not claimed.
@settings(deadline=None)
@given(spec_and_members(), st.integers(1, 5))
def test_cap_unchanged_by_adding_median_member(case, band_stars):
    spec, members = case
    extended = [*members, median_member(spec, members)]
    assert cap(spec, extended, band_stars) == cap(spec, members, band_stars)


@settings(deadline=None)
@given(spec_and_members(), st.data())
def test_evaluate_unchanged_by_permuting_members(case, data):
    spec, members = case
    shuffled = data.draw(st.permutations(members))
    assert evaluate(spec, shuffled, **PROVINCE_2026) == evaluate(spec, members, **PROVINCE_2026)


@settings(deadline=None)
@given(spec_and_members())
def test_mean_total_within_member_totals_and_capped_star_within_band(case):
    spec, members = case
    member_totals = [sheet_totals(spec, m).total for m in members]
    result = evaluate(spec, members, **PROVINCE_2026)
    # Totals are multiples of 0.5, so rounding the mean to 0.01 cannot leave [min, max].
    assert min(member_totals) <= result.mean.total <= max(member_totals)
    assert result.band_stars == band(result.mean.total)
    assert 1 <= result.stars <= result.band_stars
