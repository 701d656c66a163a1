import datetime

from django.contrib.auth.decorators import login_required
from django.utils.translation import gettext as _

from .formatting import date_line, document_number
from .pdf import pdf_response, render_pdf

SAMPLE_TEMPLATE = "documents/sample_decision.html"


def sample_decision_context(*, draft: bool = True) -> dict:
    """Context of the sample recognition decision (fictitious Cần Thơ data)."""
    return {
        "issuer_parent": "ỦY BAN NHÂN DÂN",
        "issuer": "THÀNH PHỐ CẦN THƠ",
        "number_line": document_number(123, "QĐ-UBND"),
        "date_line": date_line("Cần Thơ", datetime.date(2026, 3, 5)),
        "recipients": [
            "Như Điều 3",
            "Bộ Nông nghiệp và Môi trường (để b/c)",
            "TT. Thành ủy, TT. HĐND thành phố (để b/c)",
            "CT, các PCT UBND thành phố",
            "Lưu: VT, KT",
        ],
        "signature_authority": "KT. CHỦ TỊCH",
        "signature_title": "PHÓ CHỦ TỊCH",
        "signer_name": "Trần Văn Mẫu",
        "draft": draft,
    }


@login_required
def sample_pdf(request):
    """The sample decision as a draft PDF, shown inline in the browser."""
    pdf = render_pdf(SAMPLE_TEMPLATE, sample_decision_context(draft=True), request=request)
    # Translators: file name of the sample decision PDF (no extension).
    filename = _("sample-decision") + ".pdf"
    return pdf_response(pdf, filename, inline=True)
