"""Reading the province's register (docs/register-import.md): the file format, each row's
checks and how it matches what the database holds. Pure reading and deciding — the jobs
that write (the dry run's verdicts, the import) are in ``dossiers.imports``.

CONTRACT

    read_rows(handle, name) -> (header_keys, iterator of (row_no, {key: value}))
        raises FormatError (wrong file, wrong or missing columns — which ones)
    Resolver(province, today).check(row_no, values) -> Verdict
        one row: its refusals (Vietnamese, in the active language) or what it matches /
        would create; ``remember(verdict)`` makes later rows of the same file see it
    EXTENSIONS, MAX_ROWS

The columns are ``dossiers.register.REGISTER_COLUMNS`` (the export writes exactly them):
headers are matched without accents or case, in any order, on one of the first rows (the
export puts a title above them); "TT" and unknown extra columns are ignored.
"""

import csv
import datetime
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from django.utils.translation import gettext as _

from ocop.regions.models import AdministrativeUnit, Level
from ocop.text import fold as fold_text
from scoring.models import CriteriaSet, CriteriaSetStatus, Regime
from scoring.queries import regime_in_force

from .decisions import valid_until as validity_end
from .models import (
    RECOGNISED_STARS,
    DecisionKind,
    ProducerType,
    Rating,
    RatingState,
)
from .register import REGISTER_COLUMNS, STATE_WORDS, TYPE_WORDS

#: Names remembered by the key functions (communes, sets, types and decisions repeat from
#: row to row; product names do not, so the caches are bounded).
CACHED_NAMES = 8192


@lru_cache(maxsize=CACHED_NAMES)
def fold(text):
    """``ocop.text.fold``, remembered: the same names come back on thousands of rows."""
    return fold_text(text)


EXTENSIONS = (".xlsx", ".csv")
#: The largest register accepted in one file (the country had 18,243 ratings in 2025).
MAX_ROWS = 50_000
#: The earliest decision accepted: the programme's first regime (Decision 1048/QĐ-TTg) is
#: of 2019 (docs/register-import.md).
EARLIEST = datetime.date(2019, 1, 1)
#: How many of the first rows are searched for the header row.
HEADER_SEARCH = 10

REQUIRED = ("product", "producer", "producer_type", "commune", "province", "criteria_set",
            "stars", "decision_number", "decision_date")
HEADERS = {fold(column.header): column.key for column in REGISTER_COLUMNS}
LABELS = {column.key: column.header for column in REGISTER_COLUMNS}

#: Words of the register → values (the export's words, folded; codes accepted too).
TYPES = {**{fold(word): code for code, word in TYPE_WORDS.items()},
         **{fold(code): code for code in ProducerType.values},
         **{fold(str(label)): code for code, label in ProducerType.choices}}
STATES = {**{fold(word): code for code, word in STATE_WORDS.items()},
          **{fold(code): code for code in RatingState.values}}

#: Unit names are compared without their kind ("Phường Ninh Kiều" = "Ninh Kiều").
UNIT_KINDS = re.compile(r"^(thanh pho|tinh|thi xa|thi tran|dac khu|huyen|quan|phuong|xa)\s+")
#: The export marks a pre-2025 commune so; the mark is ignored when reading.
LEGACY_MARK = re.compile(r"\s*\(\s*truoc 2025\s*\)\s*$")


class FormatError(ValueError):
    """The file cannot be read as a register; ``message`` says why, in Vietnamese."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@lru_cache(maxsize=CACHED_NAMES)
def unit_key(name):
    """"Phường Ninh Kiều (trước 2025)" → "ninh kieu"."""
    text = LEGACY_MARK.sub("", fold(str(name or "")))
    return UNIT_KINDS.sub("", text).strip()


@lru_cache(maxsize=CACHED_NAMES)
def name_key(text):
    """Producer and product names compared without accents, case, spaces or punctuation
    differences ("HTX Rau sạch  Phong Điền." = "htx rau sach phong dien")."""
    return " ".join(re.sub(r"[^\w]+", " ", fold(str(text or ""))).split())


@lru_cache(maxsize=CACHED_NAMES)
def reference_key(text):
    """Decision numbers compared without spaces or case ("12/QĐ-UBND" = "12/qđ - ubnd")."""
    return re.sub(r"\s+", "", fold(str(text or "")))


# --- reading -------------------------------------------------------------------------------


def _cell(value):
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _header_keys(cells):
    """{column index: key} of a header row, or {} when the row is not one."""
    keys = {}
    for index, cell in enumerate(cells):
        key = HEADERS.get(fold(str(cell))) if cell not in (None, "") else None
        if key:
            keys[index] = key
    return keys if len(keys) >= 3 else {}


def _check_header(keys):
    found = set(keys.values())
    missing = [LABELS[key] for key in REQUIRED if key not in found]
    if missing:
        raise FormatError(_("The file lacks these columns: %(columns)s. Download the "
                            "template to see the expected columns.")
                          % {"columns": ", ".join(missing)})
    seen = set()
    for key in keys.values():
        if key in seen:
            raise FormatError(_("The column “%(column)s” appears twice.")
                              % {"column": LABELS[key]})
        seen.add(key)


def _xlsx_rows(handle):
    from openpyxl import load_workbook

    try:
        book = load_workbook(handle, read_only=True, data_only=True)
    except Exception as error:  # zipfile, XML and openpyxl errors alike
        raise FormatError(_("The file could not be read as an Excel workbook (.xlsx).")) \
            from error
    sheet = book.worksheets[0]
    # the dimensions a file declares may be wrong (or missing: openpyxl would then read the
    # whole sheet once more to find them): read the rows as they are
    sheet.reset_dimensions()
    for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
        yield number, [_cell(c) for c in cells]
    book.close()


def _csv_rows(handle):
    raw = handle.read()
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as error:
        raise FormatError(_("The CSV file must be saved in UTF-8.")) from error
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    for number, cells in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
        yield number, [_cell(c) for c in cells]


def read_rows(handle, name):
    """The header's keys and the data rows of a register file (``.xlsx`` streamed, ``.csv``)
    as ``(row number in the sheet, {key: value})``; empty rows are skipped."""
    lowered = (name or "").lower()
    if lowered.endswith(".xlsx"):
        rows = _xlsx_rows(handle)
    elif lowered.endswith(".csv"):
        rows = _csv_rows(handle)
    else:
        raise FormatError(_("Upload the register as an Excel (.xlsx) or CSV (.csv) file."))
    keys = {}
    for number, cells in rows:
        keys = _header_keys(cells)
        if keys or number >= HEADER_SEARCH:
            break
    if not keys:
        raise FormatError(_("No header row was found in the first %(n)s rows: the columns "
                            "must be named as in the template.") % {"n": HEADER_SEARCH})
    _check_header(keys)

    def data():
        for row_no, cells in rows:
            values = {key: cells[index] if index < len(cells) else None
                      for index, key in keys.items()}
            if any(value not in (None, "") for k, value in values.items() if k != "number"):
                yield row_no, values

    return set(keys.values()), data()


# --- one row -------------------------------------------------------------------------------


def _date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = str(value or "").strip()
    for pattern in ("%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _integer(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value or "").strip().rstrip("*★ sao").strip()
    return int(text) if text.isdigit() else None


def _decimal(value):
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).replace(",", ".").strip())
    except InvalidOperation:
        return False
    return number if number.is_finite() else False


@dataclass
class Verdict:
    """What the check says of one row: ``outcome`` "create" / "match" / "refused"."""

    row_no: int
    values: dict
    reasons: list = field(default_factory=list)
    outcome: str = "refused"
    regime: object = None
    criteria_set: object = None
    unit: object = None
    province: object = None
    producer_id: int | None = None
    product_id: int | None = None
    rating_id: int | None = None
    producer_type: str = ""
    stars: int | None = None
    score: Decimal | None = None
    decision_date: datetime.date | None = None
    valid_until: datetime.date | None = None
    state: str = ""

    def refuse(self, message):
        self.reasons.append(message)

    @property
    def producer_key(self):
        return (name_key(self.values.get("producer")), self.unit.pk if self.unit else None)

    @property
    def product_key(self):
        return (self.producer_key, name_key(self.values.get("product")))

    @property
    def rating_key(self):
        return (self.product_key, reference_key(self.values.get("decision_number")))


def _text(values, key):
    value = values.get(key)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


class Resolver:
    """Checks rows against the database as it is when the job starts (read once: units,
    regimes, criteria sets, the province's producers, products, ratings and decisions) and
    against the rows of the same file seen before (:meth:`remember`)."""

    def __init__(self, province, today):
        self.today = today
        self.regimes = list(Regime.objects.order_by("effective_from"))
        units = AdministrativeUnit.objects.all()
        if province is not None:
            units = AdministrativeUnit.objects.within([province])
        self.provinces = {}
        self.communes = {}
        self.district_names = {}
        for unit in units.only("pk", "level", "name", "parent_id", "province_id",
                               "valid_from", "valid_to"):
            key = unit_key(unit.name)
            if unit.level == Level.PROVINCE:
                self.provinces.setdefault(key, []).append(unit)
            elif unit.level == Level.COMMUNE:
                self.communes.setdefault(key, []).append(unit)
            else:
                self.district_names[unit.pk] = key
        self.sets = {}
        for criteria_set in (CriteriaSet.objects.filter(status=CriteriaSetStatus.PUBLISHED)
                             .select_related("group")):
            self.sets.setdefault(criteria_set.regime_id, []).append(criteria_set)
        scope = {u.pk for us in self.communes.values() for u in us}
        self._load_existing(scope)
        self.seen = {}

    def _load_existing(self, unit_ids):
        from .models import Decision, Producer, Product

        self.producers = {}
        for pk, name, unit_id in Producer.objects.filter(unit_id__in=unit_ids).values_list(
                "pk", "name", "unit_id"):
            self.producers.setdefault(name_key(name), []).append((pk, unit_id))
        self.products = {}
        self.codes = {}
        for pk, producer_id, name, code in Product.objects.filter(
                producer__unit_id__in=unit_ids).values_list("pk", "producer_id", "name",
                                                            "code"):
            self.products[(producer_id, name_key(name))] = pk
            if code:
                self.codes[fold(code)] = pk
        # product codes are unique in the whole country: a code of another province too
        self.ratings = {}
        for pk, product_id, number in Rating.objects.filter(
                product__producer__unit_id__in=unit_ids).values_list(
                "pk", "product_id", "decision_number"):
            self.ratings[(product_id, reference_key(number))] = pk
        self.decisions = {}
        for reference, date in Decision.objects.filter(
                kind=DecisionKind.RECOGNITION).exclude(reference="").values_list(
                "reference", "date"):
            self.decisions.setdefault(reference_key(reference), set()).add(date)

    # -- the checks, in the order a user fixes them

    def check(self, row_no, values):
        verdict = Verdict(row_no=row_no, values=values)
        for key in REQUIRED:
            if values.get(key) in (None, ""):
                verdict.refuse(_("“%(column)s” is empty.") % {"column": LABELS[key]})
        if verdict.reasons:
            return verdict
        self._values(verdict)
        if not verdict.reasons:
            self._place(verdict)
        if not verdict.reasons:
            self._criteria_set(verdict)
        if not verdict.reasons:
            self._match(verdict)
        verdict.outcome = ("refused" if verdict.reasons
                           else "match" if verdict.rating_id else "create")
        return verdict

    def _values(self, verdict):
        values = verdict.values
        kind = TYPES.get(fold(_text(values, "producer_type")))
        if kind is None:
            verdict.refuse(_("Unknown producer type “%(value)s”: write one of %(words)s.")
                           % {"value": _text(values, "producer_type"),
                              "words": ", ".join(TYPE_WORDS.values())})
        verdict.producer_type = kind or ""
        stars = _integer(values.get("stars"))
        if stars is None or not 1 <= stars <= 5:
            verdict.refuse(_("The stars must be a whole number from 1 to 5 (found “%(value)s”).")
                           % {"value": _text(values, "stars")})
        elif stars not in RECOGNISED_STARS:
            verdict.refuse(_("%(stars)s stars are not recognised: only 3, 4 and 5-star "
                             "products hold an OCOP certificate.") % {"stars": stars})
        verdict.stars = stars
        score = _decimal(values.get("score"))
        if score is False or (score is not None and not 0 <= score <= 100):
            verdict.refuse(_("The score must be a number from 0 to 100 (found “%(value)s”).")
                           % {"value": _text(values, "score")})
        else:
            verdict.score = score
        day = _date(values.get("decision_date"))
        if day is None:
            verdict.refuse(_("The decision date “%(value)s” is not a date (dd/mm/yyyy).")
                           % {"value": _text(values, "decision_date")})
        elif day > self.today:
            verdict.refuse(_("The decision date %(day)s is in the future.")
                           % {"day": f"{day:%d/%m/%Y}"})
        elif day < EARLIEST:
            verdict.refuse(_("The decision date %(day)s is before 2019, when the OCOP "
                             "programme's first rules came into force.")
                           % {"day": f"{day:%d/%m/%Y}"})
        else:
            verdict.regime = regime_in_force(day, self.regimes)
            if verdict.regime is None:
                verdict.refuse(_("No OCOP regime was in force on %(day)s.")
                               % {"day": f"{day:%d/%m/%Y}"})
        verdict.decision_date = day
        until = values.get("valid_until")
        if until not in (None, ""):
            verdict.valid_until = _date(until)
            if verdict.valid_until is None:
                verdict.refuse(_("“Valid until” (%(value)s) is not a date (dd/mm/yyyy).")
                               % {"value": _text(values, "valid_until")})
            elif day and verdict.valid_until < day:
                verdict.refuse(_("“Valid until” is before the decision date."))
        elif day and verdict.regime is not None:
            verdict.valid_until = validity_end(day, verdict.regime.validity_months)
        state = _text(values, "state")
        verdict.state = STATES.get(fold(state), "") if state else ""
        if state and not verdict.state:
            verdict.refuse(_("Unknown state “%(value)s”: write one of %(words)s.")
                           % {"value": state, "words": ", ".join(STATE_WORDS.values())})

    def _place(self, verdict):
        values = verdict.values
        province_name = _text(values, "province")
        provinces = self.provinces.get(unit_key(province_name), [])
        if not provinces:
            verdict.refuse(_("The province “%(name)s” is not one you may import for.")
                           % {"name": province_name})
            return
        province_ids = {p.pk for p in provinces}
        name = _text(values, "commune")
        district = unit_key(_text(values, "district"))
        candidates = [u for u in self.communes.get(unit_key(name), [])
                      if u.province_id in province_ids
                      and (not district or self.district_names.get(u.parent_id) == district)]
        written = LEGACY_MARK.sub("", fold(name))
        exact = [u for u in candidates if fold(u.name) == written]  # "Thị trấn …" as written
        candidates = exact or candidates
        day = verdict.decision_date
        at_date = [u for u in candidates
                   if (u.valid_from is None or u.valid_from <= day)
                   and (u.valid_to is None or u.valid_to >= day)]
        chosen = at_date or [u for u in candidates if u.valid_to is None]
        if not chosen:
            verdict.refuse(_("No commune or ward “%(name)s” in %(province)s on %(day)s.")
                           % {"name": name, "province": province_name,
                              "day": f"{day:%d/%m/%Y}"})
        elif len(chosen) > 1:
            verdict.refuse(_("%(count)s communes are named “%(name)s” in %(province)s: write "
                             "the district too (for units before 1/7/2025).")
                           % {"count": len(chosen), "name": name, "province": province_name})
        else:
            verdict.unit = chosen[0]
            verdict.province = next((p for p in provinces
                                     if p.pk == verdict.unit.province_id), provinces[0])

    def _criteria_set(self, verdict):
        text = _text(verdict.values, "criteria_set")
        regime = verdict.regime
        sets = self.sets.get(regime.criteria_from_id or regime.pk, [])
        number = re.match(r"^\s*(?:bo\s+(?:tieu\s+chi\s+)?(?:so\s+)?)?(\d{1,2})\b",
                          fold(text))
        if number:
            found = [s for s in sets if s.set_no == int(number.group(1))]
        else:
            found = [s for s in sets if name_key(s.name) == name_key(text)]
        if not found:
            verdict.refuse(_("No criteria set “%(value)s” under %(regime)s.")
                           % {"value": text, "regime": verdict.regime.code})
        else:
            verdict.criteria_set = max(found, key=lambda s: s.version)

    def _match(self, verdict):
        values = verdict.values
        key = verdict.rating_key
        if key in self.seen:
            verdict.refuse(_("Same product and decision as row %(row)s.")
                           % {"row": self.seen[key]})
            return
        producer_name = name_key(values.get("producer"))
        producers = self.producers.get(producer_name, [])
        same_unit = [pk for pk, unit_id in producers if unit_id == verdict.unit.pk]
        verdict.producer_id = (same_unit[0] if same_unit
                               else producers[0][0] if len(producers) == 1 else None)
        if verdict.producer_id:
            verdict.product_id = self.products.get(
                (verdict.producer_id, name_key(values.get("product"))))
        code = fold(_text(values, "product_code"))
        owner = self.codes.get(code) if code else None
        if owner is not None and owner != self._identity(verdict):
            verdict.refuse(_("The product code %(code)s belongs to another product.")
                           % {"code": _text(values, "product_code")})
        reference = reference_key(values.get("decision_number"))
        dates = self.decisions.get(reference, set()) - {verdict.decision_date}
        if dates:
            verdict.refuse(_("Decision %(number)s is already recorded with another date "
                             "(%(dates)s).") % {
                "number": _text(values, "decision_number"),
                "dates": ", ".join(f"{d:%d/%m/%Y}" for d in sorted(dates) if d)})
        if verdict.product_id:
            verdict.rating_id = self.ratings.get((verdict.product_id, reference))

    def remember(self, verdict):
        """Let the following rows of the file see this one (duplicates, the decision's
        date, the product code)."""
        if verdict.outcome == "refused":
            return
        self.seen[verdict.rating_key] = verdict.row_no
        reference = reference_key(verdict.values.get("decision_number"))
        self.decisions.setdefault(reference, set()).add(verdict.decision_date)
        code = fold(_text(verdict.values, "product_code"))
        if code:
            self.codes.setdefault(code, self._identity(verdict))

    @staticmethod
    def _identity(verdict):
        """The product a row is about: its id, or the key of the product it creates."""
        return verdict.product_id or ("new", verdict.product_key)
