"""Result secrecy (issue 9, defects 2 and 5): one rule (``councils.rules.item_view``) decides
every place that can show a council's scores.

* Defect 2 — closing one item in the meeting records its result but shows no member's
  total anywhere (dossier API and page, results API, tracker fragment, result pages, the
  dossier's timeline, the audit trail); the dossier takes the council's aggregate — never a
  member's name or score — only when the session closes.
* Defect 5 — with three counted sheets the mean, the spread and one's own total give the
  other two totals: before every present member has submitted, the chair and the
  secretary see who has submitted and the quorum, the aggregates only from
  ``max(quorum, 4)`` counted sheets, and each member's total only once every present
  member has submitted; the vice-chair, department staff and members never before the
  close.

Every test first creates the scores that could leak (distinct totals, so that each one can
be looked for), then looks for them.
"""

import json
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from councils import services
from councils.models import MemberRole, SessionState
from dossiers.models import DossierState
from ocop.audit.models import AuditEvent
from tests.councils import build, by_hand, mean_by_hand, meet, pick, score

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient(headers={"accept-language": "en"})
    client.force_authenticate(user)
    return client


def page(user, name, *args, **kwargs):
    """GET a page as ``user`` (English)."""
    client = Client(headers={"accept-language": "en"})
    client.force_login(user, backend="ocop.accounts.backends.UserWithRolesBackend")
    return client.get(reverse(name, args=args), **kwargs)


def results_api(user, session):
    return api(user).get(f"/api/v1/sessions/{session.pk}/results/")


def text(response):
    return response.content.decode()


def points(total):
    """How a total is written: the API and the pages (``61.00``), the minutes (``61,00``)."""
    value = Decimal(total).quantize(Decimal("0.01"))
    return (f"{value}", f"{value}".replace(".", ","))


def leaked(body, totals):
    """The members' totals that appear in ``body`` (a page or a JSON text)."""
    return [t for t in totals if any(p in body for p in points(t))]


def walk_keys(data):
    if isinstance(data, dict):
        for key, value in data.items():
            yield key
            yield from walk_keys(value)
    elif isinstance(data, list):
        for value in data:
            yield from walk_keys(value)


def as_vice_chair(world, index=1):
    member = world.members[index]
    member.role = MemberRole.VICE_CHAIR
    member.save(update_fields=["role"])
    return member


# --- defect 2: a closed item shows no member's score before the session closes ----------------

ITEM1 = (61, 67, 73, 79)  # distinct totals of the four present members; mean 70.00
ITEM2 = (62, 64, 66, 68)


@pytest.fixture
def closed_item(cantho, criteria, make_user):
    """Five scoring members (the second the vice-chair), the fifth absent from the meeting;
    the four present submit the first product with distinct totals and the chair closes
    it; the second product is still open (nobody has scored it) and the session is still
    in its meeting."""
    world = build(cantho, make_user, n_members=5, n_dossiers=2,
                  divergence_threshold=Decimal("25"))
    as_vice_chair(world)
    cs = world.dossier.criteria_set
    present = world.members[:4]
    meet(world, present=present)
    world.extra["chosen"] = [pick(cs, t, stars=3, reverse=bool(i % 2))
                             for i, t in enumerate(ITEM1)]
    for member, chosen in zip(present, world.extra["chosen"], strict=True):
        score(world.session, world.dossier, member, chosen)
    services.close_item(world.chair.user, world.session, world.dossier)
    world.session.refresh_from_db()
    return world


def test_closing_an_item_in_the_meeting_shows_no_members_score_anywhere(closed_item):
    world = closed_item
    first = world.dossier
    names = [m.user.full_name for m in world.members]
    absent = world.members[4].user  # has not submitted anything
    ordinary = world.members[2].user  # submitted the first product
    vice = world.members[1].user
    assert world.session.state == SessionState.MEETING

    # the dossier in the API and on its page: no member's total, no "members" in details
    for user in (world.staff, absent, ordinary):
        response = api(user).get(f"/api/v1/dossiers/{first.pk}/")
        assert response.status_code == 200
        data = response.json()
        assert leaked(text(response), ITEM1) == []
        for transition in data["transitions"]:
            details = transition["details"] or {}
            assert "members" not in set(walk_keys(details))
            dumped = json.dumps(details, ensure_ascii=False)
            assert not [n for n in names if n in dumped]
        assert data["state"] == "in_evaluation"  # takes the result with the session
        html = text(page(user, "dossiers:detail", first.pk))
        assert first.product.name in html
        assert leaked(html, ITEM1) == []
    first.refresh_from_db()
    assert first.state == DossierState.IN_EVALUATION

    # the session's results: refused to a member before the close, the aggregates and the
    # totals hidden from department staff and the vice-chair
    for user in (absent, ordinary):
        refused = results_api(user, world.session)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "confidential"
        assert leaked(text(refused), ITEM1) == []
    for user in (world.staff, vice):
        response = results_api(user, world.session)
        item = response.json()["items"][0]
        assert item["closed"] is True
        assert (item["visible"], item["result"], item["member_totals"]) == (False, None, [])
        assert item["hidden_reason"]
        assert leaked(text(response), (*ITEM1, 70)) == []

    # the tracker's live fragment, the result pages (vice-chair, staff)
    live = page(vice, "councils:tracker-live", world.session.pk, headers={"HX-Request": "true"})
    assert live.status_code == 200 and first.product.name in text(live)
    assert "Submitted: 4 of 5" in text(live)
    for user in (vice, world.staff):
        for response in (
                page(user, "councils:tracker", world.session.pk),
                page(user, "councils:session-results", world.session.pk),
                page(user, "councils:dossier-result", world.session.pk, first.pk)):
            html = text(response)
            assert response.status_code == 200
            assert leaked(html, (*ITEM1, 70)) == []
            assert 'data-field="member-total"' not in html
            assert "Each member's score" not in html
    assert leaked(text(live), (*ITEM1, 70)) == []

    # (the chair, every present member in, sees the summary table: the totals exist)
    assert leaked(text(results_api(world.chair.user, world.session)), ITEM1) == list(ITEM1)

    # the audit trail of the close keeps the council's aggregate only
    closed = AuditEvent.objects.get(action="session.item_closed")
    assert closed.after["total"] == "70.00" and closed.after["members_counted"] == 4
    assert "members" not in set(walk_keys(closed.after))
    dumped = json.dumps(closed.after, ensure_ascii=False)
    assert leaked(dumped, ITEM1) == [] and not [n for n in names if n in dumped]


def test_the_dossier_takes_the_councils_aggregate_without_members_when_the_session_closes(
        closed_item):
    world = closed_item
    first, second = world.dossiers
    names = [m.user.full_name for m in world.members]
    cs = second.criteria_set
    for i, (member, target) in enumerate(zip(world.members[:4], ITEM2, strict=True)):
        score(world.session, second, member, pick(cs, target, stars=3, reverse=bool(i % 2)))
    services.close_item(world.chair.user, world.session, second)
    services.close_session(world.chair.user, world.session)

    for dossier, totals, mean in ((first, ITEM1, "70.00"), (second, ITEM2, "65.00")):
        dossier.refresh_from_db()
        assert dossier.state != DossierState.IN_EVALUATION
        data = api(world.members[4].user).get(f"/api/v1/dossiers/{dossier.pk}/").json()
        recorded = [t for t in data["transitions"] if t["to_state"] == "result_recorded"]
        assert len(recorded) == 1
        details = recorded[0]["details"]
        assert (details["total"], details["members_counted"]) == (mean, 4)
        assert details["stars"] and details["outcome"] in ("forward", "recognise",
                                                            "not_recognise")
        assert details["session"] == world.session.pk
        assert "members" not in set(walk_keys(details))
        assert leaked(json.dumps(data, ensure_ascii=False), totals) == []
        dumped = json.dumps([t["details"] for t in data["transitions"]], ensure_ascii=False)
        assert not [n for n in names if n in dumped]

    for event in AuditEvent.objects.filter(action__in=("session.item_closed",
                                                       "dossier.record_result")):
        assert "members" not in set(walk_keys(event.after))
        dumped = json.dumps(event.after, ensure_ascii=False)
        assert leaked(dumped, (*ITEM1, *ITEM2)) == []
        assert not [n for n in names if n in dumped]
    assert AuditEvent.objects.filter(action="session.item_closed").count() == 2


# --- defect 5: no aggregates on fewer than max(quorum, 4) sheets -------------------------------

#: Chair, vice-chair, three members. Submitted in the order chair, m2, m3 (mean of three
#: 67.00), m4 (mean of four 70.50), then the vice-chair (mean of five 70.80).
TARGETS = {0: 60, 1: 72, 2: 66, 3: 75, 4: 81}


@pytest.fixture
def five(cantho, criteria, make_user):
    """Five scoring members (quorum 0.75 → 4 needed) and the secretary, all present."""
    world = build(cantho, make_user, n_members=5)
    as_vice_chair(world)
    cs = world.dossier.criteria_set
    world.extra["chosen"] = {i: pick(cs, t, stars=3, reverse=bool(i % 2))
                             for i, t in TARGETS.items()}
    meet(world)
    return world


def submit(world, *indexes):
    for i in indexes:
        score(world.session, world.dossier, world.members[i], world.extra["chosen"][i])


def by_hand_mean(world, indexes):
    cs = world.dossier.criteria_set
    sums = [by_hand(cs, world.extra["chosen"][i]) for i in indexes]
    parts = {p: mean_by_hand([s[0][p] for s in sums]) for p in ("A", "B", "C")}
    return parts, mean_by_hand([s[1] for s in sums])


def item_of(user, world):
    response = results_api(user, world.session)
    assert response.status_code == 200
    data = response.json()
    return data, data["items"][0], text(response)


def tracker_pages(user, world):
    return [text(page(user, "councils:tracker", world.session.pk)),
            text(page(user, "councils:tracker-live", world.session.pk,
                      headers={"HX-Request": "true"}))]


def test_aggregates_from_four_sheets_member_totals_once_every_present_member_is_in(five):
    world = five
    submit(world, 0, 2, 3)
    three_in(world)
    submit(world, 4)
    four_in(world)
    submit(world, 1)
    all_in(world)


def three_in(world):
    """Three of five in (the chair among them): who submitted and the quorum, no
    aggregate (the mean, the spread and one's own total would give the other two)."""
    _parts, mean3 = by_hand_mean(world, (0, 2, 3))
    assert mean3 == Decimal("67.00")
    submitted = [TARGETS[i] for i in (0, 2, 3)]

    for user in (world.chair.user, world.secretary.user):  # the chair has submitted
        data, item, body = item_of(user, world)
        assert data["quorum"]["met"] is True and data["quorum"]["needed"] == 4
        assert data["quorum"]["present"] == 5
        assert item["submitted"] == 3
        assert [s["status"] for s in item["statuses"]] == [
            "submitted", "not_started", "submitted", "submitted", "not_started"]
        assert (item["visible"], item["result"], item["member_totals"]) == (False, None, [])
        assert "4 scoresheets" in item["hidden_reason"]
        assert leaked(body, (*submitted, mean3)) == []
        for html in tracker_pages(user, world):
            assert "Submitted: 3 of 5" in html and "quorum reached" in html
            assert "The aggregates appear once 4 scoresheets are submitted." in html
            assert leaked(html, (*submitted, mean3)) == []
            assert 'data-field="mean-total"' not in html and "data-divergence" not in html
        results = text(page(user, "councils:session-results", world.session.pk))
        assert "Confidential until the session is closed." in results
        assert leaked(results, (*submitted, mean3)) == []


def four_in(world):
    """Four in (the floor; the present vice-chair not yet): the aggregates for the chair
    and the secretary, no member's total."""
    parts, mean4 = by_hand_mean(world, (0, 2, 3, 4))
    assert mean4 == Decimal("70.50")
    submitted = [TARGETS[i] for i in (0, 2, 3, 4)]

    for user in (world.chair.user, world.secretary.user):
        _data, item, body = item_of(user, world)
        assert item["visible"] is True and item["hidden_reason"] == ""
        result = item["result"]
        assert result["recorded"] is False and result["members_counted"] == 4
        assert result["total"] == f"{mean4}"
        assert result["mean"] == {p: f"{v}" for p, v in parts.items()}
        assert result["divergence"]["spread"] == "21.00"
        assert item["member_totals"] == []  # the vice-chair, present, has not submitted
        assert leaked(body, submitted) == []
        for html in tracker_pages(user, world):
            assert f'data-field="mean-total"><strong>{mean4}</strong>' in html
            assert leaked(html, submitted) == []
            assert "the council's summary table" not in html
        results = text(page(user, "councils:session-results", world.session.pk))
        assert f"{mean4}" in results and leaked(results, submitted) == []

    hidden_from_others(world, (*submitted, mean4))


def all_in(world):
    """Every present member in: the council's summary table (each member's total) for the
    chair and the secretary, still nothing for the others."""
    cs = world.dossier.criteria_set
    _parts, mean5 = by_hand_mean(world, range(5))
    assert mean5 == Decimal("70.80")

    for user in (world.chair.user, world.secretary.user):
        _data, item, _body = item_of(user, world)
        assert item["result"]["total"] == f"{mean5}"
        totals = {m["member"]: m for m in item["member_totals"]}
        assert set(totals) == {m.pk for m in world.members}
        for i, member in enumerate(world.members):
            member_parts, total = by_hand(cs, world.extra["chosen"][i])
            assert totals[member.pk]["total"] == f"{total:.2f}" == f"{TARGETS[i]}.00"
            assert totals[member.pk]["parts"] == {p: f"{v:.2f}"
                                                  for p, v in member_parts.items()}
        for html in tracker_pages(user, world):
            table = html.split("Each member's total (the council's summary table)")[1]
            for i, member in enumerate(world.members):
                row = table.split(f'<tr data-member="{member.pk}">')[1].split("</tr>")[0]
                assert member.user.full_name in row
                assert f'data-field="member-total">{TARGETS[i]}.00<' in row

    hidden_from_others(world, (*TARGETS.values(), mean5))


def hidden_from_others(world, secrets):
    """The vice-chair and department staff see who submitted, never a score; an ordinary
    member (who has submitted) is refused the results and the tracker."""
    vice = world.members[1].user
    for user in (vice, world.staff):
        _data, item, body = item_of(user, world)
        assert item["statuses"] and item["submitted"] >= 4
        assert (item["visible"], item["result"], item["member_totals"]) == (False, None, [])
        assert leaked(body, secrets) == []
        for html in tracker_pages(user, world):
            assert leaked(html, secrets) == [] and 'data-field="member-total"' not in html
        results = text(page(user, "councils:session-results", world.session.pk))
        assert leaked(results, secrets) == []
    member = world.members[2].user
    refused = results_api(member, world.session)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "confidential"
    assert leaked(text(refused), secrets) == []
    for name in ("councils:tracker", "councils:tracker-live", "councils:session-results"):
        response = page(member, name, world.session.pk)
        assert response.status_code == 403
        assert leaked(text(response), secrets) == []


def test_three_members_see_no_aggregates_at_quorum_until_every_present_member_submits(
        cantho, criteria, make_user):
    # quorum 0.5 of three: two sheets reach the quorum, still fewer than the floor of 4
    world = build(cantho, make_user, n_members=3, quorum_ratio=Decimal("0.50"))
    cs = world.dossier.criteria_set
    chosen = [pick(cs, t, stars=3, reverse=bool(i % 2)) for i, t in enumerate((63, 71, 78))]
    meet(world)
    score(world.session, world.dossier, world.members[0], chosen[0])
    score(world.session, world.dossier, world.members[1], chosen[1])

    for user in (world.chair.user, world.secretary.user):
        data, item, body = item_of(user, world)
        assert data["quorum"]["needed"] == 2 and item["submitted"] == 2
        assert (item["visible"], item["result"], item["member_totals"]) == (False, None, [])
        assert item["hidden_reason"]
        assert leaked(body, (63, 71, 67)) == []
        for html in tracker_pages(user, world):
            assert leaked(html, (63, 71, 67)) == []

    score(world.session, world.dossier, world.members[2], chosen[2])
    for user in (world.chair.user, world.secretary.user):
        _data, item, _body = item_of(user, world)
        assert item["visible"] is True
        assert item["result"]["total"] == f"{mean_by_hand([Decimal(t) for t in (63, 71, 78)])}"
        assert sorted(m["total"] for m in item["member_totals"]) == ["63.00", "71.00",
                                                                     "78.00"]
    _data, item, body = item_of(world.staff, world)
    assert item["result"] is None and leaked(body, (63, 71, 78)) == []
