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


# --- Mẫu 01 and Mẫu 02 given online (docs/documents.md, "Filled in online") -----------------

#: Checklist codes of the two forms the officer fills in on the dossier's pages.
FORM_01_CODE = "form_01"
FORM_02_CODE = "form_02"
ONLINE_CODES = (FORM_01_CODE, FORM_02_CODE)


def registration_complete(dossier):
    """Mẫu 01 is complete online when every required field of the registration form is
    saved on the dossier."""
    from .forms import RegistrationForm

    data = dossier.registration or {}
    return all(data.get(name) not in (None, "")
               for name, field in RegistrationForm.base_fields.items() if field.required)


def self_assessment_complete(dossier, progress=None):
    """Mẫu 02 is complete online when every criterion of the dossier's set is answered.
    ``progress``: ``services.self_assessment_progress(dossier)`` when the caller has it."""
    from .services import self_assessment_progress

    answered, total = progress or self_assessment_progress(dossier)
    return bool(total) and answered >= total


def provided_online(dossier, codes=ONLINE_CODES, progress=None):
    """The checklist codes (of ``codes``) whose form is complete online: their line needs
    no uploaded file. Two queries at most (none for Mẫu 01, none with ``progress``)."""
    given = set()
    if FORM_01_CODE in codes and registration_complete(dossier):
        given.add(FORM_01_CODE)
    if FORM_02_CODE in codes and self_assessment_complete(dossier, progress):
        given.add(FORM_02_CODE)
    return given


def mark_online(dossier, documents, progress=None):
    """Set ``document.online`` on the Mẫu 01/02 lines still without a file (``missing``)
    whose form is complete online; the page shows them as "Filled in online".
    ``progress``: the self-assessment's (answered, total) when the caller has it."""
    from .models import DocumentState

    lines = [d for d in documents
             if d.item.code in ONLINE_CODES and d.state == DocumentState.MISSING]
    given = (provided_online(dossier, {d.item.code for d in lines}, progress) if lines
             else set())
    for document in documents:
        document.online = document in lines and document.item.code in given
    return documents
