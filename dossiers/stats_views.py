"""The statistics pages (docs/statistics.md): the dashboard ``/stats/``, each figure's
CSV and Excel download, a round's results in Excel and the yearly report of a province.

Who: ``dossiers.rules.stats_refusal`` — department staff and local officers (their area),
the yearly report department staff only; an administrator everything; anyone else 403. A
round or province outside the user's area answers 404. The figures come from
``dossiers.stats`` (one aggregate query each), so the page's query count is constant.
"""

import csv
import io

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from openpyxl import Workbook
from openpyxl.styles import Font

from ocop.documents.pdf import content_disposition, pdf_response

from . import register, rules, stats, yearly_report
from .queries import dossiers_visible_to, ratings_visible_to, rounds_visible_to

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Rounds offered for their results on the dashboard.
ROUNDS_SHOWN = 12


def _allowed(request, action="view_stats", unit=None):
    refusal = rules.stats_refusal(request.user, action, unit)
    if refusal is not None:
        if refusal.code == "area":
            raise Http404
        raise PermissionDenied(refusal.message)


def _filtered(request):
    """(form, filters, the visible ratings) — the area is read once for both."""
    visible = ratings_visible_to(request.user)
    form = stats.StatsFilterForm(request.GET or None, ratings=visible)
    return form, form.filters(), visible


@login_required
@require_GET
def dashboard(request):
    """The filter form and the figures are rendered once per scope, query string, day,
    language and data version, and cached (``dossiers.stats.cached``): a repeated visit
    reads the user with their roles and the cache."""
    _allowed(request)
    user = request.user
    query = request.GET.urlencode()
    today = timezone.localdate()

    def content():
        visible = ratings_visible_to(user)
        form = stats.StatsFilterForm(request.GET or None, ratings=visible)
        filters = form.filters()
        scope = stats.scope_for(user, filters, today=today, ratings=visible)
        tables = stats.dashboard(scope)
        for table in tables:
            table.chart = stats.bar_chart(table)
            table.lines = stats.table_lines(table)
        context = {
            "form": form,
            "tables": tables,
            "total_active": stats.total_active(tables),
            "query": query,
            "area": filters.get("area"),
            "rounds": list(rounds_visible_to(user).select_related("unit")
                           .order_by("-is_open", "-year", "-number", "-pk")[:ROUNDS_SHOWN]),
            "may_report": rules.stats_refusal(user, "yearly_report") is None,
            "made_at": timezone.localtime(),
        }
        return render_to_string("dossiers/stats/_content.html", context, request=request)

    return render(request, "dossiers/stats/dashboard.html",
                  {"content": stats.cached(user, "page", content, query, today)})


def _download_name(key, extension):
    return f"thong-ke-{key.replace('_', '-')}-{timezone.localdate():%Y%m%d}.{extension}"


@login_required
@require_GET
def table_download(request, key, extension):
    """One figure of the dashboard, with the dashboard's filters, as CSV or Excel."""
    _allowed(request)
    figure = stats.FIGURES.get(key)
    if figure is None or extension not in ("csv", "xlsx"):
        raise Http404
    _form, filters, visible = _filtered(request)
    table = figure.compute(stats.scope_for(request.user, filters, ratings=visible))
    if extension == "csv":
        buffer = io.StringIO()
        buffer.write("\ufeff")  # Excel opens UTF-8 CSV with its BOM
        writer = csv.writer(buffer)
        writer.writerow([str(c) for c in table.columns])
        for row in table.rows:
            writer.writerow([str(row[0]), *row[1:]])
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = str(figure.label)[:31] or key
        sheet.append([table.title])
        sheet.append([str(c) for c in table.columns])
        for cell in (*sheet[1], *sheet[2]):
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([str(row[0]), *row[1:]])
        sheet.column_dimensions["A"].width = 44
        buffer = io.BytesIO()
        workbook.save(buffer)
        response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = content_disposition(_download_name(key, extension),
                                                          inline=False)
    response["Cache-Control"] = "private, no-store"
    return response


def _file_response(handle, name, content_type=XLSX):
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = content_disposition(name, inline=False)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def round_results(request, pk):
    """A round's dossiers with their score, stars and state (Excel)."""
    _allowed(request)
    round_ = get_object_or_404(rounds_visible_to(request.user).select_related("unit"), pk=pk)
    handle = register.write_round_results(round_, dossiers_visible_to(request.user))
    return _file_response(handle, f"Kết quả đợt {round_.number}-{round_.year} - "
                                  f"{round_.unit.name}.xlsx")


def _year_choices(today):
    return list(range(today.year, 2018, -1))


@login_required
@require_GET
def yearly(request):
    """The yearly report of a province: its figures, the PDF and the Excel workbook."""
    _allowed(request, "yearly_report")
    today = timezone.localdate()
    provinces = list(yearly_report.report_provinces(request.user))
    if not provinces:
        raise PermissionDenied(_("No province lies in your area."))
    errors = []
    province = provinces[0]
    wanted = request.GET.get("province")
    if wanted:
        chosen = [p for p in provinces if str(p.pk) == wanted]
        if chosen:
            province = chosen[0]
        else:
            errors.append(_("This province is not in your area; the report shows %(name)s.")
                          % {"name": province.name})
    years = _year_choices(today)
    year = today.year
    if request.GET.get("year"):
        try:
            year = int(request.GET["year"])
        except ValueError:
            year = None
        if year not in years:
            errors.append(_("Choose a year from %(first)s to %(last)s.") % {
                "first": years[-1], "last": years[0]})
            year = today.year
    report = yearly_report.yearly_figures(request.user, province, year, today)
    fmt = request.GET.get("format")
    if fmt == "pdf" and not errors:
        pdf = yearly_report.yearly_pdf(report, request=request, today=today,
                                       number=request.GET.get("number", "")[:20])
        return pdf_response(pdf, yearly_report.filename(report, "pdf"), inline=False)
    if fmt == "xlsx" and not errors:
        return _file_response(yearly_report.yearly_workbook(report),
                              yearly_report.filename(report, "xlsx"))
    context = {"report": report, "provinces": provinces, "years": years, "errors": errors,
               "province": province, "year": year}
    return render(request, "dossiers/stats/yearly.html", context)
