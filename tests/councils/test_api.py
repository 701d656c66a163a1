"""API of the councils: ``/api/v1/councils/``, ``/api/v1/sessions/`` and
``/api/v1/sessions/{id}/results/`` — shapes, the independence rule, the error body, and
constant query counts for the lists."""

import pytest
from rest_framework.test import APIClient

from councils import services
from councils.models import PeerVisibility
from ocop.accounts.models import Role
from tests import factories
from tests.councils import build, meet, pick, quick_sheet, score

pytestmark = pytest.mark.django_db

#: Pinned query counts of the lists (``force_authenticate``: no session or user query).
#: Councils: role assignments, count, page, members, their users.
#: Sessions (same request user, areas cached): count, page, agenda with dossier and
#: product, the user's memberships.
COUNCIL_LIST_QUERIES = 5
SESSION_LIST_QUERIES = 4


def api(user):
    client = APIClient(headers={"accept-language": "en"})
    client.force_authenticate(user)
    return client


@pytest.fixture
def outsider(cantho, make_user, criteria):
    user = make_user("ngoai", Role.LOCAL_OFFICER, cantho["phongdien"])
    round_ = factories.evaluation_round(cantho["phongdien"])
    factories.session(factories.council(cantho["phongdien"], [user]), round_,
                      [factories.dossier(round_, state="in_evaluation")])
    return user


def scored(cantho, make_user, *, close=False, targets=(82, 76, 73), **extra):
    """One scoring member per target, every sheet submitted; with ``close`` the meeting is
    held (everybody present), the item and the session closed by the chair."""
    world = build(cantho, make_user, n_members=len(targets), **extra)
    cs = world.dossier.criteria_set
    for i, (member, target) in enumerate(zip(world.members, targets, strict=True)):
        score(world.session, world.dossier, member, pick(cs, target, stars=4,
                                                          reverse=bool(i % 2)))
    if close:
        meet(world)
        services.close_item(world.chair.user, world.session, world.dossier)
        services.close_session(world.chair.user, world.session)
    return world


# --- councils ----------------------------------------------------------------------------------


def test_council_list_and_detail_shape(cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=2)

    listed = api(world.staff).get("/api/v1/councils/").json()
    detail = api(world.staff).get(f"/api/v1/councils/{world.council.pk}/").json()

    assert [c["id"] for c in listed["results"]] == [world.council.pk]
    assert detail == listed["results"][0]
    assert detail["name"] == world.council.name
    assert (detail["level"], detail["unit"]["code"]) == ("district", cantho["ninhkieu"].code)
    assert detail["decision"] == {"number": world.council.decision_number,
                                  "date": "2026-03-01", "signer": "Nguyễn Văn Ký"}
    assert detail["settings"] == {"quorum_ratio": "0.75", "chair_required": True,
                                  "divergence_threshold": "10.00",
                                  "peer_visibility": "after_close"}
    members = {m["user"]["username"]: m for m in detail["members"]}
    assert members["m0"]["role"] == "chair" and members["m0"]["scores"] is True
    assert members["m-thuky"]["role"] == "secretary" and members["m-thuky"]["scores"] is False
    assert members["m0"]["user"]["full_name"] == "Thành viên M0"


def test_outsider_sees_no_council_and_gets_404_with_the_error_body(
        cantho, criteria, make_user, outsider):
    world = build(cantho, make_user, n_members=2)
    client = api(outsider)

    listed = client.get("/api/v1/councils/").json()
    missing = client.get(f"/api/v1/councils/{world.council.pk}/")
    sessions = client.get("/api/v1/sessions/").json()
    session = client.get(f"/api/v1/sessions/{world.session.pk}/")
    results = client.get(f"/api/v1/sessions/{world.session.pk}/results/")

    assert world.council.pk not in [c["id"] for c in listed["results"]]
    assert world.session.pk not in [s["id"] for s in sessions["results"]]
    for response in (missing, session, results):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
        assert set(response.json()["error"]) == {"code", "message", "fields"}


# --- sessions ----------------------------------------------------------------------------------


def test_session_shape_with_agenda_and_my_membership(cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=2, n_dossiers=2)

    as_chair = api(world.chair.user).get(f"/api/v1/sessions/{world.session.pk}/").json()
    as_staff = api(world.staff).get("/api/v1/sessions/").json()["results"][0]

    assert as_chair["council"] == {"id": world.council.pk, "name": world.council.name,
                                   "level": "district"}
    assert as_chair["round"]["id"] == world.round.pk
    assert (as_chair["date"], as_chair["place"], as_chair["state"]) == (
        "2026-12-01", "Hội trường UBND", "open")
    assert as_chair["state_display"] == "Open for scoring"
    assert [(a["order"], a["dossier"], a["product_name"], a["closed"])
            for a in as_chair["agenda"]] == [
        (i, d.pk, d.product.name, False) for i, d in enumerate(world.dossiers)]
    assert as_chair["my_membership"] == {"member": world.chair.pk, "role": "chair",
                                         "role_display": "Chair", "scores": True,
                                         "advisory": False}
    assert as_staff["id"] == world.session.pk and as_staff["my_membership"] is None


# --- results -----------------------------------------------------------------------------------


def test_member_gets_403_confidential_before_close(cantho, criteria, make_user):
    world = scored(cantho, make_user)

    response = api(world.members[1].user).get(f"/api/v1/sessions/{world.session.pk}/results/")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "confidential"
    assert "77.00" not in response.content.decode()


def test_secretary_gets_the_trackers_aggregates_before_close(cantho, criteria, make_user):
    # four counted sheets (the floor for aggregates before the meeting): (82+76+73+77)/4
    world = scored(cantho, make_user, targets=(82, 76, 73, 77))

    data = api(world.secretary.user).get(f"/api/v1/sessions/{world.session.pk}/results/").json()

    assert (data["session"], data["state"], data["final"]) == (world.session.pk, "open", False)
    assert data["quorum"] == {"scoring_members": 4, "needed": 3, "present": 4,
                              "chair_required": True, "chair_present": True,
                              "by_meeting": False, "met": True}
    item = data["items"][0]
    assert (item["dossier"], item["visible"], item["closed"], item["submitted"]) == (
        world.dossier.pk, True, False, 4)
    assert [s["status"] for s in item["statuses"]] == ["submitted"] * 4
    result = item["result"]
    assert result["recorded"] is False
    assert (result["members_counted"], result["total"], result["stars"]) == (4, "77.00", 4)
    assert result["divergence"] == {"spread": "9.00", "threshold": "10.00", "flagged": False}
    assert result["outcome"] == "forward"
    assert item["member_totals"] == []
    assert set(result["mean"]) == {"A", "B", "C"}


def test_chair_sees_statuses_but_no_result_before_own_sheet(cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=3)
    cs = world.dossier.criteria_set
    quick_sheet(world.session, world.dossier, world.members[1], pick(cs, 70))

    item = api(world.chair.user).get(
        f"/api/v1/sessions/{world.session.pk}/results/").json()["items"][0]

    assert item["visible"] is False and item["result"] is None
    assert [s["status"] for s in item["statuses"]] == ["not_started", "submitted",
                                                       "not_started"]


def test_results_after_close_are_the_recorded_ones_with_visible_member_totals(
        cantho, criteria, make_user):
    world = scored(cantho, make_user, close=True, peer_visibility=PeerVisibility.NEVER)

    member = api(world.members[1].user).get(
        f"/api/v1/sessions/{world.session.pk}/results/").json()
    staff = api(world.staff).get(f"/api/v1/sessions/{world.session.pk}/results/").json()

    assert member["final"] is True and member["quorum"] is None
    item = member["items"][0]
    assert item["closed"] is True and item["result"]["recorded"] is True
    assert item["result"]["total"] == "77.00" and item["statuses"] == []
    # peer visibility "never": the member sees only their own total
    assert [m["member"] for m in item["member_totals"]] == [world.members[1].pk]
    assert item["member_totals"][0]["total"] == "76.00"
    assert sorted(m["total"] for m in staff["items"][0]["member_totals"]) == [
        "73.00", "76.00", "82.00"]


def test_schema_documents_the_results_endpoint(cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=2)
    schema = api(world.staff).get("/api/schema/", {"format": "json"}).json()

    results = schema["paths"]["/api/v1/sessions/{id}/results/"]["get"]["responses"]
    assert {"200", "403", "404"} <= set(results)
    assert "/api/v1/councils/{id}/" in schema["paths"]


# --- query counts ------------------------------------------------------------------------------


@pytest.mark.parametrize(("n_members", "n_sessions"), [(2, 1), (9, 4)])
def test_list_query_counts_are_constant(cantho, criteria, make_user,
                                        django_assert_num_queries, n_members, n_sessions):
    world = build(cantho, make_user, n_members=n_members, n_dossiers=2)
    for _ in range(n_sessions - 1):
        factories.session(world.council, world.round, world.dossiers[:1], state="preparing")
    client = api(world.chair.user)

    with django_assert_num_queries(COUNCIL_LIST_QUERIES):
        councils = client.get("/api/v1/councils/").json()
    with django_assert_num_queries(SESSION_LIST_QUERIES):
        sessions = client.get("/api/v1/sessions/").json()

    assert len(councils["results"][0]["members"]) == n_members + 1
    assert sessions["count"] == n_sessions
    assert all(s["my_membership"]["role"] == "chair" for s in sessions["results"])
