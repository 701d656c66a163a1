"""The rated-products register as an Excel file (Danh sách sản phẩm OCOP), and a round's
results — openpyxl in write-only mode, written row by row from a server-side cursor, so a
register of 100,000 ratings never sits in memory.

CONTRACT

    REGISTER_COLUMNS: tuple[Column, ...]   # the register's columns, in order — the format
                                           # the import (next issue) reads back; change it
                                           # only together with the import
    register_row(rating, number) -> list   # one rating (loaded by ``register_queryset``)
    register_queryset(ratings) -> QuerySet # the joins a row reads, register order
    write_register(ratings, title) -> file # a temporary .xlsx file, positioned at 0
    ROUND_COLUMNS, write_round_results(round_, dossiers) -> file

The headers are the Vietnamese words the provinces publish (fixed texts, not translated:
the file is read back by the import whatever the interface's language). Dates are Excel
dates (dd/mm/yyyy), stars and scores numbers.

Choices:

* **Address**: the producer's address as registered, then its commune or ward as
  registered (a pre-2025 commune keeps its name, marked "(trước 2025)"), the district for
  a pre-2025 commune (the 148-era history; empty for current units, which have none since
  the 2025 reform), and the province.
* **Issuer**: the decision's issuing body as printed ("Ủy ban nhân dân quận Ninh Kiều");
  for a rating recorded without a decision of this system, empty.
* **Product code**: the rating's code (26/2026), else the product's.
"""

import tempfile
from typing import NamedTuple

from django.db.models import F
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ocop.regions.models import Level

from .models import DossierState, ProducerType, RatingState

#: Rows fetched per database round trip while writing.
CHUNK = 2000


class Column(NamedTuple):
    key: str
    header: str
    width: int


#: The register's columns (defined once: the export writes them, the import reads them).
REGISTER_COLUMNS = (
    Column("number", "TT", 6),
    Column("product", "Tên sản phẩm", 36),
    Column("product_code", "Mã sản phẩm", 20),
    Column("producer", "Chủ thể", 34),
    Column("producer_type", "Loại hình chủ thể", 22),
    Column("address", "Địa chỉ", 36),
    Column("commune", "Xã, phường", 24),
    Column("district", "Huyện (trước 2025)", 20),
    Column("province", "Tỉnh, thành phố", 20),
    Column("product_group", "Nhóm sản phẩm", 28),
    Column("criteria_set", "Bộ tiêu chí", 36),
    Column("stars", "Hạng sao", 9),
    Column("score", "Điểm", 8),
    Column("decision_number", "Số quyết định", 18),
    Column("decision_date", "Ngày quyết định", 14),
    Column("issuer", "Cơ quan ban hành", 30),
    Column("valid_until", "Hiệu lực đến", 14),
    Column("state", "Trạng thái", 20),
)

#: The states and producer types as the register prints them (fixed Vietnamese words).
STATE_WORDS = {
    RatingState.VALID: "Còn hiệu lực",
    RatingState.DUE: "Đến hạn đánh giá lại",
    RatingState.EXPIRED: "Hết hiệu lực",
    RatingState.REVOKED: "Đã thu hồi",
    RatingState.REPLACED: "Đã được thay thế",
}
TYPE_WORDS = {
    ProducerType.COOPERATIVE: "Hợp tác xã",
    ProducerType.COOPERATIVE_GROUP: "Tổ hợp tác",
    ProducerType.ENTERPRISE: "Doanh nghiệp",
    ProducerType.HOUSEHOLD: "Hộ kinh doanh",
}
DATE_FORMAT = "DD/MM/YYYY"


def register_queryset(ratings):
    """What :func:`register_row` reads, in one query (newest decisions first)."""
    return (ratings.select_related(
        "product__producer__unit__parent", "product__producer__unit__province",
        "product__criteria_set__group", "source_dossier__criteria_set__group", "decision")
        .order_by("-decision_date", "-pk"))


def _unit_words(unit):
    """(commune, district, province) of the producer's unit as registered."""
    if unit is None:
        return "", "", ""
    commune = district = ""
    if unit.level == Level.COMMUNE:
        commune = unit.name if unit.valid_to is None else f"{unit.name} (trước 2025)"
        if unit.parent_id and unit.parent.level == Level.DISTRICT:
            district = unit.parent.name
    elif unit.level == Level.DISTRICT:
        district = unit.name
    province = unit.province.name if unit.province_id else (
        unit.name if unit.level == Level.PROVINCE else "")
    return commune, district, province


def _criteria_set(rating):
    if rating.source_dossier_id:
        return rating.source_dossier.criteria_set
    return rating.product.criteria_set


def _issuer(rating):
    decision = rating.decision if rating.decision_id else None
    if decision is None:
        return ""
    return decision.issuer_name


def register_row(rating, number):
    """The cells of one rating, in the order of :data:`REGISTER_COLUMNS`."""
    product = rating.product
    producer = product.producer
    commune, district, province = _unit_words(producer.unit)
    criteria_set = _criteria_set(rating)
    values = {
        "number": number,
        "product": product.name,
        "product_code": rating.product_code or product.code or "",
        "producer": producer.name,
        "producer_type": TYPE_WORDS.get(producer.type, producer.type),
        "address": producer.address,
        "commune": commune,
        "district": district,
        "province": province,
        "product_group": criteria_set.group.name if criteria_set else "",
        "criteria_set": f"{criteria_set.set_no:02d}. {criteria_set.name}" if criteria_set else "",
        "stars": rating.stars,
        "score": float(rating.score) if rating.score is not None else None,
        "decision_number": rating.decision_number,
        "decision_date": rating.decision_date,
        "issuer": _issuer(rating),
        "valid_until": rating.valid_until,
        "state": STATE_WORDS.get(rating.state, rating.state),
    }
    return [values[column.key] for column in REGISTER_COLUMNS]


def _workbook(title, columns, sheet_title):
    """A write-only workbook with its title row and header row written."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    bold = Font(bold=True)
    heading = WriteOnlyCell(sheet, title)
    heading.font = bold
    sheet.append([heading])
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, column.header)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    return workbook, sheet


#: Row of the header (the first row holds the title); data start on the next row.
HEADER_ROW = 2


def _cells(sheet, values):
    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value)
        if hasattr(value, "isoformat"):
            cell.number_format = DATE_FORMAT
        cells.append(cell)
    return cells


def _save(workbook):
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    workbook.save(handle)
    handle.seek(0)
    return handle


def write_register(ratings, title="Danh sách sản phẩm OCOP"):
    """The register of ``ratings`` as a temporary ``.xlsx`` file (read it, then close)."""
    workbook, sheet = _workbook(title, REGISTER_COLUMNS, "Sản phẩm OCOP")
    rows = register_queryset(ratings).iterator(chunk_size=CHUNK)
    for number, rating in enumerate(rows, start=1):
        sheet.append(_cells(sheet, register_row(rating, number)))
    return _save(workbook)


# --- a round's results ---------------------------------------------------------------------------

ROUND_COLUMNS = (
    Column("number", "TT", 6),
    Column("product", "Tên sản phẩm", 36),
    Column("product_code", "Mã sản phẩm", 20),
    Column("producer", "Chủ thể", 34),
    Column("commune", "Xã, phường", 24),
    Column("criteria_set", "Bộ tiêu chí", 36),
    Column("registration_type", "Loại đăng ký", 16),
    Column("score", "Điểm", 8),
    Column("stars", "Hạng sao", 9),
    Column("state", "Trạng thái", 24),
)

REGISTRATION_WORDS = {"first": "Đánh giá lần đầu", "upgrade": "Nâng hạng",
                      "reevaluation": "Đánh giá lại"}
DOSSIER_STATE_WORDS = {
    DossierState.DRAFT: "Đang soạn", DossierState.SUBMITTED: "Đã nộp",
    DossierState.RETURNED: "Trả lại để bổ sung", DossierState.RESUBMITTED: "Đã nộp lại",
    DossierState.ACCEPTED: "Đã tiếp nhận", DossierState.PRE_ASSESSED: "Đã đánh giá sơ bộ",
    DossierState.IN_EVALUATION: "Đang chấm điểm",
    DossierState.RESULT_RECORDED: "Đã có kết quả", DossierState.FORWARDED: "Chuyển cấp trên",
    DossierState.RECOGNISED: "Được công nhận", DossierState.NOT_RECOGNISED: "Không đạt",
    DossierState.WITHDRAWN: "Đã rút",
}


def round_row(dossier, number):
    commune, district, _province = _unit_words(dossier.unit)
    values = {
        "number": number,
        "product": dossier.product.name,
        "product_code": dossier.product.code or "",
        "producer": dossier.product.producer.name,
        "commune": commune or district,
        "criteria_set": f"{dossier.criteria_set.set_no:02d}. {dossier.criteria_set.name}",
        "registration_type": REGISTRATION_WORDS.get(dossier.registration_type, ""),
        "score": float(dossier.result_score) if dossier.result_score is not None else None,
        "stars": dossier.result_stars,
        "state": DOSSIER_STATE_WORDS.get(dossier.state, dossier.state),
    }
    return [values[column.key] for column in ROUND_COLUMNS]


def write_round_results(round_, dossiers):
    """The dossiers of ``round_`` (already scoped) with their score, stars and state, best
    score first, as a temporary ``.xlsx`` file."""
    title = (f"Kết quả đánh giá, phân hạng sản phẩm OCOP — đợt {round_.number}/{round_.year} "
             f"— {round_.unit.name}")
    workbook, sheet = _workbook(title, ROUND_COLUMNS, f"Đợt {round_.number}-{round_.year}")
    rows = (dossiers.filter(round=round_)
            .select_related("product__producer", "unit__parent", "criteria_set")
            .order_by(F("result_score").desc(nulls_last=True), "product__name", "pk")
            .iterator(chunk_size=CHUNK))
    for number, dossier in enumerate(rows, start=1):
        sheet.append(_cells(sheet, round_row(dossier, number)))
    return _save(workbook)
