"""Excel export of a session's scores (openpyxl).

One worksheet per criteria set used on the agenda (products of different sets have
different criteria), one row per product, one column per criterion × scoring member with
the points of the member's chosen option, then each member's total, the means per part and
in total, the band, the star after the minimum-star marks and the proposal.

Only counted sheets are exported (submitted, scoring member, not recused — the same rule
as the result); a recused or missing member's cells stay empty. For a closed item the
means, band and star are the RECORDED ones (``ItemResultRecord``).

The independence rule applies (``councils.rules.export_refusal``): the export shows every member's
choices, so it is refused (``CouncilError``) unless the user may see all of the session's
sheets — before the session is closed that is nobody but their owners.
"""

import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from scoring.models import Criterion, ScoreEntry

from . import rules
from .models import EvaluationSession
from .results import member_name, session_results

FIXED_COLUMNS = ("TT", "Sản phẩm", "Chủ thể", "Mã sản phẩm")
RESULT_COLUMNS = ("TB Phần A", "TB Phần B", "TB Phần C", "Điểm trung bình",
                  "Hạng theo điểm", "Hạng sao", "Đề xuất")
OUTCOME_LABELS = {"forward": "Chuyển cấp trên", "recognise": "Công nhận",
                  "not_recognise": "Không đạt"}
HEADER_ROW, MEMBER_ROW, FIRST_DATA_ROW = 3, 4, 5


def _refuse_unless_allowed(user, session):
    from .services import CouncilError

    refusal = rules.export_refusal(user, session)
    if refusal is not None:
        raise CouncilError(refusal.message, code=refusal.code)


def criterion_label(criterion):
    return f"{criterion.position} ({criterion.code})"


def _sheet_title(criteria_set, used):
    title = f"Bộ {criteria_set.set_no:02d}"
    if title in used:
        title = f"{criteria_set.regime.slug.replace('/', '-')} {title} v{criteria_set.version}"
    used.add(title)
    return title[:31]


def _number(value):
    return None if value is None else Decimal(value)


def session_workbook(user, session):
    """The workbook (openpyxl ``Workbook``); refused per the independence rule."""
    session = EvaluationSession.objects.select_related("council", "round__level").get(
        pk=session.pk)
    _refuse_unless_allowed(user, session)
    results = session_results(session)
    items = list(session.agenda.select_related(
        "dossier__product__producer", "dossier__criteria_set__regime", "result")
        .order_by("order", "id"))
    members = [m for m in session.council.members.select_related("user").order_by("order", "id")
               if m.scores]
    counted_ids = [m.sheet_id for r in results.values() for m in r.counted]
    points = {}
    for row in ScoreEntry.objects.filter(sheet_id__in=counted_ids).values(
            "sheet_id", "criterion_id", "option__points"):
        points[(row["sheet_id"], row["criterion_id"])] = row["option__points"]

    by_set = {}
    for item in items:
        by_set.setdefault(item.dossier.criteria_set_id, []).append(item)

    workbook = Workbook()
    workbook.remove(workbook.active)
    used = set()
    bold = Font(bold=True)
    for set_items in by_set.values():
        criteria_set = set_items[0].dossier.criteria_set
        criteria = list(Criterion.objects.filter(criteria_set=criteria_set).order_by("order"))
        ws = workbook.create_sheet(_sheet_title(criteria_set, used))
        ws.cell(1, 1, f"{session.council.name} — phiên {session.date:%d/%m/%Y} — "
                      f"Bộ tiêu chí {criteria_set.set_no:02d}. {criteria_set.name}").font = bold

        headers = list(FIXED_COLUMNS)
        member_headers = [""] * len(FIXED_COLUMNS)
        for criterion in criteria:
            headers += [criterion_label(criterion)] * len(members)
            member_headers += [member_name(m) for m in members]
        headers += ["Tổng điểm"] * len(members)
        member_headers += [member_name(m) for m in members]
        headers += list(RESULT_COLUMNS)
        member_headers += [""] * len(RESULT_COLUMNS)
        for col, (head, sub) in enumerate(zip(headers, member_headers, strict=True), start=1):
            ws.cell(HEADER_ROW, col, head).font = bold
            ws.cell(MEMBER_ROW, col, sub or None).font = bold
            ws.cell(HEADER_ROW, col).alignment = Alignment(wrap_text=True, vertical="top")

        for offset, item in enumerate(set_items):
            row = FIRST_DATA_ROW + offset
            dossier = item.dossier
            result = results[dossier.pk]
            sheets = {m.member_id: m for m in result.counted}
            values = [item.order + 1, dossier.product.name, dossier.product.producer.name,
                      dossier.product.code or None]
            for criterion in criteria:
                for member in members:
                    score = sheets.get(member.pk)
                    values.append(_number(points.get((score.sheet_id, criterion.pk)))
                                  if score else None)
            for member in members:
                score = sheets.get(member.pk)
                values.append(score.total if score else None)
            record = getattr(item, "result", None)
            if record is not None:
                values += [record.mean_a, record.mean_b, record.mean_c, record.mean_total,
                           record.band_stars, record.stars,
                           OUTCOME_LABELS.get(record.outcome, record.outcome)]
            elif result.evaluation is not None:
                ev = result.evaluation
                values += [ev.mean.parts["A"], ev.mean.parts["B"], ev.mean.parts["C"],
                           ev.mean.total, ev.band_stars, ev.stars,
                           OUTCOME_LABELS.get(result.outcome, result.outcome)]
            else:
                values += [None] * len(RESULT_COLUMNS)
            for col, value in enumerate(values, start=1):
                ws.cell(row, col, value)
        ws.freeze_panes = ws.cell(FIRST_DATA_ROW, len(FIXED_COLUMNS) + 1)
        ws.column_dimensions[get_column_letter(2)].width = 32
        ws.column_dimensions[get_column_letter(3)].width = 28
    if not workbook.worksheets:
        workbook.create_sheet("Kết quả")
    return workbook


def export_session(user, session):
    """The ``.xlsx`` file's bytes."""
    buffer = io.BytesIO()
    session_workbook(user, session).save(buffer)
    return buffer.getvalue()


def export_filename(session):
    return f"ket-qua-cham-diem-phien-{session.pk}.xlsx"
