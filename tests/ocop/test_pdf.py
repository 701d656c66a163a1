"""The PDF service: Decree 30 layout, shipped fonts, formatting helpers, sample view."""

import datetime
import io
import os
import subprocess
import sys
import textwrap
import unicodedata
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from ocop.documents.formatting import date_line, document_number
from ocop.documents.pdf import (
    FONTS_DIR,
    PdfRenderError,
    content_disposition,
    pdf_response,
    render_pdf,
)
from ocop.documents.views import SAMPLE_TEMPLATE, sample_decision_context

REPO_ROOT = Path(__file__).resolve().parents[2]

HEADER_LINES = [
    "ỦY BAN NHÂN DÂN",
    "THÀNH PHỐ CẦN THƠ",
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
]
NUMBER_LINE = "Số: 123/QĐ-UBND"
DATE_LINE = "Cần Thơ, ngày 05 tháng 3 năm 2026"


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def pdf_fonts(pdf: bytes) -> list[dict]:
    """Every font of every page: its PDF name and the family of the embedded program."""
    fonts = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object()
            descriptor = descendant["/FontDescriptor"].get_object()
            program = TTFont(io.BytesIO(descriptor["/FontFile2"].get_data()))
            fonts.append(
                {
                    "base_font": str(font["/BaseFont"]),
                    "family": program["name"].getDebugName(1),
                    "full_name": program["name"].getDebugName(4),
                }
            )
    return fonts


@pytest.fixture(scope="module")
def sample_pdf_bytes():
    return render_pdf(SAMPLE_TEMPLATE, sample_decision_context(draft=False))


# --- (a) the Decree 30 header, title, footer --------------------------------------------


def test_sample_has_exact_header_lines(sample_pdf_bytes):
    text = pdf_text(sample_pdf_bytes)
    lines = [line.strip() for line in text.splitlines()]
    for expected in HEADER_LINES:
        assert expected in lines, expected
    # The number and the place/date line share the second header row.
    assert f"{NUMBER_LINE} {DATE_LINE}" in lines
    assert "QUYẾT ĐỊNH" in lines
    assert "QUYẾT ĐỊNH:" in lines
    assert "Nơi nhận:" in lines
    assert "- Lưu: VT, KT." in lines
    assert "- Như Điều 3;" in lines
    assert "KT. CHỦ TỊCH" in lines
    assert "PHÓ CHỦ TỊCH" in lines
    assert "Trần Văn Mẫu" in lines
    assert "Căn cứ Luật Tổ chức chính quyền địa phương năm 2025;" in lines
    for article in ("Điều 1.", "Điều 2.", "Điều 3."):
        assert any(line.startswith(article) for line in lines), article
    # Vietnamese letters come out precomposed (NFC), as typed.
    assert unicodedata.normalize("NFC", text) == text
    # Not a draft: no watermark.
    assert "DỰ THẢO" not in text


# --- (b) the shipped Liberation Serif is embedded, not a fallback -----------------------


def test_embedded_fonts_are_liberation_serif(sample_pdf_bytes):
    fonts = pdf_fonts(sample_pdf_bytes)
    assert fonts
    for font in fonts:
        # "/ABCDEF+Liberation-Serif-OCOP-Bold": subset tag, then the @font-face family.
        assert font["base_font"].split("+", 1)[1].startswith("Liberation-Serif"), font
        assert font["family"] == "Liberation Serif", font
    assert {font["full_name"] for font in fonts} == {
        "Liberation Serif",
        "Liberation Serif Bold",
        "Liberation Serif Italic",
        "Liberation Serif Bold Italic",
    }


def test_fonts_and_licence_are_shipped():
    for style in ("Regular", "Bold", "Italic", "BoldItalic"):
        font = TTFont(FONTS_DIR / f"LiberationSerif-{style}.ttf")
        assert font["name"].getDebugName(1) == "Liberation Serif"
        # Complete for Vietnamese: a few of the hardest letters.
        cmap = font.getBestCmap()
        for letter in "ẮẰẲẴẶỀỂỄỆỖỠỢỰỲỸđĐơưỹ":
            assert ord(letter) in cmap, (style, letter)
    licence = (FONTS_DIR / "LICENSE-OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence
    assert "Copyright (c) 2012 Red Hat, Inc. with Reserved Font Name Liberation." in licence


def test_renders_with_no_system_fonts(tmp_path):
    """A fresh machine: fontconfig knows no font at all, the shipped files still load."""
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        f"<fontconfig><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>\n"
    )
    out = tmp_path / "out.pdf"
    script = textwrap.dedent(
        f"""
        import django
        django.setup()
        from ocop.documents.pdf import render_pdf
        from ocop.documents.views import SAMPLE_TEMPLATE, sample_decision_context
        pdf = render_pdf(SAMPLE_TEMPLATE, sample_decision_context(draft=True))
        open({str(out)!r}, "wb").write(pdf)
        """
    )
    env = {
        **os.environ,
        "FONTCONFIG_FILE": str(conf),
        "DJANGO_SETTINGS_MODULE": "ocop.settings",
    }
    subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    pdf = out.read_bytes()
    assert {font["family"] for font in pdf_fonts(pdf)} == {"Liberation Serif"}
    text = pdf_text(pdf)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert "DỰ THẢO" in text


# --- (c) A4 portrait --------------------------------------------------------------------


def test_page_is_a4_portrait(sample_pdf_bytes):
    pages = PdfReader(io.BytesIO(sample_pdf_bytes)).pages
    assert len(pages) == 1
    for page in pages:
        box = page.mediabox
        assert abs(float(box.width) - 595) <= 1
        assert abs(float(box.height) - 842) <= 1


def test_draft_watermark_only_on_drafts():
    draft = render_pdf(SAMPLE_TEMPLATE, sample_decision_context(draft=True))
    assert "DỰ THẢO" in pdf_text(draft)


# --- resources outside the shipped folders are refused ----------------------------------


@override_settings(
    TEMPLATES=[
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "OPTIONS": {
                "loaders": [
                    (
                        "django.template.loaders.locmem.Loader",
                        {
                            "outside.html": '<p>x</p><img src="file:///etc/passwd">',
                            "remote.html": '<img src="https://example.com/logo.png">',
                        },
                    )
                ]
            },
        }
    ]
)
@pytest.mark.parametrize("template", ["outside.html", "remote.html"])
def test_foreign_resources_are_refused(template):
    with pytest.raises(PdfRenderError, match="allowed"):
        render_pdf(template, {})


# --- pdf_response -------------------------------------------------------------------------


def test_content_disposition_keeps_vietnamese_name():
    value = content_disposition("Quyết định 123.pdf")
    assert value == (
        'inline; filename="Quyet_dinh_123.pdf"; '
        "filename*=UTF-8''Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh%20123.pdf"
    )
    assert content_disposition("../x/Đơn.pdf", inline=False) == (
        "attachment; filename=\"Don.pdf\"; filename*=UTF-8''%C4%90%C6%A1n.pdf"
    )


def test_pdf_response_headers():
    response = pdf_response(b"%PDF-1.7 test", "Giấy chứng nhận.pdf", inline=False)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Length"] == "13"
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="Giay_chung_nhan.pdf"; ')
    assert disposition.endswith("filename*=UTF-8''Gi%E1%BA%A5y%20ch%E1%BB%A9ng%20nh%E1%BA%ADn.pdf")
    assert response.content == b"%PDF-1.7 test"


# --- (d) the sample view ------------------------------------------------------------------


def test_sample_view_requires_login(client, db):
    url = reverse("documents:sample-pdf")
    assert url == "/documents/sample.pdf"
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "next=/documents/sample.pdf" in response["Location"]
    assert response["Content-Type"] != "application/pdf"


def test_sample_view_renders_draft_pdf(client, make_user):
    client.force_login(make_user("viewer"))
    response = client.get(reverse("documents:sample-pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline; ")
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    assert "DỰ THẢO" in text
    for expected in HEADER_LINES:
        assert expected in text
    assert NUMBER_LINE in text
    assert DATE_LINE in text
    assert "Trần Văn Mẫu" in text


# --- (e) formatting -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (datetime.date(2026, 3, 5), "Cần Thơ, ngày 05 tháng 3 năm 2026"),
        (datetime.date(2026, 3, 1), "Cần Thơ, ngày 01 tháng 3 năm 2026"),
        (datetime.date(2026, 3, 9), "Cần Thơ, ngày 09 tháng 3 năm 2026"),
        (datetime.date(2026, 3, 10), "Cần Thơ, ngày 10 tháng 3 năm 2026"),
        (datetime.date(2026, 3, 31), "Cần Thơ, ngày 31 tháng 3 năm 2026"),
        (datetime.date(2026, 1, 5), "Cần Thơ, ngày 05 tháng 01 năm 2026"),
        (datetime.date(2026, 1, 20), "Cần Thơ, ngày 20 tháng 01 năm 2026"),
        (datetime.date(2026, 2, 5), "Cần Thơ, ngày 05 tháng 02 năm 2026"),
        (datetime.date(2026, 2, 28), "Cần Thơ, ngày 28 tháng 02 năm 2026"),
        (datetime.date(2026, 9, 15), "Cần Thơ, ngày 15 tháng 9 năm 2026"),
        (datetime.date(2026, 10, 5), "Cần Thơ, ngày 05 tháng 10 năm 2026"),
        (datetime.date(2026, 12, 31), "Cần Thơ, ngày 31 tháng 12 năm 2026"),
    ],
)
def test_date_line_padding(day, expected):
    assert date_line("Cần Thơ", day) == expected


def test_date_line_accepts_datetime_and_trims_place():
    moment = datetime.datetime(2026, 2, 3, 16, 30)
    assert date_line(" Hà Nội ", moment) == "Hà Nội, ngày 03 tháng 02 năm 2026"


@pytest.mark.parametrize(
    ("number", "symbol", "expected"),
    [
        (123, "QĐ-UBND", "Số: 123/QĐ-UBND"),
        (10, "QĐ-UBND", "Số: 10/QĐ-UBND"),
        (5, "QĐ-UBND", "Số: 05/QĐ-UBND"),
        (1, "GCN-OCOP", "Số: 01/GCN-OCOP"),
        ("123", " /QĐ-UBND ", "Số: 123/QĐ-UBND"),
        (None, "QĐ-UBND", "Số: \u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0/QĐ-UBND"),
        ("", "QĐ-UBND", "Số: \u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0/QĐ-UBND"),
    ],
)
def test_document_number(number, symbol, expected):
    assert document_number(number, symbol) == expected


def test_document_number_rejects_zero():
    with pytest.raises(ValueError):
        document_number(0, "QĐ-UBND")
