"""The staff pages (councils, sessions, agenda, attendance) and the chair's tracker: sheet
states, quorum, aggregates only (independence), the divergence flag, reopening a sheet with
a reason and closing an item; who may see what (owner, colleague, outsider)."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from councils import services
from councils.models import (
    Attendance,
    Council,
    CouncilMember,
    ItemResultRecord,
    MemberRole,
    SessionState,
)
from dossiers.models import DossierState
from ocop.accounts.models import Role
from ocop.audit.models import AuditEvent
from scoring.models import Scoresheet, SheetState
from tests import factories
from tests.councils import build, by_hand, mean_by_hand, meet, pick, score

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    """Pages in English (the gettext source); numbers then read 93.67."""
    from django.test import Client

    return Client(headers={"accept-language": "en"})


def login(client, user):
    client.force_login(user, backend="ocop.accounts.backends.UserWithRolesBackend")
    return client


def url(name, *args):
    return reverse(f"councils:{name}", args=args)


def text(response):
    return response.content.decode()


def member_row(html, member):
    """The tracker's table row of one member (first agenda item)."""
    match = re.search(rf'<tr data-member="{member.pk}">(.*?)</tr>', html, re.S)
    assert match, f"no row for member {member.pk}"
    return match.group(1)


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def outsider(cantho, make_user, criteria):
    """A local officer of another district, whose own council and session exist."""
    user = make_user("ngoai", Role.LOCAL_OFFICER, cantho["phongdien"])
    round_ = factories.evaluation_round(cantho["phongdien"])
    dossier = factories.dossier(round_, state="in_evaluation")
    other = factories.council(cantho["phongdien"], [user])
    factories.session(other, round_, [dossier])
    return user


# --- the tracker: states, aggregates, divergence ----------------------------------------------


def test_tracker_shows_every_members_sheet_state(client, cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=5)
    cs = world.dossier.criteria_set
    chair, drafting, idle, recused, reopened = world.members
    score(world.session, world.dossier, chair, pick(cs, 80))
    score(world.session, world.dossier, drafting, pick(cs, 70), submit=False)
    services.declare_recusal(recused.user, world.session, member=recused,
                             dossier=world.dossier, reason="Con của chủ thể")
    sheet = score(world.session, world.dossier, reopened, pick(cs, 75))
    services.reopen_sheet(chair.user, sheet, "Hội đồng thảo luận")

    html = text(login(client, world.secretary.user).get(url("tracker", world.session.pk)))

    assert 'data-state="submitted"' in member_row(html, chair)
    assert 'data-state="draft"' in member_row(html, drafting)
    assert 'data-state="not_started"' in member_row(html, idle)
    assert 'data-state="recused"' in member_row(html, recused)
    assert "Con của chủ thể" in member_row(html, recused)
    assert 'data-state="reopened"' in member_row(html, reopened)
    assert chair.user.full_name in member_row(html, chair)
    assert "Submitted: 1 of 5" in html
    # before the meeting: the quorum is counted on the attendance, not on the sheets
    assert "4 of the 5 scoring members must be present" in html
    # in the meeting, next to "close": every PRESENT member must submit (the idle member
    # is absent and blocks nothing)
    meet(world, [chair, drafting, recused, reopened])
    html = text(login(client, chair.user).get(url("tracker", world.session.pk)))
    assert "4 present / 4 needed (of 5 scoring members)" in html
    pending = html.split("Must submit before this product can be closed:")[1].split("</p>")[0]
    assert drafting.user.full_name in pending and reopened.user.full_name in pending
    assert idle.user.full_name not in pending and chair.user.full_name not in pending


def test_tracker_shows_aggregates_never_a_members_total(client, cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=5)
    cs = world.dossier.criteria_set
    chosen = [pick(cs, 70), pick(cs, 84, reverse=True), pick(cs, 73), pick(cs, 81)]
    for member, choice in zip(world.members[:4], chosen, strict=True):
        score(world.session, world.dossier, member, choice)

    html = text(login(client, world.secretary.user).get(url("tracker", world.session.pk)))

    parts = [by_hand(cs, c)[0] for c in chosen]
    assert '<strong>77.00</strong>' in html  # (70 + 84 + 73 + 81) / 4
    for part in "ABC":
        assert f'data-field="mean-{part.lower()}">{mean_by_hand([p[part] for p in parts])}<' \
            in html
    assert "14.00" in html  # the spread, an aggregate
    for total in ("70.00", "84.00", "73.00", "81.00"):
        assert total not in html  # no member's total
    assert 'data-field="members-counted">4<' in html
    assert "member-totals" not in html


def test_tracker_flags_divergence_of_12_points_above_threshold_10(
        client, cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=2, secretary=False)
    cs = world.dossier.criteria_set
    assert world.council.divergence_threshold == Decimal(10)
    score(world.session, world.dossier, world.chair, pick(cs, 90, stars=5))
    score(world.session, world.dossier, world.members[1], pick(cs, 78, stars=4))
    meet(world)  # everybody present has submitted: the chair sees the aggregates

    html = text(login(client, world.chair.user).get(url("tracker", world.session.pk)))

    assert 'data-divergence="flagged"' in html
    assert "differ by 12.00 points (more than 10.00)" in html
    assert 'data-divergence="ok"' not in html


def test_tracker_does_not_flag_divergence_of_exactly_10_points(
        client, cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=2, secretary=False)
    cs = world.dossier.criteria_set
    score(world.session, world.dossier, world.chair, pick(cs, 90, stars=5))
    score(world.session, world.dossier, world.members[1], pick(cs, 80, stars=4))
    meet(world)

    html = text(login(client, world.chair.user).get(url("tracker", world.session.pk)))

    assert 'data-divergence="ok"' in html
    assert "10.00 points (threshold 10.00)" in html
    assert 'data-divergence="flagged"' not in html


def test_chair_sees_no_aggregates_before_submitting_own_sheet(
        client, cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=3)
    cs = world.dossier.criteria_set
    score(world.session, world.dossier, world.members[1], pick(cs, 61))
    score(world.session, world.dossier, world.members[2], pick(cs, 75))

    html = text(login(client, world.chair.user).get(url("tracker", world.session.pk)))

    assert 'data-state="submitted"' in member_row(html, world.members[1])
    assert "Submit your own scoresheet of this product to see its aggregates." in html
    assert "68.00" not in html and "mean-total" not in html and "data-divergence" not in html


def test_staff_follows_submissions_but_scores_stay_confidential_until_close(
        client, cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=2)
    cs = world.dossier.criteria_set
    score(world.session, world.dossier, world.chair, pick(cs, 66))

    html = text(login(client, world.staff).get(url("tracker", world.session.pk)))

    assert 'data-state="submitted"' in member_row(html, world.chair)
    assert "Scores are confidential until the session is closed." in html
    assert "66.00" not in html and "mean-total" not in html


def test_tracker_polls_its_fragment_and_has_a_manual_refresh_link(
        client, cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=2)
    login(client, world.chair.user)

    page = text(client.get(url("tracker", world.session.pk)))
    fragment = client.get(url("tracker-live", world.session.pk), HTTP_HX_REQUEST="true")

    live = url("tracker-live", world.session.pk)
    assert f'hx-get="{live}" hx-trigger="every 5s"' in page
    assert f'href="{url("tracker", world.session.pk)}" class="refresh"' in page
    assert "js/htmx.min.js" in page
    assert fragment.status_code == 200
    assert "<html" not in text(fragment)
    assert f'<tr data-member="{world.chair.pk}">' in text(fragment)
    assert fragment["Cache-Control"] == "no-store"


# --- reopening a sheet -----------------------------------------------------------------------


def test_chair_reopens_a_members_sheet_with_a_reason(client, cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=2)
    cs = world.dossier.criteria_set
    member = world.members[1]
    sheet = score(world.session, world.dossier, member, pick(cs, 71))
    reopen = url("reopen-sheet", world.session.pk, world.dossier.pk, member.pk)
    login(client, world.chair.user)

    tracker = text(client.get(url("tracker", world.session.pk)))
    assert f'href="{reopen}"' in member_row(tracker, member)
    response = client.post(reopen, {"reason": "Chênh lệch lớn, thảo luận lại tiêu chí 1.c"},
                           follow=True)

    sheet.refresh_from_db()
    assert sheet.state == SheetState.REOPENED
    assert sheet.reopen_reason == "Chênh lệch lớn, thảo luận lại tiêu chí 1.c"
    event = AuditEvent.objects.get(action="scoresheet.reopened", object_id=str(sheet.pk))
    assert (event.actor, event.reason) == (world.chair.user,
                                           "Chênh lệch lớn, thảo luận lại tiêu chí 1.c")
    assert any("was reopened for re-scoring" in m for m in messages_of(response))
    assert 'data-state="reopened"' in member_row(text(response), member)


def test_reopen_without_reason_is_refused_and_changes_nothing(
        client, cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=2)
    member = world.members[1]
    sheet = score(world.session, world.dossier, member, pick(world.dossier.criteria_set, 71))
    reopen = url("reopen-sheet", world.session.pk, world.dossier.pk, member.pk)

    response = login(client, world.chair.user).post(reopen, {"reason": "  "})

    assert response.status_code == 200
    assert "This field is required." in text(response)
    sheet.refresh_from_db()
    assert sheet.state == SheetState.SUBMITTED
    assert not AuditEvent.objects.filter(action="scoresheet.reopened").exists()


def test_secretary_cannot_reopen_a_sheet(client, cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=2)
    member = world.members[1]
    sheet = score(world.session, world.dossier, member, pick(world.dossier.criteria_set, 71))
    reopen = url("reopen-sheet", world.session.pk, world.dossier.pk, member.pk)
    login(client, world.secretary.user)

    assert "Reopen for re-scoring" not in text(client.get(url("tracker", world.session.pk)))
    response = client.post(reopen, {"reason": "Thử"})

    assert response.status_code == 403
    assert "Only the council chair reopens a member&#x27;s scoresheet" in text(response)
    sheet.refresh_from_db()
    assert sheet.state == SheetState.SUBMITTED


def test_chair_has_no_reopen_link_for_own_sheet_and_is_refused(
        client, cantho, criteria, make_user):
    """The chair has seen the aggregates: their own sheet is reopened by the vice-chair."""
    world = build(cantho, make_user, n_members=3)
    chair, vice, member = world.members
    vice.role = "vice_chair"
    vice.save(update_fields=["role"])
    cs = world.dossier.criteria_set
    sheets = {m.pk: score(world.session, world.dossier, m, pick(cs, 70)) for m in world.members}
    own = url("reopen-sheet", world.session.pk, world.dossier.pk, chair.pk)
    login(client, chair.user)

    tracker = text(client.get(url("tracker", world.session.pk)))
    assert 'data-action="reopen"' in member_row(tracker, member)
    assert 'data-action="reopen"' not in member_row(tracker, chair)
    response = client.post(own, {"reason": "Tôi muốn chấm lại"})
    assert response.status_code == 403
    assert Scoresheet.objects.get(pk=sheets[chair.pk].pk).state == SheetState.SUBMITTED

    login(client, vice.user)
    tracker = text(client.get(url("tracker", world.session.pk)))
    assert 'data-action="reopen"' in member_row(tracker, chair)
    assert 'data-action="reopen"' not in member_row(tracker, member)
    client.post(own, {"reason": "Chủ tịch đề nghị chấm lại phần C"})
    sheet = Scoresheet.objects.get(pk=sheets[chair.pk].pk)
    assert (sheet.state, sheet.reopen_reason) == (SheetState.REOPENED,
                                                  "Chủ tịch đề nghị chấm lại phần C")


def test_reopen_page_of_a_closed_item_says_so_and_changes_nothing(
        client, cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=3)
    cs = world.dossier.criteria_set
    sheets = [score(world.session, world.dossier, m, pick(cs, 70)) for m in world.members]
    meet(world)
    services.close_item(world.chair.user, world.session, world.dossier)
    reopen = url("reopen-sheet", world.session.pk, world.dossier.pk, world.members[1].pk)
    login(client, world.chair.user)

    assert 'data-action="reopen"' not in text(client.get(url("tracker", world.session.pk)))
    response = client.post(reopen, {"reason": "Sau khi kết thúc"}, follow=True)

    assert any("can no longer be reopened" in m for m in messages_of(response))
    assert Scoresheet.objects.get(pk=sheets[1].pk).state == SheetState.SUBMITTED


# --- closing an item -------------------------------------------------------------------------


def test_close_item_without_quorum_shows_message_and_changes_nothing(
        client, cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=3)
    cs = world.dossier.criteria_set
    score(world.session, world.dossier, world.chair, pick(cs, 80))
    score(world.session, world.dossier, world.members[1], pick(cs, 76))
    # the third member is absent: 2 present of the 3 needed (0.75 × 3 → 3)
    meet(world, world.members[:2])

    response = login(client, world.chair.user).post(
        url("close-item", world.session.pk, world.dossier.pk), {"statement": "Ghi chú"})

    assert response.status_code == 422
    assert any(m.startswith("The meeting has no quorum: at least 3 of the 3 scoring members")
               for m in messages_of(response))
    item = world.session.agenda.get()
    assert item.closed_at is None
    assert not ItemResultRecord.objects.exists()
    world.dossier.refresh_from_db()
    assert world.dossier.state == DossierState.IN_EVALUATION
    assert "Close scoring of this product" in text(response)


def test_close_item_with_quorum_records_result_equal_to_hand_computation(
        client, cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=3)
    cs = world.dossier.criteria_set
    # everybody ticks the lowest option of 1.c (the 4★ mark needs 2 points): capped at 3★
    chosen = [pick(cs, 98, stars=5, below={"1.c"}),
              pick(cs, 93, stars=5, below={"1.c"}, reverse=True),
              pick(cs, 90, stars=5, below={"1.c"})]
    for member, choice in zip(world.members, chosen, strict=True):
        score(world.session, world.dossier, member, choice)
    meet(world)
    login(client, world.chair.user)

    response = client.post(url("close-item", world.session.pk, world.dossier.pk), follow=True)

    assert any("is closed and its result recorded" in m for m in messages_of(response))
    html = text(client.get(url("dossier-result", world.session.pk, world.dossier.pk)))
    hand = [by_hand(cs, c) for c in chosen]
    assert [t for _p, t in hand] == [98, 93, 90]
    for part in "ABC":
        expected = mean_by_hand([p[part] for p, _t in hand])
        assert f'data-field="mean-{part.lower()}">{expected}<' in html
    assert '<strong>93.67</strong>' in html  # 281 / 3 = 93.666… → 93.67
    assert re.search(r'data-field="band">\s*5 stars', html)
    assert re.search(r'data-field="stars" class="stars">\s*3 stars', html)
    assert "The star is capped by the minimum star requirements" in html
    assert 'data-cap="1.c"' in html
    assert "Năng lực sản xuất để đáp ứng yêu cầu phân phối" in html  # the criterion's title
    assert "4 stars need at least 2.00 points; the members' median is 1.00" in html
    # 148 district: 93.67 ≥ 70 but capped to 3★, so the district recognises it (a province
    # recognising only 4★ is not where it goes: docs/regimes-and-levels.md, Forwarding)
    assert "Forwarded to the next level" not in html and "Recognised" in html
    record = ItemResultRecord.objects.get()
    assert (record.mean_total, record.stars, record.band_stars) == (Decimal("93.67"), 3, 5)
    # the dossier takes the result when the session closes
    world.dossier.refresh_from_db()
    assert world.dossier.state == DossierState.IN_EVALUATION
    # the session is still in its meeting: department staff see no score yet
    html = text(login(client, world.staff).get(
        url("dossier-result", world.session.pk, world.dossier.pk)))
    assert "93.67" not in html and "98.00" not in html and "Each member's score" not in html


def test_member_cannot_close_an_item(client, cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=2)
    for member in world.members:
        score(world.session, world.dossier, member, pick(world.dossier.criteria_set, 70))

    response = login(client, world.members[1].user).post(
        url("close-item", world.session.pk, world.dossier.pk))

    assert response.status_code == 403
    assert world.session.agenda.get().closed_at is None


# --- permissions: owner, colleague, outsider ---------------------------------------------------


def test_ordinary_member_gets_403_on_tracker_fragment_and_results(
        client, cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=3)
    cs = world.dossier.criteria_set
    score(world.session, world.dossier, world.chair, pick(cs, 64))
    score(world.session, world.dossier, world.members[2], pick(cs, 88))
    login(client, world.members[1].user)

    for name, args in [("tracker", ()), ("tracker-live", ()), ("session-results", ()),
                       ("dossier-result", (world.dossier.pk,))]:
        response = client.get(url(name, world.session.pk, *args))
        assert response.status_code == 403, name
        assert "64.00" not in text(response) and "76.00" not in text(response)


def test_district_officer_runs_own_district_council_not_the_neighbours(
        client, cantho, criteria, make_user):
    """Under 148 the district sets up and runs its council (docs/councils.md)."""
    world = build(cantho, make_user, n_members=2)
    officer = make_user("canbo.nk", Role.LOCAL_OFFICER, cantho["ninhkieu"])
    neighbour = make_user("canbo.pd", Role.LOCAL_OFFICER, cantho["phongdien"])
    login(client, officer)

    assert world.council.name in text(client.get(url("council-list")))
    tracker = client.get(url("tracker", world.session.pk))
    assert tracker.status_code == 200 and world.dossier.product.name in text(tracker)
    assert client.get(url("session-agenda-edit", world.session.pk)).status_code == 200

    login(client, neighbour)
    assert world.council.name not in text(client.get(url("council-list")))
    assert client.get(url("tracker", world.session.pk)).status_code == 404
    assert client.get(url("session-create", world.council.pk)).status_code == 404


def test_outsider_gets_404_on_every_page_and_action(client, cantho, criteria, make_user,
                                                    outsider):
    world = build(cantho, make_user, n_members=2)
    sheet = score(world.session, world.dossier, world.chair, pick(world.dossier.criteria_set, 70))
    session, dossier, member = world.session.pk, world.dossier.pk, world.chair.pk
    login(client, outsider)

    assert world.council.name not in text(client.get(url("council-list")))
    assert world.council.name not in text(client.get(url("session-list")))
    gets = [url("council-detail", world.council.pk), url("session-create", world.council.pk),
            url("session-detail", session), url("session-agenda-edit", session),
            url("session-meeting", session), url("tracker", session),
            url("tracker-live", session), url("reopen-sheet", session, dossier, member),
            url("session-results", session), url("dossier-result", session, dossier),
            url("minutes-status", session), url("minutes-download", session),
            url("session-export", session)]
    for address in gets:
        assert client.get(address).status_code == 404, address
    posts = [url("session-open", session), url("session-close", session),
             url("close-item", session, dossier), url("reopen-sheet", session, dossier, member),
             url("minutes-regenerate", session)]
    for address in posts:
        assert client.post(address, {"reason": "x"}).status_code == 404, address
    sheet.refresh_from_db()
    assert sheet.state == SheetState.SUBMITTED
    assert world.session.agenda.get().closed_at is None


def test_anonymous_user_is_sent_to_login(client, cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=2)
    response = client.get(url("tracker", world.session.pk))
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- staff pages: council, session, agenda, scoring, meeting, close ----------------------------


def test_staff_sets_up_a_council_with_members_roles_decision_and_settings(
        client, cantho, criteria, make_user):
    staff = make_user("so.nn", Role.DEPARTMENT_STAFF, cantho["province"])
    users = [make_user(f"tv{i}", full_name=f"Thành viên {i}") for i in range(4)]
    login(client, staff)
    form = {
        "name": "Hội đồng đánh giá, phân hạng sản phẩm OCOP quận Ninh Kiều",
        "level": "district", "unit": cantho["ninhkieu"].pk,
        "decision_number": "123/QĐ-UBND", "decision_date": "01/03/2025",
        "decision_signer": "Nguyễn Văn Ký", "term_start": "", "term_end": "",
        "quorum_ratio": "0.75", "chair_required": "on", "divergence_threshold": "8",
        "peer_visibility": "after_close",
        "members-TOTAL_FORMS": "5", "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "1", "members-MAX_NUM_FORMS": "40",
    }
    roles = ["chair", "vice_chair", "member", "secretary", "member"]
    for i, role in enumerate(roles):
        form[f"members-{i}-username"] = users[i].username if i < 4 else ""
        form[f"members-{i}-role"] = role
        form[f"members-{i}-organisation"] = "Sở Nông nghiệp và Môi trường" if i == 0 else ""

    assert "members-0-username" in text(client.get(url("council-create")))
    response = client.post(url("council-create"), form, follow=True)

    council = Council.objects.get()
    assert response.redirect_chain[-1][0] == url("council-detail", council.pk)
    assert (council.decision_number, council.divergence_threshold, council.unit) == (
        "123/QĐ-UBND", Decimal(8), cantho["ninhkieu"])
    members = list(council.members.order_by("order").values_list("user__username", "role"))
    assert members == [("tv0", "chair"), ("tv1", "vice_chair"), ("tv2", "member"),
                       ("tv3", "secretary")]
    html = text(response)
    assert "123/QĐ-UBND" in html and "Thành viên 0" in html and "Vice-chair" in html
    assert "8.00 points" in html


def test_district_officer_sets_up_own_district_council_only(
        client, cantho, criteria, make_user):
    """Under 148 the district sets up its own council: the area list offers exactly the
    officer's district; another district posted by hand is refused on the form."""
    officer = make_user("canbo.nk", Role.LOCAL_OFFICER, cantho["ninhkieu"])
    ward = cantho["ninhkieu"].children.order_by("code").first()
    commune_officer = make_user("canbo.xa", Role.LOCAL_OFFICER, ward)
    make_user("tv0", full_name="Thành viên 0")
    form = {
        "name": "Hội đồng cấp huyện", "level": "district", "decision_number": "9/QĐ-UBND",
        "decision_date": "01/03/2025", "decision_signer": "Nguyễn Văn Ký",
        "quorum_ratio": "0.75", "chair_required": "on", "divergence_threshold": "10",
        "peer_visibility": "after_close", "members-TOTAL_FORMS": "1",
        "members-INITIAL_FORMS": "0", "members-MIN_NUM_FORMS": "1",
        "members-MAX_NUM_FORMS": "40", "members-0-username": "tv0", "members-0-role": "chair"}
    login(client, officer)
    assert url("council-create") in text(client.get(url("council-list")))
    page = text(client.get(url("council-create")))
    select = page.split('name="unit"')[1].split("</select>")[0]
    offered = re.findall(r'<option value="(\d+)"', select)
    assert offered == [str(cantho["ninhkieu"].pk)]
    assert f'<option value="{cantho["ninhkieu"].pk}" selected>' in select
    assert '<option value="district" selected>' in page

    refused = client.post(url("council-create"), {**form, "unit": cantho["phongdien"].pk})
    assert refused.status_code == 200 and not Council.objects.exists()
    assert "Select a valid choice" in text(refused)

    created = client.post(url("council-create"), {**form, "unit": cantho["ninhkieu"].pk})
    council = Council.objects.get()
    assert created["Location"] == url("council-detail", council.pk)
    assert council.unit == cantho["ninhkieu"]

    login(client, commune_officer)  # a commune does not set up councils
    assert url("council-create") not in text(client.get(url("council-list")))
    denied = client.get(url("council-create"))
    assert denied.status_code == 403
    assert ("officers of the council&#x27;s own district or an administrator may set up a "
            "council.") in text(denied)


def test_council_without_chair_is_refused_with_the_services_message(
        client, cantho, criteria, make_user):
    staff = make_user("so.nn", Role.DEPARTMENT_STAFF, cantho["province"])
    member = make_user("tv0")
    login(client, staff)
    response = client.post(url("council-create"), {
        "name": "Hội đồng", "level": "district", "unit": cantho["ninhkieu"].pk,
        "decision_number": "1/QĐ", "decision_date": "2025-03-01", "decision_signer": "A",
        "quorum_ratio": "0.75", "divergence_threshold": "10", "peer_visibility": "after_close",
        "members-TOTAL_FORMS": "1", "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "1", "members-MAX_NUM_FORMS": "40",
        "members-0-username": "tv0", "members-0-role": "member"})

    assert response.status_code == 200
    assert "A council has exactly one chair." in messages_of(response)
    assert not Council.objects.exists()
    assert member.council_memberships.count() == 0


def test_session_lifecycle_through_the_staff_pages(client, cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=3, n_dossiers=0)
    ready = factories.dossier(world.round, state="accepted", product_name="Nước mắm Cái Răng")
    factories.dossier(world.round, state="submitted", product_name="Chưa tiếp nhận")
    world.session.delete()
    login(client, world.staff)

    # plan the session
    response = client.post(url("session-create", world.council.pk), {
        "round": world.round.pk, "date": "2025-06-10", "place": "Hội trường A"}, follow=True)
    session = world.council.sessions.get()
    assert response.redirect_chain[-1][0] == url("session-agenda-edit", session.pk)
    agenda_page = text(response)
    assert "Nước mắm Cái Răng" in agenda_page and "Chưa tiếp nhận" not in agenda_page

    # choose the agenda
    client.post(url("session-agenda-edit", session.pk), {"dossiers": [ready.pk]})
    ready.refresh_from_db()
    assert ready.state == DossierState.IN_EVALUATION
    assert list(session.agenda.values_list("dossier_id", flat=True)) == [ready.pk]

    # open scoring
    client.post(url("session-open", session.pk))
    session.refresh_from_db()
    assert session.state == SessionState.OPEN

    # start the meeting with attendance
    present = world.members[:2]
    meeting = text(client.get(url("session-meeting", session.pk)))
    assert world.members[2].user.full_name in meeting
    response = client.post(url("session-meeting", session.pk),
                           {"present": [m.pk for m in present]}, follow=True)
    session.refresh_from_db()
    assert session.state == SessionState.MEETING
    assert set(Attendance.objects.filter(session=session, present=True)
               .values_list("member_id", flat=True)) == {m.pk for m in present}
    assert response.redirect_chain[-1][0] == url("tracker", session.pk)
    assert "2 present / 3 needed" in text(response)

    detail = text(client.get(url("session-detail", session.pk)))
    assert "Nước mắm Cái Răng" in detail and "In meeting" in detail


def test_chair_closes_the_session_once_every_item_is_closed(
        client, cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=2)
    for member in world.members:
        score(world.session, world.dossier, member, pick(world.dossier.criteria_set, 72))
    meet(world)
    login(client, world.chair.user)

    refused = client.post(url("session-close", world.session.pk), follow=True)
    assert any(m.startswith("Close every dossier first") for m in messages_of(refused))
    world.session.refresh_from_db()
    assert world.session.state == SessionState.MEETING

    client.post(url("close-item", world.session.pk, world.dossier.pk))
    response = client.post(url("session-close", world.session.pk), follow=True)

    world.session.refresh_from_db()
    assert world.session.state == SessionState.CLOSED
    assert response.redirect_chain[-1][0] == url("session-results", world.session.pk)
    assert "Minutes of the council meeting" in text(response)


def test_tracker_fragment_stops_polling_once_the_session_is_closed(
        client, cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=2, session_state="closed")
    login(client, world.chair.user)

    page = text(client.get(url("tracker", world.session.pk)))
    fragment = client.get(url("tracker-live", world.session.pk))

    assert "hx-trigger" not in page.split('id="board"')[1].split(">")[0]
    assert fragment.status_code == 286  # htmx: swap, then stop polling


def test_vice_chair_member_row_and_staff_council_detail(client, cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=3)
    CouncilMember.objects.filter(pk=world.members[1].pk).update(role=MemberRole.VICE_CHAIR)

    html = text(login(client, world.staff).get(url("council-detail", world.council.pk)))

    assert "Vice-chair" in html and "Secretary" in html
    assert url("session-detail", world.session.pk) in html
    assert "Plan a session" in html


def test_scoresheets_untouched_by_viewing_the_tracker(client, cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=2)
    before = Scoresheet.objects.count()
    login(client, world.chair.user).get(url("tracker", world.session.pk))
    assert Scoresheet.objects.count() == before == 0


def test_opening_the_sheet_page_leaves_the_member_not_started(
        client, cantho, criteria, make_user):
    """A member who only looked at the scoresheet page shows as "not started" and does not
    block closing; the first saved choice makes it a draft."""
    world = build(cantho, make_user, n_members=3)
    looker = world.members[2]
    sheet_url = reverse("councils:sheet", args=[world.session.pk, world.dossier.pk])

    assert login(client, looker.user).get(sheet_url).status_code == 200

    assert Scoresheet.objects.filter(member=looker).exists()  # the page created it
    html = text(login(client, world.secretary.user).get(url("tracker", world.session.pk)))
    assert 'data-state="not_started"' in member_row(html, looker)
    assert "Submitted: 0 of 3" in html


def test_divergent_item_is_closed_from_the_tracker_only_with_the_statement(
        client, cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=4)
    cs = world.dossier.criteria_set
    for member, target in zip(world.members, (60, 62, 65, 84), strict=True):
        score(world.session, world.dossier, member, pick(cs, target))
    meet(world)
    close = url("close-item", world.session.pk, world.dossier.pk)
    login(client, world.chair.user)

    tracker = text(client.get(url("tracker", world.session.pk)))
    assert 'data-divergence="flagged"' in tracker
    assert f'id="statement-{world.dossier.pk}"' in tracker
    refused = client.post(close, {"statement": ""})

    assert refused.status_code == 422
    assert any("differ by 24.00 points" in m for m in messages_of(refused))
    assert not ItemResultRecord.objects.exists()

    statement = "Hội đồng đã thảo luận; các thành viên giữ nguyên điểm đã chấm."
    client.post(close, {"statement": statement})

    assert ItemResultRecord.objects.get().divergence_statement == statement
    result = text(client.get(url("dossier-result", world.session.pk, world.dossier.pk)))
    assert statement in result.split('data-field="divergence-statement"', 1)[1]


def test_before_the_meeting_day_the_pages_say_when_the_council_meets(
        client, cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=3)
    world.session.date = timezone.localdate() + datetime.timedelta(days=8)
    world.session.save(update_fields=["date"])
    day = world.session.date.strftime("%d/%m/%Y")
    login(client, world.chair.user)

    tracker = text(client.get(url("tracker", world.session.pk)))
    notice = tracker.split('id="meeting-needed"', 1)[1].split("</p>", 1)[0]
    assert day in notice and url("session-meeting", world.session.pk) not in notice
    form = text(client.get(url("session-meeting", world.session.pk)))
    assert day in form.split('id="meeting-not-yet"', 1)[1].split("</p>", 1)[0]
    response = client.post(url("session-meeting", world.session.pk),
                           {"present": [m.pk for m in world.members]})
    assert response.status_code == 200
    world.session.refresh_from_db()
    assert world.session.state == SessionState.OPEN
