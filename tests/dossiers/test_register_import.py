"""Importing the province's existing register (docs/register-import.md): the dry run's
verdict per row, the import, idempotence, the error file and the round trip with the
export."""

import csv
import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from openpyxl import load_workbook

from dossiers import imports
from dossiers.models import (
    Decision,
    DecisionOrigin,
    ImportState,
    Producer,
    Product,
    Rating,
    RatingState,
    RegisterImport,
    RowOutcome,
)
from dossiers.register import REGISTER_COLUMNS, write_register
from dossiers.services import DossierError
from ocop.accounts.models import Role
from ocop.audit.models import AuditEvent
from tests import factories

HEADERS = [column.header for column in REGISTER_COLUMNS]
KEYS = [column.key for column in REGISTER_COLUMNS]

pytestmark = pytest.mark.usefixtures("criteria")


def row(**values):
    base = {
        "product": "Bưởi Năm Roi", "product_code": "", "producer": "HTX Bưởi Phong Điền",
        "producer_type": "Hợp tác xã", "address": "Ấp Nhơn Lộc", "commune": "Phường Ninh Kiều",
        "district": "", "province": "Thành phố Cần Thơ",
        "criteria_set": "01. Rau, củ, quả, hạt tươi", "stars": 4, "score": 78.5,
        "decision_number": "101/QĐ-UBND", "decision_date": "10/06/2026", "issuer": "",
        "valid_until": "", "state": ""}
    base.update(values)
    return base


def csv_file(rows, name="so-dang-ky.csv", headers=HEADERS):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Danh sách sản phẩm OCOP"])
    writer.writerow(headers)
    for values in rows:
        writer.writerow([values.get(key, "") for key in KEYS])
    return SimpleUploadedFile(name, out.getvalue().encode("utf-8"), "text/csv")


@pytest.fixture
def staff(cantho, make_user):
    return make_user("sonn.test", Role.DEPARTMENT_STAFF, cantho["province"])


GOOD = [
    row(),
    # 148, a pre-2025 ward with its district: valid until 09/03/2027
    row(product="Nước mắm cá linh", producer="Cơ sở nước mắm Ba Lúa",
        producer_type="Hộ kinh doanh", commune="Phường Cái Khế (trước 2025)",
        district="Quận Ninh Kiều", criteria_set="Bộ 09", stars=3, score="",
        decision_number="55/QĐ-UBND", decision_date="10/03/2024"),
    # expired (valid until 28/02/2026)
    row(product="Mắm tép", producer="Cơ sở nước mắm Ba Lúa", producer_type="Hộ kinh doanh",
        commune="Phường Cái Khế", district="Quận Ninh Kiều", criteria_set="09",
        stars=3, decision_number="12/QĐ-UBND", decision_date="01/03/2023"),
]
BAD = [
    row(product="Sao bảy", stars=7, decision_number="9/QĐ"),
    row(product="Ngày mai", decision_date="01/01/2030", decision_number="10/QĐ"),
    row(product="Xã lạ", commune="Xã Không Có", decision_number="11/QĐ"),
    row(product="Hai Thạnh An", commune="Thạnh An", district="Huyện Vĩnh Thạnh",
        criteria_set="09", decision_date="01/06/2024", decision_number="13/QĐ"),
    row(product="", decision_number="14/QĐ"),
    row(),  # the first row again
    row(product="Rượu", producer_type="Công ty ma", decision_number="15/QĐ"),
    row(product="Xoài", province="Tỉnh An Giang", decision_number="16/QĐ"),
    row(product="Cũ quá", decision_date="01/06/2018", decision_number="17/QĐ"),
]


def start(user, upload, capture):
    with capture(execute=True):
        return imports.start_import(user, upload)


def confirm(user, register_import, capture):
    with capture(execute=True):
        imports.confirm_import(user, register_import)
    register_import.refresh_from_db()
    return register_import


def test_dry_run_then_import(staff, django_capture_on_commit_callbacks):
    with translation.override("vi"):
        register_import = start(staff, csv_file(GOOD + BAD), django_capture_on_commit_callbacks)
    register_import.refresh_from_db()
    assert register_import.state == ImportState.CHECKED
    assert (register_import.rows_total, register_import.created_count,
            register_import.matched_count, register_import.refused_count) == (12, 3, 0, 9)
    assert not Rating.objects.exists() and not Producer.objects.exists()  # nothing saved yet
    reasons = dict(register_import.rows.filter(outcome=RowOutcome.REFUSED)
                   .values_list("product", "reasons"))
    assert "từ 1 đến 5" in reasons["Sao bảy"]
    assert "tương lai" in reasons["Ngày mai"]
    assert "Xã Không Có" in reasons["Xã lạ"]
    assert "2 xã" in reasons["Hai Thạnh An"] or "cùng tên" in reasons["Hai Thạnh An"]
    assert "Tên sản phẩm" in reasons[""]
    assert "dòng 3" in reasons["Bưởi Năm Roi"].lower()
    assert "Công ty ma" in reasons["Rượu"]
    assert "Tỉnh An Giang" in reasons["Xoài"]
    assert "2019" in reasons["Cũ quá"]

    register_import = confirm(staff, register_import, django_capture_on_commit_callbacks)
    assert register_import.state == ImportState.DONE
    assert register_import.imported_count == 3
    ratings = {r.product.name: r for r in Rating.objects.select_related("product", "decision")}
    assert set(ratings) == {"Bưởi Năm Roi", "Nước mắm cá linh", "Mắm tép"}
    buoi = ratings["Bưởi Năm Roi"]
    assert (buoi.stars, float(buoi.score), buoi.decision_number) == (4, 78.5, "101/QĐ-UBND")
    assert buoi.valid_until == datetime.date(2029, 6, 9)
    assert buoi.state == RatingState.VALID and buoi.verification_code
    assert buoi.decision.origin == DecisionOrigin.IMPORTED and not buoi.decision.file
    assert buoi.regime.slug == "26/2026"
    assert ratings["Nước mắm cá linh"].regime.slug.startswith("148")
    assert ratings["Nước mắm cá linh"].valid_until == datetime.date(2027, 3, 9)
    assert ratings["Mắm tép"].state == RatingState.EXPIRED
    # one audit event for each step, the import's with its counts
    events = AuditEvent.objects.filter(object_id=str(register_import.pk),
                                       action__startswith="register_import.")
    assert sorted(events.values_list("action", flat=True)) == [
        "register_import.confirmed", "register_import.imported", "register_import.uploaded"]
    assert events.get(action="register_import.imported").after["ratings"] == 3
    ba_lua = Producer.objects.get(name="Cơ sở nước mắm Ba Lúa")
    assert ba_lua.products.count() == 2 and ba_lua.registration_no is None
    assert ba_lua.unit.name == "Phường Cái Khế" and ba_lua.unit.valid_to is not None


def test_the_verification_page_answers_for_an_imported_certificate(
        client, staff, django_capture_on_commit_callbacks):
    register_import = start(staff, csv_file(GOOD[:1]), django_capture_on_commit_callbacks)
    register_import.refresh_from_db()
    confirm(staff, register_import, django_capture_on_commit_callbacks)
    rating = Rating.objects.get()
    page = client.get(f"/xac-minh/{rating.verification_code}/").content.decode()
    assert "Bưởi Năm Roi" in page and "101/QĐ-UBND" in page


def test_the_same_file_twice_creates_nothing(staff, django_capture_on_commit_callbacks):
    first = start(staff, csv_file(GOOD), django_capture_on_commit_callbacks)
    first.refresh_from_db()
    confirm(staff, first, django_capture_on_commit_callbacks)
    counts = (Producer.objects.count(), Product.objects.count(), Rating.objects.count(),
              Decision.objects.count())
    again = start(staff, csv_file(GOOD), django_capture_on_commit_callbacks)
    again.refresh_from_db()
    assert (again.created_count, again.matched_count, again.refused_count) == (0, 3, 0)
    with translation.override("en"), pytest.raises(DossierError, match="no row to import"):
        imports.confirm_import(staff, again)
    assert (Producer.objects.count(), Product.objects.count(), Rating.objects.count(),
            Decision.objects.count()) == counts


def test_missing_columns_are_named_and_nothing_is_kept(staff):
    headers = [h for h in HEADERS if h not in ("Hạng sao", "Số quyết định")]
    with translation.override("vi"), pytest.raises(DossierError) as refused:
        imports.start_import(staff, csv_file([row()], headers=headers))
    assert "Hạng sao" in refused.value.message and "Số quyết định" in refused.value.message
    assert not RegisterImport.objects.exists()


def test_only_department_staff_or_an_administrator_imports(cantho, make_user):
    officer = make_user("canbo.test", Role.LOCAL_OFFICER, cantho["ninhkieu"])
    with pytest.raises(DossierError):
        imports.start_import(officer, csv_file([row()]))
    assert not imports.imports_visible_to(officer).exists()


def test_error_file_lists_the_refused_rows_with_reasons(staff,
                                                       django_capture_on_commit_callbacks):
    register_import = start(staff, csv_file(GOOD + BAD), django_capture_on_commit_callbacks)
    register_import.refresh_from_db()
    sheet = load_workbook(imports.write_error_file(register_import)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][-1] == imports.ERROR_HEADER
    assert len(rows) == 1 + len(BAD)
    assert {r[KEYS.index("product")] for r in rows[1:]} == {
        values["product"] or None for values in BAD}
    assert all(r[-1] for r in rows[1:])


def test_export_then_import_into_an_empty_database(staff,
                                                   django_capture_on_commit_callbacks):
    first = start(staff, csv_file(GOOD), django_capture_on_commit_callbacks)
    first.refresh_from_db()
    confirm(staff, first, django_capture_on_commit_callbacks)
    fields = ("product__name", "product__producer__name", "stars", "decision_number",
              "decision_date", "valid_until", "state", "product__producer__unit_id")
    before = set(Rating.objects.values_list(*fields))
    exported = write_register(Rating.objects.all()).read()
    # an empty database: nothing of the import is left
    RegisterImport.objects.all().delete()
    Rating.objects.all().delete()
    Decision.objects.all().delete()
    Product.objects.all().delete()
    Producer.objects.all().delete()
    upload = SimpleUploadedFile("dang-ky.xlsx", exported)
    second = start(staff, upload, django_capture_on_commit_callbacks)
    second.refresh_from_db()
    assert (second.created_count, second.refused_count) == (3, 0), list(
        second.rows.values_list("reasons", flat=True))
    confirm(staff, second, django_capture_on_commit_callbacks)
    assert set(Rating.objects.values_list(*fields)) == before


def test_a_newer_imported_rating_replaces_the_active_one(staff, cantho,
                                                         django_capture_on_commit_callbacks):
    rows = [row(decision_number="1/QĐ", decision_date="01/06/2026"),
            row(decision_number="2/QĐ", decision_date="10/07/2026", stars=5)]
    register_import = start(staff, csv_file(rows), django_capture_on_commit_callbacks)
    register_import.refresh_from_db()
    confirm(staff, register_import, django_capture_on_commit_callbacks)
    old, new = Rating.objects.order_by("decision_date")
    assert (old.state, old.replaced_by_id) == (RatingState.REPLACED, new.pk)
    assert new.state == RatingState.VALID and new.stars == 5


def test_a_stale_import_is_taken_over(staff, django_capture_on_commit_callbacks):
    register_import = start(staff, csv_file(GOOD), django_capture_on_commit_callbacks)
    register_import.refresh_from_db()
    RegisterImport.objects.filter(pk=register_import.pk).update(
        state=ImportState.QUEUED, confirmed_by=staff,
        queued_at=timezone.now() - datetime.timedelta(minutes=10))
    with django_capture_on_commit_callbacks(execute=True):
        woken = imports.sweep_stale()
    assert woken == [register_import.pk]
    register_import.refresh_from_db()
    assert register_import.state == ImportState.DONE
    assert Rating.objects.count() == 3


def test_the_management_command(staff, tmp_path):
    from django.core.management import call_command

    path = tmp_path / "dang-ky.csv"
    path.write_bytes(csv_file(GOOD + BAD[:2]).read())
    out = io.StringIO()
    with translation.override("en"):
        call_command("import_register", str(path), "--dry-run", "--as", staff.username,
                     stdout=out)
    assert "3 to create" in out.getvalue() and "nothing was saved" in out.getvalue()
    assert not Rating.objects.exists()
    with translation.override("en"):
        call_command("import_register", str(path), "--as", staff.username, stdout=out)
    assert "3 rating(s) imported in" in out.getvalue()
    assert Rating.objects.count() == 3


def test_factories_ratings_are_matched_not_duplicated(staff, cantho,
                                                      django_capture_on_commit_callbacks):
    """A producer and product already in the database are matched by their names,
    whatever the accents and case."""
    unit = cantho["province"].children.get(name="Phường Ninh Kiều")
    producer = factories.producer(unit, name="HTX Bưởi Phong Điền")
    Product.objects.create(producer=producer, name="Bưởi Năm Roi",
                           criteria_set=factories.criteria_set("26/2026", 1))
    rows = [row(producer="htx buoi phong dien", product="BƯỞI NĂM ROI")]
    register_import = start(staff, csv_file(rows), django_capture_on_commit_callbacks)
    register_import.refresh_from_db()
    confirm(staff, register_import, django_capture_on_commit_callbacks)
    assert Producer.objects.count() == 1 and Product.objects.count() == 1
    assert Rating.objects.get().product.producer == producer


def test_a_failed_attempt_waits_again_and_the_next_one_finishes(
        staff, django_capture_on_commit_callbacks, monkeypatch):
    """A worker's error midway (here in the last step): the import is queued again with
    its reason, the rows already written stay done, and the next delivery finishes it
    without writing them twice."""
    register_import = start(staff, csv_file(GOOD), django_capture_on_commit_callbacks)
    register_import.refresh_from_db()
    imports.confirm_import(staff, register_import, queue=False)
    settle = imports._Writer.settle

    def broken(self):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(imports._Writer, "settle", broken)
    with pytest.raises(RuntimeError):
        imports.run_import(register_import.pk)
    register_import.refresh_from_db()
    assert register_import.state == ImportState.QUEUED
    assert "went away" in register_import.reason
    assert register_import.rows.filter(done=True).count() == 3

    monkeypatch.setattr(imports._Writer, "settle", settle)
    imports.run_import(register_import.pk)
    register_import.refresh_from_db()
    assert register_import.state == ImportState.DONE and register_import.reason == ""
    assert Rating.objects.count() == 3


def test_a_batch_written_changes_the_statistics_version_even_if_a_later_step_fails(
        staff, django_capture_on_commit_callbacks, monkeypatch):
    """The batches are bulk writes, committed one by one, without signals: each changes
    the statistics' version itself, so the ratings it wrote are counted at once by the
    dashboard and the lists kept at that version — also when the import stops later."""
    from dossiers.stats import statistics

    register_import = start(staff, csv_file(GOOD), django_capture_on_commit_callbacks)
    register_import.refresh_from_db()
    imports.confirm_import(staff, register_import, queue=False)

    def broken(self):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(imports._Writer, "settle", broken)
    before = statistics.version()
    with pytest.raises(RuntimeError):
        imports.run_import(register_import.pk)
    assert Rating.objects.count() == 3
    assert statistics.version() != before


def test_every_batch_changes_the_statistics_version(staff, django_capture_on_commit_callbacks):
    """Also a batch whose rows need no new decision (a decision's save would have changed
    it through its signal)."""
    from dossiers.stats import statistics

    register_import = start(staff, csv_file(GOOD), django_capture_on_commit_callbacks)
    before = statistics.version()
    imports._Writer(register_import).write([], 0)
    assert statistics.version() != before

