"""Item results and quorum: counted sheets, means by hand, band, cap, divergence, the level's
outcome (from data, per regime) and the quorum arithmetic."""

from decimal import Decimal

import pytest

from councils import services
from councils.models import Attendance, Recusal
from councils.results import quorum, quorum_needed
from scoring.models import SheetState
from tests.councils import build, by_hand, mean_by_hand, pick, quick_sheet

pytestmark = pytest.mark.django_db


# --- quorum ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("ratio", "members", "needed"), [
    ("0.75", 7, 6),  # 5.25 → 6
    ("0.75", 8, 6),  # exactly 6
    ("0.75", 4, 3),
    ("0.75", 1, 1),
    ("0.5", 9, 5),   # 4.5 → 5
    ("1", 7, 7),
    ("0.67", 3, 3),  # 2.01 → 3 (exact decimal, no float noise)
])
def test_quorum_needed_is_ceiling_of_ratio_times_scoring_members(ratio, members, needed):
    assert quorum_needed(Decimal(ratio), members) == needed


def _attend(world, present):
    for member in [*world.members, world.secretary]:
        Attendance.objects.create(session=world.session, member=member,
                                  present=member in present, recorded_by=world.staff)


def test_quorum_at_meeting_counts_present_scoring_members_only(cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=7)
    # six scoring members present plus the secretary (who does not count)
    _attend(world, [*world.members[:6], world.secretary])
    q = quorum(world.session)
    assert (q.scoring_members, q.needed, q.present, q.by_meeting) == (7, 6, 6, True)
    assert q.met

    Attendance.objects.filter(session=world.session, member=world.members[5]).update(
        present=False)
    q = quorum(world.session)
    assert (q.present, q.met) == (5, False)


def test_quorum_chair_required_fails_without_chair_even_with_enough_members(
        cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=7)
    _attend(world, world.members[1:])  # 6 present, the chair absent
    q = quorum(world.session)
    assert q.present == 6 and not q.chair_present
    assert not q.met

    world.council.chair_required = False
    world.council.save()
    world.session.refresh_from_db()
    assert quorum(world.session).met


def test_quorum_without_meeting_counts_members_who_submitted(cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=4)
    chosen = pick(world.dossier.criteria_set, 60)
    for member in world.members[:2]:
        quick_sheet(world.session, world.dossier, member, chosen)
    quick_sheet(world.session, world.dossier, world.members[2], chosen,
                state=SheetState.DRAFT)
    q = quorum(world.session)
    assert (q.by_meeting, q.present, q.needed, q.met) == (False, 2, 3, False)
    quick_sheet(world.session, world.dossier, world.members[3], chosen)
    assert quorum(world.session).met


# --- the result ------------------------------------------------------------------------------


def test_result_counts_submitted_non_recused_sheets_with_hand_computed_means(
        cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=4)
    cs = world.dossier.criteria_set
    chosen = [pick(cs, 72, stars=4), pick(cs, 78, stars=4, reverse=True),
              pick(cs, 75, stars=4), pick(cs, 99, stars=4)]
    for member, choice in zip(world.members[:3], chosen[:3], strict=True):
        quick_sheet(world.session, world.dossier, member, choice)
    # the fourth member scored high, then declared a conflict of interest
    quick_sheet(world.session, world.dossier, world.members[3], chosen[3])
    Recusal.objects.create(session=world.session, member=world.members[3],
                           dossier=world.dossier, reason="Người thân của chủ thể",
                           recorded_by=world.users[3])

    result = services.item_result(world.session, world.dossier)

    counted = [by_hand(cs, c) for c in chosen[:3]]
    assert [m.member_id for m in result.counted] == [m.pk for m in world.members[:3]]
    assert [m.total for m in result.counted] == [Decimal(72), Decimal(78), Decimal(75)]
    for part in "ABC":
        assert result.mean.parts[part] == mean_by_hand([p[part] for p, _t in counted])
    assert result.mean.total == Decimal("75.00")
    assert (result.band_stars, result.stars) == (4, 4)
    assert result.divergence.spread == Decimal(6) and not result.divergence.flagged
    assert result.outcome == "forward"  # 148 district: ≥ 70 goes up to the province
    assert [r.member_id for r in result.recused] == [world.members[3].pk]


def test_result_ignores_draft_reopened_advisory_and_secretary_sheets(
        cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=3)
    cs = world.dossier.criteria_set
    quick_sheet(world.session, world.dossier, world.members[0], pick(cs, 60))
    quick_sheet(world.session, world.dossier, world.members[1], pick(cs, 90),
                state=SheetState.REOPENED)
    quick_sheet(world.session, world.dossier, world.members[2], pick(cs, 95),
                state=SheetState.DRAFT)
    quick_sheet(world.session, world.dossier, world.secretary, pick(cs, 99))

    result = services.item_result(world.session, world.dossier)

    assert result.members_counted == 1
    assert result.mean.total == Decimal("60.00")
    assert [s.status for s in result.not_submitted] == ["reopened", "draft"]


def test_result_reports_the_criterion_that_capped_the_star(cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=3)
    cs = world.dossier.criteria_set
    # 80 points, but every member ticks the lowest option of 1.c (the 4★ mark needs 2 pts)
    for member in world.members:
        quick_sheet(world.session, world.dossier, member, pick(cs, 80, stars=4, below={"1.c"}))

    result = services.item_result(world.session, world.dossier)

    assert (result.band_stars, result.stars) == (4, 3)
    reasons = [(c.code, c.required_star, c.required_points, c.median_points)
               for c in result.cap_lines]
    assert ("1.c", 4, Decimal(2), Decimal(1)) in reasons
    assert all(c.title for c in result.cap_lines)
    assert result.as_dict()["cap_reasons"][0]["code"] == result.cap_lines[0].code
    # 148 district: 80 ≥ 70 but capped to 3★, so the district recognises it 3★ instead of
    # forwarding it to a province that recognises only 4★ (docs/regimes-and-levels.md)
    assert (result.outcome, result.outcome_stars) == ("recognise", 3)


def test_divergence_flagged_above_threshold_not_at_threshold(cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=2, n_dossiers=2)
    cs = world.dossier.criteria_set
    at, above = world.dossiers
    quick_sheet(world.session, at, world.members[0], pick(cs, 60))
    quick_sheet(world.session, at, world.members[1], pick(cs, 70))
    quick_sheet(world.session, above, world.members[0], pick(cs, 60))
    quick_sheet(world.session, above, world.members[1], pick(cs, 71))
    assert world.council.divergence_threshold == Decimal(10)

    exactly = services.item_result(world.session, at)
    more = services.item_result(world.session, above)

    assert (exactly.divergence.spread, exactly.divergence.flagged) == (Decimal(10), False)
    assert (more.divergence.spread, more.divergence.flagged) == (Decimal(11), True)
    assert more.as_dict()["divergence"] == {"spread": "11.00", "threshold": "10.00",
                                            "flagged": True}


def test_divergence_threshold_is_the_councils_setting(cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=2, divergence_threshold=Decimal(5))
    cs = world.dossier.criteria_set
    quick_sheet(world.session, world.dossier, world.members[0], pick(cs, 60))
    quick_sheet(world.session, world.dossier, world.members[1], pick(cs, 66))
    assert services.item_result(world.session, world.dossier).divergence.flagged


@pytest.mark.parametrize(("target", "stars", "band", "outcome", "outcome_stars"), [
    (40, 2, 2, "not_recognise", None),
    (60, 3, 3, "recognise", 3),
    (69, 3, 3, "recognise", 3),
    (70, 4, 4, "forward", None),   # ≥ 70 goes up to the province
    (85, 4, 4, "forward", None),
])
def test_outcome_148_district_recognises_3_stars_and_forwards_from_70(
        cantho, criteria, make_user, target, stars, band, outcome, outcome_stars):
    world = build(cantho, make_user, n_members=2)
    cs = world.dossier.criteria_set
    chosen = pick(cs, target, stars=max(stars, 3))
    for member in world.members:
        quick_sheet(world.session, world.dossier, member, chosen)

    result = services.item_result(world.session, world.dossier)

    assert result.mean.total == Decimal(target)
    assert result.band_stars == band
    assert (result.outcome, result.outcome_stars) == (outcome, outcome_stars)


@pytest.mark.parametrize(("target", "stars", "below", "outcome", "outcome_stars"), [
    (45, 3, (), "not_recognise", None),
    (60, 3, (), "recognise", 3),
    (80, 4, (), "recognise", 4),          # the province recognises 4★ itself
    (80, 4, ("6.1",), "recognise", 3),    # capped by a 4★ mark → recognised 3★
    (89, 4, (), "recognise", 4),
    (90, 5, (), "forward", None),         # ≥ 90 goes to the Ministry
])
def test_outcome_26_2026_province_recognises_3_and_4_stars_and_forwards_from_90(
        cantho, criteria, make_user, target, stars, below, outcome, outcome_stars):
    world = build(cantho, make_user, n_members=2, regime="26/2026", admin_level="province",
                  unit="province", set_no=1)
    cs = world.dossier.criteria_set
    chosen = pick(cs, target, stars=stars, below=set(below))
    for member in world.members:
        quick_sheet(world.session, world.dossier, member, chosen)

    result = services.item_result(world.session, world.dossier)

    assert result.mean.total == Decimal(target)
    assert (result.outcome, result.outcome_stars) == (outcome, outcome_stars)
    assert result.as_dict()["level"] == {"admin_level": "province", "recognises": [3, 4],
                                         "forward_from": "90.00"}


def test_result_without_counted_sheet_has_no_evaluation(cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=2)
    result = services.item_result(world.session, world.dossier)
    assert result.evaluation is None and result.outcome is None
    assert [s.status for s in result.statuses] == ["not_started", "not_started"]
