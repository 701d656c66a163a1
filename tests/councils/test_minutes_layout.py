"""The minutes (biên bản) on the Decree-30 layout: "Nơi nhận:", tables at 12 pt or more,
the managing body above the council's name in regular weight, and no empty secretary's
signature block when the council has no secretary (docs/recognition-documents.md)."""

import io

import pytest
from pypdf import PdfReader

from councils import minutes, services
from tests.councils import build, pick, quick_sheet
from tests.pdf_runs import text_runs

pytestmark = pytest.mark.django_db


def pages_of(data):
    return PdfReader(io.BytesIO(data)).pages


def flat(data):
    return " ".join(" ".join((page.extract_text() or "").split()) for page in pages_of(data))


def runs(data):
    """Every text run of the document: (text, size in points, font name)."""
    return [run for page in pages_of(data) for run in text_runs(page)]


def font_of(data, start):
    return next(font for text, _size, font in runs(data) if text.startswith(start))


@pytest.fixture
def closed(cantho, criteria, make_user, django_capture_on_commit_callbacks):
    """A district council (with a secretary) whose session closed with one result."""
    world = build(cantho, make_user, n_members=3, n_dossiers=1)
    cs = world.dossier.criteria_set
    for member, target in zip(world.members, (72, 75, 81), strict=True):
        quick_sheet(world.session, world.dossier, member, pick(cs, target, stars=4))
    services.start_meeting(world.staff, world.session, present=world.members)
    services.close_item(world.chair.user, world.session, world.dossier)
    with django_capture_on_commit_callbacks(execute=True):
        services.close_session(world.chair.user, world.session)
    return world


def test_minutes_print_recipients_and_tables_at_12_pt_or_more(closed):
    pdf = minutes.render_minutes(closed.session)
    text = flat(pdf)
    assert ("Nơi nhận: - Thành viên Hội đồng; - Cơ quan thường trực Chương trình OCOP cấp "
            "huyện; - Lưu: VT, HĐ.") in text
    # the secretary and the chair sign, the recipients below them
    signatures = text[text.index("thống nhất./."):text.index("Nơi nhận:")]
    for expected in ("THƯ KÝ", "Thư ký M", "CHỦ TỊCH HỘI ĐỒNG", "Thành viên M0"):
        assert expected in signatures
    # every text at 12 pt or more (the score tables were 11.5 pt) but the recipients
    # list, which Decree 30 sets at 11 pt
    found = runs(pdf)
    assert any(t.startswith("Điểm trung bình") for t, _s, _f in found)
    listed = " ".join(f"- {name};" for name in minutes.recipients(closed.council))
    small = [(t, s) for t, s, _f in found
             if s < 12 and not (s == 11 and t.rstrip(";.") in listed)]
    assert small == []
    assert {s for t, s, _f in found if t.startswith("- Lưu")} == {11}


def test_managing_body_regular_and_council_name_bold(closed):
    pdf = minutes.render_minutes(closed.session)
    text = flat(pdf)
    assert text.startswith("ỦY BAN NHÂN DÂN QUẬN NINH KIỀU HỘI ĐỒNG ĐÁNH GIÁ, PHÂN HẠNG "
                           "SẢN PHẨM OCOP")
    assert "-Bold" not in font_of(pdf, "ỦY BAN NHÂN DÂN QUẬN")
    assert font_of(pdf, "HỘI ĐỒNG ĐÁNH GIÁ").endswith("-Bold")


def test_minutes_of_a_council_without_secretary_have_only_the_chairs_signature(
        cantho, criteria, make_user):
    world = build(cantho, make_user, n_members=2, secretary=False, unit="province",
                  admin_level="province", regime="26/2026", set_no=1, prefix="p")
    pdf = minutes.render_minutes(world.session)
    text = flat(pdf)
    assert "THƯ KÝ" not in text
    assert "CHỦ TỊCH HỘI ĐỒNG Thành viên P0" in text
    assert ("Nơi nhận: - Thành viên Hội đồng; - Sở Nông nghiệp và Môi trường; - Lưu: VT, "
            "HĐ.") in text
    assert "ỦY BAN NHÂN DÂN THÀNH PHỐ CẦN THƠ" in text
