"""Council services: councils, sessions, agenda, attendance, recusals, closing items and the
session. Each refusal changes nothing; permissions use an owner, a colleague of the same
area with another role, and an outsider."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from councils import rules, services
from councils.models import (
    AgendaItem,
    Attendance,
    Council,
    CouncilMember,
    DocumentStatus,
    EvaluationSession,
    GeneratedDocument,
    ItemResultRecord,
    MemberRole,
    PeerVisibility,
    Recusal,
    SessionState,
)
from dossiers.models import Dossier, DossierState, Transition
from ocop.accounts.models import Role
from ocop.audit.models import AuditEvent
from scoring import services as scoring
from scoring.models import Scoresheet, SheetState
from tests import factories
from tests.councils import build, by_hand, mean_by_hand, meet, pick, quick_sheet, score

pytestmark = pytest.mark.django_db


STATEMENT = "Hội đồng đã thảo luận về chênh lệch; các thành viên giữ nguyên điểm đã chấm."


def council_data(unit, **extra):
    data = {"name": "Hội đồng đánh giá, phân hạng sản phẩm OCOP quận Ninh Kiều",
            "level": "district", "unit": unit, "decision_number": "15/QĐ-UBND",
            "decision_date": datetime.date(2025, 3, 1), "decision_signer": "Chủ tịch UBND"}
    data.update(extra)
    return data


# --- councils --------------------------------------------------------------------------------


def test_create_council_with_roles_advisory_team_and_default_settings(
        cantho, criteria, make_user):
    staff = make_user("staff", Role.DEPARTMENT_STAFF, cantho["province"])
    people = [make_user(f"p{i}") for i in range(5)]

    council = services.create_council(staff, data=council_data(cantho["ninhkieu"]), members=[
        {"user": people[0], "role": "chair", "organisation": "UBND quận"},
        {"user": people[1], "role": "vice_chair"},
        {"user": people[2]},
        {"user": people[3], "role": "secretary"},
        {"user": people[4].pk, "advisory": True, "organisation": "Phòng Kinh tế"},
    ])

    council.refresh_from_db()
    assert council.quorum_ratio == Decimal("0.75") and council.chair_required
    assert council.divergence_threshold == Decimal(10)
    assert council.peer_visibility == PeerVisibility.AFTER_CLOSE
    rows = list(council.members.order_by("order"))
    assert [m.role for m in rows] == ["chair", "vice_chair", "member", "secretary", "member"]
    assert [m.scores for m in rows] == [True, True, True, False, False]
    assert rows[4].advisory and rows[4].organisation == "Phòng Kinh tế"
    assert AuditEvent.objects.filter(action="council.created",
                                     object_id=str(council.pk)).exists()


def test_create_council_refused_for_colleague_and_outsider(cantho, criteria, make_user):
    colleague = make_user("officer", Role.LOCAL_OFFICER, cantho["phongdien"])
    outsider = make_user("other-staff", Role.DEPARTMENT_STAFF, cantho["phongdien"])
    chair = make_user("chair")
    for user in (colleague, outsider):
        with pytest.raises(services.CouncilError) as refused:
            services.create_council(user, data=council_data(cantho["ninhkieu"]),
                                    members=[{"user": chair, "role": "chair"}])
        assert refused.value.code == "permission"
    assert not Council.objects.exists()


def test_district_officer_sets_up_own_district_council_only(cantho, criteria, make_user):
    """Under 148 the district People's Committee sets up its council (docs/councils.md)."""
    officer = make_user("officer", Role.LOCAL_OFFICER, cantho["ninhkieu"])
    chair = make_user("chair")
    council = services.create_council(officer, data=council_data(cantho["ninhkieu"]),
                                      members=[{"user": chair, "role": "chair"}])
    assert council.unit == cantho["ninhkieu"]
    with pytest.raises(services.CouncilError) as refused:
        services.create_council(officer, data=council_data(cantho["phongdien"]),
                                members=[{"user": chair, "role": "chair"}])
    assert refused.value.code == "permission"
    assert Council.objects.count() == 1


@pytest.mark.parametrize("members", [
    [{"role": "member"}],
    [{"role": "chair"}, {"role": "chair"}],
    [{"role": "chair", "advisory": True}],
])
def test_create_council_needs_exactly_one_scoring_chair(cantho, criteria, make_user, members):
    staff = make_user("staff", Role.DEPARTMENT_STAFF, cantho["province"])
    rows = [{"user": make_user(f"u{i}"), **m} for i, m in enumerate(members)]
    with pytest.raises(services.CouncilError):
        services.create_council(staff, data=council_data(cantho["ninhkieu"]), members=rows)
    assert not Council.objects.exists() and not CouncilMember.objects.exists()


def test_create_council_refuses_invalid_settings(cantho, criteria, make_user):
    staff = make_user("staff", Role.DEPARTMENT_STAFF, cantho["province"])
    with pytest.raises(services.CouncilError) as refused:
        services.create_council(
            staff, data=council_data(cantho["ninhkieu"], quorum_ratio=Decimal("1.5")),
            members=[{"user": make_user("c"), "role": "chair"}])
    assert refused.value.code == "invalid"
    assert not Council.objects.exists()


# --- sessions and agenda -----------------------------------------------------------------------


def test_create_session_refuses_a_round_of_another_level(cantho, criteria, make_user):
    world = build(cantho, make_user)
    province_round = factories.evaluation_round(cantho["province"], admin_level="province")
    with pytest.raises(services.CouncilError) as refused:
        services.create_session(world.staff, council=world.council, round=province_round,
                                date=datetime.date(2025, 6, 5))
    assert refused.value.code == "wrong_round"

    session = services.create_session(world.staff, council=world.council, round=world.round,
                                      date=datetime.date(2025, 6, 5), place="Hội trường")
    assert session.state == SessionState.PREPARING


def test_set_agenda_moves_accepted_dossiers_to_in_evaluation(cantho, criteria, make_user):
    world = build(cantho, make_user, n_dossiers=0, session_state="preparing")
    first, second = (factories.dossier(world.round, state="accepted") for _ in range(2))

    services.set_agenda(world.staff, world.session, [second, first])

    assert list(world.session.agenda.values_list("dossier_id", flat=True)) == [
        second.pk, first.pk]
    assert set(Dossier.objects.filter(pk__in=[first.pk, second.pk]).values_list(
        "state", flat=True)) == {DossierState.IN_EVALUATION}
    assert Transition.objects.filter(dossier=first, to_state="in_evaluation").exists()


def test_set_agenda_refuses_other_round_and_unaccepted_dossiers_changing_nothing(
        cantho, criteria, make_user):
    world = build(cantho, make_user, n_dossiers=0, session_state="preparing")
    ready = factories.dossier(world.round, state="accepted", product_name="Nước mắm Cái Răng")
    draft = factories.dossier(world.round, state="draft", product_name="Tương ớt Ninh Kiều")
    other_round = factories.evaluation_round(cantho["ninhkieu"])
    foreign = factories.dossier(other_round, state="accepted", product_name="Mắm tôm")

    with pytest.raises(services.CouncilError) as refused:
        services.set_agenda(world.staff, world.session, [ready, draft])
    assert refused.value.code == "dossier_state"
    assert "Tương ớt Ninh Kiều" in refused.value.message
    assert "Nước mắm Cái Răng" not in refused.value.message

    with pytest.raises(services.CouncilError) as refused:
        services.set_agenda(world.staff, world.session, [ready, foreign])
    assert refused.value.code == "wrong_round" and "Mắm tôm" in refused.value.message

    assert not AgendaItem.objects.filter(session=world.session).exists()
    ready.refresh_from_db()
    assert ready.state == DossierState.ACCEPTED


def test_set_agenda_refused_to_colleague_and_cannot_drop_an_item(cantho, criteria, make_user):
    world = build(cantho, make_user, n_dossiers=0, session_state="preparing")
    dossier = factories.dossier(world.round, state="accepted")
    officer = make_user("officer", Role.LOCAL_OFFICER, cantho["phongdien"])
    with pytest.raises(services.CouncilError) as refused:
        services.set_agenda(officer, world.session, [dossier])
    assert refused.value.code == "permission"

    services.set_agenda(world.staff, world.session, [dossier])
    with pytest.raises(services.CouncilError) as refused:
        services.set_agenda(world.staff, world.session, [])
    assert refused.value.code == "cannot_remove"
    assert world.session.agenda.count() == 1


def test_session_states_preparing_open_meeting_with_attendance(cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=3, n_dossiers=0, session_state="preparing")
    with pytest.raises(services.CouncilError) as refused:
        services.open_scoring(world.staff, world.session)
    assert refused.value.code == "empty_agenda"

    services.set_agenda(world.staff, world.session,
                        [factories.dossier(world.round, state="accepted")])
    with pytest.raises(services.CouncilError) as refused:
        services.start_meeting(world.staff, world.session, present=world.members)
    assert refused.value.code == "state"

    services.open_scoring(world.staff, world.session)
    session = services.start_meeting(world.secretary.user, world.session,
                                     present=world.members[:2])

    assert session.state == SessionState.MEETING
    attendance = dict(Attendance.objects.filter(session=session).values_list(
        "member_id", "present"))
    assert attendance == {world.members[0].pk: True, world.members[1].pk: True,
                          world.members[2].pk: False, world.secretary.pk: False}
    assert AuditEvent.objects.filter(action="session.meeting_started").exists()


# --- recusals ---------------------------------------------------------------------------------


def test_recusal_by_the_member_or_the_secretary_only(cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=3)
    a, b, c = world.members
    with pytest.raises(services.CouncilError) as refused:
        services.declare_recusal(b.user, world.session, member=c, dossier=world.dossier,
                                 reason="Họ hàng")
    assert refused.value.code == "permission"
    with pytest.raises(services.CouncilError) as refused:
        services.declare_recusal(b.user, world.session, member=b, dossier=world.dossier,
                                 reason="  ")
    assert refused.value.code == "reason_required"
    assert not Recusal.objects.exists()

    services.declare_recusal(b.user, world.session, member=b, dossier=world.dossier,
                             reason="Là thành viên hợp tác xã")
    services.declare_recusal(world.secretary.user, world.session, member=c,
                             dossier=world.dossier, reason="Người thân của chủ thể")
    with pytest.raises(services.CouncilError) as refused:
        services.declare_recusal(b.user, world.session, member=b, dossier=world.dossier,
                                 reason="Lần nữa")
    assert refused.value.code == "already_recused"
    assert Recusal.objects.filter(session=world.session).count() == 2

    # the recused member can no longer open the dossier's sheet
    with pytest.raises(scoring.ScoringError) as blocked:
        scoring.open_sheet(world.session, world.dossier, b, b.user)
    assert blocked.value.code == "recused"


def test_recusal_after_a_submitted_sheet_leaves_it_out_of_the_recorded_result(
        cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=3)
    cs = world.dossier.criteria_set
    score(world.session, world.dossier, world.members[0], pick(cs, 72, stars=4))
    score(world.session, world.dossier, world.members[1], pick(cs, 76, stars=4))
    score(world.session, world.dossier, world.members[2], pick(cs, 98, stars=4))
    services.declare_recusal(world.members[2].user, world.session, member=world.members[2],
                             dossier=world.dossier, reason="Góp vốn vào cơ sở")
    services.start_meeting(world.staff, world.session, present=world.members)

    services.close_item(world.chair.user, world.session, world.dossier)

    record = ItemResultRecord.objects.get(item__dossier=world.dossier)
    assert record.members_counted == 2
    assert [m["member"] for m in record.members] == [world.members[0].pk,
                                                     world.members[1].pk]
    assert record.mean_total == Decimal("74.00")


# --- closing an item ---------------------------------------------------------------------------


@pytest.mark.parametrize("targets", [(72, 75, 81), (72, 75, 81, 70, 77, 88, 74)])
def test_close_item_records_the_result_computed_by_hand(cantho, criteria, make_user, targets):
    world = build(cantho, make_user, n_members=len(targets))
    cs = world.dossier.criteria_set
    chosen = [pick(cs, t, stars=4, reverse=bool(i % 2)) for i, t in enumerate(targets)]
    for member, choice in zip(world.members, chosen, strict=True):
        score(world.session, world.dossier, member, choice)
    services.start_meeting(world.staff, world.session, present=world.members)

    item = services.close_item(world.chair.user, world.session, world.dossier,
                               divergence_statement=STATEMENT)

    hand = [by_hand(cs, c) for c in chosen]
    totals = [t for _p, t in hand]
    record = ItemResultRecord.objects.get(item=item)
    assert record.members_counted == len(targets)
    assert [Decimal(m["total"]) for m in record.members] == totals
    assert [{k: Decimal(v) for k, v in m["parts"].items()} for m in record.members] == [
        p for p, _t in hand]
    assert record.mean_a == mean_by_hand([p["A"] for p, _t in hand])
    assert record.mean_b == mean_by_hand([p["B"] for p, _t in hand])
    assert record.mean_c == mean_by_hand([p["C"] for p, _t in hand])
    assert record.mean_total == mean_by_hand(totals)
    assert 70 <= record.mean_total < 90 and (record.band_stars, record.stars) == (4, 4)
    assert record.cap_reasons == []
    assert record.divergence == max(totals) - min(totals)
    assert record.divergence_flagged == (max(totals) - min(totals) > 10)
    assert (record.outcome, record.outcome_stars) == ("forward", None)
    assert record.quorum["met"] and record.quorum["needed"] == -(-len(targets) * 3 // 4)

    assert record.divergence_statement == (STATEMENT if record.divergence_flagged else "")

    item.refresh_from_db()
    assert item.closed_at is not None
    # the dossier takes the council's result when the session closes, not before
    assert Dossier.objects.get(pk=world.dossier.pk).state == DossierState.IN_EVALUATION
    services.close_session(world.chair.user, world.session)
    dossier = Dossier.objects.get(pk=world.dossier.pk)
    assert dossier.state == DossierState.FORWARDED
    recorded = Transition.objects.get(dossier=dossier, to_state="result_recorded")
    assert recorded.details["total"] == str(record.mean_total)
    assert recorded.details["members_counted"] == len(targets)
    assert "members" not in recorded.details


def test_close_item_without_quorum_is_refused_and_changes_nothing(cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=7)
    cs = world.dossier.criteria_set
    for member in world.members[:5]:
        quick_sheet(world.session, world.dossier, member, pick(cs, 75, stars=4))
    services.start_meeting(world.staff, world.session, present=world.members[:5])
    events = AuditEvent.objects.count()

    with pytest.raises(services.CouncilError) as refused:
        services.close_item(world.chair.user, world.session, world.dossier)

    assert refused.value.code == "no_quorum"
    assert "6" in refused.value.message and "7" in refused.value.message
    assert refused.value.details["needed"] == 6 and refused.value.details["present"] == 5
    assert not ItemResultRecord.objects.exists()
    assert AgendaItem.objects.get(session=world.session).closed_at is None
    assert Dossier.objects.get(pk=world.dossier.pk).state == DossierState.IN_EVALUATION
    assert AuditEvent.objects.count() == events


def test_close_item_refused_when_chair_required_but_absent(cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=4)
    cs = world.dossier.criteria_set
    for member in world.members:
        quick_sheet(world.session, world.dossier, member, pick(cs, 75, stars=4))
    services.start_meeting(world.staff, world.session, present=world.members[1:])

    with pytest.raises(services.CouncilError) as refused:
        services.close_item(world.chair.user, world.session, world.dossier)
    assert refused.value.code == "no_quorum" and refused.value.details["chair_present"] is False


def test_close_item_refused_listing_present_members_who_have_not_submitted(
        cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=4)
    cs = world.dossier.criteria_set
    quick_sheet(world.session, world.dossier, world.members[0], pick(cs, 75, stars=4))
    quick_sheet(world.session, world.dossier, world.members[1], pick(cs, 75, stars=4))
    quick_sheet(world.session, world.dossier, world.members[2], pick(cs, 75, stars=4),
                state="reopened")
    # members[3] is present and never opened the sheet
    services.start_meeting(world.staff, world.session, present=world.members)

    with pytest.raises(services.CouncilError) as refused:
        services.close_item(world.chair.user, world.session, world.dossier)

    assert refused.value.code == "not_submitted"
    assert refused.value.details["members"] == [world.members[2].pk, world.members[3].pk]
    assert "Thành viên M2" in refused.value.message and "Thành viên M3" in refused.value.message
    assert not ItemResultRecord.objects.exists()


def test_close_item_ignores_an_absent_member_who_never_submitted(cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=4)
    cs = world.dossier.criteria_set
    for member in world.members[:3]:
        quick_sheet(world.session, world.dossier, member, pick(cs, 75, stars=4))
    services.start_meeting(world.staff, world.session, present=world.members[:3])

    services.close_item(world.chair.user, world.session, world.dossier)
    assert ItemResultRecord.objects.get().members_counted == 3


def test_close_item_only_by_the_chair(cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=3)
    for member in world.members:
        quick_sheet(world.session, world.dossier, member,
                    pick(world.dossier.criteria_set, 75, stars=4))
    meet(world)
    for user in (world.members[1].user, world.secretary.user, world.staff):
        with pytest.raises(services.CouncilError) as refused:
            services.close_item(user, world.session, world.dossier)
        assert refused.value.code == "permission"
        assert refused.value.message == str(rules.WHO_LABELS["close_item"])
    assert not ItemResultRecord.objects.exists()


def test_close_item_needs_the_meeting_not_only_submitted_sheets(cantho, criteria, make_user):
    """Every sheet is in and the session is merely "open for scoring": attendance was never
    taken, so the council has not met and nothing can be closed."""
    world = build(cantho, make_user, n_members=3)
    cs = world.dossier.criteria_set
    for member in world.members:
        quick_sheet(world.session, world.dossier, member, pick(cs, 60))

    with pytest.raises(services.CouncilError) as refused:
        services.close_item(world.chair.user, world.session, world.dossier)

    assert refused.value.code == "state"
    assert not ItemResultRecord.objects.exists()
    assert AgendaItem.objects.get(session=world.session).closed_at is None
    meet(world)
    services.close_item(world.chair.user, world.session, world.dossier)
    assert ItemResultRecord.objects.get().quorum["by_meeting"] is True


def test_meeting_cannot_start_before_the_sessions_date(cantho, criteria, make_user):
    """A session dated 12/12 cannot hold its meeting (and so close items) on 05/12."""
    world = build(cantho, make_user, n_members=3)
    world.session.date = timezone.localdate() + datetime.timedelta(days=7)
    world.session.save(update_fields=["date"])
    for member in world.members:
        quick_sheet(world.session, world.dossier, member, pick(world.dossier.criteria_set, 60))

    with pytest.raises(services.CouncilError) as refused:
        services.start_meeting(world.staff, world.session, present=world.members)

    assert refused.value.code == "before_meeting_day"
    assert world.session.date.strftime("%d/%m/%Y") in refused.value.message
    assert EvaluationSession.objects.get(pk=world.session.pk).state == SessionState.OPEN
    assert not Attendance.objects.filter(session=world.session).exists()
    with pytest.raises(services.CouncilError):
        services.close_item(world.chair.user, world.session, world.dossier)
    assert not ItemResultRecord.objects.exists()


# --- divergence ---------------------------------------------------------------------------------


def divergent_world(cantho, make_user):
    """Four members; totals 60, 62, 65 and 84: a spread of 24 above the threshold of 10."""
    world = build(cantho, make_user, n_members=4)
    cs = world.dossier.criteria_set
    sheets = [score(world.session, world.dossier, member, pick(cs, target))
              for member, target in zip(world.members, (60, 62, 65, 84), strict=True)]
    meet(world)
    return world, sheets


def test_divergent_item_does_not_close_with_one_click(cantho, criteria, make_user):
    world, _sheets = divergent_world(cantho, make_user)

    for statement in ("", "   "):
        with pytest.raises(services.CouncilError) as refused:
            services.close_item(world.chair.user, world.session, world.dossier,
                                divergence_statement=statement)
        assert refused.value.code == "divergent"
        assert "24.00" in refused.value.message and "10.00" in refused.value.message

    assert not ItemResultRecord.objects.exists()
    assert AgendaItem.objects.get(session=world.session).closed_at is None


def test_divergent_item_closes_after_a_rescore_within_the_threshold(cantho, criteria, make_user):
    world, sheets = divergent_world(cantho, make_user)
    outlier = world.members[3]
    services.reopen_sheet(world.chair.user, sheets[3], "Chênh lệch 24 điểm, đề nghị xem lại")
    with pytest.raises(services.CouncilError) as refused:
        services.close_item(world.chair.user, world.session, world.dossier)
    assert refused.value.code == "not_submitted"  # the reopened sheet must come back

    cs = world.dossier.criteria_set
    sheet = Scoresheet.objects.get(pk=sheets[3].pk)
    for criterion_id, option in pick(cs, 68).items():
        sheet = scoring.save_entry(sheet, outlier.user, criterion_id=criterion_id,
                                   option_id=option.pk, version=sheet.version)
    scoring.submit_sheet(sheet, outlier.user)

    services.close_item(world.chair.user, world.session, world.dossier)

    record = ItemResultRecord.objects.get()
    assert (record.divergence, record.divergence_flagged) == (Decimal("8.00"), False)
    assert record.divergence_statement == ""
    assert sorted(Decimal(m["total"]) for m in record.members) == [60, 62, 65, 68]


def test_divergent_item_closes_with_the_chairs_statement_audited(cantho, criteria, make_user):
    world, _sheets = divergent_world(cantho, make_user)

    services.close_item(world.chair.user, world.session, world.dossier,
                        divergence_statement=f"  {STATEMENT}  ")

    record = ItemResultRecord.objects.get()
    assert record.divergence_flagged and record.divergence_statement == STATEMENT
    event = AuditEvent.objects.get(action="session.item_closed")
    assert event.reason == STATEMENT
    assert event.after["divergence"]["statement"] == STATEMENT
    assert "members" not in event.after


# --- reopening a sheet --------------------------------------------------------------------------


def test_nobody_reopens_their_own_sheet_the_vice_chair_reopens_the_chairs(
        cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=4)
    chair, vice, member, other = world.members
    vice.role = MemberRole.VICE_CHAIR
    vice.save(update_fields=["role"])
    cs = world.dossier.criteria_set
    sheets = {m.pk: score(world.session, world.dossier, m, pick(cs, 70)) for m in world.members}

    refusals = [
        (chair.user, chair, "own_sheet"),  # the chair, who has seen the aggregates
        (vice.user, vice, "own_sheet"),
        (member.user, member, "permission"),
        (member.user, other, "permission"),
        (vice.user, member, "permission"),  # the vice-chair reopens only the chair's
        (world.secretary.user, member, "permission"),
        (world.staff, member, "permission"),
    ]
    for user, owner, code in refusals:
        with pytest.raises(services.CouncilError) as refused:
            services.reopen_sheet(user, sheets[owner.pk], "Xem lại")
        assert refused.value.code == code, (user, owner)
    assert set(Scoresheet.objects.values_list("state", flat=True)) == {SheetState.SUBMITTED}

    with pytest.raises(services.CouncilError) as refused:
        services.reopen_sheet(vice.user, sheets[chair.pk], "  ")
    assert refused.value.code == "reason_required"

    services.reopen_sheet(vice.user, sheets[chair.pk], "Chủ tịch đề nghị được chấm lại phần C")
    services.reopen_sheet(chair.user, sheets[member.pk], "Chênh lệch phần B")
    reopened = dict(Scoresheet.objects.filter(state=SheetState.REOPENED)
                    .values_list("member_id", "reopen_reason"))
    assert reopened == {chair.pk: "Chủ tịch đề nghị được chấm lại phần C",
                        member.pk: "Chênh lệch phần B"}
    assert AuditEvent.objects.filter(action="scoresheet.reopened").count() == 2


def test_reopen_refused_once_the_item_is_closed(cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=3)
    cs = world.dossier.criteria_set
    sheets = [score(world.session, world.dossier, m, pick(cs, 70)) for m in world.members]
    meet(world)
    services.close_item(world.chair.user, world.session, world.dossier)

    with pytest.raises(services.CouncilError) as refused:
        services.reopen_sheet(world.chair.user, sheets[1], "Xem lại sau khi đã kết thúc")

    assert refused.value.code == "item_closed"
    assert Scoresheet.objects.get(pk=sheets[1].pk).state == SheetState.SUBMITTED
    assert ItemResultRecord.objects.get().members_counted == 3


# --- a sheet's status ---------------------------------------------------------------------------


def test_opening_a_sheet_does_not_start_it(cantho, criteria, make_user):
    """A member who only looked at the page is "not started" and blocks nothing."""
    world = build(cantho, make_user, n_members=3)
    cs = world.dossier.criteria_set
    for member in world.members[:2]:
        score(world.session, world.dossier, member, pick(cs, 70))
    looker = world.members[2]
    sheet = scoring.open_sheet(world.session, world.dossier, looker, looker.user)

    result = services.item_result(world.session, world.dossier)
    assert [s.status for s in result.statuses] == ["submitted", "submitted", "not_started"]
    assert result.pending == ()

    criterion_id, option = next(iter(pick(cs, 70).items()))
    scoring.save_entry(sheet, looker.user, criterion_id=criterion_id, option_id=option.pk,
                       version=sheet.version)
    result = services.item_result(world.session, world.dossier)
    assert result.statuses[2].status == "draft"
    assert [s.member_id for s in result.pending] == [looker.pk]


# --- closing the session ------------------------------------------------------------------------


def test_close_session_needs_every_item_closed_then_queues_the_minutes(
        cantho, criteria, make_user, django_capture_on_commit_callbacks):
    world = build(cantho, make_user, n_members=3, n_dossiers=2)
    cs = world.dossier.criteria_set
    for dossier in world.dossiers:
        for member in world.members:
            quick_sheet(world.session, dossier, member, pick(cs, 60))
    meet(world)
    services.close_item(world.chair.user, world.session, world.dossiers[0])

    with pytest.raises(services.CouncilError) as refused:
        services.close_session(world.chair.user, world.session)
    assert refused.value.code == "items_open"
    assert refused.value.details["dossiers"] == [world.dossiers[1].pk]
    assert Dossier.objects.get(pk=world.dossiers[0].pk).state == DossierState.IN_EVALUATION

    services.close_item(world.chair.user, world.session, world.dossiers[1])
    with pytest.raises(services.CouncilError) as refused:
        services.close_session(world.members[1].user, world.session)
    assert refused.value.code == "permission"

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        session = services.close_session(world.chair.user, world.session)

    assert EvaluationSession.objects.get(pk=session.pk).state == SessionState.CLOSED
    assert GeneratedDocument.objects.get(session=session).status == DocumentStatus.QUEUED
    # the minutes' job is queued once (besides the statistics' cache version, bumped once)
    from dossiers.stats import statistics

    assert len([c for c in callbacks if c is not statistics.bump_now]) == 1
    assert AuditEvent.objects.filter(action="session.closed",
                                     object_id=str(session.pk)).exists()
    # each dossier took the council's recorded result (60 points: 3 stars, recognised)
    assert set(Dossier.objects.filter(pk__in=[d.pk for d in world.dossiers])
               .values_list("state", flat=True)) == {DossierState.RECOGNISED}
    # nothing can be scored or closed any more
    with pytest.raises(services.CouncilError):
        services.close_session(world.chair.user, world.session)


def test_sheet_reopened_by_the_chair_stops_counting(cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=2)
    assert world.chair.role == MemberRole.CHAIR
    sheet = quick_sheet(world.session, world.dossier, world.members[1],
                        pick(world.dossier.criteria_set, 60))
    services.reopen_sheet(world.chair.user, sheet, "Chênh lệch điểm lớn")
    result = services.item_result(world.session, world.dossier)
    assert result.members_counted == 0


def test_migration_strips_member_scores_recorded_in_dossier_timelines(cantho, criteria):
    """Timelines written before the change held each member's name and total; the data
    migration keeps the council's aggregate only."""
    from importlib import import_module

    from django.apps import apps

    strip = import_module("dossiers.migrations.0005_strip_member_scores_from_results").strip
    round_ = factories.evaluation_round(cantho["ninhkieu"])
    dossier = factories.dossier(round_, state="recognised")
    old = Transition.objects.create(
        dossier=dossier, from_state="in_evaluation", to_state="result_recorded", details={
            "total": "74.00", "stars": 4,
            "members": [{"name": "Thành viên A", "total": "61.00"}],
            "recused": [{"name": "Thành viên B", "reason": "Người thân"}]})
    other = Transition.objects.create(dossier=dossier, from_state="draft",
                                      to_state="submitted", details={"members": "kept"})

    strip(apps, None)

    assert Transition.objects.get(pk=old.pk).details == {"total": "74.00", "stars": 4}
    assert Transition.objects.get(pk=other.pk).details == {"members": "kept"}
