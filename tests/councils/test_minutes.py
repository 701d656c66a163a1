"""The minutes PDF (built by a Celery task with a status row) and the Excel export."""

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from councils import exports, minutes, services
from councils.models import DocumentStatus, GeneratedDocument, ItemResultRecord
from councils.tasks import build_minutes
from scoring.models import ScoreEntry
from tests.councils import build, meet, pick, quick_sheet, score

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def pdf_text(data):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def flat(text):
    return " ".join(text.split())


@pytest.fixture
def closed_world(cantho, criteria, make_user, django_capture_on_commit_callbacks):
    """Four members, one absent; two products; one member recused from the second; both
    items closed and the session closed (the minutes task runs on commit, eagerly)."""
    world = build(cantho, make_user, n_members=4, n_dossiers=2)
    cs = world.dossier.criteria_set
    first, second = world.dossiers
    for member, target in zip(world.members[:3], (72, 75, 81), strict=True):
        quick_sheet(world.session, first, member, pick(cs, target, stars=4))
    for member, target in zip(world.members[:2], (60, 67), strict=True):
        quick_sheet(world.session, second, member, pick(cs, target, stars=3))
    services.declare_recusal(world.members[2].user, world.session, member=world.members[2],
                             dossier=second, reason="Người thân của chủ thể")
    services.start_meeting(world.staff, world.session, present=world.members[:3])
    services.close_item(world.chair.user, world.session, first)
    services.close_item(world.chair.user, world.session, second)
    with django_capture_on_commit_callbacks(execute=True):
        services.close_session(world.chair.user, world.session)
    return world


def test_minutes_task_builds_the_pdf_with_the_recorded_numbers(closed_world):
    world = closed_world
    doc = GeneratedDocument.objects.get(session=world.session)
    assert doc.status == DocumentStatus.DONE and doc.attempts == 1 and doc.reason == ""
    with doc.file.open("rb") as handle:
        text = flat(pdf_text(handle.read()))

    assert "BIÊN BẢN" in text
    assert "HỌP HỘI ĐỒNG ĐÁNH GIÁ, PHÂN HẠNG SẢN PHẨM OCOP" in text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert "Độc lập - Tự do - Hạnh phúc" in text
    assert world.council.decision_number in text
    records = ItemResultRecord.objects.order_by("item__order")
    for record in records:
        for member in record.members:
            assert f"{member['name']} " in text
            assert minutes.points(member["total"]) in text
        for value in (record.mean_a, record.mean_b, record.mean_c, record.mean_total):
            assert minutes.points(value) in text
        assert f"{record.stars} sao" in text
    first, second = records
    assert (first.mean_total, first.stars, first.outcome) == (Decimal("76.00"), 4, "forward")
    assert (second.mean_total, second.stars, second.outcome) == (Decimal("63.50"), 3,
                                                                 "recognise")
    assert "76,00" in text and "63,50" in text
    assert "Đề nghị chuyển Hội đồng cấp tỉnh đánh giá, phân hạng" in text
    assert "Đề nghị công nhận sản phẩm OCOP 3 sao" in text
    # present / absent, the recusal and its reason, the signatures
    assert "Thành viên vắng mặt (2 người)" in text  # the fourth member and the secretary
    assert "Người thân của chủ thể" in text
    assert "THƯ KÝ" in text and "CHỦ TỊCH HỘI ĐỒNG" in text
    assert "Thư ký M" in text and "Thành viên M0" in text


def test_minutes_task_is_idempotent(closed_world, media):
    world = closed_world
    first = GeneratedDocument.objects.get(session=world.session)

    assert build_minutes.delay(world.session.pk).get() == DocumentStatus.DONE
    build_minutes(world.session.pk)

    again = GeneratedDocument.objects.get(session=world.session)
    assert GeneratedDocument.objects.filter(session=world.session).count() == 1
    assert (again.status, again.attempts, again.file.name) == (
        DocumentStatus.DONE, 1, first.file.name)
    assert len(list((media / "councils" / "minutes").iterdir())) == 1


def test_minutes_failure_is_recorded_and_can_be_queued_again(
        closed_world, media, monkeypatch, django_capture_on_commit_callbacks):
    world = closed_world

    def broken(session):
        raise RuntimeError("font missing")

    first_file = GeneratedDocument.objects.get(session=world.session).file.name
    monkeypatch.setattr(minutes, "render_minutes", broken)
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_minutes(world.secretary.user, world.session)
    doc = GeneratedDocument.objects.get(session=world.session)
    assert doc.status == DocumentStatus.FAILED and "font missing" in doc.reason
    assert doc.file.name == first_file  # the previous good file stays

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_minutes(world.chair.user, world.session)
    doc.refresh_from_db()
    assert (doc.status, doc.reason, doc.attempts) == (DocumentStatus.DONE, "", 3)
    assert len(list((media / "councils" / "minutes").iterdir())) == 1
    with pytest.raises(services.CouncilError):
        services.queue_minutes(world.members[1].user, world.session)


def test_minutes_of_an_open_session_fail_with_a_reason(cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=2)
    doc = minutes.generate_minutes(world.session.pk)
    assert doc.status == DocumentStatus.FAILED and doc.reason


# --- Excel export ------------------------------------------------------------------------------


def test_excel_cells_equal_the_sheet_points(cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=3, n_dossiers=2)
    cs = world.dossier.criteria_set
    sheets = {}
    for d, dossier in enumerate(world.dossiers):
        for m, member in enumerate(world.members):
            sheets[(d, m)] = score(world.session, dossier, member,
                                   pick(cs, 60 + 5 * m + d, stars=3, reverse=bool(m % 2)))
    meet(world)
    for dossier in world.dossiers:
        services.close_item(world.chair.user, world.session, dossier)
    services.close_session(world.chair.user, world.session)

    workbook = load_workbook(io.BytesIO(exports.export_session(world.staff, world.session)))

    ws = workbook.worksheets[0]
    header = [c.value for c in ws[exports.HEADER_ROW]]
    names = [c.value for c in ws[exports.MEMBER_ROW]]
    checked = 0
    for (d, m), sheet in sheets.items():
        row = exports.FIRST_DATA_ROW + d
        name = f"Thành viên M{m}"
        for entry in ScoreEntry.objects.filter(sheet=sheet).select_related("criterion",
                                                                           "option"):
            label = exports.criterion_label(entry.criterion)
            col = next(i for i, (h, n) in enumerate(zip(header, names, strict=True))
                       if h == label and n == name)
            assert Decimal(str(ws.cell(row, col + 1).value)) == entry.option.points
            checked += 1
        total_col = next(i for i, (h, n) in enumerate(zip(header, names, strict=True))
                         if h == "Tổng điểm" and n == name)
        assert Decimal(str(ws.cell(row, total_col + 1).value)) == 60 + 5 * m + d
    assert checked == 2 * 3 * 32
    for d, dossier in enumerate(world.dossiers):
        record = ItemResultRecord.objects.get(item__dossier=dossier)
        row = exports.FIRST_DATA_ROW + d
        mean_col = header.index("Điểm trung bình") + 1
        assert Decimal(str(ws.cell(row, mean_col).value)) == record.mean_total
        assert ws.cell(row, header.index("Hạng sao") + 1).value == record.stars
        assert ws.cell(row, 2).value == dossier.product.name


def test_excel_export_refused_before_the_session_closes(cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=2)
    for member in world.members:
        quick_sheet(world.session, world.dossier, member, pick(world.dossier.criteria_set, 60))
    for user in (world.chair.user, world.secretary.user, world.staff):
        with pytest.raises(services.CouncilError) as refused:
            exports.export_session(user, world.session)
        assert refused.value.code == "confidential"
