"""Bringing in the province's existing register in the browser (issue "Bring in the
province's existing register", Done when): ``sonn.cantho`` downloads the template, uploads
a register of 200 rows built here (10 bad rows of different kinds), reads the dry run,
confirms, sees the progress end and the ratings in the register with their states,
downloads the error file; then exports the register and imports it into an empty database
(the ratings, producers and products deleted): the same ratings, nothing duplicated, and a
second upload finds nothing to import.

Labels come from the catalog through ``gettext`` in Vietnamese.
"""

import datetime
import io
import re

import pytest
from openpyxl import Workbook, load_workbook
from playwright.sync_api import expect

from dossiers.models import Decision, Producer, Product, Rating, RatingState, RegisterImport
from dossiers.register import REGISTER_COLUMNS
from ocop.regions.models import AdministrativeUnit, Level
from tests.e2e.helpers import log_in
from tests.i18n import vi

KEYS = [column.key for column in REGISTER_COLUMNS]
GOOD = 190


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def good_rows():
    """190 ratings: current wards under 26/2026 (sets 01–26), pre-2025 communes with their
    district under 148 (set 09), a tenth of them expired."""
    wards = list(AdministrativeUnit.objects.current().filter(
        level=Level.COMMUNE, province__code="92").order_by("code").values_list("name",
                                                                            flat=True))
    legacy = list(AdministrativeUnit.objects.legacy().filter(
        level=Level.COMMUNE, province__code="92").order_by("code").values_list(
        "name", "parent__name"))
    rows = []
    for n in range(GOOD):
        if n % 10 == 0:  # 148, expired on 28/02/2026
            commune, district = legacy[n % len(legacy)]
            day, set_no = datetime.date(2023, 3, 1), 9
        elif n % 2:
            commune, district = legacy[n % len(legacy)]
            day, set_no = datetime.date(2024, 5, 1 + n % 28), 9
        else:
            commune, district = wards[n % len(wards)], ""
            day, set_no = datetime.date(2026, 6, 1 + n % 28), 1 + n % 26
        rows.append({
            "number": n + 1, "product": f"Sản phẩm nhập {n + 1}", "product_code": "",
            "producer": f"Hợp tác xã nhập {n // 2 + 1}", "producer_type": "Hợp tác xã",
            "address": "Ấp 1", "commune": commune, "district": district,
            "province": "Thành phố Cần Thơ", "product_group": "",
            "criteria_set": f"{set_no:02d}", "stars": 3 + n % 3, "score": 55 + n % 40,
            # one decision a day: its number says the day
            "decision_number": f"{day:%d%m%y}/QĐ-UBND", "decision_date": day,
            "issuer": "", "valid_until": None, "state": ""})
    return rows


def bad_rows(first):
    def bad(**values):
        return {**first, "number": None, **values}

    return [
        bad(product="Sao bảy", stars=7, decision_number="901/QĐ"),
        bad(product="Hai sao", stars=2, decision_number="902/QĐ"),
        bad(product="Ngày mai", decision_date=datetime.date(2030, 1, 1),
            decision_number="903/QĐ"),
        bad(product="Trước 2019", decision_date=datetime.date(2018, 6, 1),
            decision_number="904/QĐ"),
        bad(product="Xã lạ", commune="Xã Không Có", decision_number="905/QĐ"),
        bad(product="Hai Thạnh An", commune="Thạnh An", district="Huyện Vĩnh Thạnh",
            decision_date=datetime.date(2024, 6, 1), criteria_set="09",
            decision_number="906/QĐ"),
        bad(product=None, decision_number="907/QĐ"),
        bad(product="Loại lạ", producer_type="Công ty ma", decision_number="908/QĐ"),
        bad(product="Tỉnh khác", province="Tỉnh An Giang", decision_number="909/QĐ"),
        dict(first),  # the first row again
    ]


def register_file(path, rows):
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Sản phẩm OCOP")
    sheet.append(["Danh sách sản phẩm OCOP đã công nhận"])
    sheet.append([column.header for column in REGISTER_COLUMNS])
    for values in rows:
        sheet.append([values.get(key) for key in KEYS])
    book.save(path)
    return path


def workbook(download):
    """The downloaded .xlsx (its temporary path has no extension, which openpyxl wants)."""
    with open(download.path(), "rb") as handle:
        return load_workbook(io.BytesIO(handle.read()))


def snapshot():
    return sorted(Rating.objects.values_list(
        "product__name", "product__producer__name", "product__producer__unit_id", "stars",
        "decision_number", "decision_date", "valid_until", "state"))


def upload_and_import(page, base, path, expected_create):
    page.get_by_label(vi("Register file (.xlsx or .csv)")).set_input_files(
        str(path))
    page.get_by_role("button", name=vi("Check the file")).click()
    expect(page).to_have_url(re.compile(r"/ratings/import/\d+/$"))
    expect(page.locator("#import-progress")).to_have_attribute("value", "100")
    confirm = page.get_by_role("button", name=re.compile(str(expected_create)))
    expect(confirm).to_be_visible()
    confirm.click()
    expect(page.locator("#import-status")).to_contain_text(vi("Imported"))
    expect(page.locator("#import-progress")).to_have_attribute("value", "100")


def test_import_the_register_then_export_and_import_it_again(page, demo_live, tmp_path):
    base = demo_live.url
    page.set_default_timeout(30_000)
    page.set_viewport_size({"width": 1366, "height": 800})
    log_in(page, base, "sonn.cantho")
    page.locator("#mainnav a[href='/ratings/']").click()  # the menu's ratings register
    page.get_by_role("link", name=vi("Import the register")).click()
    expect(page).to_have_url(f"{base}/ratings/import/")

    with page.expect_download() as template:
        page.get_by_role("link", name=vi("Download the template (.xlsx)")).click()
    header = [c.value for c in workbook(template.value).worksheets[0][2]]
    assert header == [column.header for column in REGISTER_COLUMNS]

    rows = good_rows()
    path = register_file(tmp_path / "so-dang-ky-200.xlsx", rows + bad_rows(rows[0]))
    page.get_by_label(vi("Register file (.xlsx or .csv)")).set_input_files(
        str(path))
    page.get_by_role("button", name=vi("Check the file")).click()
    expect(page).to_have_url(re.compile(r"/ratings/import/\d+/$"))
    status = page.locator("#import-status")
    register_import = RegisterImport.objects.get()
    assert (register_import.created_count, register_import.refused_count) == (GOOD, 10), list(
        register_import.rows.filter(outcome="refused").values_list("reasons", flat=True)[:5])
    expect(status).to_contain_text(f"{GOOD}")
    expect(page.locator("#import-report")).to_contain_text("Sản phẩm nhập 1")
    assert not Rating.objects.exists()  # nothing saved before the confirmation

    page.get_by_label(vi("Show")).select_option("refused")
    page.get_by_role("button", name=vi("Show")).click()
    assert page.locator("#import-report tbody tr").count() == 10
    expect(page.locator("#import-report")).to_contain_text("Sao bảy")

    with page.expect_download() as errors:
        page.get_by_role("link", name=re.compile(
            re.escape(vi("Download the refused rows with their reasons (.xlsx)")))).click()
    refused = list(workbook(errors.value).worksheets[0].iter_rows(
        values_only=True))
    assert len(refused) == 11 and all(line[-1] for line in refused[1:])

    page.get_by_role("button", name=re.compile(str(GOOD))).click()
    expect(status).to_contain_text(vi("Imported"))
    expect(page.locator("#import-progress")).to_have_attribute("value", "100")
    assert Rating.objects.count() == GOOD
    expired = Rating.objects.filter(decision_date=datetime.date(2023, 3, 1))
    assert expired.count() == GOOD // 10
    assert set(expired.values_list("state", flat=True)) == {RatingState.EXPIRED}
    assert not Rating.objects.exclude(decision_date=datetime.date(2023, 3, 1)).filter(
        state=RatingState.EXPIRED).exists()

    page.get_by_role("link", name=vi("see the ratings register")).click()
    expect(page).to_have_url(f"{base}/ratings/")
    expect(page.locator("body")).to_contain_text("Sản phẩm nhập 1")
    before = snapshot()
    with page.expect_download() as exported:
        page.locator("#register-xlsx").click()
    export_path = tmp_path / "xuat.xlsx"
    export_path.write_bytes(open(exported.value.path(), "rb").read())

    # an empty database: what the import made is gone
    RegisterImport.objects.all().delete()
    Rating.objects.all().delete()
    Decision.objects.all().delete()
    Product.objects.all().delete()
    Producer.objects.all().delete()

    page.get_by_role("link", name=vi("Import the register")).click()
    upload_and_import(page, base, export_path, GOOD)
    assert snapshot() == before
    assert Product.objects.count() == GOOD

    # the same file again: nothing new
    page.goto(f"{base}/ratings/import/")
    page.get_by_label(vi("Register file (.xlsx or .csv)")).set_input_files(
        str(export_path))
    page.get_by_role("button", name=vi("Check the file")).click()
    expect(page.locator("#import-status")).to_contain_text(
        vi("There is nothing to import: every row is already present or refused."))
    assert Rating.objects.count() == GOOD
