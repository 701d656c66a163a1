"""The yearly report of a province (Báo cáo kết quả thực hiện Chương trình OCOP năm …):
its figures, each one documented query (docs/statistics.md, "The yearly report"), as a PDF
on the Decree-30 layout (the kernel renderer) and as an Excel workbook.

CONTRACT

    yearly_figures(user, province, year, today=None) -> YearlyReport
    yearly_pdf(report, request=None) -> bytes
    yearly_workbook(report) -> file        # a temporary .xlsx file, positioned at 0
    report_provinces(user) -> QuerySet     # the current provinces the user may report on

The figures (``ratings`` = the ratings of the products whose producer lies in the province,
including the pre-2025 provinces it absorbed, as scoping reads an area):

* **in force** — for the current year, the ratings valid or due now (as the dashboard);
  for a past year, those in force on 31 December: decided on or before it, valid until it
  or later, not revoked by a decision dated on or before it and not replaced by a rating
  decided on or before it (:func:`in_force_on`);
* **recognitions** — ratings decided in the year, except those of a correcting decision
  (``stats.corrected_q``); split by the product's previous rating (``stats.previous_stars``):
  **new** (none), **upgraded** (fewer stars before), **re-evaluated** (as many stars or
  more before: kept or lowered);
* **expired** — ratings whose validity ended in the year and that are expired (no new
  rating replaced them before the end, no revocation);
* **revoked** — issued revocations whose decision is dated in the year;
* **by area** — in force and recognised in the year, by current commune or ward;
* **by product group** — the same, by the product group of the criteria set scored with.
"""

import datetime
import tempfile
from dataclasses import dataclass, field

from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from ocop.accounts.models import Role
from ocop.accounts.queries import visible_units
from ocop.documents.formatting import date_line, document_number, place_name
from ocop.documents.pdf import render_pdf
from ocop.regions.models import AdministrativeUnit, Level

from .models import (
    ACTIVE_RATING_STATES,
    RECOGNISED_STARS,
    RatingState,
    Revocation,
    RevocationState,
)
from .queries import ratings_visible_to, revocations_visible_to
from .stats import (
    Table,
    corrected_q,
    criteria_expression,
    current_units,
    previous_stars,
    star_columns,
    stars_counts,
)

TEMPLATE = "dossiers/stats/yearly_report.html"
#: Symbol of a department's report (Decree 30, Appendix III: "BC"; the Sở's abbreviation).
REPORT_SYMBOL = "BC-SNNMT"
ISSUER = "SỞ NÔNG NGHIỆP VÀ MÔI TRƯỜNG"


@dataclass
class YearlyReport:
    province: AdministrativeUnit
    year: int
    day: datetime.date  # the day "in force" is read on
    totals: dict = field(default_factory=dict)
    in_force: dict = field(default_factory=dict)
    tables: list = field(default_factory=list)

    @property
    def in_force_total(self):
        return sum(self.in_force.values())


def report_provinces(user):
    """Current provinces the user may report on (department staff: theirs; admin: all)."""
    return (visible_units(user, Role.DEPARTMENT_STAFF)
            .filter(level=Level.PROVINCE, valid_to__isnull=True).order_by("name"))


def in_force_on(ratings, day):
    """Ratings in force on ``day`` by their dates (see the module docstring)."""
    revoked = Revocation.objects.filter(rating=OuterRef("pk"), state=RevocationState.ISSUED,
                                        decision__date__lte=day)
    return (ratings.filter(decision_date__lte=day, valid_until__gte=day)
            .exclude(replaced_by__decision_date__lte=day)
            .exclude(Exists(revoked)))


def _province_ratings(user, province):
    area = AdministrativeUnit.objects.within([province])
    return ratings_visible_to(user).filter(product__producer__unit__in=area)


def yearly_figures(user, province, year, today=None):
    today = today or timezone.localdate()
    first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    ratings = _province_ratings(user, province)
    if year >= today.year:
        day = today
        in_force = ratings.filter(state__in=ACTIVE_RATING_STATES)
    else:
        day = last
        in_force = in_force_on(ratings, last)
    report = YearlyReport(province=province, year=year, day=day)

    counts = in_force.aggregate(**stars_counts())
    report.in_force = {n: counts[f"s{n}"] for n in RECOGNISED_STARS}

    recognitions = (ratings.filter(decision_date__range=(first, last)).exclude(corrected_q())
                    .annotate(previous=previous_stars()))
    totals = recognitions.aggregate(
        recognised=Count("pk"),
        new=Count("pk", filter=Q(previous__isnull=True)),
        upgraded=Count("pk", filter=Q(previous__lt=F("stars"))),
        reevaluated=Count("pk", filter=Q(previous__gte=F("stars"))),
        **stars_counts())
    totals["expired"] = ratings.filter(state=RatingState.EXPIRED,
                                       valid_until__range=(first, last)).count()
    totals["revoked"] = (revocations_visible_to(user)
                         .filter(state=RevocationState.ISSUED,
                                 decision__date__range=(first, last),
                                 rating__in=ratings).count())
    report.totals = totals

    report.tables = [
        _stars_table(report),
        _movement_table(report),
        _grouped(in_force, recognitions, "area", F("product__producer__unit_id"),
                 _("By commune or ward (current units)"), _("Commune / ward")),
        _grouped(in_force, recognitions, "group", criteria_expression("group__name"),
                 _("By product group"), _("Product group")),
    ]
    return report


def _stars_table(report):
    table = Table("in_force", _("Products in force by stars"), [_("Stars"), _("Products")])
    for n in RECOGNISED_STARS:
        table.rows.append((f"{n}★", report.in_force[n]))
    return table


def _movement_table(report):
    t = report.totals
    table = Table("movement", _("Recognitions, expiries and revocations in the year"),
                  [_("Figure"), _("Products")])
    table.rows = [
        (_("Recognised in the year"), t["recognised"]),
        (_("of which newly recognised"), t["new"]),
        (_("of which re-evaluated"), t["reevaluated"]),
        (_("of which upgraded"), t["upgraded"]),
        *((_("recognised %(stars)s★") % {"stars": n}, t[f"s{n}"]) for n in RECOGNISED_STARS),
        (_("Expired in the year"), t["expired"]),
        (_("Revoked in the year"), t["revoked"]),
    ]
    return table


def _grouped(in_force, recognitions, key, expression, title, label):
    """One table: for each value of ``expression``, the products in force by stars and the
    recognitions of the year (two aggregate queries, merged; for the area, the producers'
    units are then added to their current commune's, ``stats.current_units``)."""
    held = list(in_force.annotate(key=expression).values("key")
                .annotate(n=Count("pk"), **stars_counts()).order_by())
    new = list(recognitions.annotate(key=expression).values("key")
               .annotate(n=Count("pk")).order_by())
    if key == "area":
        current = current_units({row["key"] for row in (*held, *new)})
    else:
        current = {row["key"]: (row["key"], row["key"] or "—") for row in (*held, *new)}
    merged = {}
    for row in held:
        target, name = current[row["key"]]
        counts = merged.setdefault(target, [name, 0, 0, 0, 0, 0])
        counts[1] += row["n"]
        for index, n in enumerate(RECOGNISED_STARS, start=2):
            counts[index] += row[f"s{n}"]
    for row in new:
        target, name = current[row["key"]]
        merged.setdefault(target, [name, 0, 0, 0, 0, 0])[5] += row["n"]
    table = Table(key, title, [label, _("In force"), *star_columns(),
                               _("Recognised in the year")])
    table.rows = [tuple(counts) for counts in
                  sorted(merged.values(), key=lambda c: (-c[1], -c[5], str(c[0])))]
    return table


# --- the documents -------------------------------------------------------------------------------


def pdf_context(report, *, today=None, number=None, signer_name=""):
    today = today or timezone.localdate()
    province = report.province
    return {
        "report": report,
        "tables": report.tables,
        "issuer_parent": f"ỦY BAN NHÂN DÂN {province.name.upper()}",
        "issuer_parent_regular": True,
        "issuer": ISSUER,
        "number_line": document_number(number or None, REPORT_SYMBOL),
        "date_line": date_line(place_name(province.name), today),
        "recipients": [
            "Bộ Nông nghiệp và Môi trường (Văn phòng Điều phối nông thôn mới Trung ương)",
            f"Ủy ban nhân dân {province.name[:1].lower()}{province.name[1:]}",
            "Ban Giám đốc Sở",
            "Lưu: VT, CCPTNT",
        ],
        "signature_authority": "KT. GIÁM ĐỐC",
        "signature_title": "PHÓ GIÁM ĐỐC",
        "signer_name": signer_name,
        "doc_title": f"Báo cáo kết quả thực hiện Chương trình OCOP năm {report.year}",
    }


def yearly_pdf(report, request=None, **extra):
    return render_pdf(TEMPLATE, pdf_context(report, **extra), request=request)


def yearly_workbook(report):
    """The report's tables on one sheet each, as a temporary ``.xlsx`` file."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    title = (f"Báo cáo kết quả thực hiện Chương trình OCOP năm {report.year} — "
             f"{report.province.name}")
    for index, table in enumerate(report.tables, start=1):
        sheet = workbook.create_sheet(f"{index}. {table.title}"[:31])
        sheet.append([title])
        sheet.append([table.title])
        sheet.append([str(c) for c in table.columns])
        for cell in (*sheet[1], *sheet[2], *sheet[3]):
            cell.font = bold
        for row in table.rows:
            sheet.append([str(row[0]), *row[1:]])
        sheet.column_dimensions["A"].width = 40
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    workbook.save(handle)
    handle.seek(0)
    return handle


def filename(report, extension):
    return f"Báo cáo OCOP năm {report.year} - {report.province.name}.{extension}"
