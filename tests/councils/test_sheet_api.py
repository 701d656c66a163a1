"""The scoresheets API: a member's own sheets, PATCH with the version protocol (200, 409
with the current values, 400 on a foreign option, 404 on someone else's sheet), submit."""

import pytest
from rest_framework.test import APIClient

from councils.models import Recusal
from scoring.models import Criterion, Option, ScoreEntry, Scoresheet, SheetState
from scoring.services import open_sheet
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/scoresheets/"


@pytest.fixture
def board(cantho, criteria, make_user):
    chair, an, binh = (make_user(u) for u in ("api.chutich", "api.an", "api.binh"))
    outsider = make_user("api.khac")
    round_ = factories.evaluation_round(cantho["ninhkieu"])
    dossier = factories.dossier(round_, state="in_evaluation")
    second = factories.dossier(round_, state="in_evaluation")
    council = factories.council(cantho["ninhkieu"], [chair, an, binh])
    session = factories.session(council, round_, [dossier, second])
    members = {m.user.username: m for m in council.members.select_related("user")}
    return {"session": session, "dossier": dossier, "second": second, "an": an,
            "binh": binh, "outsider": outsider, "members": members}


def api(user):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_authenticate(user)
    return client


def sheet_of(board, username, dossier="dossier"):
    member = board["members"][username]
    return open_sheet(board["session"], board[dossier], member, member.user)


def options_of(sheet):
    found = {}
    for option in Option.objects.filter(criteria_set=sheet.criteria_set).order_by("order"):
        found.setdefault(option.criterion_id, []).append(option)
    return found


def test_list_and_retrieve_show_only_own_sheets_with_entries_and_totals(board):
    an_sheet = sheet_of(board, "api.an")
    binh_sheet = sheet_of(board, "api.binh")
    criteria = list(Criterion.objects.filter(criteria_set=an_sheet.criteria_set)
                    .order_by("order"))

    listed = api(board["an"]).get(URL).json()

    assert [s["id"] for s in listed["results"]] == [an_sheet.pk]
    assert binh_sheet.pk not in [s["id"] for s in listed["results"]]
    body = api(board["an"]).get(f"{URL}{an_sheet.pk}/").json()
    assert body["version"] == 1 and body["state"] == "draft"
    assert (body["session"], body["dossier"]) == (board["session"].pk, board["dossier"].pk)
    assert [e["criterion"] for e in body["entries"]] == [c.pk for c in criteria]
    assert body["entries"][0] == {"criterion": criteria[0].pk, "position": criteria[0].position,
                                  "code": criteria[0].code, "part": "A", "option": None,
                                  "note": ""}
    assert body["totals"]["parts"] == {"A": "0.00", "B": "0.00", "C": "0.00"}
    assert body["totals"]["total"] == "0.00"
    assert body["totals"]["unanswered"] == [c.pk for c in criteria]


def test_patch_saves_entries_and_returns_new_version_and_totals(board):
    sheet = sheet_of(board, "api.an")
    (c1, o1), (c2, o2) = [(cid, max(opts, key=lambda o: o.points))
                          for cid, opts in list(options_of(sheet).items())[:2]]

    response = api(board["an"]).patch(f"{URL}{sheet.pk}/", {"version": 1, "entries": [
        {"criterion": c1, "option": o1.pk, "note": "GCN số 12"},
        {"criterion": c2, "option": o2.pk}]}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 3  # one save per changed criterion
    assert body["totals"]["total"] == f"{o1.points + o2.points:.2f}"
    entries = {e["criterion"]: e for e in body["entries"]}
    assert (entries[c1]["option"], entries[c1]["note"]) == (o1.pk, "GCN số 12")
    assert entries[c2]["option"] == o2.pk
    stored = {e.criterion_id: (e.option_id, e.note) for e in sheet.entries.all()}
    assert stored[c1] == (o1.pk, "GCN số 12") and stored[c2] == (o2.pk, "")


def test_patch_with_a_stale_version_is_409_with_current_values(board):
    sheet = sheet_of(board, "api.an")
    cid, options = next(iter(options_of(sheet).items()))
    client = api(board["an"])
    client.patch(f"{URL}{sheet.pk}/", {"version": 1, "entries": [
        {"criterion": cid, "option": options[0].pk}]}, format="json")

    response = client.patch(f"{URL}{sheet.pk}/", {"version": 1, "entries": [
        {"criterion": cid, "option": options[1].pk}]}, format="json")

    assert response.status_code == 409
    body = response.json()
    assert body["error"]["code"] == "stale"
    assert "changed elsewhere" in body["error"]["message"]
    assert body["current"]["version"] == 2
    current = {e["criterion"]: e["option"] for e in body["current"]["entries"]}
    assert current[cid] == options[0].pk
    assert ScoreEntry.objects.get(sheet=sheet, criterion_id=cid).option_id == options[0].pk


def test_patch_with_a_foreign_option_is_400_and_changes_nothing(board):
    sheet = sheet_of(board, "api.an")
    (c1, opts1), (c2, _opts2) = list(options_of(sheet).items())[:2]

    response = api(board["an"]).patch(f"{URL}{sheet.pk}/", {"version": 1, "entries": [
        {"criterion": c1, "option": opts1[0].pk},
        {"criterion": c2, "option": opts1[1].pk}]}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "foreign_option"
    assert not sheet.entries.filter(option__isnull=False).exists()  # all or nothing
    assert Scoresheet.objects.get(pk=sheet.pk).version == 1


def test_patch_with_malformed_body_is_400_with_fields(board):
    sheet = sheet_of(board, "api.an")
    response = api(board["an"]).patch(f"{URL}{sheet.pk}/", {"entries": "x"}, format="json")
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "invalid" and set(body["fields"]) == {"version", "entries"}


def test_patch_on_someone_elses_sheet_is_404_and_changes_nothing(board):
    binh_sheet = sheet_of(board, "api.binh")
    sheet_of(board, "api.an")
    cid, options = next(iter(options_of(binh_sheet).items()))

    for user in (board["an"], board["outsider"]):
        response = api(user).patch(f"{URL}{binh_sheet.pk}/", {"version": 1, "entries": [
            {"criterion": cid, "option": options[0].pk}]}, format="json")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert not binh_sheet.entries.filter(option__isnull=False).exists()
    assert api(None).get(URL).status_code in (401, 403)


def test_submit_with_unanswered_is_400_listing_them_then_ok_locks(board):
    sheet = sheet_of(board, "api.an")
    by_criterion = options_of(sheet)
    criteria = list(Criterion.objects.filter(criteria_set=sheet.criteria_set).order_by("order"))
    client = api(board["an"])
    entries = [{"criterion": c.pk, "option": by_criterion[c.pk][0].pk} for c in criteria[:-2]]
    version = client.patch(f"{URL}{sheet.pk}/", {"version": 1, "entries": entries},
                           format="json").json()["version"]

    refused = client.post(f"{URL}{sheet.pk}/submit/")

    assert refused.status_code == 400
    body = refused.json()
    assert body["error"]["code"] == "unanswered"
    assert [u["criterion"] for u in body["unanswered"]] == [c.pk for c in criteria[-2:]]
    assert body["unanswered"][0]["position"] == criteria[-2].position
    rest = [{"criterion": c.pk, "option": by_criterion[c.pk][0].pk} for c in criteria[-2:]]
    version = client.patch(f"{URL}{sheet.pk}/", {"version": version, "entries": rest},
                           format="json").json()["version"]

    submitted = client.post(f"{URL}{sheet.pk}/submit/")

    assert submitted.status_code == 200
    assert submitted.json()["state"] == "submitted"
    later = client.patch(f"{URL}{sheet.pk}/", {"version": submitted.json()["version"],
                                               "entries": [{"criterion": criteria[0].pk,
                                                            "option": None}]}, format="json")
    assert later.status_code == 400
    assert later.json()["error"]["code"] == "submitted"
    assert Scoresheet.objects.get(pk=sheet.pk).state == SheetState.SUBMITTED
    assert sheet.entries.get(criterion=criteria[0]).option_id == by_criterion[criteria[0].pk][0].pk


def test_create_opens_the_sheet_once(board):
    client = api(board["an"])
    payload = {"session": board["session"].pk, "dossier": board["second"].pk}

    created = client.post(URL, payload, format="json")
    again = client.post(URL, payload, format="json")

    assert created.status_code == 201 and again.status_code == 200
    assert created.json()["id"] == again.json()["id"]
    assert len(created.json()["entries"]) == Criterion.objects.filter(
        criteria_set=board["second"].criteria_set).count()
    assert Scoresheet.objects.filter(member__user=board["an"]).count() == 1


def test_create_refused_for_recused_member_and_outsider(board):
    member = board["members"]["api.binh"]
    Recusal.objects.create(session=board["session"], member=member, dossier=board["dossier"],
                           reason="Họ hàng", recorded_by=board["binh"])
    payload = {"session": board["session"].pk, "dossier": board["dossier"].pk}

    recused = api(board["binh"]).post(URL, payload, format="json")
    outsider = api(board["outsider"]).post(URL, payload, format="json")

    assert recused.status_code == 403
    assert recused.json()["error"]["code"] == "recused"
    assert outsider.status_code == 400
    assert "session" in outsider.json()["error"]["fields"]
    assert not Scoresheet.objects.exists()
