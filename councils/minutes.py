"""The minutes (biên bản họp Hội đồng) of a closed session, as a Decree-30-style PDF.

:func:`minutes_context` reads only what was recorded — the attendance, the recusals and
each item's ``ItemResultRecord`` — so the document prints exactly the recorded numbers.
:func:`generate_minutes` is what the Celery task runs: it keeps the ``GeneratedDocument``
status row (queued → running → done, or failed with the reason) and saves the file
through the default storage. It is idempotent: once done (and the file exists) it returns
at once; while another worker holds the job's lock it leaves the job alone; a ``running``
row nobody holds (its worker died) is taken over. The previous file is replaced only once
the new one is written. :func:`sweep_stale` (Celery beat) wakes up rows left behind.
The pattern is described in ``docs/background-jobs.md``.

The texts of the document are the fixed Vietnamese formulas of an administrative
document and are deliberately not translated (like ``documents/decree30_base.html``).
"""

import logging
import re
from datetime import timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from ocop import jobs
from ocop.documents.formatting import date_line, document_number, place_name
from ocop.documents.pdf import render_pdf
from scoring.models import ProcessLevel

from .models import (
    DocumentKind,
    DocumentStatus,
    EvaluationSession,
    GeneratedDocument,
    MemberRole,
    SessionMode,
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


def points(value):
    """``Decimal("71.5")`` / ``"71.50"`` → ``"71,50"``: two decimals, decimal comma (the
    Vietnamese way, as the minutes print every score)."""
    if value is None or value == "":
        return ""
    return f"{Decimal(str(value)):.2f}".replace(".", ",")


def day_text(day):
    return f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


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


#: The OCOP standing office that receives the minutes with the council's proposals, by
#: council level (the body that drafts the recognition decision).
STANDING_OFFICE = {
    "province": "Sở Nông nghiệp và Môi trường",
    "district": "Cơ quan thường trực Chương trình OCOP cấp huyện",
    "central": "Văn phòng Điều phối nông thôn mới Trung ương",
}


def recipients(council):
    """"Nơi nhận:" of the minutes: the members, the standing office, the archive (the
    clerk's office and the council's own file)."""
    office = STANDING_OFFICE.get(council.level, STANDING_OFFICE["province"])
    return ["Thành viên Hội đồng", office, "Lưu: VT, HĐ"]


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
        if session.mode == SessionMode.WRITTEN:  # who sent an opinion (a scoresheet)
            present_ids = set(q.present_ids)
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
        # The managing body (regular weight) above the council's own name (bold).
        "issuer_parent": f"ỦY BAN NHÂN DÂN {unit.name.upper()}",
        "issuer_parent_regular": True,
        "issuer": "HỘI ĐỒNG ĐÁNH GIÁ, PHÂN HẠNG SẢN PHẨM OCOP",
        "number_line": document_number(None, "BB-HĐ"),
        "date_line": date_line(place_name(unit.name), session.date),
        "council": council,
        "decision_date": council.decision_date.strftime("%d/%m/%Y"),
        "session": session,
        "session_day": day_text(session.date),
        "round": session.round,
        "by_meeting": q.by_meeting,
        # written opinions (docs/councils.md): "lấy ý kiến bằng văn bản", no attendance
        "written": session.mode == SessionMode.WRITTEN,
        "opinions_due": (session.opinions_due.strftime("%d/%m/%Y")
                         if session.opinions_due else ""),
        "quorum": q,
        "present": present,
        "absent": absent,
        "recusals": recusals,
        "items": items,
        "chair_name": member_name(chair) if chair else "",
        # No secretary on the council: no empty "THƯ KÝ" block, the chair signs alone.
        "has_secretary": secretary is not None,
        "signature_title": "CHỦ TỊCH HỘI ĐỒNG",
        "signer_name": member_name(chair) if chair else "",
        "secretary_name": member_name(secretary) if secretary else "",
        "recipients": recipients(council),
    }


def render_minutes(session):
    return render_pdf(TEMPLATE, minutes_context(session))


def file_name(session):
    return f"minutes/bien-ban-hop-hoi-dong-phien-{session.pk}.pdf"


#: Where PostgreSQL's job lock is not available (the embedded SQLite default, where tasks
#: run inside the web process), a ``running`` row older than this is taken for a crashed
#: process and run again. Renders take seconds. With PostgreSQL the job lock answers
#: exactly whether a worker is alive, and this is not used.
STALE_RUNNING = timedelta(minutes=2)
#: A ``queued`` (or abandoned ``running``) row whose last wake-up is older than this gets a
#: new one from the sweep (``sweep_stale``): the message may have been lost with Redis.
QUEUED_STALE = timedelta(minutes=2)
#: Runs started for one row; a row abandoned again after that many is marked failed
#: instead of being taken over (a render that kills its worker must not loop for ever).
MAX_ATTEMPTS = 5
#: First key of the PostgreSQL advisory lock of a minutes job ("OCM1"); the second is the
#: session's id.
LOCK_CLASS = 0x4F434D31


def lock_key(session_id):
    return (LOCK_CLASS, int(session_id) % 2**31)


def job_lock(session_id):
    """The minutes job's advisory lock (``ocop.jobs.job_lock``): True held, False another
    worker holds it, None no locks on this database."""
    return jobs.job_lock(LOCK_CLASS, session_id)


def is_running(doc):
    """Whether a worker is really building ``doc`` now (not a row left by a dead one)."""
    if doc.status != DocumentStatus.RUNNING:
        return False
    if not jobs.locks_supported():
        return bool(doc.started_at and timezone.now() - doc.started_at < STALE_RUNNING)
    with job_lock(doc.session_id) as held:
        return not held


_OWN_FILE = r"^bien-ban-hop-hoi-dong-phien-{pk}(_[A-Za-z0-9]+)?\.pdf$"


def _remove_other_files(doc):
    """Delete this session's minutes files other than the row's (the replaced one, and any
    left by a worker that died between writing its file and recording it)."""
    storage = doc.file.storage
    folder, _sep, current = doc.file.name.rpartition("/")
    pattern = re.compile(_OWN_FILE.format(pk=doc.session_id))
    try:
        names = storage.listdir(folder)[1]
    except (FileNotFoundError, NotImplementedError):
        return
    for name in names:
        if name != current and pattern.match(name):
            storage.delete(f"{folder}/{name}")


def _fail(doc, reason):
    doc.status, doc.reason, doc.finished_at = DocumentStatus.FAILED, reason, timezone.now()
    doc.save(update_fields=["status", "reason", "finished_at"])
    return doc


def generate_minutes(session_id):
    """Build (once) the minutes of a closed session; returns the status row, or None if
    the session no longer exists. Failures are recorded on the row, not raised.

    Safe to deliver twice: a second delivery while a worker holds the job's lock leaves it;
    a delivery that finds ``running`` with nobody holding the lock (its worker died) takes
    over. The previous file stays in place until the new one is written and recorded."""
    with job_lock(session_id) as held:
        if held is False:  # another worker is on it right now
            return GeneratedDocument.objects.filter(session_id=session_id,
                                                    kind=DocumentKind.MINUTES).first()
        return _generate(session_id, locked=held)


def _generate(session_id, *, locked):
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
        if doc.status == DocumentStatus.RUNNING:
            if locked is None and doc.started_at and now - doc.started_at < STALE_RUNNING:
                return doc  # no lock here: trust a recent start
            logger.warning("Minutes of session %s: taking over a run abandoned by its "
                           "worker (attempt %s)", session_id, doc.attempts)
            if doc.attempts >= MAX_ATTEMPTS:
                return _fail(doc, f"Tiến trình lập biên bản bị dừng {doc.attempts} lần; "
                                  "hãy thử lập lại.")
        if session.state != SessionState.CLOSED:
            return _fail(doc, "Phiên họp chưa kết thúc.")
        doc.status, doc.reason, doc.started_at, doc.finished_at = (
            DocumentStatus.RUNNING, "", now, None)
        doc.attempts += 1
        doc.save()
    try:
        pdf = render_minutes(session)
        storage = doc.file.storage
        # A new name next to the old file (the storage adds a suffix if it exists).
        target = doc.file.field.generate_filename(doc, file_name(session))
        written = storage.save(target, ContentFile(pdf))
    except Exception as exc:  # recorded for the user; the worker goes on
        logger.exception("Minutes of session %s failed", session_id)
        return _fail(doc, f"{type(exc).__name__}: {exc}"[:2000])
    doc.file.name = written
    doc.status, doc.finished_at = DocumentStatus.DONE, timezone.now()
    doc.save(update_fields=["status", "file", "finished_at"])
    _remove_other_files(doc)
    logger.info("Minutes of session %s written to %s (attempt %s)", session_id, written,
                doc.attempts)
    return doc


def _wake_up_due(doc, now):
    """No wake-up sent yet, the last one was consumed by the run that died, or it has
    waited longer than ``QUEUED_STALE`` (lost)."""
    if doc.queued_at is None:
        return True
    if doc.status == DocumentStatus.RUNNING and doc.started_at and (
            doc.queued_at <= doc.started_at):
        return True
    return doc.queued_at < now - QUEUED_STALE


def sweep_stale(now=None):
    """Wake a worker again for every minutes row left behind: ``queued`` with its last
    wake-up older than ``QUEUED_STALE`` (the message was lost, or the broker was down when
    it was sent), or ``running`` with no worker on it (killed). Returns the session ids
    woken up. Run every minute by Celery beat (``councils.sweep_minutes``)."""
    from .tasks import build_minutes, wake

    now = now or timezone.now()
    woken = []
    for doc in (GeneratedDocument.objects.filter(kind=DocumentKind.MINUTES, status__in=[
            DocumentStatus.QUEUED, DocumentStatus.RUNNING]).order_by("pk")):
        if not _wake_up_due(doc, now) or is_running(doc):
            continue
        updated = GeneratedDocument.objects.filter(
            pk=doc.pk, status=doc.status, queued_at=doc.queued_at).update(queued_at=now)
        if updated and wake(build_minutes, doc.session_id):
            woken.append(doc.session_id)
    return woken
