"""The department's register import pages (docs/register-import.md): upload, the dry run's
report with its progress, confirmation, the import's progress, the error file and the
template. Each step is one service of ``dossiers.imports``; a foreign import answers 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ocop.documents.pdf import content_disposition

from . import imports, rules, uploads
from .import_forms import ImportUploadForm, RowFilterForm
from .models import ImportState
from .services import DossierError

PAGE_SIZE = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _allowed(request):
    refusal = rules.import_refusal(request.user)
    if refusal is not None:
        raise PermissionDenied(refusal.message)


@login_required
@require_http_methods(["GET", "POST"])
def import_list(request):
    """The imports of the user's province and the upload form."""
    _allowed(request)
    form = ImportUploadForm()
    status = 200
    if request.method == "POST":
        data, files = request.POST, request.FILES  # read first: a refused upload shows
        if (refused := uploads.refused_in(request)) is not None:
            form.add_error(None, refused.message)
            status = 400
        else:
            form = ImportUploadForm(data, files)
            if form.is_valid():
                try:
                    register_import = imports.start_import(request.user,
                                                           form.cleaned_data["file"])
                except DossierError as error:
                    form.add_error("file", error.message)
                else:
                    messages.success(request, _("The file was received; its rows are being "
                                                "checked. Nothing is saved before you "
                                                "confirm."))
                    return redirect("imports:detail", register_import.pk)
            status = 400
    recent = (imports.imports_visible_to(request.user)
              .select_related("created_by", "province")[:20])
    return render(request, "dossiers/imports/list.html",
                  {"form": form, "imports": recent}, status=status)


@login_required
@require_GET
def import_detail(request, pk):
    """The dry run's report (or the import's progress); htmx polls the status part while a
    job runs."""
    _allowed(request)
    register_import = get_object_or_404(
        imports.imports_visible_to(request.user).select_related(
            "created_by", "confirmed_by", "province"), pk=pk)
    filters = RowFilterForm(request.GET or None)
    outcome = filters.cleaned_outcome()
    rows = register_import.rows.all()
    if outcome:
        rows = rows.filter(outcome=outcome)
    page = Paginator(rows.order_by("row_no"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"register_import": register_import, "page": page, "filters": filters,
               "query": query.urlencode(),
               "percent": _percent(register_import)}
    if request.htmx and request.GET.get("part") == "status":
        response = render(request, "dossiers/imports/_status.html", context)
        if not register_import.running:
            response["HX-Refresh"] = "true"  # the report is ready: show the whole page
        return response
    return render(request, "dossiers/imports/detail.html", context)


def _percent(register_import):
    """The progress bar: the rows checked or imported of all the file's rows."""
    if register_import.state in (ImportState.CHECKED, ImportState.DONE):
        return 100
    total = register_import.rows_total
    return min(99, 100 * register_import.rows_done // total) if total else 0


@login_required
@require_POST
def import_confirm(request, pk):
    _allowed(request)
    register_import = get_object_or_404(imports.imports_visible_to(request.user), pk=pk)
    try:
        imports.confirm_import(request.user, register_import)
    except DossierError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The import has started; this page shows its progress."))
    return redirect("imports:detail", register_import.pk)


@login_required
@require_GET
def import_errors(request, pk):
    """The refused rows, with the reason in an added column, to fix and upload again."""
    _allowed(request)
    register_import = get_object_or_404(imports.imports_visible_to(request.user), pk=pk)
    if register_import.state in (ImportState.CHECKING, ImportState.FAILED):
        messages.error(request, _("The error file is ready once the rows are checked."))
        return redirect("imports:detail", register_import.pk)
    name = f"loi-{register_import.original_name.rsplit('.', 1)[0]}.xlsx"
    response = FileResponse(imports.write_error_file(register_import), content_type=XLSX)
    response["Content-Disposition"] = content_disposition(name, inline=False)
    return response


@login_required
@require_GET
def import_template(request):
    """The empty register: the columns to fill in."""
    _allowed(request)
    response = FileResponse(imports.write_template(), content_type=XLSX)
    response["Content-Disposition"] = content_disposition("mau-so-dang-ky-ocop.xlsx",
                                                          inline=False)
    return response


