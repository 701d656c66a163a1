"""Printed documents of a dossier: the commune assessment report (Mẫu 03) or, under 148,
the district acceptance, on the Decree-30 layout."""

from django.utils import timezone

from ocop.documents.formatting import date_line
from ocop.documents.pdf import render_pdf

PRE_ASSESSMENT_TEMPLATE = "dossiers/pre_assessment_report.html"


def _place(unit):
    """"Phường Ninh Kiều" → "Ninh Kiều" for the place/date line."""
    for prefix in ("Thành phố ", "Tỉnh ", "Quận ", "Huyện ", "Thị xã ", "Phường ", "Xã ",
                   "Thị trấn ", "Đặc khu "):
        if unit.name.startswith(prefix):
            return unit.name[len(prefix):]
    return unit.name


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
    return {
        "dossier": dossier,
        "report": report,
        "items": items,
        "issuer_parent": "ỦY BAN NHÂN DÂN",
        "issuer": issuer.name.upper(),
        "number_line": "Số:        /BC-UBND",
        "date_line": date_line(_place(issuer), timezone.localtime(report.assessed_at).date()),
        "recipients": ["Sở Nông nghiệp và Môi trường", "Chủ thể " + dossier.product.producer.name,
                       "Lưu: VT"],
        "signature_authority": "TM. ỦY BAN NHÂN DÂN",
        "signature_title": "CHỦ TỊCH",
        "signer_name": "",
        "draft": False,
    }


def pre_assessment_pdf(dossier, request=None):
    return render_pdf(PRE_ASSESSMENT_TEMPLATE, pre_assessment_context(dossier), request=request)
