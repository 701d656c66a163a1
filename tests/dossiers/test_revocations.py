"""Revocation of a rating (docs/ratings-lifecycle.md, "Revocation"): the deadline from the
conclusion (hand-computed dates), every bad input of the issue (no ground, no conclusion
cited, a rating that is not active), the decision numbered in the recognition decisions'
sequence, the rating revoked and the public page saying so, the notices, the Decree-30 PDF,
and the pages and API for the owner, a colleague and an outsider."""

import datetime
import io
import re

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import ngettext
from pypdf import PdfReader

from dossiers import inspections, issuing, revocations
from dossiers.models import (
    Decision,
    DecisionKind,
    InspectionConclusion,
    JobStatus,
    Rating,
    RatingState,
    Revocation,
    RevocationGround,
    RevocationState,
)
from dossiers.services import DossierError
from ocop.audit.models import AuditEvent
from ocop.notices.models import Notification
from tests.dossiers.test_inspections import build_world, concluded, get, login, post

pytestmark = pytest.mark.django_db

CONCLUDED = datetime.date(2026, 11, 20)
#: 20/11/2026 + 15 calendar days (26/2026 Điều 8).
DEADLINE = datetime.date(2026, 12, 5)


@pytest.fixture
def world(cantho, criteria, make_user):
    return build_world(cantho, make_user)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PUBLIC_BASE_URL = "https://ocop.cantho.example"


def unchanged(fn, *args, **kwargs):
    counts = (Revocation.objects.count(), Decision.objects.count(),
              AuditEvent.objects.count(), Notification.objects.count(),
              list(Rating.objects.order_by("pk").values_list("state", flat=True)))
    # the messages are asserted in their English source (the catalog translates them)
    with pytest.raises(DossierError) as refused, translation.override("en"):
        fn(*args, **kwargs)
    assert (Revocation.objects.count(), Decision.objects.count(),
            AuditEvent.objects.count(), Notification.objects.count(),
            list(Rating.objects.order_by("pk").values_list("state", flat=True))) == counts
    return refused.value


def text_of(error):
    return " ".join([error.message, *(m for ms in error.fields.values() for m in ms)])


def opened(world, **extra):
    _inspection, item = concluded(world)
    values = {"ground": RevocationGround.NOT_MEETING, "inspection_item": item}
    values.update(extra)
    return revocations.open_revocation(world["staff"], world["fish"], **values)


# --- the deadline ------------------------------------------------------------------------------


@pytest.mark.parametrize(("conclusion", "deadline"), [
    (datetime.date(2026, 11, 20), datetime.date(2026, 12, 5)),
    (datetime.date(2026, 12, 20), datetime.date(2027, 1, 4)),  # over the new year
    (datetime.date(2027, 2, 14), datetime.date(2027, 3, 1)),   # calendar days, short month
    (datetime.date(2024, 3, 1), None),                         # 148: no deadline
])
def test_deadline_is_the_conclusion_plus_15_calendar_days_under_26_2026(
        criteria, conclusion, deadline):
    assert inspections.revocation_deadline(conclusion) == deadline


# --- opening: every bad input --------------------------------------------------------------


def test_a_revocation_without_a_ground_is_refused(world):
    _inspection, item = concluded(world)
    for ground in (None, "", "z"):
        error = unchanged(revocations.open_revocation, world["staff"], world["fish"],
                          ground=ground, inspection_item=item)
        assert "ground" in error.fields


def test_a_revocation_without_the_conclusion_it_cites_is_refused(world):
    staff, fish = world["staff"], world["fish"]
    error = unchanged(revocations.open_revocation, staff, fish, ground="b")
    assert "Ground b needs the inspection" in text_of(error)
    for ground in ("a", "c", "d", "dd", "e"):
        error = unchanged(revocations.open_revocation, staff, fish, ground=ground,
                          conclusion_date=CONCLUDED)
        assert "conclusion_reference" in error.fields
    error = unchanged(revocations.open_revocation, staff, fish, ground="c",
                      conclusion_reference="Kết luận 12/KL-QLTT của Chi cục QLTT")
    assert "conclusion_date" in error.fields
    error = unchanged(revocations.open_revocation, staff, fish, ground="c",
                      conclusion_reference="Kết luận 12/KL-QLTT",
                      conclusion_date=datetime.date(2099, 1, 1))
    assert "conclusion_date" in error.fields
    error = unchanged(revocations.open_revocation, staff, fish, ground="c",
                      conclusion_reference="Kết luận 12/KL-QLTT",
                      conclusion_date=datetime.date(2026, 10, 1))
    assert "before the rating's decision" in text_of(error)


def test_ground_b_needs_an_inspection_of_this_rating_that_concluded_not_meets(world):
    staff, fish = world["staff"], world["fish"]
    _i, violation = concluded(world, InspectionConclusion.VIOLATION)
    error = unchanged(revocations.open_revocation, staff, fish, ground="b",
                      inspection_item=violation)
    assert "inspection_item" in error.fields
    _i, cake_item = concluded(world, rating="cake")
    error = unchanged(revocations.open_revocation, staff, fish, ground="b",
                      inspection_item=cake_item)
    assert "did not check this rated product" in text_of(error)
    planned = inspections.create_inspection(staff, kind="ad_hoc", rating=fish)
    error = unchanged(revocations.open_revocation, staff, fish, ground="b",
                      inspection_item=planned.items.get())
    assert "not concluded yet" in text_of(error)
    _i, meets = concluded(world, InspectionConclusion.MEETS)
    error = unchanged(revocations.open_revocation, staff, fish, ground="c",
                      inspection_item=meets)
    assert "still meets" in text_of(error)
    # ground c on the violation conclusion is fine
    revocation = revocations.open_revocation(staff, fish, ground="c",
                                             inspection_item=violation)
    assert revocation.conclusion_date == CONCLUDED and revocation.deadline == DEADLINE


def test_a_rating_that_is_not_active_cannot_be_revoked(world):
    _inspection, item = concluded(world)
    for state in (RatingState.EXPIRED, RatingState.REVOKED, RatingState.REPLACED):
        Rating.objects.filter(pk=world["fish"].pk).update(state=state)
        error = unchanged(revocations.open_revocation, world["staff"], world["fish"],
                          ground="b", inspection_item=item)
        assert error.code == "state"


def test_only_the_areas_department_staff_open_a_revocation(world):
    _inspection, item = concluded(world)
    error = unchanged(revocations.open_revocation, world["colleague"], world["fish"],
                      ground="b", inspection_item=item)
    assert error.code == "role"
    error = unchanged(revocations.open_revocation, world["outsider"], world["fish"],
                      ground="b", inspection_item=item)
    assert error.code == "area"


def test_opening_records_the_deadline_and_refuses_a_second_one(world):
    revocation = opened(world, reason="Không còn đạt")
    assert (revocation.state, revocation.conclusion_date, revocation.deadline) == (
        RevocationState.DRAFT, CONCLUDED, DEADLINE)
    assert AuditEvent.objects.filter(action="revocation.opened",
                                     object_id=str(revocation.pk)).exists()
    error = unchanged(revocations.open_revocation, world["staff"], world["fish"], ground="c",
                      conclusion_reference="Kết luận khác", conclusion_date=CONCLUDED)
    assert error.code == "duplicate"
    other = revocations.open_revocation(
        world["staff"], world["cake"], ground="dd",
        conclusion_reference="Biên bản xác minh số 3 của UBND xã",
        conclusion_date=datetime.date(2026, 12, 1))
    assert other.deadline == datetime.date(2026, 12, 16)


# --- issuing -----------------------------------------------------------------------------------


def test_issuing_numbers_in_the_recognition_sequence_and_revokes(
        world, client, django_capture_on_commit_callbacks):
    revocation = opened(world)
    # decision 01/QĐ-UBND of 2026 recognised the fish sauce: the revocation takes 02
    assert revocations.proposed_number(revocation, datetime.date(2026, 12, 3)) == 2
    error = unchanged(revocations.issue_revocation, world["staff"], revocation, number=1,
                      date=datetime.date(2026, 12, 3), signer_name="Trần Văn Ký")
    assert "number" in error.fields and "01/QĐ-UBND" in text_of(error)
    error = unchanged(revocations.issue_revocation, world["staff"], revocation,
                      date=datetime.date(2026, 11, 19), signer_name="Trần Văn Ký")
    assert "before the conclusion" in text_of(error)
    error = unchanged(revocations.issue_revocation, world["staff"], revocation,
                      date=datetime.date(2026, 12, 3), signer_name="")
    assert "signer_name" in error.fields
    error = unchanged(revocations.issue_revocation, world["colleague"], revocation,
                      date=datetime.date(2026, 12, 3), signer_name="Trần Văn Ký")
    assert error.code == "role"

    code = world["fish"].verification_code
    assert client.get(f"/xac-minh/{code}.json").json()["state"] == "valid"  # cached now
    with django_capture_on_commit_callbacks(execute=True):
        revocations.issue_revocation(world["staff"], revocation,
                                     date=datetime.date(2026, 12, 3), signer_name="Trần Văn Ký")
    revocation.refresh_from_db()
    decision = revocation.decision
    assert (decision.kind, decision.reference, decision.date, decision.issuer_unit) == (
        DecisionKind.REVOCATION, "02/QĐ-UBND", datetime.date(2026, 12, 3), world["province"])
    assert revocation.state == RevocationState.ISSUED
    assert not revocations.is_late(revocation)
    world["fish"].refresh_from_db()
    assert world["fish"].state == RatingState.REVOKED
    assert AuditEvent.objects.filter(action="rating.revoked",
                                     object_id=str(world["fish"].pk)).exists()
    # the background rendering made the one PDF and finished the row
    decision.refresh_from_db()
    assert decision.file and decision.job_status == JobStatus.DONE and not decision.bundle
    # the next recognition decision of the province goes on with 03
    assert revocations.proposed_number(revocation, datetime.date(2026, 12, 4)) == 3
    # the public page says revoked at once (the server's copy was forgotten)
    body = client.get(f"/xac-minh/{code}.json", HTTP_ACCEPT_LANGUAGE="vi").json()
    assert (body["state"], body["state_label"]) == ("revoked", "Đã thu hồi")
    assert body["revocation"] == {"number": "02/QĐ-UBND", "date": "2026-12-03"}
    html = client.get(f"/xac-minh/{code}/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert 'data-state="revoked"' in html and "Đã thu hồi" in html
    assert "02/QĐ-UBND" in html and "03/12/2026" in html
    # notices: the producer's contact and the commune's officer, once each
    notices = Notification.objects.filter(kind="rating.revoked")
    assert {(n.email, n.user_id) for n in notices} == {
        ("htx@example.vn", None), ("xa@example.vn", world["colleague"].pk)}
    error = unchanged(revocations.issue_revocation, world["staff"], revocation,
                      date=datetime.date(2026, 12, 3), signer_name="Trần Văn Ký")
    assert error.code == "issued"


def test_issuing_after_the_deadline_is_allowed_and_recorded_late(world):
    revocation = opened(world)
    revocations.issue_revocation(world["staff"], revocation, date=datetime.date(2026, 12, 6),
                                 signer_name="Trần Văn Ký", number=7)
    revocation.refresh_from_db()
    assert revocation.decision.reference == "07/QĐ-UBND"
    assert revocations.is_late(revocation)
    event = AuditEvent.objects.get(action="revocation.issued")
    assert event.after["late"] is True and event.after["deadline"] == "2026-12-05"


def test_a_5_star_rating_is_revoked_by_the_minister_recorded_here(world):
    Rating.objects.filter(pk=world["fish"].pk).update(stars=5)
    world["fish"].refresh_from_db()
    revocation = opened(world)
    error = unchanged(revocations.issue_revocation, world["staff"], revocation,
                      date=datetime.date(2026, 12, 3), signer_name="Trần Văn Ký")
    assert error.code == "ministry"
    revocations.record_ministry_revocation(world["staff"], revocation,
                                           reference="1234/QĐ-BNNMT",
                                           date=datetime.date(2026, 12, 4))
    revocation.refresh_from_db()
    assert revocation.decision.origin == "recorded"
    assert revocation.decision.reference == "1234/QĐ-BNNMT"
    world["fish"].refresh_from_db()
    assert world["fish"].state == RatingState.REVOKED


def test_a_draft_can_be_withdrawn_an_issued_one_never(world):
    revocation = opened(world)
    revocations.withdraw_revocation(world["staff"], revocation)
    assert not Revocation.objects.exists()
    revocation = opened(world)
    revocations.issue_revocation(world["staff"], revocation, date=datetime.date(2026, 12, 3),
                                 signer_name="Trần Văn Ký")
    error = unchanged(revocations.withdraw_revocation, world["staff"], revocation)
    assert error.code == "issued"


# --- the PDF -----------------------------------------------------------------------------------


def test_the_revocation_decision_pdf_in_decree_30_layout(world):
    Rating.objects.filter(pk=world["fish"].pk).update(product_code="92-001-0001-2026")
    revocation = opened(world)
    revocations.issue_revocation(world["staff"], revocation, date=datetime.date(2026, 12, 3),
                                 signer_name="Trần Văn Ký")
    revocation.refresh_from_db()
    pdf = revocations.render_revocation_decision(revocation.decision)
    text = " ".join(" ".join(page.extract_text().split())
                    for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "ỦY BAN NHÂN DÂN" in text and "THÀNH PHỐ CẦN THƠ" in text
    assert "Số: 02/QĐ-UBND" in text
    assert "Cần Thơ, ngày 03 tháng 12 năm 2026" in text
    assert "Về việc thu hồi Quyết định công nhận và Giấy chứng nhận sản phẩm OCOP" in text
    assert "Căn cứ Điều 8 Quyết định số 26/2026/QĐ-TTg" in text
    assert re.search(r"Điều 1\. Thu hồi Quyết định số 01/QĐ-UBND ngày 02/11/2026", text)
    assert "Nước mắm Cá Cơm (mã số sản phẩm: 92-001-0001-2026)" in text
    assert "điểm b Điều 8" in text
    assert "không còn đáp ứng tiêu chí theo kết luận kiểm tra" in text
    assert "Kết luận kiểm tra số 01/BB-KT ngày 20/11/2026" in text
    assert "Điều 2." in text and "Điều 3." in text and "KT. CHỦ TỊCH" in text
    assert "Trần Văn Ký" in text and "DỰ THẢO" not in text


def test_recognition_rendering_is_unchanged_by_the_revocation_branch(world):
    decision = Decision.objects.filter(kind=DecisionKind.RECOGNITION,
                                       issuer_unit=world["province"]).get()
    assert issuing._complete(decision) is False  # a recognition needs its zip
    revocation = opened(world)
    revocations.issue_revocation(world["staff"], revocation, date=datetime.date(2026, 12, 3),
                                 signer_name="Trần Văn Ký")
    revocation.refresh_from_db()
    assert revocation.decision.job_status == JobStatus.QUEUED
    assert revocation.decision.job_total == 1


# --- pages -------------------------------------------------------------------------------------


def row_ids(html, prefix):
    return {int(pk) for pk in re.findall(rf'<tr id="{prefix}-(\d+)"', html)}


def test_revoke_through_the_pages(client, world):
    _inspection, item = concluded(world)
    login(client, world["staff"])
    url = reverse("inspections:revoke", args=[world["fish"].pk])
    response, html = get(client, url + f"?item={item.pk}")
    assert response.status_code == 200 and "26/2026 Điều 8" in html
    assert html.count('name="ground"') == 1 and html.count('<option value="') >= 6
    response, html = post(client, url, {"ground": "", "inspection_item": item.pk})
    assert response.status_code == 400
    assert "Choose the ground of the revocation" in html
    response, html = post(client, url, {"ground": "c"})
    assert response.status_code == 400 and "Cite the conclusion" in html
    assert not Revocation.objects.exists()
    response, _html = post(client, url, {"ground": "b", "inspection_item": item.pk})
    revocation = Revocation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("inspections:revocation", args=[revocation.pk])
    _response, html = get(client, response["Location"])
    assert "05/12/2026" in html and 'name="number" value="2"' in html
    response, html = post(client, reverse("inspections:revocation-issue",
                                          args=[revocation.pk]),
                          {"number": "1", "date": "2026-12-03", "signer_name": "Trần Văn Ký",
                           "signature_form": "kt"})
    assert response.status_code == 400 and "already used" in html
    response, _html = post(client, reverse("inspections:revocation-issue",
                                           args=[revocation.pk]),
                           {"number": "2", "date": "2026-12-03",
                            "signer_name": "Trần Văn Ký", "signature_form": "kt"})
    assert response.status_code == 302
    _response, html = get(client, reverse("inspections:revocation", args=[revocation.pk]))
    assert 'id="decision-number">02/QĐ-UBND' in html


def test_revocation_pages_for_owner_colleague_and_outsider(client, world):
    revocation = opened(world)
    foreign = revocations.open_revocation(
        world["outsider"], world["foreign"], ground="d",
        conclusion_reference="Biên bản QLTT số 9", conclusion_date=datetime.date(2026, 12, 1))
    detail = reverse("inspections:revocation", args=[revocation.pk])
    login(client, world["staff"])
    _response, html = get(client, reverse("inspections:revocations"))
    assert row_ids(html, "revocation") == {revocation.pk}
    _response, html = get(client, detail)
    assert 'action="' + reverse("inspections:revocation-issue", args=[revocation.pk]) in html
    login(client, world["colleague"])
    _response, html = get(client, reverse("inspections:revocations"))
    assert row_ids(html, "revocation") == {revocation.pk}
    response, html = get(client, detail)
    assert response.status_code == 200
    assert reverse("inspections:revocation-issue", args=[revocation.pk]) not in html
    response, _html = post(client, reverse("inspections:revocation-issue",
                                           args=[revocation.pk]),
                           {"number": "2", "date": "2026-12-03", "signer_name": "X",
                            "signature_form": "kt"})
    assert response.status_code == 400
    assert client.get(reverse("inspections:revoke", args=[world["fish"].pk])
                      ).status_code == 404
    login(client, world["outsider"])
    _response, html = get(client, reverse("inspections:revocations"))
    assert row_ids(html, "revocation") == {foreign.pk}
    assert client.get(detail).status_code == 404
    assert client.get(reverse("inspections:revocation-pdf", args=[revocation.pk])
                      ).status_code == 404
    assert client.get(reverse("inspections:revoke", args=[world["fish"].pk])
                      ).status_code == 404
    revocation.refresh_from_db()
    assert revocation.state == RevocationState.DRAFT


def test_revocations_list_shows_the_deadline_and_overdue(client, world,
                                                         django_assert_num_queries):
    revocation = opened(world)
    login(client, world["staff"])
    _response, html = get(client, reverse("inspections:revocations"))
    row = html[html.index(f'<tr id="revocation-{revocation.pk}"'):]
    row = row[:row.index("</tr>")]
    assert 'data-deadline="2026-12-05"' in row
    assert 'class="overdue"' in row  # today is past 05/12/2026 in every run of this test
    with django_assert_num_queries(REVOCATION_LIST_QUERIES):
        client.get(reverse("inspections:revocations"))
    revocations.open_revocation(world["staff"], world["cake"], ground="dd",
                                conclusion_reference="Biên bản xác minh số 3",
                                conclusion_date=datetime.date(2026, 12, 1))
    with django_assert_num_queries(REVOCATION_LIST_QUERIES):
        response = client.get(reverse("inspections:revocations"))
    assert len(row_ids(response.content.decode(), "revocation")) == 2


#: the user with their roles (ocop.accounts.backends; the session from the cache), and one
#: statement for the page, its count and the conclusions waiting for a revocation
#: (dossiers/revocation_rows.py); the provinces the area absorbed are cached (reference
#: data, ocop/versioned_cache.py).
REVOCATION_LIST_QUERIES = 2


def test_pending_page_lists_conclusions_without_revocation(client, world,
                                                         django_assert_num_queries):
    _inspection, item = concluded(world)
    login(client, world["staff"])
    _response, html = get(client, reverse("inspections:pending"))
    assert row_ids(html, "pending") == {item.pk}
    assert reverse("inspections:revoke", args=[world["fish"].pk]) + f"?item={item.pk}" in html
    with django_assert_num_queries(PENDING_QUERIES):
        client.get(reverse("inspections:pending"))
    concluded(world, InspectionConclusion.VIOLATION, rating="cake")
    with django_assert_num_queries(PENDING_QUERIES):
        response = client.get(reverse("inspections:pending"))
    assert len(row_ids(response.content.decode(), "pending")) == 2
    login(client, world["outsider"])
    _response, html = get(client, reverse("inspections:pending"))
    assert row_ids(html, "pending") == set()


#: the user with their roles, the items, the regimes (the session and the provinces the
#: area absorbed: cached).
PENDING_QUERIES = 3


# --- API ---------------------------------------------------------------------------------------


def test_api_revocations_are_scoped(client, world):
    revocation = opened(world)
    login(client, world["staff"])
    body = client.get("/api/v1/revocations/").json()
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    assert [(r["id"], r["deadline"], r["ground"], r["late"]) for r in rows] == [
        (revocation.pk, "2026-12-05", "b", True)]
    response = client.get("/api/v1/revocations/?state=gone")
    assert response.status_code == 400
    login(client, world["colleague"])
    assert client.get(f"/api/v1/revocations/{revocation.pk}/").status_code == 200
    login(client, world["outsider"])
    assert client.get(f"/api/v1/revocations/{revocation.pk}/").status_code == 404
    body = client.get("/api/v1/revocations/").json()
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    assert rows == []


# --- the home page ----------------------------------------------------------------------------


def test_home_card_counts_what_waits_after_an_inspection_for_its_area_only(client, world):
    concluded(world)  # fish: no longer meets, no revocation yet
    for name in ("cake", "fish"):
        inspections.create_inspection(world["staff"], kind="ad_hoc", rating=world[name])

    staff_home = login(client, world["staff"]).get(
        "/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    card = staff_home[staff_home.index('id="card-oversight"'):]
    card = card[:card.index("</div>")]

    with translation.override("vi"):
        pending = ngettext("%(n)s product failed an inspection and waits for a revocation",
                           "%(n)s products failed an inspection and wait for a revocation",
                           1) % {"n": 1}
        ours = ngettext("%(n)s inspection planned", "%(n)s inspections planned", 2) % {"n": 2}
        theirs = ngettext("%(n)s inspection planned", "%(n)s inspections planned",
                          1) % {"n": 1}
    assert pending in card and 'href="/inspections/revocations/pending/"' in card
    assert ours in card
    # the other province sees its own planned inspection only, and nothing of ours
    outsider_home = login(client, world["outsider"]).get(
        "/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert pending not in outsider_home and theirs in outsider_home
