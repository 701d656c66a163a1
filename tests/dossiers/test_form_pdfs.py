"""Mẫu 01 and Mẫu 02 generated as PDFs from the data filled in online (docs/documents.md,
"Generated forms"): what they print (read back with pdftotext), the draft mark, who may
print them, the links on the pages, and the copy kept on the checklist line when the
dossier is submitted or resubmitted — also when rendering fails."""

import logging
import re
import subprocess

import pytest

from dossiers import documents, services
from dossiers.models import DocumentFile, DocumentState, DossierState
from ocop.accounts.models import Role
from ocop.audit.models import AuditEvent
from ocop.regions.models import AdministrativeUnit, Level
from scoring.models import Criterion
from tests import factories
from tests.dossiers import complete_checklist, test_views
from tests.dossiers.test_views import client_for, ninhkieu_dossier, row, vi
from tests.dossiers.test_views import documents as lines_of

area = test_views.area
media_root = test_views.media_root

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("era_148")]

REGISTRATION = {
    "production_address": "Ấp Mỹ Ái, xã Mỹ Khánh",
    "product_description": "Bưởi tươi, đóng hộp 5 kg",
    "annual_capacity": "180 tấn/năm",
    "workers": 42,
    "markets": "Cần Thơ, Thành phố Hồ Chí Minh",
    "expected_stars": 4,
}


def pdf_text(data):
    """The text of a PDF as pdftotext (poppler-utils) reads it, whitespace collapsed."""
    if not isinstance(data, bytes):
        data = b"".join(data.streaming_content) if data.streaming else data.content
    assert data.startswith(b"%PDF-")
    result = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", "-", "-"], input=data,
                            capture_output=True, check=True)
    # a word broken after its hyphen at the end of a table cell's line is joined again
    return re.sub(r"(?<=\S)- (?=\S)", "-", " ".join(result.stdout.decode("utf-8").split()))


def by_code(dossier):
    return {line.item.code: line for line in lines_of(dossier)}


def answer_all(officer, dossier, *, evidence=None):
    """Answer every criterion of the set with its first option; the first one with a note
    and ``evidence``."""
    criteria = list(Criterion.objects.filter(criteria_set=dossier.criteria_set)
                    .order_by("order"))
    for index, criterion in enumerate(criteria):
        services.set_self_assessment(
            officer, dossier, criterion=criterion, option=criterion.options.order_by(
                "order").first(),
            note="Có sổ theo dõi" if index == 0 else "",
            evidence=evidence if index == 0 else None)
    return criteria


def complete_online(officer, dossier):
    services.update_dossier(officer, dossier, registration=REGISTRATION)
    answer_all(officer, dossier)


def complete_the_rest(officer, dossier):
    others = [line.item.code for line in lines_of(dossier)
              if line.item.code not in documents.ONLINE_CODES]
    complete_checklist(officer, dossier, only=others)


def url(dossier, number):
    return f"/dossiers/{dossier.pk}/form-{number}.pdf"


# --- what the forms print --------------------------------------------------------------------


def test_form_01_prints_the_registration_form_under_its_own_heading(client, area):
    dossier = ninhkieu_dossier(area)
    services.update_dossier(area["officer"], dossier, registration=REGISTRATION)

    response = client_for(client, area["officer"]).get(url(dossier, "01"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"mau-01-phieu-dang-ky-ho-so-{dossier.pk}.pdf" in response["Content-Disposition"]
    text = pdf_text(response)
    for expected in ("Mẫu số 01", "Quyết định số 148/QĐ-TTg",
                     "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "PHIẾU ĐĂNG KÝ SẢN PHẨM OCOP",
                     "Kính gửi: Ủy ban nhân dân quận Ninh Kiều",
                     "Tên chủ thể: Hợp tác xã Bưởi Năm Roi", "Loại hình tổ chức: Hợp tác xã",
                     "Tên sản phẩm: Bưởi Năm Roi", "Hình thức đăng ký: Đánh giá, phân hạng lần đầu",
                     "Địa điểm sản xuất: Ấp Mỹ Ái, xã Mỹ Khánh",
                     "Công suất sản xuất/năm: 180 tấn/năm", "Số lao động: 42",
                     "Hạng sao đăng ký đánh giá: 4 sao", "Ninh Kiều, ngày 10 tháng 6 năm 2024",
                     "ĐẠI DIỆN CHỦ THỂ", "(Ký, ghi rõ họ tên, đóng dấu nếu có)",
                     "Nguyễn Thị Mai"):
        assert expected in text, expected
    # a producer's form, not a Decree-30 administrative document: no number line, no draft
    assert "Số:" not in text
    assert "DỰ THẢO" not in text


def test_an_incomplete_form_01_still_prints_as_a_draft(client, area):
    dossier = ninhkieu_dossier(area)

    text = pdf_text(client_for(client, area["officer"]).get(url(dossier, "01")))

    assert "DỰ THẢO" in text
    assert "PHIẾU ĐĂNG KÝ SẢN PHẨM OCOP" in text
    assert "Địa điểm sản xuất: ……" in text


def test_form_02_lists_each_criterion_with_option_points_note_evidence_and_total(client,
                                                                                 area):
    officer = area["officer"]
    dossier = ninhkieu_dossier(area)
    evidence = services.upload_file(officer, dossier, test_views.pdf("so-theo-doi.pdf"))
    criteria = answer_all(officer, dossier, evidence=evidence)
    first = criteria[0]
    first_option = first.options.order_by("order").first()
    total = sum(c.options.order_by("order").first().points for c in criteria)

    response = client_for(client, officer).get(url(dossier, "02"))

    assert response.status_code == 200
    text = pdf_text(response)
    for expected in ("Mẫu số 02", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "BÁO CÁO TỰ ĐÁNH GIÁ",
                     "Tên sản phẩm: Bưởi Năm Roi", "Có sổ theo dõi", "so-theo-doi.pdf",
                     "Phần A", "Cộng phần A", "Cộng phần C",
                     f"Tổng điểm tự đánh giá: {documents.form_points(total)}/100 điểm",
                     f"số tiêu chí đã tự đánh giá: {len(criteria)}/{len(criteria)}",
                     "ĐẠI DIỆN CHỦ THỂ"):
        assert expected in text, expected
    assert " ".join(first_option.label.split())[:25] in text
    assert "DỰ THẢO" not in text and "Chưa đánh giá" not in text


def test_an_incomplete_form_02_prints_as_a_draft_with_the_unanswered_criteria(client, area):
    officer = area["officer"]
    dossier = ninhkieu_dossier(area)
    first = Criterion.objects.filter(criteria_set=dossier.criteria_set).order_by(
        "order").first()
    services.set_self_assessment(officer, dossier, criterion=first,
                                 option=first.options.order_by("order").first())
    count = Criterion.objects.filter(criteria_set=dossier.criteria_set).count()

    text = pdf_text(client_for(client, officer).get(url(dossier, "02")))

    assert "DỰ THẢO" in text
    assert "Chưa đánh giá" in text
    assert f"số tiêu chí đã tự đánh giá: 1/{count}" in text


def test_form_02_reads_a_fixed_number_of_queries(client, area, django_assert_max_num_queries):
    officer = area["officer"]
    dossier = ninhkieu_dossier(area)
    answer_all(officer, dossier)
    c = client_for(client, officer)

    with django_assert_max_num_queries(14):
        assert c.get(url(dossier, "02")).status_code == 200


def test_26_2026_forms_cite_their_decision_and_go_to_the_commune(client, cantho, criteria,
                                                                 make_user):
    staff = make_user("sonn", Role.DEPARTMENT_STAFF, cantho["province"])
    commune = AdministrativeUnit.objects.current().get(level=Level.COMMUNE,
                                                       name="Xã Phong Điền")
    round_ = factories.evaluation_round(cantho["province"], "26/2026", "province")
    dossier = factories.dossier(round_, commune, set_no=1, product_name="Bưởi Phong Điền",
                                registration={"production_address": "Ấp Nhơn Lộc"})
    c = client_for(client, staff)

    for number in ("01", "02"):
        text = pdf_text(c.get(url(dossier, number)))
        assert f"Mẫu số {number}" in text
        assert "Quyết định số 26/2026/QĐ-TTg" in text
        assert "Kính gửi: Ủy ban nhân dân xã Phong Điền" in text
        assert "148/QĐ-TTg" not in text


# --- who may print them ------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["01", "02"])
def test_whoever_sees_the_dossier_prints_the_forms_others_get_404(client, area, number):
    dossier = ninhkieu_dossier(area)

    for user in (area["officer"], area["staff"]):
        response = client_for(client, user).get(url(dossier, number))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
    assert client_for(client, area["outsider"]).get(url(dossier, number)).status_code == 404
    client.logout()
    anonymous = client.get(url(dossier, number))
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
    assert client_for(client, area["officer"]).post(url(dossier, number)).status_code == 405


# --- links on the pages ------------------------------------------------------------------------


def test_lines_given_online_link_to_their_pdf(client, area):
    dossier = ninhkieu_dossier(area)
    c = client_for(client, area["officer"])
    lines = by_code(dossier)

    html = c.get(f"/dossiers/{dossier.pk}/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert url(dossier, "01") not in row(html, lines["form_01"].pk)

    complete_online(area["officer"], dossier)
    html = c.get(f"/dossiers/{dossier.pk}/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()

    for code, number in (("form_01", "01"), ("form_02", "02")):
        line = row(html, lines[code].pk)
        assert vi("Filled in online") in line
        assert f'href="{url(dossier, number)}"' in line
        assert vi("Download the PDF") in line
    assert ".pdf\"" not in row(html, lines["label"].pk).split("upload")[0]


def test_registration_page_links_to_the_printed_form(client, area):
    dossier = ninhkieu_dossier(area)

    html = client_for(client, area["officer"]).get(
        f"/dossiers/{dossier.pk}/registration/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()

    assert f'href="{url(dossier, "01")}"' in html
    assert vi("Print Form 01 (PDF)") in html


# --- the copy kept at submission ---------------------------------------------------------------


def stored_copies(dossier):
    return {f.document.item.code: f for f in DocumentFile.objects.filter(
        dossier=dossier, document__item__code__in=documents.ONLINE_CODES
    ).select_related("document__item")}


def test_submit_keeps_the_generated_forms_as_the_lines_files(area):
    officer = area["officer"]
    dossier = ninhkieu_dossier(area)
    complete_the_rest(officer, dossier)
    complete_online(officer, dossier)

    submitted = services.submit(officer, dossier)

    assert submitted.state == DossierState.SUBMITTED
    copies = stored_copies(dossier)
    assert set(copies) == {"form_01", "form_02"}
    for code, copy in copies.items():
        assert copy.original_name == documents.form_filename(dossier, code)
        assert copy.content_type == "application/pdf"
        assert copy.uploaded_by == officer
        assert copy.document.state == DocumentState.SUBMITTED
        assert AuditEvent.objects.filter(action="dossier.file_uploaded",
                                         object_id=str(copy.pk), actor=officer).exists()
    with copies["form_01"].file.open("rb") as f:
        kept = pdf_text(f.read())
    assert "Địa điểm sản xuất: Ấp Mỹ Ái, xã Mỹ Khánh" in kept
    assert "DỰ THẢO" not in kept
    with copies["form_02"].file.open("rb") as f:
        assert "BÁO CÁO TỰ ĐÁNH GIÁ" in pdf_text(f.read())

    # the online data edited later (here behind the services' back): the copy stays as
    # submitted, the generated form follows the data
    submitted.registration = {**REGISTRATION, "production_address": "Địa chỉ sửa sau"}
    submitted.save(update_fields=["registration"])
    with copies["form_01"].file.open("rb") as f:
        assert "Địa chỉ sửa sau" not in pdf_text(f.read())
    assert "Địa chỉ sửa sau" in pdf_text(documents.form_01_pdf(submitted))


def test_a_line_with_an_uploaded_file_gets_no_generated_copy(area):
    officer = area["officer"]
    dossier = ninhkieu_dossier(area)
    complete_the_rest(officer, dossier)
    complete_online(officer, dossier)
    services.upload_file(officer, dossier, test_views.pdf("phieu-dang-ky-ky-ten.pdf"),
                         document=by_code(dossier)["form_01"])

    services.submit(officer, dossier)

    assert list(by_code(dossier)["form_01"].files.values_list("original_name", flat=True)
                ) == ["phieu-dang-ky-ky-ten.pdf"]
    assert set(stored_copies(dossier)) == {"form_01", "form_02"}
    assert stored_copies(dossier)["form_02"].original_name == documents.form_filename(
        dossier, "form_02")


def test_a_render_failure_does_not_lose_the_submission(area, monkeypatch, caplog):
    officer = area["officer"]
    dossier = ninhkieu_dossier(area)
    complete_the_rest(officer, dossier)
    complete_online(officer, dossier)

    def broken(dossier, request=None, day=None):
        raise RuntimeError("font missing")

    monkeypatch.setitem(documents.FORM_PDFS, "form_01",
                        (broken, documents.FORM_PDFS["form_01"][1]))
    with caplog.at_level(logging.ERROR, logger="dossiers.documents"):
        submitted = services.submit(officer, dossier)

    assert submitted.state == DossierState.SUBMITTED
    assert set(stored_copies(dossier)) == {"form_02"}
    line = by_code(dossier)["form_01"]
    assert line.state == DocumentState.MISSING  # still given online, not missing
    assert "form_01" not in {d.item.code for d in services.missing_documents(submitted)}
    assert any("form_01" in r.getMessage() and r.exc_info for r in caplog.records)


def test_resubmit_keeps_a_copy_of_a_form_that_has_none_yet(area, monkeypatch):
    officer = area["officer"]
    dossier = ninhkieu_dossier(area)
    complete_the_rest(officer, dossier)
    complete_online(officer, dossier)
    original = documents.FORM_PDFS["form_01"]
    monkeypatch.setitem(documents.FORM_PDFS, "form_01",
                        (lambda *args, **kwargs: b"not a pdf", original[1]))
    services.submit(officer, dossier)  # the copy of Mẫu 01 is refused by the upload checks
    assert set(stored_copies(dossier)) == {"form_02"}
    monkeypatch.setitem(documents.FORM_PDFS, "form_01", original)
    label = by_code(dossier)["label"]
    services.return_for_completion(officer, dossier, reasons={label.pk: "Nhãn mờ"})
    services.upload_file(officer, dossier, test_views.pdf("nhan-moi.pdf"), document=label)

    resubmitted = services.resubmit(officer, dossier)

    assert resubmitted.state == DossierState.RESUBMITTED
    copies = DocumentFile.objects.filter(dossier=dossier,
                                         document__item__code__in=documents.ONLINE_CODES)
    assert sorted(copies.values_list("document__item__code", flat=True)) == [
        "form_01", "form_02"]  # Mẫu 02 kept once, not twice
