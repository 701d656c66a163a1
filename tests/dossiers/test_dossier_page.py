"""The dossier page tells the truth (issue #13, items 7–10): the reasons of a return at the
top, one definition of "overdue" for the page, the list, the ``?overdue=1`` filter and the
home count, no running deadline on a closed dossier, state labels that follow the level
(docs/regimes-and-levels.md) and a confirmation before accepting unchecked papers.

Users: the Ninh Kiều officer (owner), the department staff of Cần Thơ (colleague: same
area, other role) and the Phong Điền officer (outsider, whose own dossier exists).
"""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from dossiers import rules, services
from dossiers.home import dossier_counts
from dossiers.models import DocumentState, DossierState, Transition
from ocop.accounts.models import Role
from ocop.regions.models import AdministrativeUnit, Level
from tests import factories
from tests.dossiers import PDF_BYTES
from tests.dossiers.recognition import province_round
from tests.i18n import vi

pytestmark = pytest.mark.django_db

#: era_148 runs on 10/06/2024: these dates are hand-computed from it.
PAST = datetime.date(2024, 6, 3)
FUTURE = datetime.date(2024, 6, 28)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def area(cantho, criteria, make_user):
    return {
        "units": cantho,
        "round_nk": factories.evaluation_round(cantho["ninhkieu"]),
        "round_pd": factories.evaluation_round(cantho["phongdien"]),
        "officer": make_user("canbo.nk", Role.LOCAL_OFFICER, cantho["ninhkieu"]),
        "outsider": make_user("canbo.pd", Role.LOCAL_OFFICER, cantho["phongdien"]),
        "staff": make_user("so.nn", Role.DEPARTMENT_STAFF, cantho["province"]),
    }


def login(client, user):
    client.force_login(user, backend="ocop.accounts.backends.UserWithRolesBackend")
    return client


def page(client, url, method="get", data=None):
    response = getattr(client, method)(url, data or {}, HTTP_ACCEPT_LANGUAGE="vi")
    return response, response.content.decode()


def lines(dossier):
    return list(dossier.documents.select_related("item").order_by("item__order"))


def submitted_dossier(area):
    """A Ninh Kiều dossier filed through the services and submitted (lines unchecked)."""
    officer = area["officer"]
    producer = factories.producer(area["units"]["ninhkieu"], name="HTX Bưởi Năm Roi")
    product = services.create_product(officer, producer=producer, name="Bưởi Năm Roi",
                                      criteria_set=factories.criteria_set("148", 9))
    dossier = services.create_dossier(officer, round=area["round_nk"], product=product)
    for line in lines(dossier):
        if line.item.code != "samples" and line.item.required:
            services.upload_file(officer, dossier, SimpleUploadedFile(
                f"{line.item.code}.pdf", PDF_BYTES, content_type="application/pdf"),
                document=line)
    services.update_dossier(officer, dossier, samples_count=5,
                            samples_received_on=datetime.date(2024, 6, 1))
    dossier.refresh_from_db()
    return services.submit(officer, dossier)


def row_ids(html):
    import re

    return {int(pk) for pk in re.findall(r'<tr id="dossier-(\d+)"', html)}


# --- item 7: the reasons of a return at the top ------------------------------------------------


def test_returned_dossier_summarises_the_reasons_at_the_top_with_links(client, area, era_148):
    dossier = submitted_dossier(area)
    label, report = (next(d for d in lines(dossier) if d.item.code == code)
                     for code in ("label", "test_report"))
    services.return_for_completion(
        area["officer"], dossier, note="Đề nghị bổ sung trước ngày 20/6.",
        reasons={report.pk: "Phiếu kiểm nghiệm hết hạn", label.pk: "Nhãn thiếu hạn dùng"})

    for user in (area["officer"], area["staff"]):
        _r, html = page(login(client, user), f"/dossiers/{dossier.pk}/")
        top = html[html.index('id="return-reasons"'):html.index('id="actions"')]
        assert "Đề nghị bổ sung trước ngày 20/6." in top
        assert f'href="#doc-{label.pk}"' in top and "Nhãn thiếu hạn dùng" in top
        assert f'href="#doc-{report.pk}"' in top and "Phiếu kiểm nghiệm hết hạn" in top
        # in checklist order, each reason with its line's title
        first, second = sorted((label, report), key=lambda d: d.item.order)
        assert top.index(f"#doc-{first.pk}") < top.index(f"#doc-{second.pk}")
        assert label.item.title in top and report.item.title in top
    outsider, _html = page(login(client, area["outsider"]), f"/dossiers/{dossier.pk}/")
    assert outsider.status_code == 404


def test_no_summary_unless_returned(client, area, era_148):
    dossier = submitted_dossier(area)
    _r, html = page(login(client, area["officer"]), f"/dossiers/{dossier.pk}/")
    assert 'id="return-reasons"' not in html


# --- item 8: overdue, one definition -----------------------------------------------------------


@pytest.fixture
def deadlines(area, era_148):
    round_ = area["round_nk"]
    make = factories.dossier
    return {
        "submitted_late": make(round_, state="submitted", due_date=PAST),
        "submitted_in_time": make(round_, state="submitted", due_date=FUTURE),
        # the cases that used to differ: the page said "Quá hạn", the list and filter not
        "accepted_148_late": make(round_, state="accepted", due_date=PAST),
        "returned_late": make(round_, state="returned", due_date=PAST),
        "recognised": make(round_, state="recognised", due_date=PAST),
        "withdrawn": make(round_, state="withdrawn", due_date=PAST),
        "not_recognised": make(round_, state="not_recognised", due_date=PAST),
        "outsider_late": make(area["round_pd"], state="submitted", due_date=PAST),
    }


def test_page_list_filter_and_home_count_agree_on_overdue(client, area, deadlines):
    c = login(client, area["officer"])
    _r, listing = page(c, "/dossiers/")
    _r, filtered = page(c, "/dossiers/?overdue=1")
    late = {deadlines["submitted_late"].pk}

    assert row_ids(filtered) == late
    assert dossier_counts(area["officer"])["overdue"] == 1
    for name, dossier in deadlines.items():
        if name == "outsider_late":
            continue
        _r, html = page(c, f"/dossiers/{dossier.pk}/")
        head = html[html.index('class="page-head"'):html.index('id="actions"')]
        row = listing[listing.index(f'id="dossier-{dossier.pk}"'):]
        row = row[:row.index("</tr>")]
        expected = dossier.pk in late
        assert ("overdue-flag" in head) is expected, name
        assert ("overdue-flag" in row) is expected, name
    # the outsider's overdue dossier is neither listed nor counted here
    assert deadlines["outsider_late"].pk not in row_ids(listing)
    assert dossier_counts(area["staff"])["overdue"] == 2


def test_closed_dossiers_show_no_running_deadline(client, area, deadlines):
    c = login(client, area["officer"])
    _r, listing = page(c, "/dossiers/")
    for name in ("recognised", "withdrawn", "not_recognised", "returned_late",
                 "accepted_148_late"):
        dossier = deadlines[name]
        _r, html = page(c, f"/dossiers/{dossier.pk}/")
        assert 'id="deadline"' not in html, name
        assert vi("Processing deadline") not in html[html.index('id="summary"'):], name
        row = listing[listing.index(f'id="dossier-{dossier.pk}"'):]
        assert "03/06/2024" not in row[:row.index("</tr>")], name
    _r, html = page(c, f"/dossiers/{deadlines['submitted_in_time'].pk}/")
    assert "28/06/2024" in html[html.index('id="deadline"'):]
    assert "overdue-flag" not in html


# --- item 9: labels follow the level -----------------------------------------------------------


def test_148_district_pre_assessed_reads_district_on_page_list_and_api(client, area, era_148):
    dossier = factories.dossier(area["round_nk"], state="pre_assessed")
    with translation.override("en"):
        assert rules.state_label(dossier) == "Pre-assessed (district level)"
    district, commune = vi("Pre-assessed (district level)"), vi("Pre-assessed")
    c = login(client, area["officer"])
    _r, html = page(c, f"/dossiers/{dossier.pk}/")
    head = html[html.index('class="page-head"'):html.index('id="actions"')]
    assert district in head and commune not in head
    _r, listing = page(c, "/dossiers/")
    row = listing[listing.index(f'id="dossier-{dossier.pk}"'):]
    assert district in row[:row.index("</tr>")]
    api = c.get("/api/v1/dossiers/", HTTP_ACCEPT_LANGUAGE="vi").json()
    items = api["results"] if isinstance(api, dict) else api
    assert [d["state_display"] for d in items if d["id"] == dossier.pk] == [district]


def test_26_2026_pre_assessed_reads_commune(client, cantho, criteria, make_user):
    staff = make_user("so.nn", Role.DEPARTMENT_STAFF, cantho["province"])
    commune_unit = AdministrativeUnit.objects.current().filter(
        province=cantho["province"], level=Level.COMMUNE).order_by("code").first()
    dossier = factories.dossier(province_round(cantho), commune_unit, set_no=1,
                                state="pre_assessed")
    other = factories.dossier(province_round(cantho, number=2), commune_unit, set_no=1,
                              state="accepted")
    with translation.override("en"):
        assert rules.state_label(dossier) == "Pre-assessed (commune level)"
    assert rules.state_label(other) == str(DossierState.ACCEPTED.label)
    c = login(client, staff)
    _r, html = page(c, f"/dossiers/{dossier.pk}/")
    assert vi("Pre-assessed (commune level)") in html
    _r, listing = page(c, "/dossiers/")
    row = listing[listing.index(f'id="dossier-{dossier.pk}"'):]
    assert vi("Pre-assessed (commune level)") in row[:row.index("</tr>")]


def test_list_query_count_does_not_grow_with_pre_assessed_rows(
        client, area, era_148, django_assert_num_queries):
    c = login(client, area["officer"])
    factories.dossier(area["round_nk"], state="pre_assessed")
    c.get("/dossiers/")  # the filter's choices, rounds and sets: read once (reference data)
    with django_assert_num_queries(2):
        c.get("/dossiers/")
    for _i in range(4):
        factories.dossier(area["round_nk"], state="pre_assessed")
    with django_assert_num_queries(2):
        response = c.get("/dossiers/")
    assert response.content.decode().count(vi("Pre-assessed (district level)")) == 5


# --- item 10: accepting unchecked papers asks first --------------------------------------------


@pytest.mark.parametrize("who", ["officer", "staff"])
def test_accept_with_unchecked_lines_asks_for_confirmation_first(client, area, era_148, who):
    dossier = submitted_dossier(area)
    unchecked = [d for d in lines(dossier) if d.state == DocumentState.SUBMITTED]
    assert unchecked
    c = login(client, area[who])

    response, html = page(c, f"/dossiers/{dossier.pk}/accept/", "post", {"action": "accept"})
    assert response.status_code == 200
    box = html[html.index('id="confirm-accept"'):html.index('id="actions"')]
    for line in unchecked:
        assert f'href="#doc-{line.pk}"' in box and line.item.title in box
    assert 'name="confirm" value="unchecked"' in box
    dossier.refresh_from_db()
    assert dossier.state == DossierState.SUBMITTED
    assert not Transition.objects.filter(dossier=dossier, to_state="accepted").exists()

    response = c.post(f"/dossiers/{dossier.pk}/accept/",
                      {"action": "accept", "confirm": "unchecked"})
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.state == DossierState.ACCEPTED
    accepted = Transition.objects.get(dossier=dossier, to_state="accepted")
    assert [r["document"] for r in accepted.details["unchecked"]] == [d.pk for d in unchecked]
    assert not dossier.documents.filter(state=DocumentState.SUBMITTED).exists()


def test_accept_of_checked_papers_needs_no_confirmation(client, area, era_148):
    dossier = submitted_dossier(area)
    for line in lines(dossier):
        if line.state == DocumentState.SUBMITTED:
            services.review_document(area["officer"], line, state=DocumentState.VERIFIED)
    response = login(client, area["officer"]).post(f"/dossiers/{dossier.pk}/accept/",
                                                   {"action": "accept"})
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.state == DossierState.ACCEPTED
    assert "unchecked" not in Transition.objects.get(dossier=dossier,
                                                     to_state="accepted").details


def test_outsider_cannot_accept_or_see_the_confirmation(client, area, era_148):
    dossier = submitted_dossier(area)
    for data in ({"action": "accept"}, {"action": "accept", "confirm": "unchecked"}):
        response, html = page(login(client, area["outsider"]),
                              f"/dossiers/{dossier.pk}/accept/", "post", data)
        assert response.status_code == 404 and "Bưởi Năm Roi" not in html
    dossier.refresh_from_db()
    assert dossier.state == DossierState.SUBMITTED


def test_service_records_the_unchecked_lines(area, era_148):
    dossier = submitted_dossier(area)
    first = lines(dossier)[0]
    services.review_document(area["officer"], first, state=DocumentState.VERIFIED)
    rest = [d for d in lines(dossier) if d.state == DocumentState.SUBMITTED]
    accepted = services.accept(area["officer"], dossier)
    transition = dossier.transitions.get(to_state="accepted")
    assert [(r["document"], r["item"]) for r in transition.details["unchecked"]] == [
        (d.pk, d.item.code) for d in rest]
    assert first.pk not in [r["document"] for r in transition.details["unchecked"]]
    assert accepted is not None
