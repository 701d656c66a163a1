"""Bringing in the province's existing register (docs/register-import.md): the one service of
each step and the two background jobs, on the status row :class:`RegisterImport`
(docs/background-jobs.md: the row is the truth, Redis only the wake-up).

CONTRACT

    start_import(user, uploaded_file) -> RegisterImport      # header checked now; queued
    confirm_import(user, register_import) -> RegisterImport  # the dry run accepted; queued
    run_check(import_id)   # the dry run: one RegisterImportRow per data row, nothing else
    run_import(import_id)  # creates producers, products, imported decisions and ratings
    sweep_stale(now=None) -> [ids]                            # beat, every minute
    imports_visible_to(user) -> QuerySet
    write_error_file(register_import) -> file                 # refused rows + the reason
    write_template() -> file                                  # the empty register

Both jobs are idempotent: the dry run starts its verdicts again; the import skips the rows
already done, and a rating is identified by its product and decision number (checked again
under the province's writing lock), so the same file imported twice creates nothing new.
"""

import datetime
import hashlib
import logging
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.base import File
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ocop import jobs
from ocop.accounts.queries import is_admin
from ocop.audit.services import record
from scoring.models import ProcessLevel

from . import rules
from .decisions import new_verification_code
from .models import (
    ACTIVE_RATING_STATES,
    Decision,
    DecisionKind,
    DecisionOrigin,
    DecisionState,
    ImportState,
    JobStatus,
    Producer,
    Product,
    Rating,
    RatingState,
    RegisterImport,
    RegisterImportRow,
    RowOutcome,
)
from .register import REGISTER_COLUMNS, write_register
from .register_import import (
    EXTENSIONS,
    MAX_ROWS,
    FormatError,
    Resolver,
    read_rows,
    reference_key,
)
from .services import DossierError, _raise
from .uploads import UploadRefused, check_zip_bounds, max_bytes, sanitise_name, too_large

logger = logging.getLogger(__name__)

#: Advisory lock classes: one job of an import at a time (``ocop.jobs.job_lock``); one
#: import writing at a time in a province.
LOCK_CLASS = 7316
WRITE_LOCK_CLASS = 7317
#: Rows written per transaction.
BATCH = 500
QUEUED_STALE = timedelta(minutes=2)
STALE_RUNNING = timedelta(minutes=5)
MAX_ATTEMPTS = 5


def imports_visible_to(user):
    """An administrator's: all; department staff's: their province's; nobody else's."""
    if is_admin(user):
        return RegisterImport.objects.all()
    if rules.import_refusal(user) is not None:
        return RegisterImport.objects.none()
    return RegisterImport.objects.filter(province=rules.import_province(user))


# --- the two steps the user takes ----------------------------------------------------------


def start_import(user, uploaded, *, queue=True):
    """Keep the file and queue its dry run. The file's type, size and header are checked at
    once (a wrong or missing column is said now, nothing is kept). ``queue=False``: the
    caller runs the job itself (``manage.py import_register``)."""
    _raise(rules.import_refusal(user))
    name = sanitise_name(getattr(uploaded, "name", "") or "register.xlsx")
    if not name.lower().endswith(EXTENSIONS):
        raise DossierError(_("Upload the register as an Excel (.xlsx) or CSV (.csv) file."),
                           code="invalid_file")
    size = getattr(uploaded, "size", 0) or 0
    if size == 0:
        raise DossierError(_("The file “%(name)s” is empty.") % {"name": name},
                           code="invalid_file")
    if size > max_bytes():
        raise DossierError(too_large(name, size).message, code="too_large")
    try:
        if name.lower().endswith(".xlsx"):
            check_zip_bounds(uploaded, name)
        uploaded.seek(0)
        read_rows(uploaded, name)  # the header only: the rows are read by the job
    except UploadRefused as refused:
        raise DossierError(refused.message, code=refused.code) from refused
    except FormatError as error:
        raise DossierError(error.message, code="invalid_file") from error
    uploaded.seek(0)
    digest = hashlib.sha256()
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    with transaction.atomic():
        register_import = RegisterImport(
            province=rules.import_province(user), original_name=name,
            sha256=digest.hexdigest(), state=ImportState.CHECKING, created_by=user,
            queued_at=timezone.now())
        register_import.file.save(name, File(uploaded), save=False)
        register_import.save()
        record("register_import.uploaded", register_import, actor=user, after={
            "file": name, "sha256": register_import.sha256,
            "province": register_import.province_id})
        if queue:
            _queue(register_import)
    return register_import


def confirm_import(user, register_import, *, queue=True):
    """The user has read the dry run: import its good rows."""
    _raise(rules.import_refusal(user))
    with transaction.atomic():
        register_import = RegisterImport.objects.select_for_update().get(pk=register_import.pk)
        if register_import.state != ImportState.CHECKED:
            raise DossierError(_("This import cannot be confirmed now (it is “%(state)s”).")
                               % {"state": register_import.get_state_display()},
                               code="state")
        if not register_import.created_count:
            raise DossierError(_("The file has no row to import: every row is already "
                                 "present or refused."), code="nothing")
        register_import.state = ImportState.QUEUED
        register_import.confirmed_by, register_import.confirmed_at = user, timezone.now()
        register_import.queued_at = timezone.now()
        register_import.rows_done = 0
        register_import.save(update_fields=["state", "confirmed_by", "confirmed_at",
                                            "queued_at", "rows_done"])
        record("register_import.confirmed", register_import, actor=user, after={
            "to_create": register_import.created_count,
            "refused": register_import.refused_count})
        if queue:
            _queue(register_import)
    return register_import


def _queue(register_import):
    from .tasks import run_register_import

    pk = register_import.pk
    transaction.on_commit(lambda: jobs.wake(run_register_import, pk))


# --- the jobs ------------------------------------------------------------------------------


def _claim(import_id, waiting, running):
    """Move the row from ``waiting`` to ``running`` (or take over a stale ``running`` one);
    None when there is nothing to do."""
    with transaction.atomic():
        row = RegisterImport.objects.select_for_update().filter(pk=import_id).first()
        if row is None:
            return None
        now = timezone.now()
        if row.state == running and row.started_at and now - row.started_at < STALE_RUNNING:
            return None  # another delivery is at it
        if row.state not in (waiting, running):
            return None
        if row.attempts >= MAX_ATTEMPTS:
            _fail(row, _("Tried %(n)s times without success.") % {"n": row.attempts})
            return None
        row.state, row.started_at = running, now
        row.attempts += 1
        row.save(update_fields=["state", "started_at", "attempts"])
        return row


def _fail(row, reason):
    RegisterImport.objects.filter(pk=row.pk).update(
        state=ImportState.FAILED, reason=str(reason)[:2000], finished_at=timezone.now())


def _rows(register_import):
    handle = register_import.file.open("rb")
    return handle, read_rows(handle, register_import.original_name)[1]


def run(import_id):
    """One delivery of the job: the dry run or the import, whichever the row waits for.
    Its messages (the reasons of the report) are in the site's language."""
    row = RegisterImport.objects.filter(pk=import_id).only("state").first()
    if row is None:
        return
    with translation.override(settings.LANGUAGE_CODE):
        if row.state == ImportState.CHECKING:
            run_check(import_id)
        elif row.state in (ImportState.QUEUED, ImportState.RUNNING):
            run_import(import_id)


def run_check(import_id):
    """The dry run: a verdict per data row (will create / already present / refused and
    why), counted on the row; nothing else is written."""
    with jobs.job_lock(LOCK_CLASS, import_id) as held:
        if held is False:
            return
        register_import = _claim(import_id, ImportState.CHECKING, ImportState.CHECKING)
        if register_import is None:
            return
        try:
            _check(register_import)
        except FormatError as error:
            _fail(register_import, error.message)
        except Exception as error:
            logger.exception("Checking register import %s failed", import_id)
            _fail(register_import, f"{type(error).__name__}: {error}")
            raise


def _check(register_import):
    RegisterImportRow.objects.filter(register_import=register_import).delete()
    resolver = Resolver(register_import.province, timezone.localdate())
    counts = {RowOutcome.CREATE: 0, RowOutcome.MATCH: 0, RowOutcome.REFUSED: 0}
    handle, rows = _rows(register_import)
    batch, total = [], 0
    with handle:
        for row_no, values in rows:
            total += 1
            if total > MAX_ROWS:
                raise FormatError(_("The file has more than %(n)s rows: split it.")
                                  % {"n": MAX_ROWS})
            verdict = resolver.check(row_no, values)
            resolver.remember(verdict)
            counts[verdict.outcome] += 1
            batch.append(_verdict_row(register_import, verdict))
            if len(batch) >= BATCH:
                _write_verdicts(register_import, batch, total)
                batch = []
        _write_verdicts(register_import, batch, total)
    RegisterImport.objects.filter(pk=register_import.pk).update(
        state=ImportState.CHECKED, rows_total=total, rows_done=total,
        created_count=counts[RowOutcome.CREATE], matched_count=counts[RowOutcome.MATCH],
        refused_count=counts[RowOutcome.REFUSED], finished_at=timezone.now(), reason="")


def _json(value):
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _verdict_row(register_import, verdict):
    values = verdict.values
    return RegisterImportRow(
        values={key: _json(value) for key, value in values.items()},
        register_import=register_import, row_no=verdict.row_no, outcome=verdict.outcome,
        reasons=" ".join(verdict.reasons)[:4000],
        product=str(values.get("product") or "")[:255],
        producer=str(values.get("producer") or "")[:255],
        decision_number=str(values.get("decision_number") or "")[:60],
        stars=verdict.stars if verdict.stars and 0 < verdict.stars < 10 else None,
        rating_id=verdict.rating_id)


def _write_verdicts(register_import, batch, done):
    if batch:
        RegisterImportRow.objects.bulk_create(batch)
    RegisterImport.objects.filter(pk=register_import.pk).update(rows_done=done)


def run_import(import_id):
    """The confirmed import. Each row the dry run would create is checked again (the
    database may have changed since) and written in batches; rows already done are skipped,
    so a second delivery after a crash goes on where the first stopped. One import writes
    at a time in a province (a second waits for the lock), so two imports of the same rows
    cannot both create them."""
    with jobs.job_lock(LOCK_CLASS, import_id) as held:
        if held is False:
            return
        register_import = _claim(import_id, ImportState.QUEUED, ImportState.RUNNING)
        if register_import is None:
            return
        try:
            with _province_lock(register_import):
                _import(register_import)
        except Exception as error:
            logger.exception("Register import %s failed", import_id)
            reason = f"{type(error).__name__}: {error}"
            if register_import.attempts >= MAX_ATTEMPTS:
                _fail(register_import, reason)
            else:  # waiting again, said on the page: the retry or the sweep takes it
                RegisterImport.objects.filter(pk=import_id).update(
                    state=ImportState.QUEUED, reason=reason[:2000], queued_at=timezone.now())
            raise


@contextmanager
def _province_lock(register_import):
    """Wait for the province's writing lock (PostgreSQL; nothing on SQLite)."""
    if not jobs.locks_supported():
        yield
        return
    key = register_import.province_id or 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [WRITE_LOCK_CLASS, key])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [WRITE_LOCK_CLASS, key])


def _import(register_import):
    """The rows the dry run would create and not yet done, read back from their verdicts
    (not from the file), checked again and written in batches."""
    pending = (register_import.rows.filter(outcome=RowOutcome.CREATE, done=False)
               .order_by("row_no").values_list("row_no", "values"))
    processed = register_import.rows_total - pending.count()
    resolver = Resolver(register_import.province, timezone.localdate())
    writer = _Writer(register_import)
    batch = []
    for row_no, values in pending.iterator(chunk_size=BATCH * 4):
        verdict = resolver.check(row_no, values)
        resolver.remember(verdict)
        batch.append(verdict)
        if len(batch) >= BATCH:
            processed += len(batch)
            writer.write(batch, processed)
            batch = []
    processed += len(batch)
    writer.write(batch, processed)
    writer.settle()
    from .expiry import check_rating_expiry

    check_rating_expiry(timezone.localdate())
    with transaction.atomic():
        imported = register_import.rows.filter(done=True, rating__isnull=False,
                                               outcome=RowOutcome.CREATE).count()
        RegisterImport.objects.filter(pk=register_import.pk).update(
            state=ImportState.DONE, imported_count=imported, finished_at=timezone.now(),
            rows_done=register_import.rows_total, reason="")
        record("register_import.imported", register_import,
               actor=register_import.confirmed_by, after={
                   "file": register_import.original_name, "ratings": imported,
                   "refused": register_import.refused_count,
                   "already_present": register_import.matched_count,
                   "products": sorted(writer.products)[:1000]})


def _mark_done(register_import, pairs):
    """Mark the rows ``[(row number, rating id)]`` imported, in one UPDATE … FROM a VALUES
    list named by a WITH clause (PostgreSQL, and SQLite ≥ 3.33 for ``make run``)."""
    if not pairs:
        return
    table = connection.ops.quote_name(RegisterImportRow._meta.db_table)
    values = ", ".join(["(%s, %s)"] * len(pairs))
    params = [value for pair in pairs for value in pair]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH v(row_no, rating_id) AS (VALUES {values}) "
            f"UPDATE {table} SET done = %s, rating_id = v.rating_id FROM v "
            f"WHERE {table}.register_import_id = %s AND {table}.row_no = v.row_no",
            [*params, True, register_import.pk])


class _Writer:
    """Writes the checked rows of one batch in one transaction: the producers, products and
    imported decisions they need (each created once), then their ratings."""

    def __init__(self, register_import):
        self.register_import = register_import
        self.producers = {}   # producer key → id (created by this import)
        self.new_products = {}  # product key → id
        self.decisions = {}   # (reference key, date) → decision id
        self.products = set()  # products that received a rating
        self.levels = {}

    def write(self, verdicts, processed):
        with transaction.atomic():
            good = [v for v in verdicts if v.outcome == RowOutcome.CREATE]
            self._create_producers(good)
            self._create_products(good)
            ratings = Rating.objects.bulk_create([self._rating(v) for v in good])
            self.products.update(rating.product_id for rating in ratings)
            _mark_done(self.register_import, [(v.row_no, rating.pk)
                                              for v, rating in zip(good, ratings, strict=True)])
            for verdict in verdicts:
                if verdict.outcome == RowOutcome.CREATE:
                    continue
                # changed since the dry run: say so on the row
                RegisterImportRow.objects.filter(
                    register_import=self.register_import, row_no=verdict.row_no).update(
                    done=True, outcome=verdict.outcome, rating_id=verdict.rating_id,
                    reasons=(" ".join(verdict.reasons)[:4000]
                             or _("Already present (imported meanwhile).")))
            RegisterImport.objects.filter(pk=self.register_import.pk).update(
                rows_done=processed)
            _bump_statistics()

    def _create_producers(self, verdicts):
        new = {}
        for verdict in verdicts:
            key = verdict.producer_key
            if verdict.producer_id or key in self.producers or key in new:
                continue
            values = verdict.values
            new[key] = Producer(
                type=verdict.producer_type, name=str(values["producer"]).strip()[:255],
                registration_no=None, representative_name="", representative_gender="",
                address=(str(values.get("address") or "").strip()[:300]
                         or verdict.unit.name),
                unit=verdict.unit, created_by=self.register_import.confirmed_by)
        for key, producer in zip(new, Producer.objects.bulk_create(new.values()),
                                 strict=True):
            self.producers[key] = producer.pk

    def _create_products(self, verdicts):
        new = {}
        for verdict in verdicts:
            key = verdict.product_key
            if verdict.product_id or key in self.new_products or key in new:
                continue
            values = verdict.values
            new[key] = Product(
                producer_id=verdict.producer_id or self.producers[verdict.producer_key],
                name=str(values["product"]).strip()[:255], criteria_set=verdict.criteria_set,
                code=str(values.get("product_code") or "").strip()[:40])
        for key, product in zip(new, Product.objects.bulk_create(new.values()), strict=True):
            self.new_products[key] = product.pk

    def _level(self, regime, unit_level):
        key = (regime.pk, unit_level)
        if key not in self.levels:
            levels = list(ProcessLevel.objects.filter(regime=regime).order_by("order"))
            chosen = ([lv for lv in levels if lv.admin_level == unit_level]
                      or [lv for lv in levels if lv.admin_level == "province"] or levels)
            self.levels[key] = chosen[0] if chosen else None
        return self.levels[key]

    def _decision(self, verdict):
        values = verdict.values
        reference = str(values["decision_number"]).strip()[:60]
        key = (reference_key(reference), verdict.decision_date)
        if key not in self.decisions:
            existing = (Decision.objects.filter(kind=DecisionKind.RECOGNITION,
                                                date=verdict.decision_date)
                        .exclude(reference="").values_list("pk", "reference"))
            found = [pk for pk, ref in existing if reference_key(ref) == key[0]]
            if found:
                self.decisions[key] = found[0]
            else:
                issuer = str(values.get("issuer") or "").strip()[:200]
                level = self._level(verdict.regime, "district" if issuer.lower().startswith(
                    ("ủy ban nhân dân huyện", "ủy ban nhân dân quận", "ubnd huyện",
                     "ubnd quận")) else "province")
                decision = Decision.objects.create(
                    kind=DecisionKind.RECOGNITION, origin=DecisionOrigin.IMPORTED,
                    state=DecisionState.ISSUED, regime=verdict.regime, level=level,
                    issuer_unit=verdict.province, issuer_parent="",
                    issuer_name=issuer or f"Ủy ban nhân dân {verdict.province.name}",
                    reference=reference, year=verdict.decision_date.year,
                    date=verdict.decision_date, issued_by=self.register_import.confirmed_by,
                    issued_at=timezone.now(), job_status=JobStatus.DONE,
                    created_by=self.register_import.confirmed_by)
                self.decisions[key] = decision.pk
        return self.decisions[key]

    def _rating(self, verdict):
        values = verdict.values
        state = verdict.state if verdict.state in (RatingState.REVOKED,
                                                   RatingState.REPLACED) else ""
        return Rating(
            product_id=verdict.product_id or self.new_products[verdict.product_key],
            regime=verdict.regime,
            decision_id=self._decision(verdict), stars=verdict.stars, score=verdict.score,
            decision_number=str(values["decision_number"]).strip()[:60],
            decision_date=verdict.decision_date, valid_from=verdict.decision_date,
            valid_until=verdict.valid_until,
            # not active yet: settle() makes each product's newest rating the active one
            state=state or RatingState.REPLACED,
            product_code=str(values.get("product_code") or "").strip()[:40],
            verification_code=new_verification_code())

    def settle(self):
        """For each product that received a rating: its newest rating not revoked is the
        active one (valid; the expiry service then gives it its state of today), the others
        are replaced by it — so a product keeps one active rating."""
        products = sorted(self.products)
        for start in range(0, len(products), BATCH):
            with transaction.atomic():
                chunk = products[start:start + BATCH]
                ratings = list(Rating.objects.select_for_update().filter(
                    product_id__in=chunk).exclude(state=RatingState.REVOKED)
                    .order_by("product_id", F("decision_date").desc(), "-pk")
                    .only("pk", "product_id", "state", "replaced_by_id", "decision_date"))
                newest = {}
                for rating in ratings:
                    newest.setdefault(rating.product_id, rating)
                demote, promote = [], []
                for rating in ratings:
                    top = newest[rating.product_id]
                    if rating is top:
                        if rating.state not in ACTIVE_RATING_STATES:
                            promote.append(rating.pk)
                    elif rating.state in ACTIVE_RATING_STATES or rating.replaced_by_id is None:
                        rating.state, rating.replaced_by_id = RatingState.REPLACED, top.pk
                        demote.append(rating)
                Rating.objects.bulk_update(demote, ["state", "replaced_by"])
                Rating.objects.filter(pk__in=promote).update(state=RatingState.VALID)
                _bump_statistics()


def _bump_statistics():
    """Each batch commits on its own with bulk writes, which send no signal: the figures
    and the lists kept at the statistics' version count again once it commits — also when
    a later batch fails (docs/statistics.md, "Cache")."""
    from .stats import statistics

    statistics.bump()


def sweep_stale(now=None):
    """Wake a worker for imports left waiting by a lost message or a dead worker."""
    from .tasks import run_register_import

    now = now or timezone.now()
    stale = (RegisterImport.objects.filter(state__in=[ImportState.CHECKING, ImportState.QUEUED],
                                           queued_at__lt=now - QUEUED_STALE)
             | RegisterImport.objects.filter(state=ImportState.RUNNING,
                                             started_at__lt=now - STALE_RUNNING))
    woken = []
    for register_import in stale.order_by("pk"):
        with jobs.job_lock(LOCK_CLASS, register_import.pk) as held:
            if held is False:
                continue
        updated = RegisterImport.objects.filter(
            pk=register_import.pk, queued_at=register_import.queued_at).update(queued_at=now)
        if updated and jobs.wake(run_register_import, register_import.pk):
            woken.append(register_import.pk)
    return woken


# --- the files -----------------------------------------------------------------------------

ERROR_HEADER = "Lý do từ chối"


def write_template():
    """The empty register (its title and header rows): the format to fill in."""
    return write_register(Rating.objects.none(), "Danh sách sản phẩm OCOP (mẫu nhập)")


def write_error_file(register_import):
    """The refused rows as the user wrote them, with the reason in a last column: fix them
    and upload this file again (the import ignores the extra column)."""
    import tempfile

    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Dòng bị từ chối")
    keys = [column.key for column in REGISTER_COLUMNS]
    sheet.append([column.header for column in REGISTER_COLUMNS] + ["Dòng", ERROR_HEADER])
    refused = (register_import.rows.filter(outcome=RowOutcome.REFUSED).order_by("row_no")
               .values_list("row_no", "values", "reasons"))
    for row_no, values, reasons in refused.iterator(chunk_size=BATCH * 4):
        sheet.append([values.get(key) for key in keys] + [row_no, reasons])
    out = tempfile.TemporaryFile(suffix=".xlsx")
    book.save(out)
    out.seek(0)
    return out
