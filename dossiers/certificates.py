"""The documents of a recognition: the decision (Quyết định công nhận) and the
certificates (Giấy chứng nhận), as Decree-30 PDFs (docs/decisions.md).

Contract used by ``dossiers.issuing`` and the pages:

    render_decision(decision, *, draft) -> bytes      # draft=True: "DỰ THẢO" watermark
    render_certificate(rating) -> bytes               # one page, QR code to verification
    decision_file_name(decision) -> str
    certificate_file_name(rating) -> str
    verification_url(rating) -> str                   # absolute URL of /xac-minh/<code>/
"""

from django.conf import settings
from django.urls import reverse

from ocop.documents.formatting import date_line
from ocop.documents.pdf import render_pdf

from .decisions import article_1

DECISION_TEMPLATE = "dossiers/decision.html"
CERTIFICATE_TEMPLATE = "dossiers/certificate.html"


def verification_url(rating):
    base = getattr(settings, "PUBLIC_BASE_URL", "").rstrip("/")
    return base + reverse("verification", args=[rating.verification_code])


def decision_context(decision, *, draft):
    items = list(decision.items.order_by("order", "id"))
    return {
        "decision": decision, "items": items, "draft": draft,
        "issuer_parent": decision.issuer_parent, "issuer": decision.issuer_name,
        "number_line": f"Số: {decision.reference}" if decision.reference and not draft
        else "Số: \u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0/" + decision.symbol,
        "date_line": date_line(decision.place, decision.date) if decision.date and not draft
        else f"{decision.place}, ngày \u00a0\u00a0\u00a0 tháng \u00a0\u00a0\u00a0 năm",
        "article_1": article_1(decision, items),
        "bases": [b for b in decision.legal_bases.splitlines() if b.strip()],
        "recipients": [r for r in decision.recipients.splitlines() if r.strip()],
        "signature_authority": decision.signature_authority,
        "signature_title": decision.signature_title, "signer_name": decision.signer_name,
        "doc_title": "Quyết định công nhận kết quả đánh giá, phân hạng sản phẩm OCOP",
    }


def render_decision(decision, *, draft):
    return render_pdf(DECISION_TEMPLATE, decision_context(decision, draft=draft))


def certificate_context(rating):
    return {"rating": rating, "decision": rating.decision, "url": verification_url(rating)}


def render_certificate(rating):
    return render_pdf(CERTIFICATE_TEMPLATE, certificate_context(rating))


def decision_file_name(decision):
    return f"quyet-dinh-{decision.pk}.pdf"


def certificate_file_name(rating):
    return f"giay-chung-nhan-{rating.pk}.pdf"
