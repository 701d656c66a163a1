"""The recognition documents as Decree-30 PDFs (docs/recognition-documents.md): the
decision with its annex, the certificate with its QR code, and the Decree-30 defects of
the commune report (Mẫu 03) / district acceptance: its number and its signer.

The PDFs are read back with pypdf (text, fonts and sizes of every text run, page sizes,
images) and the QR code is decoded with zxing-cpp."""

import datetime
import io
import re

import pytest
import zxingcpp
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from dossiers import certificates, decisions, forwarding, services
from dossiers.models import (
    AssessmentVerdict,
    DecisionItem,
    DossierState,
    PreAssessment,
    Producer,
    Product,
    Rating,
)
from ocop.accounts.models import Role
from ocop.documents.formatting import date_line
from ocop.regions.models import AdministrativeUnit, Level
from tests import factories
from tests.dossiers.recognition import province_round, recognised
from tests.pdf_runs import text_runs

pytestmark = pytest.mark.django_db

A4_SHORT, A4_LONG = 595, 842
#: A blank left for a hand-written number or day: non-breaking spaces (or spaces).
BLANK = r"[\s\u00a0]{3,}"


# --- reading the PDFs ---------------------------------------------------------------------


def reader(data):
    return PdfReader(io.BytesIO(data))


def page_texts(data, *, raw=False):
    """The text of each page, its white space collapsed (``raw``: as extracted, so that
    the non-breaking spaces of a blank are kept)."""
    texts = [page.extract_text() or "" for page in reader(data).pages]
    return texts if raw else [" ".join(text.split()) for text in texts]


def font_of(page, text):
    return next(name for run, _size, name in text_runs(page) if run.startswith(text))


def is_bold(font):
    return "-Bold" in font


def is_landscape(page):
    box = page.mediabox
    return (round(float(box.width)), round(float(box.height))) == (A4_LONG, A4_SHORT)


def is_portrait(page):
    box = page.mediabox
    return (round(float(box.width)), round(float(box.height))) == (A4_SHORT, A4_LONG)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PUBLIC_BASE_URL = "https://ocop.cantho.example"
    return settings.MEDIA_ROOT


@pytest.fixture
def world(cantho, criteria, make_user):
    staff = make_user("sonn", Role.DEPARTMENT_STAFF, cantho["province"])
    commune = AdministrativeUnit.objects.current().filter(
        province=cantho["province"], level=Level.COMMUNE).order_by("code").first()
    return {"staff": staff, "round": province_round(cantho), "commune": commune, **cantho}


def issue(world, dossiers, capture, *, number=5, signer="Trần Văn Ký"):
    draft = decisions.draft_decision(world["staff"], dossiers)
    with capture(execute=True):
        decision = decisions.issue_decision(world["staff"], draft, number=number,
                                            date=timezone.localdate(), signer_name=signer)
    decision.refresh_from_db()
    return decision


def read(field):
    with field.open("rb") as handle:
        return handle.read()


# --- the decision -----------------------------------------------------------------------


def test_issued_decision_prints_the_decree_30_layout_and_its_annex(
        world, django_capture_on_commit_callbacks):
    products = [("Bưởi Năm Roi Phong Điền", 4, "78.50"), ("Mắm cá linh Mỹ Khánh", 3, "61.00"),
                ("Trà mãng cầu Cái Răng", 5, "91.25")]
    dossiers = [recognised(world["round"], stars=s, score=p, unit=world["commune"],
                           product_name=n) for n, s, p in products]
    Product.objects.filter(pk=dossiers[0].product_id).update(code="92-31117-001-2026")
    decision = issue(world, dossiers, django_capture_on_commit_callbacks)
    day = decision.date
    pdf = read(decision.file)
    pages = reader(pdf).pages
    texts = page_texts(pdf)
    first = texts[0]

    # the header: the People's Committee's name on two bold lines, motto, number, date
    lines = [line.strip() for line in pages[0].extract_text().splitlines()]
    assert "ỦY BAN NHÂN DÂN" in lines and "THÀNH PHỐ CẦN THƠ" in lines
    assert is_bold(font_of(pages[0], "ỦY BAN NHÂN DÂN"))
    assert is_bold(font_of(pages[0], "THÀNH PHỐ CẦN THƠ"))
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in first
    assert "Độc lập - Tự do - Hạnh phúc" in first
    assert f"Số: 05/QĐ-UBND {date_line('Cần Thơ', day)}" in first
    assert "Italic" in font_of(pages[0], "Cần Thơ, ngày")
    # title, authority, legal bases in italics, the articles, the signature, recipients
    assert "QUYẾT ĐỊNH Về việc công nhận kết quả đánh giá, phân hạng sản phẩm OCOP" in first
    assert "CHỦ TỊCH ỦY BAN NHÂN DÂN THÀNH PHỐ CẦN THƠ" in first
    assert "Italic" in font_of(pages[0], "Căn cứ Luật Tổ chức chính quyền địa phương")
    assert "QUYẾT ĐỊNH:" in first
    assert ("Điều 1. Công nhận 03 sản phẩm của 03 chủ thể đạt sản phẩm OCOP, gồm: 01 sản "
            "phẩm đạt 5 sao, 01 sản phẩm đạt 4 sao, 01 sản phẩm đạt 3 sao (có danh sách kèm "
            "theo).") in first
    assert "Điều 2. Kết quả đánh giá, phân hạng sản phẩm tại Điều 1 có giá trị" in first
    assert "Điều 3." in first
    signature = texts[0] + " " + texts[1]
    assert "KT. CHỦ TỊCH PHÓ CHỦ TỊCH" in signature and "Trần Văn Ký" in signature
    assert is_bold(font_of(pages[0] if "Trần Văn Ký" in texts[0] else pages[1], "Trần Văn Ký"))
    assert "Nơi nhận: - Như Điều 3; - Sở Nông nghiệp và Môi trường; - Lưu: VT." in signature
    assert "DỰ THẢO" not in " ".join(texts)

    # the annex: on its own landscape page(s) after the decision, one row per product
    annex = [i for i, text in enumerate(texts)
             if "DANH SÁCH SẢN PHẨM ĐƯỢC CÔNG NHẬN ĐẠT SẢN PHẨM OCOP" in text]
    assert len(annex) == 1 and "Điều 1." not in texts[annex[0]]
    assert is_portrait(pages[0]) and all(is_landscape(p) for p in pages[annex[0]:])
    annex_text = " ".join(texts[annex[0]:])
    assert (f"(Kèm theo Quyết định số 05/QĐ-UBND ngày {day.day:02d} tháng "
            f"{day.month if day.month > 2 else f'{day.month:02d}'} năm {day.year} của Chủ "
            f"tịch Ủy ban nhân dân thành phố Cần Thơ)") in annex_text
    assert ("STT Tên sản phẩm Mã số sản phẩm Chủ thể Địa chỉ Bộ sản phẩm Điểm Hạng sao"
            in annex_text)
    items = list(decision.items.order_by("order"))
    assert [i.product_name for i in items] == sorted(n for n, _s, _p in products)
    for no, item in enumerate(items, start=1):
        row = annex_text[annex_text.index(f" {no} {item.product_name} "):]
        row = row[:row.index(" sao") + 4]
        assert row.index(item.producer_name) < row.index(item.producer_address)
        assert row.endswith(f"{item.criteria_set} {certificates.points(item.score)} "
                            f"{item.stars} sao")
    assert "92-31117-001-2026" in annex_text
    assert "78,50 4 sao" in annex_text and "61,00 3 sao" in annex_text
    assert "91,25 5 sao" in annex_text
    # tables at 12 pt or more
    sizes = [size for page in pages[annex[0]:] for _t, size, _f in text_runs(page)]
    assert sizes and min(sizes) >= 12


def test_draft_has_blank_number_and_day_and_the_watermark_on_every_page(world):
    dossiers = [recognised(world["round"], stars=3 + i % 3, unit=world["commune"],
                           product_name=f"Sản phẩm dự thảo {i:02d}") for i in range(8)]
    draft = decisions.draft_decision(world["staff"], dossiers)
    draft = decisions.update_draft(world["staff"], draft,
                                   data={"signer_name": "Lê Văn Dự Kiến"})
    # long addresses: a few rows a page, so that the annex runs over several pages
    for item in draft.items.all():
        item.producer_address = ("Số 1 đường 30 tháng 4, " * 12) + f"ĐỊA-CHỈ-{item.order:02d}"
        item.save(update_fields=["producer_address"])
    pdf = certificates.render_decision(draft, draft=True)
    pages = reader(pdf).pages
    texts, raw = page_texts(pdf), page_texts(pdf, raw=True)

    assert len(pages) >= 4
    assert all("DỰ THẢO" in text for text in texts)  # every page, the annex's too
    assert re.search(rf"Số:{BLANK}/QĐ-UBND", raw[0])
    assert re.search(rf"Cần Thơ, ngày{BLANK}tháng{BLANK}năm {timezone.localdate().year}",
                     raw[0])
    assert "Lê Văn Dự Kiến" in " ".join(texts[:2])  # the name, when already known
    annex = [i for i, t in enumerate(texts) if "Tên sản phẩm Mã số sản phẩm" in t]
    assert len(annex) >= 2  # the header row repeated on every page of the annex
    assert annex == list(range(annex[0], len(pages)))
    # the annex has its own page numbers: none on its first page, then 2, 3, …
    numbers = [text.strip().splitlines()[-1] for text in raw]
    assert numbers[annex[0]] != "1" and numbers[annex[0] + 1:] == [
        str(n) for n in range(2, len(pages) - annex[0] + 1)]
    assert re.search(rf"\(Kèm theo Quyết định số{BLANK}/QĐ-UBND ngày{BLANK}tháng",
                     raw[annex[0]])
    # no row split across two pages: a product and the end of its address on one page
    for item in draft.items.all():
        on = [i for i in annex if item.product_name in texts[i]]
        assert len(on) == 1 and f"ĐỊA-CHỈ-{item.order:02d}" in texts[on[0]]
    assert "DỰ THẢO" not in " ".join(page_texts(
        certificates.render_decision(draft, draft=False)))


def test_decision_file_and_certificates_come_from_the_issuing_job(
        world, django_capture_on_commit_callbacks):
    decision = issue(world, [recognised(world["round"], unit=world["commune"])],
                     django_capture_on_commit_callbacks)
    assert decision.file.name.endswith(".pdf") and "quyet-dinh-" in decision.file.name
    rating = Rating.objects.get(decision=decision)
    assert "giay-chung-nhan-" in rating.certificate.name
    assert read(rating.certificate).startswith(b"%PDF-")


# --- the certificate --------------------------------------------------------------------


def decode_qr(page):
    """The text of the QR code drawn on ``page`` (its one image)."""
    images = list(page.images)
    assert len(images) == 1
    results = zxingcpp.read_barcodes(images[0].image.convert("L"))
    assert len(results) == 1 and results[0].format == zxingcpp.BarcodeFormat.QRCode
    return results[0].text


def test_certificate_prints_the_rating_and_a_qr_code_of_the_verification_url(
        world, django_capture_on_commit_callbacks):
    dossier = recognised(world["round"], stars=4, score="78.50", unit=world["commune"],
                         product_name="Bưởi Năm Roi Phong Điền")
    Product.objects.filter(pk=dossier.product_id).update(code="92-31117-001-2026")
    Producer.objects.filter(pk=dossier.product.producer_id).update(
        name="Hợp tác xã Bưởi Phong Điền", phone="0909123456", email="htx@example.vn",
        representative_name="Nguyễn Thị Đại Diện")
    decision = issue(world, [dossier], django_capture_on_commit_callbacks)
    rating = Rating.objects.get(decision=decision)
    pdf = read(rating.certificate)
    pages = reader(pdf).pages
    assert len(pages) == 1 and is_landscape(pages[0])
    text = page_texts(pdf)[0]
    line = DecisionItem.objects.get(decision=decision)

    assert "ỦY BAN NHÂN DÂN THÀNH PHỐ CẦN THƠ" in text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM Độc lập - Tự do - Hạnh phúc" in text
    assert "GIẤY CHỨNG NHẬN SẢN PHẨM OCOP" in text
    assert "Bưởi Năm Roi Phong Điền" in text
    assert "Mã số sản phẩm: 92-31117-001-2026" in text
    assert "Chủ thể: Hợp tác xã Bưởi Phong Điền" in text
    assert f"Địa chỉ: {line.producer_address}" in text
    assert "Đạt hạng: 4 sao" in text
    day = decision.date
    assert (f"Quyết định số 05/QĐ-UBND ngày {day:%d/%m/%Y} của Chủ tịch Ủy ban nhân dân "
            f"thành phố Cần Thơ") in text
    assert f"Có giá trị đến ngày {rating.valid_until:%d/%m/%Y}." in text
    assert rating.valid_until == decisions.valid_until(day, 36)
    assert date_line("Cần Thơ", day) in text
    assert "KT. CHỦ TỊCH PHÓ CHỦ TỊCH" in text and "Trần Văn Ký" in text
    # nothing personal beyond the producer's name and address
    for private in ("0909123456", "htx@example.vn", "Nguyễn Thị Đại Diện"):
        assert private not in text
    assert "DỰ THẢO" not in text

    url = certificates.verification_url(rating)
    assert url == f"https://ocop.cantho.example/xac-minh/{rating.verification_code}/"
    assert url in text  # printed small under the code
    assert decode_qr(pages[0]) == url
    # four stars drawn (the shipped font has no ★ glyph: inline SVG)
    html = render_to_string(certificates.CERTIFICATE_TEMPLATE,
                            certificates.certificate_context(rating))
    assert html.count("<polygon") == 4
    assert "★" not in html


def test_certificate_of_a_long_product_name_stays_on_one_page(
        world, django_capture_on_commit_callbacks):
    dossier = recognised(world["round"], stars=5, score="92", unit=world["commune"],
                         product_name="Bánh pía " + "sầu riêng lá dứa trứng muối " * 8)
    Producer.objects.filter(pk=dossier.product.producer_id).update(
        address="Số 12 đường Nguyễn Văn Cừ nối dài, khu vực Thạnh Thuận, " * 5)
    decision = issue(world, [dossier], django_capture_on_commit_callbacks, number=9)
    pdf = read(Rating.objects.get(decision=decision).certificate)
    assert len(reader(pdf).pages) == 1
    text = page_texts(pdf)[0]
    assert "Đạt hạng: 5 sao" in text and "Quyết định số 09/QĐ-UBND" in text
    assert decode_qr(reader(pdf).pages[0]).endswith("/")


@pytest.fixture
def ministry_rating(world):
    round_ = factories.evaluation_round(world["province"], "26/2026", "province")
    dossier = factories.dossier(round_, world["commune"], set_no=1,
                                state=DossierState.IN_EVALUATION,
                                product_name="Gạo ST25 Cần Thơ")
    dossier = services.record_result(world["staff"], dossier, outcome="forward",
                                     via_council=True, result={"total": "91.50", "stars": 5})
    forwarding.record_central_result(
        world["staff"], dossier, score="92,5", stars=5, decision_number="1234/QĐ-BNNMT",
        decision_date=datetime.date(2026, 11, 20))
    return Rating.objects.get(product=dossier.product)


def test_certificate_of_a_ministry_decision_names_the_ministry(ministry_rating):
    pdf = certificates.render_certificate(ministry_rating)
    text = page_texts(pdf)[0]
    assert "BỘ NÔNG NGHIỆP VÀ MÔI TRƯỜNG" in text
    assert "ỦY BAN NHÂN DÂN" not in text
    assert "Gạo ST25 Cần Thơ" in text and "Đạt hạng: 5 sao" in text
    assert ("Quyết định số 1234/QĐ-BNNMT ngày 20/11/2026 của Bộ trưởng Bộ Nông nghiệp và "
            "Môi trường") in text
    assert "Có giá trị đến ngày 19/11/2029." in text
    assert "Hà Nội, ngày 20 tháng 11 năm 2026" in text
    assert decode_qr(reader(pdf).pages[0]) == certificates.verification_url(ministry_rating)


# --- Mẫu 03 / district acceptance: the number and the signer ------------------------------


@pytest.fixture
def accepted(cantho, criteria, make_user):
    staff = make_user("sonn", Role.DEPARTMENT_STAFF, cantho["province"])
    commune = AdministrativeUnit.objects.current().get(level=Level.COMMUNE,
                                                       name="Xã Phong Điền")
    round_ = factories.evaluation_round(cantho["province"], "26/2026", "province")
    dossier = factories.dossier(round_, commune, set_no=1, state=DossierState.ACCEPTED,
                                product_name="Bưởi Năm Roi Phong Điền")
    return {"staff": staff, "dossier": dossier}


MAU_03 = {
    "raw_materials": "Bưởi trồng tại xã", "raw_materials_verdict": "met",
    "labour": "12 lao động địa phương", "labour_verdict": "met",
    "idea_origin": "Ý tưởng của hợp tác xã", "idea_origin_verdict": "met",
    "local_identity": "Đặc sản Phong Điền", "local_identity_verdict": "met",
    "conclusion": "Đủ điều kiện chuyển cấp tỉnh đánh giá.",
}


def report_text(client, user, dossier, *, raw=False):
    client.force_login(user)
    response = client.get(reverse("dossiers:pre-assessment-pdf", args=[dossier.pk]))
    assert response["Content-Type"] == "application/pdf"
    return " ".join(page_texts(b"".join(response.streaming_content) if response.streaming
                               else response.content, raw=raw))


def test_report_number_and_signer_entered_on_the_form_are_printed(client, accepted):
    dossier, staff = accepted["dossier"], accepted["staff"]
    client.force_login(staff)
    url = reverse("dossiers:pre-assessment", args=[dossier.pk])
    page = client.get(url).content.decode()
    for name in ("report_number", "signer_name", "signer_title"):
        assert f'name="{name}"' in page
    response = client.post(url, {**MAU_03, "report_number": "12",
                                 "signer_name": "Nguyễn Văn Xã",
                                 "signer_title": "Phó Chủ tịch"})
    assert response.status_code == 302
    report = PreAssessment.objects.get(dossier=dossier)
    assert (report.report_number, report.signer_name, report.signer_title) == (
        "12", "Nguyễn Văn Xã", "Phó Chủ tịch")

    text = report_text(client, staff, dossier)
    assert "Số: 12/BC-UBND" in text
    assert "TM. ỦY BAN NHÂN DÂN KT. CHỦ TỊCH PHÓ CHỦ TỊCH" in text
    assert "Nguyễn Văn Xã" in text
    assert "Nơi nhận:" in text


def test_report_without_number_keeps_a_blank_and_prints_the_signer_given(client, accepted):
    dossier, staff = accepted["dossier"], accepted["staff"]
    services.record_pre_assessment(staff, dossier, data={**MAU_03,
                                                         "signer_name": "Trần Thị Chủ Tịch"})
    text = report_text(client, staff, dossier)
    assert re.search(rf"Số:{BLANK}/BC-UBND", report_text(client, staff, dossier, raw=True))
    assert "TM. ỦY BAN NHÂN DÂN CHỦ TỊCH" in text and "Trần Thị Chủ Tịch" in text


def test_district_acceptance_prints_its_number_and_signer(client, cantho, criteria,
                                                          make_user):
    officer = make_user("canbo.nk", Role.LOCAL_OFFICER, cantho["ninhkieu"])
    round_ = factories.evaluation_round(cantho["ninhkieu"], "148", "district")
    dossier = factories.dossier(round_, cantho["ninhkieu"], state=DossierState.ACCEPTED)
    services.record_pre_assessment(officer, dossier, data={
        "conclusion": "Hồ sơ đầy đủ, đủ điều kiện đánh giá.", "report_number": "7",
        "signer_name": "Lê Văn Huyện", "signer_title": "CHỦ TỊCH"})
    text = report_text(client, officer, dossier)
    assert "ỦY BAN NHÂN DÂN QUẬN NINH KIỀU" in text
    assert "Số: 07/BC-UBND" in text
    assert "TM. ỦY BAN NHÂN DÂN CHỦ TỊCH" in text and "Lê Văn Huyện" in text


def test_report_fields_are_optional_and_bounded(accepted):
    dossier, staff = accepted["dossier"], accepted["staff"]
    with pytest.raises(services.DossierError) as refused:
        services.record_pre_assessment(staff, dossier, data={**MAU_03,
                                                             "report_number": "9" * 31})
    assert set(refused.value.fields) == {"report_number"}
    with pytest.raises(services.DossierError) as refused:
        services.record_pre_assessment(staff, dossier, data={**MAU_03,
                                                             "signer_name": ["A"]})
    assert set(refused.value.fields) == {"signer_name"}
    assert not PreAssessment.objects.filter(dossier=dossier).exists()
    services.record_pre_assessment(staff, dossier, data=MAU_03)
    report = PreAssessment.objects.get(dossier=dossier)
    assert (report.report_number, report.signer_name, report.signer_title) == ("", "", "")
    assert report.raw_materials_verdict == AssessmentVerdict.MET


def test_report_number_sent_as_a_number_through_the_api(client, accepted):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    dossier, staff = accepted["dossier"], accepted["staff"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff).key}")
    response = api.post(f"/api/v1/dossiers/{dossier.pk}/transition/", {
        "action": "record_pre_assessment",
        "data": {**MAU_03, "report_number": 3, "signer_name": "Võ Văn Ký"}}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == DossierState.PRE_ASSESSED
    report = PreAssessment.objects.get(dossier=dossier)
    assert (report.report_number, report.signer_name) == ("3", "Võ Văn Ký")
    assert "Số: 03/BC-UBND" in report_text(client, staff, dossier)
