"""The minutes (biên bản họp Hội đồng) of a closed session, as a Decree-30-style PDF.

:func:`minutes_context` reads only what was recorded — the attendance, the recusals and
each item's ``ItemResultRecord`` — so the document prints exactly the recorded numbers.
:func:`generate_minutes` is what the Celery task runs: it keeps the ``GeneratedDocument``
status row (queued → running → done, or failed with the reason) and saves the file
through the default storage. It is idempotent: once done (and the file exists) it returns
at once.

The texts of the document are the fixed Vietnamese formulas of an administrative
document and are deliberately not translated (like ``documents/decree30_base.html``).
"""

import logging
from datetime import timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from ocop.documents.formatting import date_line, document_number
from ocop.documents.pdf import render_pdf
from scoring.models import ProcessLevel

from .models import (
    DocumentKind,
    DocumentStatus,
    EvaluationSession,
    GeneratedDocument,
    MemberRole,
    SessionState,
)
from .results import member_name, quorum

logger = logging.getLogger(__name__)

TEMPLATE = "councils/minutes.html"
TITLE = "BIÊN BẢN HỌP HỘI ĐỒNG ĐÁNH GIÁ, PHÂN HẠNG SẢN PHẨM OCOP"

ROLE_LABELS = {
    MemberRole.CHAIR: "Chủ tịch Hội đồng",
    MemberRole.VICE_CHAIR: "Phó Chủ tịch Hội đồng",
    MemberRole.MEMBER: "Ủy viên",
    MemberRole.SECRETARY: "Thư ký",
}
ADVISORY_LABEL = "Thành viên Tổ tư vấn"
LEVEL_LABELS = {"commune": "cấp xã", "district": "cấp huyện", "province": "cấp tỉnh",
                "central": "Trung ương"}
_LOCALITY_PREFIXES = ("Thành phố ", "Tỉnh ", "Quận ", "Huyện ", "Thị xã ", "Thị trấn ",
                      "Phường ", "Xã ", "Đặc khu ")


def points(value):
    """``Decimal("71.5")`` / ``"71.50"`` → ``"71,50"``: two decimals, decimal comma (the
    Vietnamese way, as the minutes print every score)."""
    if value is None or value == "":
        return ""
    return f"{Decimal(str(value)):.2f}".replace(".", ",")


def day_text(day):
    return f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


def locality(unit):
    """``Thành phố Cần Thơ`` → ``Cần Thơ`` for the place/date line."""
    name = unit.name.strip()
    for prefix in _LOCALITY_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def role_label(member):
    return ADVISORY_LABEL if member.advisory else ROLE_LABELS.get(member.role, member.role)


def proposal(record, session):
    """The council's proposal for the product, from the recorded outcome."""
    if record.outcome == "recognise":
        return f"Đề nghị công nhận sản phẩm OCOP {record.outcome_stars} sao"
    if record.outcome == "forward":
        level = session.round.level
        following = (ProcessLevel.objects.filter(regime_id=level.regime_id,
                                                 order__gt=level.order)
                     .order_by("order").first())
        where = LEVEL_LABELS.get(following.admin_level, "") if following else ""
        return f"Đề nghị chuyển Hội đồng {where} đánh giá, phân hạng".replace("  ", " ")
    return "Không đạt, không đề nghị công nhận"


def _person(member):
    return {"name": member_name(member), "role": role_label(member),
            "organisation": member.organisation}


def minutes_context(session):
    session = (EvaluationSession.objects
               .select_related("council__unit", "round__level", "round__regime")
               .get(pk=session.pk))
    council = session.council
    members = list(council.members.select_related("user").order_by("order", "id"))
    by_id = {m.pk: m for m in members}
    q = quorum(session, members)
    if q.by_meeting:
        present_ids = set(session.attendance.filter(present=True)
                          .values_list("member_id", flat=True))
    else:  # written opinions: who took part = who submitted a sheet (+ the secretary)
        present_ids = set(q.present_ids) | {m.pk for m in members
                                            if m.role == MemberRole.SECRETARY}
    present = [_person(m) for m in members if m.pk in present_ids]
    absent = [_person(m) for m in members if m.pk not in present_ids]

    recusals = [
        {"name": member_name(by_id[r.member_id]) if r.member_id in by_id else str(r.member),
         "product": str(r.dossier.product), "reason": r.reason}
        for r in session.recusals.select_related("dossier__product", "member__user")
        .order_by("recorded_at", "id")
    ]
    recused_pairs = {(r.member_id, r.dossier_id) for r in session.recusals.all()}
    scoring = [m for m in members if m.scores]

    items = []
    agenda = (session.agenda.select_related("dossier__product__producer",
                                            "dossier__criteria_set", "result")
              .order_by("order", "id"))
    for no, item in enumerate(agenda, start=1):
        record = getattr(item, "result", None)
        dossier = item.dossier
        row = {"no": no, "product": str(dossier.product),
               "producer": str(dossier.product.producer),
               "criteria_set": f"{dossier.criteria_set.set_no:02d}. "
                               f"{dossier.criteria_set.name}",
               "record": record}
        if record is not None:
            counted = {m["member"] for m in record.members}
            row.update({
                "members": [{"name": m["name"], "A": points(m["parts"]["A"]),
                             "B": points(m["parts"]["B"]), "C": points(m["parts"]["C"]),
                             "total": points(m["total"])} for m in record.members],
                "mean": {p: points(v) for p, v in record.mean_parts.items()},
                "total": points(record.mean_total),
                "band_stars": record.band_stars, "stars": record.stars,
                "cap_reasons": record.cap_reasons,
                "spread": points(record.divergence),
                "threshold": points(record.divergence_threshold),
                "flagged": record.divergence_flagged,
                "statement": record.divergence_statement.rstrip(". "),
                "proposal": proposal(record, session),
                "not_scored": [member_name(m) for m in scoring
                               if m.pk not in counted
                               and (m.pk, dossier.pk) not in recused_pairs],
            })
        items.append(row)

    chair = next((m for m in members if m.role == MemberRole.CHAIR), None)
    secretary = next((m for m in members if m.role == MemberRole.SECRETARY), None)
    unit = council.unit
    return {
        "doc_title": TITLE.capitalize(),
        "title": TITLE,
        "issuer_parent": f"ỦY BAN NHÂN DÂN {unit.name.upper()}",
        "issuer": "HỘI ĐỒNG ĐÁNH GIÁ, PHÂN HẠNG SẢN PHẨM OCOP",
        "number_line": document_number(None, "BB-HĐ"),
        "date_line": date_line(locality(unit), session.date),
        "council": council,
        "decision_date": council.decision_date.strftime("%d/%m/%Y"),
        "session": session,
        "session_day": day_text(session.date),
        "round": session.round,
        "by_meeting": q.by_meeting,
        "quorum": q,
        "present": present,
        "absent": absent,
        "recusals": recusals,
        "items": items,
        "chair_name": member_name(chair) if chair else "",
        "secretary_name": member_name(secretary) if secretary else "",
    }


def render_minutes(session):
    return render_pdf(TEMPLATE, minutes_context(session))


def file_name(session):
    return f"minutes/bien-ban-hop-hoi-dong-phien-{session.pk}.pdf"


#: A ``running`` row older than this is taken for a crashed worker and run again.
STALE_RUNNING = timedelta(minutes=10)


def generate_minutes(session_id):
    """Build (once) the minutes of a closed session; returns the status row, or None if
    the session no longer exists. Failures are recorded on the row, not raised."""
    with transaction.atomic():
        session = (EvaluationSession.objects.select_for_update()
                   .filter(pk=session_id).first())
        if session is None:
            return None
        doc, _created = GeneratedDocument.objects.select_for_update().get_or_create(
            session=session, kind=DocumentKind.MINUTES)
        if doc.status == DocumentStatus.DONE and doc.file and doc.file.storage.exists(
                doc.file.name):
            return doc
        now = timezone.now()
        if (doc.status == DocumentStatus.RUNNING and doc.started_at
                and now - doc.started_at < STALE_RUNNING):
            return doc  # another worker is on it
        if session.state != SessionState.CLOSED:
            doc.status, doc.reason, doc.finished_at = (
                DocumentStatus.FAILED, "Phiên họp chưa kết thúc.", now)
            doc.save()
            return doc
        doc.status, doc.reason, doc.started_at, doc.finished_at = (
            DocumentStatus.RUNNING, "", now, None)
        doc.attempts += 1
        doc.save()
    try:
        pdf = render_minutes(session)
        name = file_name(session)
        if doc.file:
            doc.file.delete(save=False)
        storage = doc.file.storage
        target = doc.file.field.generate_filename(doc, name)
        if storage.exists(target):
            storage.delete(target)
        doc.file.save(name, ContentFile(pdf), save=False)
    except Exception as exc:  # recorded for the user; the worker goes on
        logger.exception("Minutes of session %s failed", session_id)
        doc.status, doc.reason = DocumentStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        doc.finished_at = timezone.now()
        doc.save(update_fields=["status", "reason", "finished_at"])
        return doc
    doc.status, doc.finished_at = DocumentStatus.DONE, timezone.now()
    doc.save(update_fields=["status", "file", "finished_at"])
    return doc
