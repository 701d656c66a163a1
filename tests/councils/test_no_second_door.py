"""Issue 9, defect 1 — no second door: entering evaluation and recording a result are the
council's. They happen only through ``councils.services`` (putting a dossier on a session's
agenda; the chair closing the items and the session); the generic transition endpoint
(``POST /api/v1/dossiers/{id}/transition/``), the dossier page and the dossier service refuse
both to everybody — department staff, the district officer, the council's chair and
secretary, an administrator — with the message saying where it is done, and change nothing.
Reopening a scoresheet has one door too: ``councils.services.reopen_sheet``.

Each world is built first (the agenda dossier, a dossier on no agenda, the council), then
every user knocks."""

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from rest_framework.test import APIClient

from councils import services as councils
from councils.models import AgendaItem, ItemResultRecord, SessionState
from dossiers import rules
from dossiers import services as dossier_services
from dossiers.models import Dossier, DossierState, Transition
from ocop.accounts.models import Role
from ocop.audit.models import AuditEvent
from scoring import services as scoring
from scoring.models import Option, SheetState
from tests import factories
from tests.councils import build, meet, pick, score

pytestmark = pytest.mark.django_db

S = DossierState

#: What the issue reports was accepted: five stars, 99 points, from no council at all.
FORGED_RESULT = {"action": "record_result",
                 "data": {"outcome": "recognise", "result": {"stars": 5, "total": "99.00"}}}
START = {"action": "start_evaluation"}
#: The council's two actions (``dossiers.rules.COUNCIL_ONLY``).
COUNCIL_ACTIONS = ("start_evaluation", "record_result")


def api(user):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="vi")
    client.force_authenticate(user)
    return client


def transition(user, dossier, payload):
    return api(user).post(f"/api/v1/dossiers/{dossier.pk}/transition/", payload,
                          format="json")


def council_only_message(action):
    """The refusal as the pages and the API say it (Vietnamese, the default language)."""
    with translation.override("vi"):
        return str(rules.COUNCIL_ONLY[action])


def assert_council_only(response, action):
    assert response.status_code == 403, response.content
    error = response.json()["error"]
    assert error["code"] == "council_only"
    assert error["message"] == council_only_message(action)
    assert "99" not in error["message"]


def snapshot(dossier):
    """What a refused council action must leave as it was."""
    return {
        "state": Dossier.objects.get(pk=dossier.pk).state,
        "transitions": list(Transition.objects.filter(dossier=dossier).order_by("pk")
                            .values_list("pk", "to_state")),
        "events": AuditEvent.objects.filter(object_type="dossiers.dossier",
                                            object_id=str(dossier.pk)).count(),
    }


@pytest.fixture
def world(cantho, criteria, make_user):
    """A Ninh Kiều 148 council of three (chair first) with a secretary; its open session
    has one dossier on the agenda (in evaluation). Beside it, in the same round, an
    accepted and a pre-assessed dossier on no agenda, the district's officer and an
    administrator."""
    w = build(cantho, make_user, n_members=3)
    w.extra.update(
        accepted=factories.dossier(w.round, state=S.ACCEPTED, product_name="Mắm cá linh"),
        pre_assessed=factories.dossier(w.round, state=S.PRE_ASSESSED,
                                       product_name="Bánh pía"),
        officer=make_user("canbo.nk", Role.LOCAL_OFFICER, cantho["ninhkieu"]),
        admin=make_user("quantri", is_superuser=True, is_staff=True),
    )
    return w


def close_through_the_council(w, target):
    """Every member scores ``target`` points; the chair closes the item, then the session."""
    chosen = pick(w.dossier.criteria_set, target, stars=4)
    for member in w.members:
        score(w.session, w.dossier, member, chosen)
    meet(w)
    councils.close_item(w.chair.user, w.session, w.dossier)
    return councils.close_session(w.chair.user, w.session)


# --- the transition endpoint -----------------------------------------------------------------


def test_record_result_by_department_staff_refused_and_the_session_still_closes(world):
    before = snapshot(world.dossier)

    response = transition(world.staff, world.dossier, FORGED_RESULT)

    assert_council_only(response, "record_result")
    assert snapshot(world.dossier) == before
    assert Dossier.objects.get(pk=world.dossier.pk).state == S.IN_EVALUATION
    assert not Transition.objects.filter(dossier=world.dossier,
                                         to_state=S.RESULT_RECORDED).exists()
    assert not AuditEvent.objects.filter(action="dossier.record_result").exists()

    # the council can still do its work: meeting, sheets, close the item and the session
    session = close_through_the_council(world, 75)

    assert session.state == SessionState.CLOSED
    record = ItemResultRecord.objects.get(item__dossier=world.dossier)
    dossier = Dossier.objects.get(pk=world.dossier.pk)
    assert dossier.state == S.FORWARDED  # 75 points at the district: 4 stars, forwarded
    recorded = Transition.objects.get(dossier=dossier, to_state=S.RESULT_RECORDED)
    assert recorded.actor == world.chair.user
    assert (recorded.details["total"], recorded.details["stars"]) == (
        str(record.mean_total), 4)
    assert record.mean_total == 75
    assert Transition.objects.filter(dossier=dossier, to_state=S.RESULT_RECORDED).count() == 1


def test_record_result_by_council_chair_or_secretary_refused_without_quorum_or_sheets(world):
    before = snapshot(world.dossier)

    for member in (world.chair, world.secretary):
        # they read the dossier on their agenda: the refusal is not a "not found"
        assert api(member.user).get(f"/api/v1/dossiers/{world.dossier.pk}/").status_code == 200
        response = transition(member.user, world.dossier, FORGED_RESULT)
        assert_council_only(response, "record_result")

    assert snapshot(world.dossier) == before
    assert not ItemResultRecord.objects.exists()
    world.session.refresh_from_db()
    assert world.session.state == SessionState.OPEN
    assert world.session.agenda.get().closed_at is None


@pytest.mark.parametrize("state", ["accepted", "pre_assessed"])
def test_start_evaluation_by_district_officer_refused_for_a_dossier_on_no_agenda(world,
                                                                                state):
    officer, dossier = world.extra["officer"], world.extra[state]
    before = snapshot(dossier)

    started = transition(officer, dossier, START)
    recorded = transition(officer, dossier, FORGED_RESULT)

    assert_council_only(started, "start_evaluation")
    # the council's door, not the state: the same answer whatever the dossier's state
    assert_council_only(recorded, "record_result")
    assert snapshot(dossier) == before
    assert not AgendaItem.objects.filter(dossier=dossier).exists()

    # the one door: the district (which runs its 148 council) puts it on a session's agenda
    session = factories.session(world.council, world.round, state="preparing")
    councils.set_agenda(officer, session, [dossier])
    dossier.refresh_from_db()
    assert dossier.state == S.IN_EVALUATION
    assert Transition.objects.get(dossier=dossier, to_state=S.IN_EVALUATION).actor == officer
    # …and the result still comes only from the council
    assert_council_only(transition(officer, dossier, FORGED_RESULT), "record_result")
    assert Dossier.objects.get(pk=dossier.pk).state == S.IN_EVALUATION


def test_record_result_by_district_officer_refused_for_a_dossier_in_evaluation(world):
    """Even for a dossier in evaluation on no council's agenda (as the old door left
    them): no council, no result."""
    officer = world.extra["officer"]
    stray = factories.dossier(world.round, state=S.IN_EVALUATION, product_name="Trà mãng cầu")
    before = snapshot(stray)

    response = transition(officer, stray, FORGED_RESULT)

    assert_council_only(response, "record_result")
    assert snapshot(stray) == before


def test_council_actions_refused_to_a_superuser(world):
    admin, accepted = world.extra["admin"], world.extra["accepted"]
    before = {d.pk: snapshot(d) for d in (accepted, world.dossier)}

    assert_council_only(transition(admin, accepted, START), "start_evaluation")
    assert_council_only(transition(admin, world.dossier, FORGED_RESULT), "record_result")
    for call in (
        lambda: dossier_services.start_evaluation(admin, accepted),
        lambda: dossier_services.record_result(admin, world.dossier, outcome="recognise",
                                               result={"stars": 5, "total": "99.00"}),
    ):
        with pytest.raises(dossier_services.DossierError) as refused:
            call()
        assert refused.value.code == "council_only"

    assert {d.pk: snapshot(d) for d in (accepted, world.dossier)} == before


# --- the dossier page --------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["staff", "officer", "admin"])
def test_dossier_page_council_actions_redirect_with_the_message_and_change_nothing(
        client, world, who):
    user = world.staff if who == "staff" else world.extra[who]
    client.force_login(user, backend="ocop.accounts.backends.UserWithRolesBackend")
    cases = [(world.extra["accepted"], "start_evaluation"),
             (world.extra["pre_assessed"], "start_evaluation"),
             (world.dossier, "record_result")]
    before = {d.pk: snapshot(d) for d, _action in cases}

    for dossier, action in cases:
        url = reverse("dossiers:action", args=[dossier.pk, action])
        response = client.post(url, {"outcome": "recognise", "stars": 5},
                               HTTP_ACCEPT_LANGUAGE="vi")
        assert snapshot(dossier) == before[dossier.pk], (who, action)
        assert response.status_code == 302, (who, action)
        assert response["Location"] == reverse("dossiers:detail", args=[dossier.pk])
        page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="vi")
        html = page.content.decode()
        assert escape(council_only_message(action)) in html, (who, action)
        assert f'action="{url}"' not in html

    assert {d.pk: snapshot(d) for d, _action in cases} == before


# --- what the API offers -----------------------------------------------------------------------


def test_actions_endpoint_never_lists_the_council_actions(world):
    who = {"staff": world.staff, "officer": world.extra["officer"],
           "admin": world.extra["admin"], "chair": world.chair.user,
           "secretary": world.secretary.user}
    dossiers = [world.extra["accepted"], world.extra["pre_assessed"], world.dossier]
    seen = 0

    for name, user in who.items():
        for dossier in dossiers:
            response = api(user).get(f"/api/v1/dossiers/{dossier.pk}/actions/")
            if name in ("chair", "secretary") and dossier != world.dossier:
                assert response.status_code == 404  # not on their agenda
                continue
            assert response.status_code == 200
            body = response.json()
            for action in COUNCIL_ACTIONS:
                assert action not in body["actions"], (name, dossier.state)
                assert action not in body["transitions"], (name, dossier.state)
            seen += 1

    assert seen == 11
    # not an empty answer: before the evaluation the intake level may still withdraw
    staff_actions = api(world.staff).get(
        f"/api/v1/dossiers/{world.extra['accepted'].pk}/actions/").json()
    assert "withdraw" in staff_actions["transitions"]
    assert set(COUNCIL_ACTIONS) == set(rules.COUNCIL_ONLY)


# --- withdrawing -------------------------------------------------------------------------------


def test_withdraw_refused_once_the_dossier_is_in_evaluation(client, world):
    """The council's result decides an evaluated dossier; nobody withdraws it from the
    session (which could then never be closed)."""
    officer = world.extra["officer"]
    before = snapshot(world.dossier)

    for user in (officer, world.staff, world.extra["admin"]):
        response = transition(user, world.dossier,
                              {"action": "withdraw", "reason": "Chủ thể xin rút"})
        assert response.status_code == 409, user
        assert response.json()["error"]["code"] == "state"
        actions = api(user).get(f"/api/v1/dossiers/{world.dossier.pk}/actions/").json()
        assert "withdraw" not in actions["actions"]
    client.force_login(officer, backend="ocop.accounts.backends.UserWithRolesBackend")
    page = client.post(reverse("dossiers:withdraw", args=[world.dossier.pk]),
                       {"reason": "Chủ thể xin rút"}, HTTP_ACCEPT_LANGUAGE="vi")
    assert page.status_code == 200  # the form again, with the refusal; no redirect

    assert snapshot(world.dossier) == before
    assert Dossier.objects.get(pk=world.dossier.pk).state == S.IN_EVALUATION
    # before the evaluation it still may be withdrawn
    accepted = world.extra["accepted"]
    assert transition(officer, accepted, {"action": "withdraw",
                                          "reason": "Chủ thể xin rút"}).status_code == 200
    assert Dossier.objects.get(pk=accepted.pk).state == S.WITHDRAWN


# --- reopening a scoresheet ---------------------------------------------------------------------


def test_reopen_sheet_only_by_the_chair_through_the_council_with_a_reason(world):
    """Moved from tests/scoring/test_scoresheets.py: the scoring service no longer reopens
    sheets; the council's service does, for the chair, with a reason, audited — and the
    member may then change the sheet again."""
    member, other = world.members[1], world.members[2]
    sheet = score(world.session, world.dossier, member, pick(world.dossier.criteria_set, 70))

    assert not hasattr(scoring, "reopen_sheet")
    with pytest.raises(councils.CouncilError) as refused:
        councils.reopen_sheet(other.user, sheet, "vì sao")
    assert refused.value.code == "permission"
    with pytest.raises(councils.CouncilError) as refused:
        councils.reopen_sheet(world.chair.user, sheet, "  ")
    assert refused.value.code == "reason_required"
    sheet.refresh_from_db()
    assert sheet.state == SheetState.SUBMITTED
    assert not AuditEvent.objects.filter(action="scoresheet.reopened").exists()

    sheet = councils.reopen_sheet(world.chair.user, sheet, "Chênh lệch trên 10 điểm")

    assert sheet.state == SheetState.REOPENED
    assert sheet.reopen_reason == "Chênh lệch trên 10 điểm"
    event = AuditEvent.objects.get(action="scoresheet.reopened", object_id=str(sheet.pk))
    assert (event.actor, event.reason) == (world.chair.user, "Chênh lệch trên 10 điểm")
    # the member may change it again
    entry = sheet.entries.order_by("criterion__order").first()
    cheapest = Option.objects.filter(criterion_id=entry.criterion_id).order_by("points").first()
    sheet = scoring.save_entry(sheet, member.user, criterion_id=entry.criterion_id,
                               option_id=cheapest.pk, version=sheet.version)
    assert sheet.entries.get(criterion_id=entry.criterion_id).option_id == cheapest.pk
