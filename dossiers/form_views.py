"""Mẫu 01 and Mẫu 02 as PDFs, generated from the data filled in online (docs/documents.md,
"Generated forms"). Views only: the rendering is ``dossiers.documents``. Whoever may see the
dossier may print them (``dossiers_visible_to``, 404 otherwise); an incomplete form prints
too, marked "DỰ THẢO"."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from ocop.documents.pdf import pdf_response

from . import documents
from .queries import dossiers_visible_to

#: What the forms print with the dossier (one join each).
FORM_RELATED = ("product__producer__unit", "round__regime", "criteria_set", "unit__parent",
                "current_rating")


def _form_pdf(request, pk, code):
    dossier = get_object_or_404(
        dossiers_visible_to(request.user).select_related(*FORM_RELATED), pk=pk)
    render, _name = documents.FORM_PDFS[code]
    return pdf_response(render(dossier, request), documents.form_filename(dossier, code))


@login_required
@require_GET
def form_01_pdf(request, pk):
    """Mẫu 01 "Phiếu đăng ký sản phẩm OCOP" from the registration form."""
    return _form_pdf(request, pk, documents.FORM_01_CODE)


@login_required
@require_GET
def form_02_pdf(request, pk):
    """Mẫu 02 "Báo cáo tự đánh giá" from the self-assessment."""
    return _form_pdf(request, pk, documents.FORM_02_CODE)
