"""Printed documents of a dossier: the commune assessment report (Mẫu 03) or, under 148,
the district acceptance, on the Decree-30 layout; the producer's registration form
(Mẫu 01) and self-assessment (Mẫu 02) generated from the data filled in online, with a
copy kept on their checklist lines when the dossier is submitted (docs/documents.md)."""

import logging
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from ocop.documents.formatting import date_line, document_number, in_sentence, place_name
from ocop.documents.pdf import render_pdf

logger = logging.getLogger(__name__)

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


# --- Mẫu 01 and Mẫu 02 printed from the online data (docs/documents.md, "Generated forms") --

FORM_01_TEMPLATE = "dossiers/form_01.html"
FORM_02_TEMPLATE = "dossiers/form_02.html"

#: The instrument each regime's Mẫu 01/02 are attached to (the forms' own "Kèm theo" line).
#: 1489 changed the process, not the forms: 148 as amended uses the forms of 148.
FORM_SOURCES = {
    "148": "Kèm theo Quyết định số 148/QĐ-TTg ngày 24 tháng 02 năm 2023 của Thủ tướng "
           "Chính phủ",
    "148-1489": "Kèm theo Quyết định số 148/QĐ-TTg ngày 24 tháng 02 năm 2023 của Thủ "
                "tướng Chính phủ",
    "26/2026": "Kèm theo Quyết định số 26/2026/QĐ-TTg ngày 22 tháng 5 năm 2026 của Thủ "
               "tướng Chính phủ",
}
#: The fixed wording of the forms (legal Vietnamese, not translated).
PRODUCER_TYPES = {"cooperative": "Hợp tác xã", "cooperative_group": "Tổ hợp tác",
                  "enterprise": "Doanh nghiệp", "household": "Hộ kinh doanh"}
GENDERS = {"female": "Nữ", "male": "Nam"}
REGISTRATION_TYPES = {"first": "Đánh giá, phân hạng lần đầu", "upgrade": "Nâng hạng sao",
                      "reevaluation": "Đánh giá lại"}
PRODUCER_SIGNATURE = "ĐẠI DIỆN CHỦ THỂ"
PRODUCER_SIGNATURE_NOTE = "(Ký, ghi rõ họ tên, đóng dấu nếu có)"


def form_source(regime):
    return FORM_SOURCES.get(regime.slug) or f"Kèm theo Quyết định số {regime.code}"


def form_points(value):
    """Points as the forms print them: ``Decimal("2.00")`` → ``"2"``, ``1.50`` → ``"1,5"``;
    ``None`` → ``""``."""
    if value is None:
        return ""
    text = f"{Decimal(value):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def _addressee(dossier):
    """The People's Committee the producer files to: the commune's (or ward's) under
    1489 and 26/2026, the district's under 148 (docs/regimes-and-levels.md)."""
    from .rules import has_pre_assessment

    unit = dossier.unit
    if (not has_pre_assessment(dossier.round.regime) and unit.level == "commune"
            and unit.parent_id):
        unit = unit.parent
    return "Ủy ban nhân dân " + in_sentence(unit.name)


def _form_context(dossier, *, number, title, draft, day=None):
    """What Mẫu 01 and Mẫu 02 share: the form's heading (not a Decree-30 administrative
    document: no issuer, no number), the addressee and the producer's signature.
    ``day``: the date of the form; by default the submission's, or today before it."""
    producer = dossier.product.producer
    if day is None:
        day = (timezone.localtime(dossier.submitted_at).date() if dossier.submitted_at
               else timezone.localdate())
    return {
        "dossier": dossier,
        "producer": producer,
        "product": dossier.product,
        "regime": dossier.round.regime,
        "form_heading": True,
        "form_number": f"Mẫu số {number}",
        "form_source": form_source(dossier.round.regime),
        "doc_title": title,
        "addressee": _addressee(dossier),
        "recipients": [],
        "signature_date": date_line(place_name(dossier.unit.name), day),
        "signature_authority": PRODUCER_SIGNATURE,
        "signature_note": PRODUCER_SIGNATURE_NOTE,
        "signer_name": producer.representative_name.strip(),
        "draft": draft,
    }


def form_01_context(dossier, day=None):
    """Mẫu 01 "Phiếu đăng ký sản phẩm OCOP" from ``dossier.registration`` (the fields of
    ``forms.RegistrationForm``); a draft while a required field is empty."""
    from .forms import RegistrationForm

    producer = dossier.product.producer
    data = dossier.registration or {}
    fields = RegistrationForm.base_fields
    stars = data.get("expected_stars")
    rating = dossier.current_rating if dossier.current_rating_id else None
    registration_type = REGISTRATION_TYPES.get(dossier.registration_type,
                                               dossier.registration_type)
    if rating is not None:
        registration_type += (f" (hạng hiện tại: {rating.stars} sao, Quyết định số "
                              f"{rating.decision_number} ngày "
                              f"{rating.decision_date:%d/%m/%Y})")
    criteria_set = dossier.criteria_set
    producer_rows = [
        ("Tên chủ thể", producer.name),
        ("Loại hình tổ chức", PRODUCER_TYPES.get(producer.type, producer.type)),
        ("Mã số doanh nghiệp/hợp tác xã/hộ kinh doanh", producer.registration_no),
        ("Người đại diện theo pháp luật", ", ".join(part for part in (
            producer.representative_name,
            GENDERS.get(producer.representative_gender, ""),
            f"dân tộc {producer.representative_ethnicity}"
            if producer.representative_ethnicity else "") if part)),
        ("Địa chỉ trụ sở", ", ".join(part for part in (producer.address,
                                                          producer.unit.name) if part)),
        ("Điện thoại", producer.phone),
        ("Thư điện tử", producer.email),
    ]
    product_rows = [
        ("Tên sản phẩm", dossier.product.name),
        ("Bộ sản phẩm (bộ tiêu chí)",
         f"{criteria_set.set_no:02d} — {criteria_set.name}"),
        ("Hình thức đăng ký", registration_type),
        ("Địa điểm sản xuất", data.get("production_address", "")),
        ("Mô tả sản phẩm", data.get("product_description", "")),
        ("Nguyên liệu và nguồn gốc nguyên liệu", data.get("raw_materials", "")),
        ("Công suất sản xuất/năm", data.get("annual_capacity", "")),
        ("Số lao động", data.get("workers", "")),
        ("Thị trường tiêu thụ", data.get("markets", "")),
        ("Hạng sao đăng ký đánh giá", f"{stars} sao" if stars not in (None, "") else ""),
    ]
    context = _form_context(dossier, number="01", title="Phiếu đăng ký sản phẩm OCOP",
                            draft=not registration_complete(dossier), day=day)
    context.update(producer_rows=producer_rows, product_rows=product_rows,
                   required_missing=[str(field.label) for name, field in fields.items()
                                     if field.required
                                     and data.get(name) in (None, "")])
    return context


def form_02_context(dossier, day=None):
    """Mẫu 02 "Báo cáo tự đánh giá": every criterion of the dossier's criteria set with the
    option chosen, its points, the note and the evidence file's name; subtotals per part
    and the total (the sum of the chosen options' points, as a scoresheet adds them). A
    draft while a criterion is unanswered. Seven queries whatever the size of the set."""
    from scoring.queries import criteria_tree

    tree = criteria_tree(dossier.criteria_set_id)
    entries = {e.criterion_id: e
               for e in dossier.self_assessment.select_related("evidence")}
    parts, total, answered, count = [], Decimal(0), 0, 0
    for part in tree["parts"]:
        rows, subtotal = [], Decimal(0)
        for section in part["sections"]:
            rows.append({"heading": f"{section['code']}. {section['title']}",
                         "max": form_points(section["max"])})
            for criterion in section["criteria"]:
                count += 1
                entry = entries.get(criterion["id"])
                option = None
                if entry is not None and entry.option_id is not None:
                    option = next((o for o in criterion["options"]
                                   if o["id"] == entry.option_id), None)
                if option is not None:
                    answered += 1
                    subtotal += option["points"] or 0
                rows.append({
                    "code": criterion["code"],
                    "title": criterion["title"],
                    "max": form_points(criterion["max"]),
                    "option": option["label"] if option else "",
                    "points": form_points(option["points"]) if option else "",
                    "note": entry.note if entry else "",
                    "evidence": entry.evidence.original_name
                    if entry is not None and entry.evidence_id else "",
                })
        heading = part["title"]  # as printed, e.g. "Phần A SẢN PHẨM … (40 Điểm)"
        if not heading.lower().startswith("phần"):
            heading = f"Phần {part['code']}. {heading}"
            if part["max"] is not None:
                heading += f" ({form_points(part['max'])} điểm)"
        parts.append({"code": part["code"], "heading": heading, "rows": rows,
                      "subtotal": form_points(subtotal)})
        total += subtotal
    context = _form_context(dossier, number="02", title="Báo cáo tự đánh giá sản phẩm OCOP",
                            draft=not (count and answered >= count), day=day)
    context.update(parts=parts, total=form_points(total),
                   max_score=form_points(dossier.criteria_set.max_score),
                   answered=answered, criteria_count=count)
    return context


def form_01_pdf(dossier, request=None, day=None):
    return render_pdf(FORM_01_TEMPLATE, form_01_context(dossier, day), request=request)


def form_02_pdf(dossier, request=None, day=None):
    return render_pdf(FORM_02_TEMPLATE, form_02_context(dossier, day), request=request)


#: Checklist code → (renderer, download name pattern) of the generated forms.
FORM_PDFS = {
    FORM_01_CODE: (form_01_pdf, "mau-01-phieu-dang-ky-ho-so-{pk}.pdf"),
    FORM_02_CODE: (form_02_pdf, "mau-02-tu-danh-gia-ho-so-{pk}.pdf"),
}


def form_filename(dossier, code):
    return FORM_PDFS[code][1].format(pk=dossier.pk)


def keep_submitted_copies(user, dossier):
    """Store the generated Mẫu 01/02 PDF as the file of each line given online (missing,
    no file, form complete: ``mark_online``), so that the office, the council and the
    record see the forms as submitted even if the online data changes later.

    Called by ``services.submit`` and ``services.resubmit`` inside their transaction, on
    the locked dossier still in ``draft``/``returned``. Each copy goes through
    ``services.upload_file`` (the usual checks, storage, line state and audit event, by
    ``user``). A copy that cannot be rendered or stored is logged and skipped: the line
    stays "filled in online" and the submission goes on. Returns the lines given a copy."""
    from .models import DocumentState
    from .services import upload_file

    lines = list(dossier.documents.select_related("item").filter(
        item__code__in=ONLINE_CODES, state=DocumentState.MISSING, files__isnull=True))
    if not lines:
        return []
    given = provided_online(dossier, {line.item.code for line in lines})
    day = timezone.localdate()
    kept = []
    for line in lines:
        code = line.item.code
        if code not in given:
            continue
        render, _name = FORM_PDFS[code]
        try:
            pdf = render(dossier, day=day)
            with transaction.atomic():  # a savepoint: a failed copy leaves the submission
                upload_file(user, dossier,
                            ContentFile(pdf, name=form_filename(dossier, code)),
                            document=line)
        except Exception:
            logger.exception("The submitted copy of %s of dossier %s could not be kept; the "
                             "line stays filled in online.", code, dossier.pk)
        else:
            kept.append(line)
    return kept
