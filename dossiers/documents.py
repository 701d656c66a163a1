"""Printed documents of a dossier: the commune assessment report (Mẫu 03) or, under 148,
the district acceptance, on the Decree-30 layout."""

from django.utils import timezone

from ocop.documents.formatting import date_line, document_number, place_name
from ocop.documents.pdf import render_pdf

PRE_ASSESSMENT_TEMPLATE = "dossiers/pre_assessment_report.html"
#: Symbol of a People's Committee's report (Decree 30, Appendix III: "BC" for báo cáo).
REPORT_SYMBOL = "BC-UBND"


def report_number_line(number, symbol=REPORT_SYMBOL):
    """"12" → "Số: 12/BC-UBND", "5" → "Số: 05/BC-UBND", "12/BC-UBND" as typed; empty → a
    blank before the symbol for a number written by hand."""
    number = (number or "").strip()
    if "/" in number:
        return f"Số: {number}"
    if number.isdigit() and int(number) >= 1:
        return document_number(int(number), symbol)
    return document_number(number or None, symbol)


def signature_lines(title):
    """(signature_authority, signature_title) of the People's Committee's report: the chair
    signs "TM. ỦY BAN NHÂN DÂN / CHỦ TỊCH"; a vice-chair signs for the chair, "TM. ỦY BAN
    NHÂN DÂN / KT. CHỦ TỊCH / PHÓ CHỦ TỊCH" (Decree 30, Appendix I)."""
    title = " ".join((title or "").split()).upper() or "CHỦ TỊCH"
    if title.startswith("PHÓ CHỦ TỊCH"):
        return "TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH", title
    return "TM. ỦY BAN NHÂN DÂN", title


def pre_assessment_context(dossier):
    report = dossier.pre_assessment
    unit = dossier.unit
    issuer = unit.parent if unit.level == "commune" and unit.valid_to else unit
    items = [
        ("Nguồn nguyên liệu tại địa phương", report.raw_materials,
         report.get_raw_materials_verdict_display()),
        ("Sử dụng lao động tại địa phương", report.labour, report.get_labour_verdict_display()),
        ("Nguồn gốc ý tưởng sản phẩm", report.idea_origin,
         report.get_idea_origin_verdict_display()),
        ("Tính đặc trưng, bản sắc địa phương", report.local_identity,
         report.get_local_identity_verdict_display()),
    ] if report.raw_materials_verdict else []
    signature_authority, signature_title = signature_lines(report.signer_title)
    return {
        "dossier": dossier,
        "report": report,
        "items": items,
        "issuer_parent": "ỦY BAN NHÂN DÂN",
        "issuer": issuer.name.upper(),
        "number_line": report_number_line(report.report_number),
        "date_line": date_line(place_name(issuer.name),
                               timezone.localtime(report.assessed_at).date()),
        "recipients": ["Sở Nông nghiệp và Môi trường", "Chủ thể " + dossier.product.producer.name,
                       "Lưu: VT"],
        "signature_authority": signature_authority,
        "signature_title": signature_title,
        "signer_name": report.signer_name.strip(),
        "draft": False,
    }


def pre_assessment_pdf(dossier, request=None):
    return render_pdf(PRE_ASSESSMENT_TEMPLATE, pre_assessment_context(dossier), request=request)
