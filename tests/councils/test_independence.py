"""The independence rule (councils.rules): who sees whose choices, per the council's
``peer_visibility``, before and after the session closes. Every test first creates the
sheets that could leak."""

import pytest
from django.utils import translation

from councils import rules
from councils.models import PeerVisibility, Recusal, SessionState
from councils.results import item_result, quorum
from ocop.accounts.models import Role
from scoring.models import SheetState
from tests.councils import build, meet, pick, quick_sheet

pytestmark = pytest.mark.django_db


def ids(queryset):
    return set(queryset.values_list("pk", flat=True))


@pytest.fixture
def make_world(cantho, criteria, make_user):
    def make(visibility, **extra):
        world = build(cantho, make_user, n_members=3, n_dossiers=2,
                      peer_visibility=visibility, **extra)
        cs = world.dossier.criteria_set
        chair, a, b = world.members
        first, second = world.dossiers
        world.extra = {
            "chair": quick_sheet(world.session, first, chair, pick(cs, 70)),
            "a": quick_sheet(world.session, first, a, pick(cs, 60), state=SheetState.DRAFT),
            "b": quick_sheet(world.session, first, b, pick(cs, 80)),
            "b2": quick_sheet(world.session, second, b, pick(cs, 65)),
            "a2": quick_sheet(world.session, second, a, pick(cs, 66),
                              state=SheetState.DRAFT),
        }
        return world
    return make


def close(world):
    world.session.state = SessionState.CLOSED
    world.session.save()


def test_after_submit_member_sees_others_only_once_own_sheet_is_submitted(make_world):
    world = make_world(PeerVisibility.AFTER_OWN_SUBMIT)
    sheets = world.extra
    a = world.members[1].user

    assert ids(rules.sheets_visible_to(a, world.session)) == {sheets["a"].pk,
                                                             sheets["a2"].pk}
    assert not rules.can_see_choices(a, sheets["b"])
    assert rules.can_see_choices(a, sheets["a"])

    sheets["a"].state = SheetState.SUBMITTED
    sheets["a"].save()

    visible = ids(rules.sheets_visible_to(a, world.session))
    # the other submitted sheets of the SAME dossier; not the second dossier's sheets
    assert visible == {sheets["a"].pk, sheets["a2"].pk, sheets["b"].pk, sheets["chair"].pk}
    assert rules.can_see_choices(a, sheets["b"])
    assert not rules.can_see_choices(a, sheets["b2"])

    # a recused member sees no one else's sheet of that dossier, even with their own
    # submitted (the sheet no longer counts)
    Recusal.objects.create(session=world.session, member=world.members[1],
                           dossier=world.dossiers[0], reason="Họ hàng",
                           recorded_by=world.secretary.user)
    assert not rules.can_see_choices(a, sheets["b"])
    Recusal.objects.all().delete()

    # reopened by the chair: A's view of the others closes again
    sheets["a"].state = SheetState.REOPENED
    sheets["a"].save()
    assert not rules.can_see_choices(a, sheets["b"])


def test_after_submit_does_not_show_a_draft_of_another_member(make_world):
    world = make_world(PeerVisibility.AFTER_OWN_SUBMIT)
    b = world.members[2].user
    assert not rules.can_see_choices(b, world.extra["a"])  # A's sheet is a draft
    assert rules.can_see_choices(b, world.extra["chair"])


def test_after_close_members_see_only_their_own_until_the_session_closes(make_world):
    world = make_world(PeerVisibility.AFTER_CLOSE)
    sheets = world.extra
    b = world.members[2].user  # B has submitted both sheets

    assert ids(rules.sheets_visible_to(b, world.session)) == {sheets["b"].pk,
                                                             sheets["b2"].pk}
    assert not rules.can_see_choices(b, sheets["chair"])

    close(world)
    assert ids(rules.sheets_visible_to(b, world.session)) == {s.pk for s in sheets.values()}


def test_never_members_see_only_their_own_even_after_close(make_world):
    world = make_world(PeerVisibility.NEVER)
    sheets = world.extra
    a = world.members[1].user
    close(world)

    assert ids(rules.sheets_visible_to(a, world.session)) == {sheets["a"].pk,
                                                             sheets["a2"].pk}
    assert not rules.can_see_choices(a, sheets["b"])
    assert rules.can_see_choices(world.staff, sheets["b"])  # the office keeps the record


@pytest.mark.parametrize("visibility", list(PeerVisibility))
def test_chair_and_secretary_see_no_other_choices_before_close(make_world, visibility):
    world = make_world(visibility)
    sheets = world.extra
    chair, secretary = world.chair.user, world.secretary.user

    assert ids(rules.sheets_visible_to(secretary, world.session)) == set()
    assert not rules.can_see_choices(secretary, sheets["b"])
    chair_sees = ids(rules.sheets_visible_to(chair, world.session))
    if visibility == PeerVisibility.AFTER_OWN_SUBMIT:
        # the chair has submitted on the first dossier: like any member who has
        assert chair_sees == {sheets["chair"].pk, sheets["b"].pk}
    else:
        assert chair_sees == {sheets["chair"].pk}
    assert not rules.can_see_choices(chair, sheets["a"])
    assert not rules.can_see_choices(chair, sheets["b2"])


def test_department_staff_see_nothing_before_close_and_everything_after(make_world):
    world = make_world(PeerVisibility.AFTER_CLOSE)
    assert ids(rules.sheets_visible_to(world.staff, world.session)) == set()
    assert not rules.can_see_choices(world.staff, world.extra["b"])
    close(world)
    assert len(ids(rules.sheets_visible_to(world.staff, world.session))) == 5


def test_outsiders_see_nothing_even_after_close(make_world, make_user, cantho):
    world = make_world(PeerVisibility.AFTER_CLOSE)
    close(world)
    other_area = make_user("staff-pd", Role.DEPARTMENT_STAFF, cantho["phongdien"])
    neighbour = make_user("officer-pd", Role.LOCAL_OFFICER, cantho["phongdien"])
    nobody = make_user("nobody")
    for user in (other_area, neighbour, nobody):
        assert ids(rules.sheets_visible_to(user, world.session)) == set()
        assert not rules.can_see_choices(user, world.extra["b"])


@pytest.mark.parametrize("visibility", list(PeerVisibility))
def test_only_own_sheet_visible_agrees_with_sheets_visible_to(make_world, visibility):
    """The scoresheet page skips the peers' query when ``only_own_sheet_visible`` says the
    rule shows nothing else: it must never say so when ``sheets_visible_to`` shows more."""
    world = make_world(visibility)
    for state in SessionState:
        world.session.state = state
        world.session.save()
        for own in world.extra.values():
            for sheet_state in (SheetState.DRAFT, SheetState.SUBMITTED):
                own.state = sheet_state
                own.save()
                others = (rules.sheets_visible_to(own.member.user, world.session)
                          .filter(dossier=own.dossier).exclude(pk=own.pk))
                if rules.only_own_sheet_visible(world.session, own):
                    assert not others.exists(), (visibility, state, sheet_state)
                elif state != SessionState.CLOSED:
                    assert visibility == PeerVisibility.AFTER_OWN_SUBMIT
                    assert sheet_state == SheetState.SUBMITTED


def view(user, world, dossier):
    """``rules.item_view`` of one item from its live result and the session's quorum."""
    world.session.refresh_from_db()
    return rules.item_view(user, world.session, item_result(world.session, dossier),
                           quorum=quorum(world.session))


def test_aggregates_for_secretary_during_session_chair_after_own_sheet(make_world):
    world = make_world(PeerVisibility.AFTER_CLOSE)
    first, second = world.dossiers
    chair, secretary, member = world.chair.user, world.secretary.user, world.members[1].user

    # before the meeting: two sheets of the first item counted, fewer than the floor of
    # max(quorum, 4): the trackers see who has submitted, never the aggregates
    for user in (secretary, chair, world.staff):
        seen = view(user, world, first)
        assert seen.progress and not seen.aggregates and not seen.member_totals
    assert view(secretary, world, first).reason
    with translation.override("en"):  # no own sheet
        assert "Submit your own scoresheet" in view(chair, world, second).reason
    assert view(member, world, first) == rules.ItemView()

    meet(world)
    assert not view(secretary, world, first).aggregates  # A's draft still missing
    world.extra["a"].state = SheetState.SUBMITTED
    world.extra["a"].save()

    # every present member has submitted the first item: aggregates and the summary table
    for user in (secretary, chair):
        seen = view(user, world, first)
        assert seen.aggregates and seen.member_totals and not seen.own_only
    for user in (secretary, chair):  # the second: A's draft, no sheet of the chair
        assert not view(user, world, second).aggregates
    for user in (member, world.staff):
        seen = view(user, world, first)
        assert not seen.aggregates and not seen.member_totals

    close(world)
    seen = view(world.staff, world, second)
    assert seen.aggregates and seen.member_totals and not seen.own_only
    # after the close the council's members see the results (peer visibility after_close)
    seen = view(member, world, first)
    assert seen.aggregates and seen.member_totals and not seen.own_only and not seen.progress
