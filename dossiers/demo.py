"""Demo dossiers for ``manage.py seed_demo``: ``seed_checklists`` (a base step, order 35)
and ``seed_dossiers`` (order 50), registered in ``DossiersConfig.ready`` (see ``ocop.demo``).

What it creates, all through ``dossiers.services`` (so every dossier has a real timeline,
checklist, uploaded files and audit events):

* Under 148 (district councils): one open round 1/2026 for each of Quận Ninh Kiều and
  Huyện Phong Điền (the pre-2025 districts) and 22 dossiers of producers in their wards and
  communes, in every state of the intake and evaluation: draft, submitted (one with a
  rejected line), returned with reasons, resubmitted, accepted, pre-assessed (district
  acceptance), in evaluation, recognised, not recognised, forwarded and withdrawn. The
  district officers (``canbo.ninhkieu``, ``canbo.phongdien``) act on behalf of the producers
  and as the intake level; results are recorded by the officer (the round's level), as the
  council's session close would.
* Under 26/2026: the province round 2/2026 of current Cần Thơ (council level: province) and
  5 dossiers of producers in current communes and wards, filed and checked by the
  department (``sonn.cantho``): draft, submitted (past its 15 working days, so overdue),
  returned, accepted (gets its product code ``92-<commune>-NNN-2026``) and pre-assessed
  (Mẫu 03 with the four items; its product got its code on acceptance).

The rounds take new dossiers until 15/12/2026 or 30 days after seeding, whichever is later,
so that a user can always file a new dossier in the demo.

Idempotent: every producer is keyed on its registration (tax) number and a producer that
exists is skipped with its whole story; rounds are keyed on (unit, level, year, number).

The stories are dated in the past, relative to the day of seeding (a dossier created
about two months ago was submitted, returned, resubmitted…), so that the timelines read
naturally and the overdue mark has something to show. The services run unchanged; only
the clock they read (``django.utils.timezone.now``) is set back while a step runs.

The uploaded files are tiny hand-written one-page PDFs (a few hundred bytes each, built
in memory); they pass the content check of ``dossiers.uploads``.
"""

import datetime
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from unittest import mock

from django.core.files.base import ContentFile
from django.utils import timezone

from ocop.accounts.models import User
from ocop.regions.models import AdministrativeUnit, Level
from ocop.text import fold
from scoring.models import CriteriaSet, ProcessLevel, Regime

from . import rules, services
from .announced_days import sync_announced_days
from .checklists import SAMPLES_CODE, SAMPLES_REQUIRED, sync_checklists
from .models import (
    ChecklistItem,
    DocumentState,
    EvaluationRound,
    Gender,
    Producer,
    PublicHoliday,
)
from .models import ProducerType as T
from .rounds import create_round

CAN_THO = "92"
#: The open 26/2026 round takes new dossiers at least this long after seeding (the demo
#: must let a user file a new dossier whenever it is seeded).
INTAKE_OPEN_DAYS = 30
#: The current 26/2026 round is the first calendar slot finishing at least this long after
#: seeding (its open session is a week ahead).
CURRENT_ROUND_MARGIN = 10
#: A 26/2026 round's session is planned this long before its slot's finished-by date.
SESSION_BEFORE_FINISH = datetime.timedelta(days=7)


@dataclass(frozen=True)
class HistoryRound:
    """A 148 district round of 2023 (docs/regimes-and-levels.md, "Demo timeline"): its
    stories are told as if ``anchor`` were today; its recognised products get the district
    People's Committee's decision ``number`` of ``decided`` (ratings valid 36 months)."""

    number: int
    year: int
    anchor: datetime.date
    session: datetime.date
    decided: datetime.date
    decision_no: int
    signer: str

    @property
    def intake_deadline(self):
        return self.anchor


#: Ninh Kiều decided in June 2023 (valid until 19/06/2026: expired by December 2026);
#: Phong Điền in December 2023 (valid until 19/12/2026: due from 19/11/2026, 148's 30-day
#: notice).
HISTORY_ROUNDS = {
    "916": HistoryRound(1, 2023, datetime.date(2023, 6, 5), datetime.date(2023, 6, 12),
                        datetime.date(2023, 6, 20), 112, "Phạm Minh Tuấn"),
    "926": HistoryRound(2, 2023, datetime.date(2023, 11, 30), datetime.date(2023, 12, 8),
                        datetime.date(2023, 12, 20), 318, "Huỳnh Văn Tám"),
}

F, M = Gender.FEMALE, Gender.MALE


# --- tiny PDFs ----------------------------------------------------------------------------------


def _ascii(text):
    """PDF base-14 fonts have no Vietnamese letters: drop the accents (đ → d)."""
    text = (text or "").replace("đ", "d").replace("Đ", "D")
    text = "".join(ch for ch in unicodedata.normalize("NFD", text)
                   if not unicodedata.combining(ch))
    text = text.encode("ascii", "replace").decode("ascii")
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def tiny_pdf(*lines):
    """A valid one-page A4 PDF (Helvetica, correct xref table) showing ``lines``."""
    ops = ["BT", "/F1 14 Tf", "56 780 Td", "18 TL"]
    for i, line in enumerate(lines):
        ops.append(f"({_ascii(line)}) {'Tj' if i == 0 else chr(39)}")
        if i == 0:
            ops.append("/F1 11 Tf")
    ops.append("ET")
    stream = "\n".join(ops).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += (b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(objects) + 1, xref))
    return bytes(out)


def _file_name(title):
    return "-".join(fold(title).replace("/", " ").replace("(", " ").replace(")", " ")
                    .split())[:60] + ".pdf"


def demo_file(line, dossier, version=1):
    """The PDF uploaded to a checklist line (``version`` > 1: the completed paper)."""
    title = line.item.title
    suffix = f" (bo sung lan {version - 1})" if version > 1 else ""
    content = tiny_pdf(title + suffix, dossier.product.name,
                       dossier.product.producer.name,
                       "Tai lieu dung thu - OCOP Can Tho")
    name = _file_name(title)
    if version > 1:
        name = name.removesuffix(".pdf") + f"-bo-sung-{version - 1}.pdf"
    return ContentFile(content, name=name)


# --- the clock ----------------------------------------------------------------------------------


@contextmanager
def _clock(moment):
    """Run the services as if it were ``moment`` (advancing one second per reading);
    yields a dict whose ``"now"`` is the last time read."""
    state = {"now": moment}

    def now():
        state["now"] += datetime.timedelta(seconds=1)
        return state["now"]

    with mock.patch.object(timezone, "now", now):
        yield state


def _working_day(day):
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    return day


# --- the stories --------------------------------------------------------------------------------

#: Reasons a checklist line is returned with (item code → reason).
RETURN_REASONS = {
    "test_report": "Phiếu kết quả kiểm nghiệm đã quá 12 tháng; đề nghị bổ sung phiếu "
                   "kiểm nghiệm mới các chỉ tiêu an toàn thực phẩm.",
    "label": "Nhãn chưa ghi định lượng, hạn sử dụng và hướng dẫn bảo quản theo Nghị định "
             "43/2017/NĐ-CP.",
    "food_safety": "Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm đã hết hiệu lực; "
                   "bổ sung giấy còn hiệu lực hoặc bản cam kết.",
    "raw_material_contracts": "Chưa có hợp đồng bao tiêu nguyên liệu với nông hộ; bổ sung "
                              "hợp đồng hoặc bản cam kết có xác nhận của địa phương.",
    "product_story": "Câu chuyện sản phẩm chưa nêu nguồn gốc ý tưởng và giá trị văn hoá "
                     "địa phương.",
    "financial_statements": "Báo cáo tài chính thiếu chữ ký của kế toán và người đại diện.",
    "quality_declaration": "Bản tự công bố chất lượng chưa đăng tải hoặc chưa nộp cơ quan "
                           "quản lý; bổ sung bản có xác nhận tiếp nhận.",
}

#: A step: (days after the story's start, action). Actions: "upload" (all required lines,
#: the samples), "upload_some", "submit", "reject_line", "return", "complete" (re-upload the
#: rejected lines), "resubmit", "accept", "pre_assess", "start", "recognise", "forward",
#: "not_recognise", "withdraw".
PATHS = {
    "draft": [(0, "upload_some")],
    "submitted": [(0, "upload"), (3, "submit")],
    "submitted_rejected_line": [(0, "upload"), (2, "submit"), (5, "reject_line")],
    "returned": [(0, "upload"), (2, "submit"), (8, "return")],
    "resubmitted": [(0, "upload"), (2, "submit"), (7, "return"), (14, "complete"),
                    (15, "resubmit")],
    "accepted": [(0, "upload"), (2, "submit"), (9, "accept")],
    "pre_assessed": [(0, "upload"), (2, "submit"), (8, "accept"), (12, "pre_assess")],
    "in_evaluation": [(0, "upload"), (2, "submit"), (7, "accept"), (10, "pre_assess"),
                      (16, "start")],
    "recognised": [(0, "upload"), (3, "submit"), (8, "return"), (13, "complete"),
                   (14, "resubmit"), (17, "accept"), (20, "pre_assess"), (24, "start"),
                   (30, "recognise")],
    "forwarded": [(0, "upload"), (2, "submit"), (7, "accept"), (11, "pre_assess"),
                  (16, "start"), (22, "forward")],
    "not_recognised": [(0, "upload"), (2, "submit"), (6, "accept"), (9, "pre_assess"),
                       (15, "start"), (21, "not_recognise")],
    "withdrawn": [(0, "upload"), (2, "submit"), (9, "withdraw")],
    "withdrawn_after_return": [(0, "upload"), (2, "submit"), (6, "return"),
                               (20, "withdraw")],
    # 26/2026: the commune/department check, then Mẫu 03.
    "accepted_26": [(0, "upload"), (1, "submit"), (6, "accept")],
    "pre_assessed_26": [(0, "upload"), (1, "submit"), (5, "accept"), (10, "pre_assess")],
}

#: Outcome → (result recorded in the transition, the state it leads to).
#: Each one is what ``scoring.rules.level_outcome`` gives at a 148 district council
#: (docs/regimes-and-levels.md, Forwarding): 64.75 points is the 3★ band (50–<70), which
#: the district recognises; 82.25 is 4★ (≥ 70, capped star 4) and goes up; 46.00 is 2★.
RESULTS = {
    "recognise": {"total": "64.75", "band_stars": 3, "stars": 3,
                  "note": "Hội đồng cấp huyện công nhận sản phẩm đạt 3 sao."},
    "forward": {"total": "82.25", "band_stars": 4, "stars": 4,
                "note": "Đạt từ 70 điểm: đề nghị Hội đồng cấp tỉnh đánh giá, phân hạng."},
    "not_recognise": {"total": "46.00", "band_stars": 2, "stars": 2,
                      "note": "Dưới 50 điểm: sản phẩm chưa được công nhận."},
}


@dataclass
class Story:
    """One producer, its product and the life of its dossier."""

    registration_no: str
    type: str
    producer: str
    representative: str
    gender: str
    ethnicity: str
    unit: str  # ward/commune name (pre-2025 under the district for 148, current for 26/2026)
    product: str
    set_no: int
    path: str
    started_days_ago: int
    address: str = ""
    phone: str = ""
    returned: tuple = ("test_report", "label")
    registration: dict = field(default_factory=dict)


# 148, Huyện Phong Điền (pre-2025 communes).
PHONG_DIEN = [
    Story("1801204501", T.COOPERATIVE, "Hợp tác xã Bưởi Năm Roi Nhơn Ái",
          "Nguyễn Văn Tâm", M, "Kinh", "Xã Nhơn Ái", "Bưởi Năm Roi Phong Điền", 1,
          "recognised", 70, "Ấp Thới Hòa B", returned=("test_report", "raw_material_contracts"),
          registration={"annual_capacity": "180 tấn/năm", "workers": 42, "expected_stars": 4,
                        "raw_materials": "Bưởi Năm Roi của 35 hộ thành viên, 48 ha "
                                         "VietGAP."}),
    Story("1801204502", T.COOPERATIVE_GROUP, "Tổ hợp tác vú sữa Lò Rèn Mỹ Khánh",
          "Lê Thị Hồng", F, "Kinh", "Xã Mỹ Khánh", "Vú sữa Lò Rèn Mỹ Khánh", 1,
          "in_evaluation", 50, "Ấp Mỹ Ái"),
    Story("1801204503", T.COOPERATIVE, "Hợp tác xã Dâu Hạ Châu Nhơn Nghĩa",
          "Trần Văn Phước", M, "Kinh", "Xã Nhơn Nghĩa", "Dâu Hạ Châu", 1, "recognised", 55,
          "Ấp Nhơn Lộc 1"),
    Story("1801204504", T.COOPERATIVE, "Hợp tác xã Nông nghiệp Trường Long",
          "Phạm Thị Thu", F, "Kinh", "Xã Trường Long", "Gạo thơm Trường Long", 3,
          "pre_assessed", 40, "Ấp Trường Thọ"),
    Story("1801204505", T.HOUSEHOLD, "Hộ kinh doanh Rượu nếp Út Hiền", "Võ Thị Hiền", F,
          "Kinh", "Xã Giai Xuân", "Rượu nếp than Giai Xuân", 14, "returned", 30,
          "Ấp Thới Thuận A", returned=("test_report", "label", "food_safety")),
    Story("1801204506", T.HOUSEHOLD, "Hộ kinh doanh Khô cá lóc Tân Thới",
          "Huỳnh Văn Lợi", M, "Kinh", "Xã Tân Thới", "Khô cá lóc Tân Thới", 8,
          "resubmitted", 35, "Ấp Tân Long"),
    Story("1801204507", T.COOPERATIVE_GROUP, "Tổ hợp tác nuôi ong Nhơn Ái",
          "Thạch Văn Sóc", M, "Khmer", "Xã Nhơn Ái", "Mật ong hoa xoài Nhơn Ái", 4,
          "submitted", 14, "Ấp Thị Tứ"),
    Story("1801204508", T.HOUSEHOLD, "Hộ kinh doanh Bánh tráng Bé Tư",
          "Nguyễn Thị Bé Tư", F, "Kinh", "Thị trấn Phong Điền", "Bánh tráng nước dừa "
          "Phong Điền", 6, "draft", 6, "Khu vực Nhơn Lộc"),
    Story("1801204510", T.HOUSEHOLD, "Hộ kinh doanh Mắm Ba Lợi", "Lâm Thị Lài", F, "Kinh",
          "Xã Tân Thới", "Mắm cá linh Phong Điền", 9, "not_recognised", 48, "Ấp Tân Lợi"),
    Story("1801204511", T.COOPERATIVE, "Hợp tác xã Du lịch sinh thái Mỹ Khánh",
          "Lâm Thị Ngọc Hân", F, "Kinh", "Xã Mỹ Khánh",
          "Du lịch sinh thái vườn trái cây Mỹ Khánh", 26, "accepted", 20, "Ấp Mỹ Nhơn"),
    Story("1801204513", T.HOUSEHOLD, "Hộ kinh doanh Vườn kiểng Giai Xuân",
          "Trương Văn Nhân", M, "Kinh", "Xã Giai Xuân", "Mai vàng bonsai Giai Xuân", 24,
          "withdrawn_after_return", 42, "Ấp Thới Giai", returned=("product_story",)),
]

# 148, Quận Ninh Kiều (pre-2025 wards).
NINH_KIEU = [
    Story("1801305601", T.ENTERPRISE, "Công ty Cổ phần Thực phẩm Tây Đô", "Trần Quốc Huy",
          M, "Hoa", "Phường An Hòa", "Nước mắm cá cơm Tây Đô", 9, "recognised", 66,
          "Số 12 đường Mậu Thân", returned=("label",)),
    Story("1801305602", T.ENTERPRISE, "Công ty TNHH Bánh pía Phát Đạt", "Quách Ngọc Minh",
          F, "Hoa", "Phường Xuân Khánh", "Bánh pía sầu riêng trứng muối", 6,
          "submitted_rejected_line", 12, "Số 45 đường 30 Tháng 4"),
    Story("1801305603", T.HOUSEHOLD, "Hộ kinh doanh Tinh dầu Hương Bưởi",
          "Nguyễn Thị Thanh Thảo", F, "Kinh", "Phường An Bình", "Tinh dầu bưởi Năm Roi", 20,
          "draft", 4, "Khu vực 4"),
    Story("1801305604", T.COOPERATIVE_GROUP, "Tổ hợp tác Thảo dược Cái Khế",
          "Sơn Thị Kim Hoa", F, "Khmer", "Phường Cái Khế", "Xà bông thảo dược Tây Đô", 19,
          "returned", 26, "Khu vực 2", returned=("quality_declaration", "test_report")),
    Story("1801305605", T.COOPERATIVE_GROUP, "Tổ hợp tác đan lục bình An Bình",
          "Danh Thị Sa Rum", F, "Khmer", "Phường An Bình", "Túi xách lục bình An Bình", 21,
          "pre_assessed", 38, "Khu vực 7"),
    Story("1801305606", T.HOUSEHOLD, "Hộ kinh doanh Vườn lan Hưng Lợi", "Lý Văn Phát", M,
          "Hoa", "Phường Hưng Lợi", "Lan Dendrobium Hưng Lợi", 23, "in_evaluation", 47,
          "Số 8 hẻm 51 đường 3 Tháng 2"),
    Story("1801305607", T.ENTERPRISE, "Công ty TNHH Nông sản Mê Kông Xanh",
          "Châu Thị Mỹ Linh", F, "Kinh", "Phường Thới Bình", "Nước ép khóm đóng chai", 17,
          "accepted", 22, "Số 101 đường Trần Hưng Đạo"),
    Story("1801305608", T.HOUSEHOLD, "Hộ kinh doanh Lạp xưởng Hòa Ký", "Lư Thị Hạnh", F,
          "Hoa", "Phường Tân An", "Lạp xưởng tươi Hòa Ký", 8, "returned", 24,
          "Số 27 đường Hai Bà Trưng", returned=("food_safety", "financial_statements")),
    Story("1801305609", T.ENTERPRISE, "Công ty TNHH Thủy sản Sông Hậu", "Trương Minh Đức",
          M, "Kinh", "Phường An Khánh", "Chà bông cá lóc Sông Hậu", 8, "forwarded", 52,
          "Số 9 đường Nguyễn Văn Cừ"),
    Story("1801305610", T.HOUSEHOLD, "Hộ kinh doanh Rượu vang khóm Cái Khế",
          "Đỗ Văn Thành", M, "Kinh", "Phường Cái Khế", "Rượu vang khóm Cái Khế", 15,
          "withdrawn", 28, "Khu vực 1"),
    Story("1801305611", T.HOUSEHOLD, "Hộ kinh doanh Hủ tiếu Thới Bình", "Phan Văn Tài", M,
          "Kinh", "Phường Thới Bình", "Hủ tiếu khô Thới Bình", 6, "resubmitted", 33,
          "Số 5 đường Cách Mạng Tháng 8"),
]

# 26/2026, current Cần Thơ (current communes and wards), filed with the department.
CAN_THO_26 = [
    Story("1801406701", T.HOUSEHOLD, "Hộ kinh doanh Bánh tét lá cẩm Út Mai",
          "Nguyễn Thị Mai", F, "Kinh", "Phường Cái Răng", "Bánh tét lá cẩm Cái Răng", 6,
          "accepted_26", 12, "Khu vực Yên Hạ"),
    Story("1801406702", T.COOPERATIVE, "Hợp tác xã Chanh dây Phong Điền", "Lê Văn Hậu", M,
          "Kinh", "Xã Phong Điền", "Mứt chanh dây Phong Điền", 7, "pre_assessed_26", 25,
          "Ấp Nhơn Lộc 2"),
    Story("1801406703", T.COOPERATIVE_GROUP, "Tổ hợp tác Trà mãng cầu Trường Long",
          "Trần Thị Ngọc Ánh", F, "Kinh", "Xã Trường Long", "Trà mãng cầu Trường Long", 12,
          "submitted", 40, "Ấp Trường Khánh"),
    Story("1801406704", T.ENTERPRISE, "Công ty TNHH Bánh pía Kim Sa", "Lâm Quốc Thành", M,
          "Hoa", "Phường Sóc Trăng", "Bánh pía đậu xanh sầu riêng Sóc Trăng", 6, "draft", 3,
          "Số 18 đường Tôn Đức Thắng"),
    Story("1801406705", T.HOUSEHOLD, "Hộ kinh doanh Trà khổ qua rừng Sa Rươne",
          "Thạch Thị Sa Rươne", F, "Khmer", "Phường Ninh Kiều", "Trà khổ qua rừng Tây Đô",
          12, "returned", 18, "Số 60 đường Lý Tự Trọng",
          returned=("test_report", "quality_declaration")),
]

PRE_ASSESSMENT_148 = ("Hồ sơ đầy đủ, hợp lệ; sản phẩm có nguồn gốc tại địa phương. Ủy ban "
                      "nhân dân cấp huyện tiếp nhận, chuyển Hội đồng đánh giá, phân hạng.")
PRE_ASSESSMENT_03 = {
    "raw_materials": "Nguyên liệu chanh dây do các thành viên hợp tác xã trồng tại xã "
                     "(khoảng 20 ha).",
    "raw_materials_verdict": "met",
    "labour": "Sử dụng 18 lao động địa phương, trong đó 12 lao động nữ.",
    "labour_verdict": "met",
    "idea_origin": "Ý tưởng của hợp tác xã nhằm tiêu thụ chanh dây vào vụ thu hoạch "
                   "rộ.",
    "idea_origin_verdict": "met",
    "local_identity": "Bao bì chưa thể hiện rõ hình ảnh địa phương; đề nghị bổ sung câu "
                      "chuyện sản phẩm.",
    "local_identity_verdict": "not_met",
    "conclusion": "Đủ điều kiện đề nghị Hội đồng cấp tỉnh đánh giá, phân hạng.",
}

WITHDRAW_REASONS = {
    "withdrawn": "Chủ thể đề nghị rút hồ sơ để hoàn thiện bao bì, đăng ký lại đợt sau.",
    "withdrawn_after_return": "Chủ thể không bổ sung được hồ sơ môi trường trong đợt này, "
                              "xin rút hồ sơ.",
}


# --- the step -----------------------------------------------------------------------------------


def _round(regime_slug, admin_level, unit, year, number, intake_deadline, session):
    """The round (unit, level, year, number), opened through ``dossiers.rounds
    .create_round`` (its dates checked against the regime, the unit and the round
    calendar) by the administrator when it does not exist yet."""
    regime = Regime.objects.get(slug=regime_slug)
    level = ProcessLevel.objects.get(regime=regime, admin_level=admin_level)
    found = EvaluationRound.objects.filter(unit=unit, level=level, year=year,
                                           number=number).first()
    if found is not None:
        return found
    return create_round(User.objects.get(username="admin"), regime=regime, level=level,
                        unit=unit, year=year, number=number, intake_deadline=intake_deadline,
                        planned_session_date=session)


def calendar_slots(regime, first_year, years=2):
    """(year, number, received by, finished by) of the regime's round calendar."""
    windows = rules.regime_windows(regime)
    return [(year, number, receive, finish)
            for year in range(first_year, first_year + years)
            for number, (receive, finish) in enumerate(rules.window_dates(windows, year), 1)]


def rounds_26(today):
    """The 26/2026 slots of the demo: ``current`` (the first finishing at least
    ``CURRENT_ROUND_MARGIN`` days after ``today``: its sessions are held now) and ``open``
    (the first receiving for at least ``INTAKE_OPEN_DAYS`` more days: new dossiers go
    there). In December 2026: 2/2026 (received by 30/10, finished by 30/12) and 1/2027
    (received by 30/04, finished by 30/06/2027)."""
    slots = calendar_slots(Regime.objects.get(slug="26/2026"), today.year)
    current = next(s for s in slots
                   if s[3] >= today + datetime.timedelta(days=CURRENT_ROUND_MARGIN))
    open_ = next(s for s in slots
                 if s[2] >= today + datetime.timedelta(days=INTAKE_OPEN_DAYS))
    return {"current": current, "open": open_}


class _Teller:
    """Plays the stories of one round as one user."""

    def __init__(self, user, round_, units, today, hour):
        self.user, self.round, self.units, self.today = user, round_, units, today
        self.hour = hour
        self.sets = {cs.set_no: cs for cs in CriteriaSet.objects.scorable_for(round_.regime)}

    def moment(self, story, days, index, after=None):
        """When the step ``days`` after the story's start happens: a working day, before
        today, after the previous step (``after``)."""
        day = _working_day(self.today - datetime.timedelta(days=story.started_days_ago - days))
        day = min(day, self.today - datetime.timedelta(days=1))
        naive = datetime.datetime.combine(day, datetime.time(self.hour + index % 8,
                                                             (index * 7) % 60))
        moment = timezone.make_aware(naive)
        if after is not None and moment <= after:
            moment = after + datetime.timedelta(minutes=5)
        return moment

    def tell(self, index, story):
        if Producer.objects.filter(registration_no=story.registration_no).exists():
            return None
        steps = PATHS[story.path]
        with _clock(self.moment(story, 0, index)) as clock:
            unit = self.units[story.unit]
            producer = services.create_producer(self.user, data={
                "type": story.type, "name": story.producer,
                "registration_no": story.registration_no,
                "representative_name": story.representative,
                "representative_gender": story.gender,
                "representative_ethnicity": story.ethnicity,
                "address": f"{story.address}, {unit.name}" if story.address else unit.name,
                "unit": unit, "phone": f"0292 38{story.registration_no[-5:]}",
                # the producer's contact, told when its rating comes due (docs/notifications.md)
                "email": f"lienhe.{story.registration_no}@example.vn"})
            product = services.create_product(self.user, producer=producer,
                                              name=story.product,
                                              criteria_set=self.sets[story.set_no])
            dossier = services.create_dossier(
                self.user, round=self.round, product=product,
                registration=self.registration(story, unit))
        for days, action in steps:
            with _clock(self.moment(story, days, index, after=clock["now"])) as clock:
                dossier = getattr(self, f"do_{action}")(dossier, story)
        return dossier

    def registration(self, story, unit):
        data = {
            "production_address": f"{story.address}, {unit.name}, thành phố Cần Thơ"
            if story.address else f"{unit.name}, thành phố Cần Thơ",
            "product_description": f"{story.product}: sản phẩm đặc trưng của địa phương, "
                                   "đóng gói và ghi nhãn đầy đủ.",
            "annual_capacity": "20 tấn/năm",
            "workers": 12,
            "markets": "Thành phố Cần Thơ, các tỉnh Đồng bằng sông Cửu Long, TP. Hồ Chí Minh.",
            "expected_stars": 3,
        }
        data.update(story.registration)
        return data

    def lines(self, dossier):
        return list(dossier.documents.select_related("item").order_by("item__order"))

    def upload_lines(self, dossier, lines, version=1):
        for line in lines:
            if line.item.code == SAMPLES_CODE:
                continue
            services.upload_file(self.user, dossier, demo_file(line, dossier, version),
                                 document=line)

    def record_samples(self, dossier):
        if any(line.item.code == SAMPLES_CODE for line in self.lines(dossier)):
            dossier = services.update_dossier(
                self.user, dossier, samples_count=SAMPLES_REQUIRED,
                samples_received_on=timezone.localdate())
        return dossier

    # actions

    def do_upload(self, dossier, story):
        self.upload_lines(dossier, [line for line in self.lines(dossier)
                                    if line.item.required])
        return self.record_samples(dossier)

    def do_upload_some(self, dossier, story):
        self.upload_lines(dossier, [line for line in self.lines(dossier)
                                    if line.item.code in ("form_01", "business_registration",
                                                          "label", "photos")])
        return dossier

    def do_submit(self, dossier, story):
        return services.submit(self.user, dossier)

    def do_reject_line(self, dossier, story):
        for line in self.lines(dossier):
            if line.item.code in ("form_01", "business_registration"):
                services.review_document(self.user, line, state=DocumentState.VERIFIED)
            elif line.item.code == "test_report":
                services.review_document(
                    self.user, line, state=DocumentState.REJECTED,
                    reason="Phiếu kiểm nghiệm thiếu chỉ tiêu vi sinh vật; đề nghị bổ sung.")
        return dossier

    def do_return(self, dossier, story):
        reasons = {line.pk: RETURN_REASONS[line.item.code] for line in self.lines(dossier)
                   if line.item.code in story.returned}
        return services.return_for_completion(
            self.user, dossier, reasons=reasons,
            note="Đề nghị chủ thể bổ sung, hoàn thiện hồ sơ và nộp lại.")

    def do_complete(self, dossier, story):
        self.upload_lines(dossier, [line for line in self.lines(dossier)
                                    if line.state == DocumentState.REJECTED], version=2)
        return dossier

    def do_resubmit(self, dossier, story):
        return services.resubmit(self.user, dossier)

    def do_accept(self, dossier, story):
        return services.accept(self.user, dossier)

    def do_pre_assess(self, dossier, story):
        if rules.has_pre_assessment(self.round.regime):
            data = PRE_ASSESSMENT_03
        else:
            data = {"conclusion": PRE_ASSESSMENT_148}
        return services.record_pre_assessment(self.user, dossier, data=data)

    # The stories' evaluations and results stand for councils held before the system was
    # used (no session exists for them): the demo writes them as the council services
    # would (``via_council``); every other caller is refused (``rules.COUNCIL_ONLY``).
    def do_start(self, dossier, story):
        return services.start_evaluation(self.user, dossier, via_council=True)

    def _result(self, dossier, outcome):
        return services.record_result(self.user, dossier, outcome=outcome,
                                      result={**RESULTS[outcome], "source": "demo"},
                                      via_council=True)

    def do_recognise(self, dossier, story):
        return self._result(dossier, "recognise")

    def do_forward(self, dossier, story):
        return self._result(dossier, "forward")

    def do_not_recognise(self, dossier, story):
        return self._result(dossier, "not_recognise")

    def do_withdraw(self, dossier, story):
        return services.withdraw(self.user, dossier, reason=WITHDRAW_REASONS[story.path])


def seed_checklists(ctx):
    """The document checklists of the regimes (which ``migrate`` also writes; synced again
    so that a flushed database is seeded whole). Idempotent; after
    ``scoring.demo.seed_regulations``, which syncs the regimes."""
    sync_checklists(Regime, ChecklistItem)
    sync_announced_days(PublicHoliday)


def _legacy_district(code):
    return AdministrativeUnit.objects.legacy().get(level=Level.DISTRICT, code=code)


def seed_rounds(ctx):
    """The demo rounds (idempotent): the two 148 district rounds of 2023 (Ninh Kiều 1/2023
    and Phong Điền 2/2023, pre-2025 districts; their intake is long closed) and current
    Cần Thơ's 26/2026 province rounds of the calendar (see :func:`rounds_26`): ``ctx
    ["rounds"]`` = {district code: round, "current": round, "open": round}."""
    today = timezone.localdate()
    province = AdministrativeUnit.objects.current().get(level=Level.PROVINCE, code=CAN_THO)
    rounds = {}
    for code, history in HISTORY_ROUNDS.items():
        rounds[code] = _round("148", "district", _legacy_district(code), history.year,
                              history.number, history.intake_deadline, history.session)
    for key, (year, number, _receive, finish) in rounds_26(today).items():
        rounds[key] = _round("26/2026", "province", province, year, number, _receive,
                             finish - SESSION_BEFORE_FINISH)
    ctx["rounds"] = rounds
    return rounds


#: Who tells a 26/2026 story: the officer of the story's ward or commune
#: (``ocop.demo.ACCOUNTS``), else the department.
COMMUNE_OFFICERS = {"Phường Ninh Kiều": "canbo.phuongninhkieu",
                    "Xã Phong Điền": "canbo.xaphongdien"}


def tell_26(round_, stories, today, hour):
    """Tell 26/2026 ``stories`` in ``round_`` (current communes and wards), each by the
    officer of its commune or ward or else by the department, as if ``today`` were the
    day; the dossiers told (skipped stories left out), in the stories' order."""
    names = [s.unit for s in stories]
    units = {u.name: u for u in AdministrativeUnit.objects.current().filter(
        province=round_.unit, name__in=names)}
    tellers = {}
    told = []
    for index, story in enumerate(stories):
        username = COMMUNE_OFFICERS.get(story.unit, "sonn.cantho")
        if username not in tellers:
            tellers[username] = _Teller(User.objects.get(username=username), round_, units,
                                        today, hour)
        dossier = tellers[username].tell(index, story)
        if dossier is not None:
            told.append(dossier)
    return told


def _issue_history_decision(officer, round_, history):
    """The district People's Committee's recognition decision for the round's recognised
    (3★) results, dated ``history.decided`` (through ``dossiers.decisions``)."""
    from . import decisions

    results = list(decisions.pending_results(officer).filter(round=round_))
    if not results:
        return None
    moment = timezone.make_aware(datetime.datetime.combine(history.decided,
                                                           datetime.time(9, 0)))
    with _clock(moment):
        draft = decisions.draft_decision(officer, results)
        return decisions.issue_decision(officer, draft, number=history.decision_no,
                                        date=history.decided, signer_name=history.signer)


def seed_dossiers(ctx):
    """The demo rounds and dossiers (see the module docstring). Idempotent."""
    today = timezone.localdate()
    rounds = seed_rounds(ctx)
    created = []
    for username, district_code, stories, hour in (
            ("canbo.phongdien", "926", PHONG_DIEN, 8),
            ("canbo.ninhkieu", "916", NINH_KIEU, 13)):
        round_ = rounds[district_code]
        history = HISTORY_ROUNDS[district_code]
        units = {unit.name: unit for unit in round_.unit.children.all()}
        officer = User.objects.get(username=username)
        teller = _Teller(officer, round_, units, history.anchor, hour)
        created += [d for i, s in enumerate(stories) if (d := teller.tell(i, s))]
        _issue_history_decision(officer, round_, history)

    created += tell_26(rounds["open"], CAN_THO_26, today, 8)
    ctx["dossiers"] = created
    return created


def seed_expiry(ctx):
    """What the daily job would have done by today: the ratings of 2023 are due or expired,
    their notices written (``dossiers.expiry``). A step of its own, after the councils, so
    a journey may seed without it and run the command itself."""
    from .expiry import check_rating_expiry

    ctx["expiry"] = check_rating_expiry(timezone.localdate())
    return ctx["expiry"]
