"""The documents of a recognition: the decision (Quyết định công nhận) and the
certificates (Giấy chứng nhận), as Decree-30 PDFs (docs/recognition-documents.md).

Contract used by ``dossiers.issuing`` and the pages:

    render_decision(decision, *, draft) -> bytes      # draft=True: "DỰ THẢO" watermark
    render_certificate(rating) -> bytes               # one page, QR code to verification
    decision_file_name(decision) -> str
    certificate_file_name(rating) -> str
    verification_url(rating) -> str                   # absolute URL of /xac-minh/<code>/

The texts printed are the fixed Vietnamese formulas of administrative documents and are
deliberately not translated (like ``templates/documents/decree30_base.html``). The
decision prints what was recorded on it (``Decision``, ``DecisionItem``): the names of
products and producers as they were when the decision was drafted, never today's.
"""

import base64
import io
from decimal import Decimal

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from ocop.documents.formatting import date_line, document_number, in_sentence
from ocop.documents.pdf import render_pdf

from .decisions import MINISTRY, article_1
from .models import DecisionItem

DECISION_TEMPLATE = "dossiers/decision.html"
CERTIFICATE_TEMPLATE = "dossiers/certificate.html"

#: Room left for a number or a day written by hand (drafts): non-breaking spaces, which
#: HTML does not collapse.
BLANK = "\u00a0" * 7
BLANK_DAY = "\u00a0" * 5
#: Where the Ministry's decisions are dated (a recorded decision has no place of its own).
MINISTRY_PLACE = "Hà Nội"


def verification_url(rating):
    base = getattr(settings, "PUBLIC_BASE_URL", "").rstrip("/")
    return base + reverse("verification", args=[rating.verification_code])


# --- formatting ---------------------------------------------------------------------------


def points(value):
    """``Decimal("78.5")`` → ``"78,50"``: two decimals with a decimal comma."""
    if value is None or value == "":
        return ""
    return f"{Decimal(str(value)):.2f}".replace(".", ",")


def day_words(day):
    """``ngày 05 tháng 3 năm 2026`` with the padding rules of the date line (Decree 30)."""
    return date_line("-", day).split(", ", 1)[1]


def issuing_authority(decision):
    """Who decided, inside a sentence: "Chủ tịch Ủy ban nhân dân thành phố Cần Thơ" when
    the authority line is the chairman's, "Ủy ban nhân dân thành phố Cần Thơ" when the
    People's Committee decides collectively, the Minister for a Ministry decision."""
    unit = decision.issuer_unit
    if unit is None:
        if decision.issuer_name.strip().upper() == MINISTRY:
            return "Bộ trưởng Bộ Nông nghiệp và Môi trường"
        return decision.issuer_name.strip()
    body = f"Ủy ban nhân dân {in_sentence(unit.name)}"
    if decision.authority.strip().upper().startswith("CHỦ TỊCH"):
        return f"Chủ tịch {body}"
    return body


def _lines(text):
    """One entry per non-empty line, without a leading "- " or a trailing ";"/"." (the
    template adds them: Decree 30 lists recipients as "- …;" and ends with "- Lưu: …")."""
    lines = []
    for line in (text or "").splitlines():
        line = line.strip().lstrip("-–•").strip().rstrip(";.").strip()
        if line:
            lines.append(line)
    return lines


def _number_line(decision, draft):
    if decision.reference and not draft:
        return f"Số: {decision.reference}"
    return document_number(None, decision.symbol or "QĐ-UBND")


def _draft_year(decision):
    return decision.date.year if decision.date else timezone.localdate().year


def _date_line(decision, draft):
    place = decision.place or (MINISTRY_PLACE if decision.issuer_unit_id is None else "")
    if decision.date and not draft:
        return date_line(place, decision.date)
    return f"{place}, ngày {BLANK_DAY} tháng {BLANK_DAY} năm {_draft_year(decision)}"


def _annex_reference(decision, draft):
    """"(Kèm theo Quyết định số 05/QĐ-UBND ngày 10 tháng 12 năm 2026 của Chủ tịch …)"."""
    if decision.reference and decision.date and not draft:
        number, day = decision.reference, day_words(decision.date)
    else:
        number = f"{BLANK}/{decision.symbol or 'QĐ-UBND'}"
        day = f"ngày {BLANK_DAY} tháng {BLANK_DAY} năm {_draft_year(decision)}"
    return f"(Kèm theo Quyết định số {number} {day} của {issuing_authority(decision)})"


# --- the decision -------------------------------------------------------------------------


def decision_context(decision, *, draft, items=None):
    """What ``dossiers/decision.html`` prints. ``items`` (the annex lines, in order) is
    read from the decision when not given."""
    if items is None:
        items = list(decision.items.order_by("order", "id"))
    rows = [{"no": no, "product": item.product_name, "code": item.product_code,
             "producer": item.producer_name, "address": item.producer_address,
             "criteria_set": item.criteria_set, "score": points(item.score),
             "stars": item.stars} for no, item in enumerate(items, start=1)]
    return {
        "decision": decision, "rows": rows, "draft": draft,
        "issuer_parent": decision.issuer_parent, "issuer": decision.issuer_name,
        "number_line": _number_line(decision, draft),
        "date_line": _date_line(decision, draft),
        "subject": decision.subject.strip(),
        "authority": decision.authority.strip(),
        "article_1": article_1(decision, items),
        "article_2": decision.article_2.strip(),
        "article_3": decision.article_3.strip(),
        "bases": [b.strip() for b in decision.legal_bases.splitlines() if b.strip()],
        "recipients": _lines(decision.recipients),
        "signature_authority": decision.signature_authority.strip(),
        "signature_title": decision.signature_title.strip(),
        "signer_name": decision.signer_name.strip(),
        "annex_reference": _annex_reference(decision, draft),
        "doc_title": "Quyết định công nhận kết quả đánh giá, phân hạng sản phẩm OCOP",
    }


def render_decision(decision, *, draft):
    return render_pdf(DECISION_TEMPLATE, decision_context(decision, draft=draft))


# --- the certificate ----------------------------------------------------------------------


def qr_data_uri(text):
    """A PNG QR code of ``text`` as a ``data:`` URI (the renderer fetches nothing else).
    Error correction M, the standard quiet zone of 4 modules, 4 pixels a module: a few
    hundred bytes, drawn without smoothing (``image-rendering: pixelated``)."""
    import segno

    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=4, border=4)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _certificate_line(rating, decision):
    """The decision line the rating comes from (names as printed on the decision), or
    the product as it is now when there is none."""
    item = None
    if decision is not None:
        lines = DecisionItem.objects.filter(decision_id=decision.pk)
        if rating.source_dossier_id:
            lines = lines.filter(dossier_id=rating.source_dossier_id)
        else:
            lines = lines.filter(dossier__product_id=rating.product_id)
        item = lines.order_by("order", "id").first()
    if item is not None:
        return {"product": item.product_name, "producer": item.producer_name,
                "address": item.producer_address}
    product = rating.product
    producer = product.producer
    return {"product": product.name, "producer": producer.name,
            "address": producer.address}


def _fit(line):
    """A smaller type for long names ("long", "longer"), so that the product, producer
    and address keep to their room on the one page (the template clips beyond it)."""
    name = len(line["product"])
    rest = max(len(line["producer"]), len(line["address"]))
    if name > 100 or rest > 180:
        return "longer"
    if name > 45 or rest > 90:
        return "long"
    return ""


def certificate_context(rating):
    decision = rating.decision
    url = verification_url(rating)
    line = _certificate_line(rating, decision)
    if decision is not None:
        issuer_parent, issuer = decision.issuer_parent, decision.issuer_name
        place = decision.place or (MINISTRY_PLACE if decision.issuer_unit_id is None
                                   else "")
        authority = issuing_authority(decision)
        signature = (decision.signature_authority.strip(), decision.signature_title.strip(),
                     decision.signer_name.strip())
    else:  # a rating without its decision row (kept from an older system)
        issuer_parent, issuer, place, authority = "", "", "", ""
        signature = ("", "", "")
    return {
        "rating": rating, "decision": decision, "url": url, "qr": qr_data_uri(url),
        "issuer_parent": issuer_parent, "issuer": issuer,
        **line, "fit": _fit(line),
        "code": rating.product_code,
        "stars": rating.stars, "star_range": range(rating.stars),
        "decision_line": (f"Quyết định số {rating.decision_number} ngày "
                          f"{rating.decision_date:%d/%m/%Y}"
                          + (f" của {authority}" if authority else "")),
        "valid_until": f"{rating.valid_until:%d/%m/%Y}",
        "date_line": date_line(place, rating.decision_date) if place else "",
        "signature_authority": signature[0], "signature_title": signature[1],
        "signer_name": signature[2],
        "doc_title": "Giấy chứng nhận sản phẩm OCOP",
    }


def render_certificate(rating):
    return render_pdf(CERTIFICATE_TEMPLATE, certificate_context(rating))


def decision_file_name(decision):
    return f"quyet-dinh-{decision.pk}.pdf"


def certificate_file_name(rating):
    return f"giay-chung-nhan-{rating.pk}.pdf"
