"""The ratings register (kết quả công nhận) and a rating's page (docs/decisions.md).

Every page starts from ``dossiers.queries.ratings_visible_to(user)``: department staff
see the ratings of their province, officers those of their district or commune; a rating
outside the user's area answers 404 (page and certificate alike). A signed-in user with
no officer or staff role gets the register with a message saying it is not for them
(no rating is read). The filters live in ``dossiers.ratings``; the query count does not
grow with the number of ratings (``tests/dossiers/test_rating_pages.py``).
"""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from ocop.accounts.queries import has_role, is_admin
from ocop.documents.pdf import content_disposition

from . import rating_rows, rules
from .queries import INTAKE_ROLES, ratings_visible_to
from .ratings import (
    RatingFilterForm,
    certificate_status,
    criteria_set_of,
    filter_ratings,
    register_rows,
)

PAGE_SIZE = 50
#: The answer of the register depends on these request headers (htmx fragment or page).
HTMX_VARY = ("HX-Request", "HX-History-Restore-Request")


def _wants_fragment(request):
    return bool(request.htmx) and not request.htmx.history_restore_request


@login_required
@require_GET
@vary_on_headers(*HTMX_VARY)
def rating_list(request):
    """The register of the ratings of the user's area, filtered, 50 a page."""
    user = request.user
    if not (is_admin(user) or has_role(user, *INTAKE_ROLES)):
        return render(request, "dossiers/ratings/list.html", {"no_role": True})
    versions = rating_rows.versions()
    form = RatingFilterForm(request.GET or None, ratings=None,
                            choices=rating_rows.filter_choices(user, versions))
    filters = form.filters()
    today = timezone.localdate()
    page = rating_rows.register_page(user, filters, request.GET.get("page"), PAGE_SIZE,
                                     today, versions)
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "ratings": page.object_list,
        "rows_html": rating_rows.rows_html(page.object_list),
        "query": params.urlencode(),
        "filtered": bool(filters),
        "today": today,
        "can_import": rules.import_refusal(user) is None,
    }
    if _wants_fragment(request):
        return render(request, "dossiers/ratings/_results.html", context)
    context["form_fields"] = rating_rows.fields_html(form, user, versions)
    return render(request, "dossiers/ratings/list.html", context)


def _rating(request, pk):
    qs = register_rows(ratings_visible_to(request.user)).select_related(
        "decision", "replaced_by", "source_dossier__round__unit")
    return get_object_or_404(qs, pk=pk)


@login_required
@require_GET
def rating_detail(request, pk):
    """All the facts of a rating, its decision, certificate, verification and history."""
    rating = _rating(request, pk)
    rating.criteria_set = criteria_set_of(rating)
    rating.certificate_status = certificate_status(rating)
    history = list(rating.product.ratings.order_by("-decision_date", "-pk"))
    context = {
        "rating": rating,
        "history": history,
        "replaces": [r for r in history if r.replaced_by_id == rating.pk],
    }
    return render(request, "dossiers/ratings/detail.html", context)


def certificate_name(rating):
    """"Giấy chứng nhận OCOP - Nước mắm cá cơm.pdf" (a slash in the name is not a
    folder)."""
    product = " ".join(rating.product.name.replace("/", "-").replace("\\", "-").split())
    return f"Giấy chứng nhận OCOP - {product}.pdf"


@login_required
@require_GET
def certificate(request, pk):
    """The stored certificate PDF, streamed; 404 while it is not made yet."""
    rating = _rating(request, pk)
    if not rating.certificate:
        raise Http404
    try:
        handle = rating.certificate.open("rb")
    except (FileNotFoundError, OSError) as missing:
        raise Http404 from missing
    response = FileResponse(handle, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition(certificate_name(rating),
                                                          inline=False)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def register_xlsx(request):
    """The register with the page's current filters as an Excel file
    (``dossiers.register.REGISTER_COLUMNS``), written row by row."""
    from .register import write_register

    user = request.user
    if not (is_admin(user) or has_role(user, *INTAKE_ROLES)):
        raise Http404
    visible = ratings_visible_to(user)
    filters = RatingFilterForm(request.GET or None, ratings=visible).filters()
    handle = write_register(filter_ratings(visible, filters, timezone.localdate()))
    response = FileResponse(handle, content_type="application/vnd.openxmlformats-"
                                                 "officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = content_disposition(
        f"Danh sách sản phẩm OCOP {timezone.localdate():%d-%m-%Y}.xlsx", inline=False)
    response["Cache-Control"] = "private, no-store"
    return response
