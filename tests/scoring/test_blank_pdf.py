"""The blank scoresheet PDF of a criteria set (scoring/views.py, blank_scoresheet.html)."""

import io
import re
import unicodedata

import pytest
from pypdf import PdfReader

from scoring import views
from scoring.models import CriteriaSet

pytestmark = pytest.mark.django_db

#: (regime, set): a 26/2026 set with criterion groups (coffee), the tourism set with cases,
#: and a 148 draft with criterion groups and "1.a" codes (tea).
SHEETS = [("26/2026", 13), ("26/2026", 26), ("148", 11)]


def the_set(slug, set_no):
    return CriteriaSet.objects.select_related("regime", "group", "subgroup").get(
        regime__slug=slug, set_no=set_no, version=1)


def squeeze(text):
    """Text without any whitespace, NFKC: line wrapping in the PDF cannot break a match."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def pdf_text(pdf):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def embedded_fonts(pdf):
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]).split("+", 1)[1])
    return names


@pytest.fixture(scope="module")
def sheets(loaded_criteria, django_db_blocker):
    """{(regime, set): (criteria set, PDF bytes, extracted text)}, each sheet rendered and
    read once per module (pypdf takes about a second per sheet)."""
    with django_db_blocker.unblock():
        rendered = {}
        for key in SHEETS:
            cs = the_set(*key)
            pdf = views.blank_scoresheet_bytes(cs)
            rendered[key] = (cs, pdf, pdf_text(pdf))
        return rendered


@pytest.mark.parametrize("key", SHEETS)
def test_blank_scoresheet_contains_every_criterion_title_and_option(sheets, key):
    cs, _pdf, raw = sheets[key]
    text = squeeze(raw)
    criteria = list(cs.criteria.order_by("order"))
    assert len(criteria) >= 32
    for criterion in criteria:
        assert squeeze(criterion.title) in text, (criterion.code, criterion.title)
    for option in cs.options.all():
        assert squeeze(option.label) in text, option.label
    for group in cs.criterion_groups.all():
        assert squeeze(f"{group.code}{group.title}") in text
    for section in cs.sections.all():
        assert squeeze(section.title) in text


@pytest.mark.parametrize("key", SHEETS)
def test_blank_scoresheet_has_header_blank_fields_tick_boxes_and_signature(sheets, key):
    cs, pdf, raw = sheets[key]
    text = squeeze(raw)
    for fixed in ("PHIẾU ĐÁNH GIÁ SẢN PHẨM OCOP",
                  f"Bộ sản phẩm số {cs.set_no:02d}: {cs.name}",
                  f"Bộ tiêu chí theo {cs.regime.code}",
                  "Tên sản phẩm:", "Chủ thể sản xuất:", "Họ và tên thành viên hội đồng:",
                  "Ngày đánh giá:", "Thang điểm", "Điểm chấm", "TỔNG ĐIỂM (A + B + C)",
                  "THÀNH VIÊN HỘI ĐỒNG", "(Ký, ghi rõ họ tên)",
                  "Dấu sao là yêu cầu tối thiểu phải đạt theo các cấp độ sao"):
        assert squeeze(fixed) in text, fixed
    # one tick box per option (plus the one in the instructions)
    assert raw.count("□") == cs.options.count() + 1
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    assert f"Trang {pages}/{pages}" in raw


def test_blank_scoresheet_prints_disqualification_product_code_and_star_marks(sheets):
    cs, _pdf, raw = sheets[("26/2026", 13)]
    text = squeeze(raw)
    assert cs.disqualification.startswith("Hồ sơ bị loại khi")
    assert squeeze(cs.disqualification) in text
    assert squeeze(cs.product_code_format) in text
    starred = cs.options.filter(min_star=5).select_related("criterion").first()
    assert squeeze(f"{starred.label} *****") in text
    # the corrected bilingual-labelling criterion carries its erratum ID
    corrected = cs.criteria.exclude(erratum="").first()
    assert squeeze(f"{corrected.title} (đính chính E26-01)") in text
    assert "KHÔNGDÙNGĐỂCHẤMĐIỂM" not in text


def test_blank_scoresheet_of_draft_says_not_for_scoring(sheets):
    cs, _pdf, raw = sheets[("148", 11)]
    text = squeeze(raw)
    assert squeeze("BẢN NHÁP — BỘ TIÊU CHÍ CHƯA ĐƯỢC CÔNG BỐ, KHÔNG DÙNG ĐỂ CHẤM ĐIỂM.") in text
    assert squeeze(cs.unresolved_reasons[0]) in text


@pytest.mark.parametrize("key", SHEETS)
def test_blank_scoresheet_embeds_only_the_shipped_font(sheets, key):
    _cs, pdf, _raw = sheets[key]
    assert embedded_fonts(pdf) <= {
        "Liberation-Serif-OCOP", "Liberation-Serif-OCOP-Bold", "Liberation-Serif-OCOP-Italic",
        "Liberation-Serif-OCOP-Bold-Italic"}


def test_blank_scoresheet_view_serves_the_pdf_inline(client, django_user_model, sheets):
    cs, _pdf, _raw = sheets[("26/2026", 13)]
    client.force_login(django_user_model.objects.create(username="pdf.reader"))
    response = client.get(f"/criteria/{cs.pk}/scoresheet.pdf", HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith(
        'inline; filename="scoresheet-26-2026-set-13-v1.pdf"')
    body = response.content
    assert body.startswith(b"%PDF")
    first_page = PdfReader(io.BytesIO(body)).pages[0].extract_text()
    assert squeeze("PHIẾU ĐÁNH GIÁ SẢN PHẨM OCOP Bộ sản phẩm số 13: Cà phê, cacao") in squeeze(
        first_page)


@pytest.fixture
def empty_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def test_blank_scoresheet_of_published_set_is_rendered_once(monkeypatch, empty_cache):
    calls = []
    monkeypatch.setattr(views, "render_pdf", lambda *a, **k: calls.append(a) or b"%PDF-x")
    published, draft = the_set("26/2026", 1), the_set("148", 7)
    assert views.blank_scoresheet_bytes(published) == b"%PDF-x"
    assert views.blank_scoresheet_bytes(published) == b"%PDF-x"
    assert len(calls) == 1
    views.blank_scoresheet_bytes(draft)
    views.blank_scoresheet_bytes(draft)
    assert len(calls) == 3  # a draft may change: never cached
