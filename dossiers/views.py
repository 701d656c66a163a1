"""Officer pages: the dossier list of the user's area, the dossier page (checklist, files,
timeline, the buttons the user may press), the Mẫu 01/02/03 forms and the file download.

Every page starts from ``dossiers.queries.*_visible_to(user)``: an object outside the
user's area answers 404, for pages, downloads and POSTs alike. Every change is a POST that
calls one ``dossiers.services`` function and redirects (POST-redirect-GET); a refusal
(:class:`~dossiers.services.DossierError`) is shown next to its field or as a message, with
the user's input kept. Pages work without JavaScript; htmx (``static/js/htmx.min.js``) only
makes the list filter live and the checklist update in place.

Query counts do not grow with the number of dossiers, files or transitions
(``tests/dossiers/test_list_queries.py``).
"""

from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from ocop.accounts.queries import has_role, is_admin
from scoring.models import Criterion, Option
from scoring.queries import MissingBands, criteria_tree, star_bands
from scoring.rules import sheet_totals
from scoring.services import sheet_choices, sheet_spec, summarise

from . import rules, services, uploads
from .checklists import SAMPLES_CODE
from .deadlines import deadline_running, is_overdue
from .documents import mark_online
from .forms import (
    REGISTRATION_FIELDS,
    DossierCreateForm,
    DossierFilterForm,
    PreAssessmentForm,
    ProducerForm,
    ProductForm,
    RegistrationForm,
    ReturnForm,
    ReviewForm,
    SamplesForm,
    SelfAssessmentForm,
    WithdrawForm,
    product_context,
    show_service_error,
)
from .list_rows import list_page, rows_html
from .models import DocumentFile, DocumentState, DossierState
from .producer_rows import producer_page
from .producer_rows import rows_html as producer_rows_html
from .queries import (
    INTAKE_ROLES,
    dossiers_visible_to,
    files_visible_to,
    producers_visible_to,
    products_visible_to,
)
from .rules import council_only_refusal, has_pre_assessment
from .upload_forms import MultiUploadForm, field_name, max_files, too_many_files

PAGE_SIZE = 50

#: Actions pressed as a single button (POST, no input): action → (label, done message).
BUTTON_ACTIONS = {
    "submit": (gettext_lazy("Submit the dossier"), gettext_lazy("The dossier was submitted.")),
    "resubmit": (gettext_lazy("Resubmit the completed dossier"),
                 gettext_lazy("The completed dossier was resubmitted.")),
    "accept": (gettext_lazy("Accept the dossier"), gettext_lazy("The dossier was accepted.")),
}
#: Actions that need input: action → (URL name, label).
FORM_ACTIONS = {
    "return_for_completion": ("dossiers:return", gettext_lazy("Return for completion")),
    "record_pre_assessment": ("dossiers:pre-assessment", gettext_lazy("Pre-assessment")),
    "withdraw": ("dossiers:withdraw", gettext_lazy("Withdraw the dossier")),
}

#: What the dossier list and page read with the dossier (one join each).
DOSSIER_RELATED = ("product__producer", "round__unit", "round__regime", "criteria_set__regime",
                   "unit")


def _dossier(request, pk, *related):
    """The dossier ``pk`` if the user may see it, else 404."""
    qs = dossiers_visible_to(request.user).select_related(*(related or DOSSIER_RELATED))
    return get_object_or_404(qs, pk=pk)


def has_intake_role(user):
    """Officers and department staff file dossiers (and admins)."""
    return is_admin(user) or has_role(user, *INTAKE_ROLES)


#: The request headers the answers of the views that serve htmx depend on (their
#: ``Vary``): an htmx request gets a fragment, but htmx's history restore (a page missing
#: from its history cache, also sent with ``HX-Request``) gets the full page. Without it a
#: browser's Back button could show a cached bare fragment (e.g. after a dossier search).
HTMX_VARY = ("HX-Request", "HX-History-Restore-Request")


def _wants_fragment(request):
    """An htmx request (``request.htmx``, django-htmx), except a history restore."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def _detail_url(dossier, anchor=""):
    url = reverse("dossiers:detail", args=[dossier.pk])
    return f"{url}#{anchor}" if anchor else url


# --- list ------------------------------------------------------------------------------------


@login_required
@require_GET
@vary_on_headers(*HTMX_VARY)
def dossier_list(request):
    """The dossiers of the user's area with filters, search and overdue marks."""
    user = request.user
    form = DossierFilterForm(request.GET or None, user=user)
    filters = form.filters()
    today = timezone.localdate()
    page = list_page(user, filters, request.GET.get("page"), PAGE_SIZE, today)
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "dossiers": page.object_list,
        "rows_html": rows_html(page.object_list),
        "query": params.urlencode(),
        "filtered": bool(filters),
        "today": today,
        "can_create": has_intake_role(user),
    }
    if _wants_fragment(request):
        return render(request, "dossiers/_list_results.html", context)
    return render(request, "dossiers/dossier_list.html", context)


# --- dossier page ----------------------------------------------------------------------------


def _can(actions, name):
    return name in actions


def _checklist(dossier):
    """The checklist lines with their files, and the files attached to no line (the
    self-assessment evidence): two queries whatever the number of files."""
    documents = list(dossier.documents.select_related("item", "reviewed_by"))
    files_of = defaultdict(list)
    for f in dossier.files.select_related("uploaded_by").order_by("uploaded_at", "id"):
        files_of[f.document_id].append(f)
    for document in documents:
        document.file_list = files_of.get(document.pk, [])
    return documents, files_of.get(None, [])


def _row_context(dossier, actions, document, upload_form=None, review_form=None,
                 upload_errors=(), upload_stored=()):
    """One checklist line. ``upload_errors``: the refusals of the files just sent to it
    (each names its file); ``upload_stored``: the names of those stored."""
    return {
        "dossier": dossier, "doc": document, "actions": actions,
        "can_upload": _can(actions, "upload_file"),
        "can_remove": _can(actions, "remove_file"),
        "can_review": _can(actions, "review_document"),
        "upload_form": upload_form or MultiUploadForm(prefix=f"doc{document.pk}"),
        "review_form": review_form or ReviewForm(prefix=f"review{document.pk}"),
        "upload_errors": list(upload_errors),
        "upload_stored": list(upload_stored),
        "online": getattr(document, "online", None),
    }


def _timeline(dossier):
    """The transitions with, for a return for completion, the reason of each line."""
    transitions = list(dossier.transitions.select_related("actor"))
    for t in transitions:
        details = t.details if isinstance(t.details, dict) else {}
        reasons = details.get("reasons")
        t.reason_rows = [(r.get("title", ""), r.get("reason", "")) for r in reasons
                         if isinstance(r, dict)] if isinstance(reasons, list) else []
    return transitions


def _registration_rows(dossier):
    fields = RegistrationForm.base_fields
    data = dossier.registration or {}
    return [(fields[name].label, data[name]) for name in REGISTRATION_FIELDS
            if data.get(name) not in (None, "")]


def _return_summary(dossier, transitions, documents):
    """A returned dossier's reasons for the top of its page: the last return's note and
    each rejected line's reason in checklist order, with the line's anchor (``doc-<pk>``);
    None unless the dossier is returned."""
    if dossier.state != DossierState.RETURNED:
        return None
    returns = [t for t in transitions if t.to_state == DossierState.RETURNED]
    note = returns[-1].reason if returns else ""
    lines = [(d.pk, d.item.title, d.reason) for d in documents
             if d.state == DocumentState.REJECTED]
    return {"note": note, "lines": lines}


def render_detail(request, dossier, *, status=200, failed_document=None, upload_form=None,
                  review_form=None, samples_form=None, unchecked=None, upload_results=None,
                  template=None, checklist_error=None):
    """The dossier page; a refused form is shown bound, every other form fresh.
    ``unchecked``: the lines nobody checked, when accepting asks for a confirmation."""
    from .ratings import recognition_for

    user = request.user
    transitions = _timeline(dossier)
    actions = services.available_actions(user, dossier)
    documents, evidence_files = _checklist(dossier)
    answered, criteria_count = services.self_assessment_progress(dossier)
    mark_online(dossier, documents, (answered, criteria_count))
    upload_results = upload_results or {}
    rows = []
    for document in documents:
        failed = failed_document is not None and document.pk == failed_document.pk
        stored, errors = upload_results.get(document.pk, ((), ()))
        rows.append(_row_context(dossier, actions, document,
                                 upload_form=upload_form if failed else None,
                                 review_form=review_form if failed else None,
                                 upload_stored=stored, upload_errors=errors))
    buttons = [(name, BUTTON_ACTIONS[name][0]) for name in actions if name in BUTTON_ACTIONS]
    links = [(reverse(FORM_ACTIONS[name][0], args=[dossier.pk]), FORM_ACTIONS[name][1])
             for name in actions if name in FORM_ACTIONS]
    context = {
        "dossier": dossier,
        "actions": actions,
        "buttons": buttons,
        "links": links,
        "rows": rows,
        "evidence_files": evidence_files,
        "transitions": transitions,
        "pre_assessment": getattr(dossier, "pre_assessment", None),
        "registration_rows": _registration_rows(dossier),
        "answered": answered,
        "criteria_count": criteria_count,
        "can_edit": _can(actions, "update_registration"),
        "can_record_samples": _can(actions, "record_samples") and any(
            d.item.code == SAMPLES_CODE for d in documents),
        "can_self_assess": _can(actions, "set_self_assessment"),
        "samples_form": samples_form or SamplesForm(initial={
            "samples_count": dossier.samples_count,
            "samples_received_on": dossier.samples_received_on}),
        # one definition with the list, the ?overdue=1 filter and the home count
        "overdue": is_overdue(dossier),
        "deadline_running": deadline_running(dossier),
        "return_summary": _return_summary(dossier, transitions, documents),
        "unchecked": unchecked,
        "recognition": recognition_for(user, dossier),
        "checklist_error": checklist_error,
        "max_files": max_files(),
    }
    return render(request, template or "dossiers/dossier_detail.html", context, status=status)


DETAIL_RELATED = (*DOSSIER_RELATED, "round__level", "current_rating", "created_by",
                  "pre_assessment__assessed_by")


@login_required
@require_GET
def dossier_detail(request, pk):
    return render_detail(request, _dossier(request, pk, *DETAIL_RELATED))


# --- creating ----------------------------------------------------------------------------------


def _intake_only(request):
    if not has_intake_role(request.user):
        raise Http404


@login_required
@require_http_methods(["GET", "POST"])
def producer_create(request):
    _intake_only(request)
    form = ProducerForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            producer = services.create_producer(request.user, data=form.cleaned_data)
        except services.DossierError as error:
            show_service_error(request, form, error)
        else:
            messages.success(request, _("Producer “%(name)s” was saved. Now add its product.")
                             % {"name": producer.name})
            return redirect(f"{reverse('dossiers:product-create')}?producer={producer.pk}")
    return render(request, "dossiers/producer_form.html", {"form": form})


def _producer(request, pk):
    _intake_only(request)
    return get_object_or_404(producers_visible_to(request.user).select_related("unit"), pk=pk)


def _product(request, pk):
    _intake_only(request)
    return get_object_or_404(products_visible_to(request.user).select_related(
        "producer__unit", "criteria_set__regime"), pk=pk)


@login_required
@require_GET
def producer_list(request):
    """The producers of the user's areas with their products, each with its edit and
    delete links: one statement for the page, its rows written in Python
    (``dossiers/producer_rows.py``)."""
    _intake_only(request)
    page = producer_page(request.user, request.GET.get("page"), PAGE_SIZE)
    return render(request, "dossiers/producer_list.html",
                  {"page": page, "rows_html": producer_rows_html(page.object_list)})


@login_required
@require_http_methods(["GET", "POST"])
def producer_edit(request, pk):
    producer = _producer(request, pk)
    form = ProducerForm(request.POST or None, user=request.user, instance=producer)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in services.PRODUCER_FIELDS}
        try:
            producer = services.update_producer(request.user, producer, data=data)
        except services.DossierError as error:
            show_service_error(request, form, error)
        else:
            messages.success(request, _("Producer “%(name)s” was saved.")
                             % {"name": producer.name})
            return redirect("dossiers:producer-list")
    return render(request, "dossiers/producer_form.html", {"form": form, "producer": producer})


@login_required
@require_http_methods(["GET", "POST"])
def producer_delete(request, pk):
    producer = _producer(request, pk)
    return _delete(request, producer, services.producer_delete_refusal,
                   services.delete_producer,
                   _("Delete the producer “%(name)s”") % {"name": producer.name},
                   _("Producer “%(name)s” was deleted.") % {"name": producer.name})


def _delete(request, obj, refusal_of, delete, heading, done):
    """The confirmation page (GET) and the deletion (POST) of an unused producer or
    product, through its service; back to the producers' list."""
    if request.method == "POST":
        try:
            delete(request.user, obj)
        except services.DossierError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, done)
        return redirect("dossiers:producer-list")
    return render(request, "dossiers/delete_confirm.html", {
        "object": obj, "refusal": refusal_of(obj), "heading": heading})


@login_required
@require_http_methods(["GET", "POST"])
def product_create(request):
    _intake_only(request)
    round_id = request.POST.get("round") or request.GET.get("round")
    regime, round_ = product_context(request.user, round_id)
    initial = {"producer": request.GET.get("producer")}
    form = ProductForm(request.POST or None, user=request.user, initial=initial,
                       regime=regime)
    if request.method == "POST" and form.is_valid():
        try:
            product = services.create_product(request.user, regime=regime,
                                              **form.cleaned_data)
        except services.DossierError as error:
            show_service_error(request, form, error)
        else:
            messages.success(request, _("Product “%(name)s” was saved. Now create its "
                                        "dossier.") % {"name": product.name})
            url = f"{reverse('dossiers:create')}?product={product.pk}"
            return redirect(f"{url}&round={round_.pk}" if round_ else url)
    return render(request, "dossiers/product_form.html",
                  {"form": form, "regime": regime, "round": round_})


@login_required
@require_http_methods(["GET", "POST"])
def product_edit(request, pk):
    """The product's name, and its criteria set while ``services.product_set_lock``
    allows (sets of the regime of :func:`~dossiers.forms.product_context`)."""
    product = _product(request, pk)
    locked = services.product_set_lock(product)
    round_id = request.POST.get("round") or request.GET.get("round")
    regime, round_ = product_context(request.user, round_id)
    form = ProductForm(request.POST or None, user=request.user, regime=regime,
                       product=product, set_locked=locked)
    if request.method == "POST" and form.is_valid():
        try:
            product = services.update_product(
                request.user, product, name=form.cleaned_data["name"],
                criteria_set=form.cleaned_data.get("criteria_set"), regime=regime)
        except services.DossierError as error:
            show_service_error(request, form, error)
        else:
            messages.success(request, _("Product “%(name)s” was saved.")
                             % {"name": product.name})
            return redirect("dossiers:producer-list")
    return render(request, "dossiers/product_form.html", {
        "form": form, "product": product, "regime": regime, "round": round_,
        "set_locked": locked})


@login_required
@require_http_methods(["GET", "POST"])
def product_delete(request, pk):
    product = _product(request, pk)
    return _delete(request, product, services.product_delete_refusal,
                   services.delete_product,
                   _("Delete the product “%(name)s”") % {"name": product.name},
                   _("Product “%(name)s” was deleted.") % {"name": product.name})


@login_required
@require_http_methods(["GET", "POST"])
def dossier_create(request):
    _intake_only(request)
    initial = {"product": request.GET.get("product"), "round": request.GET.get("round")}
    form = DossierCreateForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            dossier = services.create_dossier(
                request.user, round=data["round"], product=data["product"],
                registration_type=data["registration_type"],
                current_rating=data.get("current_rating"),
                registration=form.registration())
        except services.DossierError as error:
            show_service_error(request, form, error)
        else:
            messages.success(request, _("The dossier was created. Upload its documents, "
                                        "then submit it."))
            return redirect(_detail_url(dossier))
    round_id = form.data.get("round") if form.is_bound else form.initial.get("round")
    return render(request, "dossiers/dossier_create.html",
                  {"form": form, "round_id": round_id or ""})


@login_required
@require_http_methods(["GET", "POST"])
def registration_edit(request, pk):
    """Mẫu 01: the registration data of a dossier."""
    dossier = _dossier(request, pk)
    form = RegistrationForm(request.POST or None, initial=dossier.registration or {})
    if request.method == "POST" and form.is_valid():
        try:
            services.update_dossier(request.user, dossier, registration=form.registration())
        except services.DossierError as error:
            show_service_error(request, form, error)
        else:
            messages.success(request, _("The registration form was saved."))
            return redirect(_detail_url(dossier, "registration"))
    return render(request, "dossiers/registration_form.html",
                  {"dossier": dossier, "form": form})


@login_required
@require_POST
def samples_update(request, pk):
    dossier = _dossier(request, pk, *DETAIL_RELATED)
    form = SamplesForm(request.POST)
    if form.is_valid():
        try:
            services.update_dossier(request.user, dossier, **form.cleaned_data)
        except services.DossierError as error:
            show_service_error(request, form, error)
        else:
            messages.success(request, _("The product samples were recorded."))
            return redirect(_detail_url(dossier, "samples"))
    return render_detail(request, dossier, samples_form=form)


# --- files -----------------------------------------------------------------------------------


def _document(dossier, document_pk):
    return get_object_or_404(dossier.documents.select_related("item", "reviewed_by"),
                             pk=document_pk)


def _row_response(request, dossier, document, **context):
    """The checklist line alone (htmx), read again after the change."""
    document.refresh_from_db()
    document.file_list = list(document.files.select_related("uploaded_by")
                              .order_by("uploaded_at", "id"))
    mark_online(dossier, [document])
    actions = services.available_actions(request.user, dossier)
    context = _row_context(dossier, actions, document, **context)
    context["inline"] = True
    return render(request, "dossiers/_document_row.html", context)


def _store_files(request, dossier, files_by_line):
    """Each file through ``services.upload_file`` to its line, one by one: a refused file
    is reported and the others are still stored. {line id: (stored names, refusals)}."""
    results = {}
    for document, files in files_by_line:
        stored, errors = [], []
        for uploaded in files:
            try:
                item = services.upload_file(request.user, dossier, uploaded, document=document)
            except services.DossierError as error:
                errors.append(getattr(error, "message", None) or str(error))
            else:
                stored.append(item.original_name)
        results[document.pk] = (stored, errors)
    return results


def _request_refusal(request, count):
    """The refusal of the whole request (nothing stored), or None: a file stopped at the
    size limit while reading (the files after it were never read), or too many files."""
    refused = uploads.refused_in(request)
    if refused is not None:
        return refused.message
    if count > max_files():
        return too_many_files(count)
    return None


def _report(request, results, documents):
    """One message for the stored files and one for the refused ones."""
    titles = {d.pk: d.item.title for d in documents}
    stored = [f"“{name}” → {titles[pk]}" for pk, (names, _e) in results.items()
              for name in names]
    refused = sum(len(errors) for _n, errors in results.values())
    if stored:
        messages.success(request, _("Attached: %(files)s.") % {"files": "; ".join(stored)})
    if refused:
        messages.error(request, ngettext(
            "%(count)s file was not attached; the reason is shown on its line.",
            "%(count)s files were not attached; the reasons are shown on their lines.",
            refused) % {"count": refused})
    return bool(refused)


@login_required
@require_POST
@vary_on_headers(*HTMX_VARY)
def document_upload(request, pk, document_pk):
    """Files for one checklist line (``doc<id>-file``, one or several): each is stored or
    refused on its own, and each refusal is shown on the line."""
    dossier = _dossier(request, pk, *DETAIL_RELATED)
    document = _document(dossier, document_pk)
    files = request.FILES.getlist(field_name(document))
    refusal = _request_refusal(request, len(files))
    if refusal is None and not files:
        refusal = _("Choose at least one file.")
    if refusal is not None:
        results = {document.pk: ((), [refusal])}
    else:
        results = _store_files(request, dossier, [(document, files)])
    stored, errors = results[document.pk]
    if _wants_fragment(request):
        return _row_response(request, dossier, document, upload_stored=stored,
                             upload_errors=errors)
    if not errors:
        messages.success(request, _("“%(name)s” was attached to “%(item)s”.")
                         % {"name": "”, “".join(stored), "item": document.item.title})
        return redirect(_detail_url(dossier, f"doc-{document.pk}"))
    if stored:
        _report(request, results, [document])
    else:
        messages.error(request, _("The file for “%(item)s” was not attached; nothing else "
                                  "changed.") % {"item": document.item.title})
    return render_detail(request, _dossier(request, pk, *DETAIL_RELATED),
                         upload_results=results)


@login_required
@require_POST
@vary_on_headers(*HTMX_VARY)
def checklist_upload(request, pk):
    """The whole checklist in one post: the files of ``doc<id>-file`` go to line ``id``,
    each stored or refused on its own. A field naming no line of this dossier, no file at
    all, a file over the size limit or more than ``max_files()`` files refuse the whole
    post (nothing stored). htmx gets the checklist section, a browser the page."""
    dossier = _dossier(request, pk, *DETAIL_RELATED)
    documents = list(dossier.documents.select_related("item").order_by("item__order"))
    names = {field_name(d): d for d in documents}
    unknown = [key for key in request.FILES if key not in names]
    files_by_line = [(d, request.FILES.getlist(field_name(d))) for d in documents]
    files_by_line = [(d, files) for d, files in files_by_line if files]
    count = sum(len(files) for _d, files in files_by_line)
    refusal = _request_refusal(request, count + len(unknown))
    if refusal is None and unknown:
        refusal = _("Files were sent for a checklist line that is not one of this dossier; "
                    "nothing was attached.")
    if refusal is None and not count:
        refusal = _("Choose at least one file on a checklist line.")
    fragment = _wants_fragment(request)
    if refusal is not None:
        if not fragment:
            messages.error(request, refusal)
        return render_detail(request, dossier, status=400, checklist_error=refusal,
                             template=_checklist_template(request))
    results = _store_files(request, dossier, files_by_line)
    if fragment:   # the results are shown on the lines; no message for a later page
        return render_detail(request, _dossier(request, pk, *DETAIL_RELATED),
                             upload_results=results, template=_checklist_template(request))
    if not _report(request, results, documents):
        return redirect(_detail_url(dossier, "checklist"))
    return render_detail(request, _dossier(request, pk, *DETAIL_RELATED),
                         upload_results=results)


def _checklist_template(request):
    return "dossiers/_checklist.html" if _wants_fragment(request) else None


@login_required
@require_POST
def file_remove(request, pk, file_pk):
    dossier = _dossier(request, pk)
    stored = get_object_or_404(DocumentFile.objects.filter(dossier=dossier), pk=file_pk)
    anchor = f"doc-{stored.document_id}" if stored.document_id else "evidence"
    try:
        services.remove_file(request.user, stored)
    except services.DossierError as error:
        messages.error(request, getattr(error, "message", None) or str(error))
    else:
        messages.success(request, _("“%(name)s” was removed.") % {"name": stored.original_name})
    return redirect(_detail_url(dossier, anchor))


@login_required
@require_GET
def file_download(request, pk):
    """A stored file, streamed from storage under its original name (cleaned, with the
    detected type's extension: ``uploads.download_name``); only files of dossiers the user
    may see."""
    stored = get_object_or_404(files_visible_to(request.user), pk=pk)
    try:
        handle = stored.file.open("rb")
    except (FileNotFoundError, OSError) as missing:
        raise Http404 from missing
    name = uploads.download_name(stored.original_name, stored.content_type, stored.stored_name)
    response = FileResponse(handle, as_attachment=True, filename=name,
                            content_type=stored.content_type or "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
@vary_on_headers(*HTMX_VARY)
def document_review(request, pk, document_pk):
    dossier = _dossier(request, pk, *DETAIL_RELATED)
    document = _document(dossier, document_pk)
    form = ReviewForm(request.POST, prefix=f"review{document.pk}")
    if form.is_valid():
        try:
            services.review_document(request.user, document, **form.cleaned_data)
        except services.DossierError as error:
            show_service_error(request, form, error)
        else:
            if _wants_fragment(request):
                return _row_response(request, dossier, document)
            messages.success(request, _("The check of “%(item)s” was recorded.")
                             % {"item": document.item.title})
            return redirect(_detail_url(dossier, f"doc-{document.pk}"))
    if _wants_fragment(request):
        return _row_response(request, dossier, document, review_form=form)
    return render_detail(request, dossier, failed_document=document, review_form=form)


# --- self-assessment (Mẫu 02) --------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def self_assessment(request, pk):
    """Mẫu 02: one option per criterion with a note and an evidence file.

    With JavaScript each criterion's option and note are saved as they change
    (:func:`self_assessment_item`); the "Save" button posts the whole form (evidence files
    included), which is all there is without JavaScript. Saving keeps every answer it can:
    a refused evidence file is reported next to its criterion while the chosen options and
    notes of all criteria are saved (or, if refused, shown again as typed)."""
    dossier = _dossier(request, pk, *DETAIL_RELATED)
    tree = criteria_tree(dossier.criteria_set_id)
    entries = _entries(dossier)
    if request.method == "POST" and (refused := uploads.refused_in(request)):
        # The body was cut at a too-large evidence file: what followed it is missing, so
        # nothing is saved.
        messages.error(request, refused.message + " " + _("Nothing was saved."))
        return redirect(reverse("dossiers:self-assessment", args=[dossier.pk]))
    if request.method == "POST":
        form = SelfAssessmentForm(request.POST, request.FILES, tree=tree, entries=entries)
        if form.is_valid():
            saved = _save_self_assessment(request, dossier, form, entries)
            if not form.errors:
                messages.success(request, _("The self-assessment was saved (%(n)s criteria "
                                            "changed).") % {"n": saved})
                return redirect(reverse("dossiers:self-assessment", args=[dossier.pk]))
            messages.error(request, _("Some answers were not saved: see the marked criteria. "
                                      "Everything else was saved."))
            entries = _entries(dossier)  # what is stored now (files attached meanwhile)
    else:
        form = SelfAssessmentForm(tree=tree, entries=entries)
    for part in tree["parts"]:
        for section in part["sections"]:
            for criterion in section["criteria"]:
                cid = criterion["id"]
                criterion["field"] = form[f"c{cid}"]
                criterion["note_field"] = form[f"note{cid}"]
                criterion["evidence_field"] = form[f"evidence{cid}"]
                criterion["entry"] = entries.get(cid)
    actions = services.available_actions(request.user, dossier)
    context = {"dossier": dossier, "form": form, "tree": tree,
               "can_edit": _can(actions, "set_self_assessment"),
               "summary": _self_assessment_summary(dossier, entries.values())}
    return render(request, "dossiers/self_assessment.html", context,
                  status=400 if form.errors else 200)


def _entries(dossier):
    return {e.criterion_id: e for e in dossier.self_assessment.select_related("evidence")}


def _save_self_assessment(request, dossier, form, entries):
    changes = form.changes(entries)
    criteria = Criterion.objects.in_bulk([cid for cid, *_ in changes])
    options = Option.objects.in_bulk([oid for _, oid, *_ in changes if oid])
    saved = 0
    for cid, option_id, note, upload in changes:
        entry = entries.get(cid)
        evidence = entry.evidence if entry else None
        if upload:
            try:
                evidence = services.upload_file(request.user, dossier, upload)
            except services.DossierError as error:
                form.add_error(f"evidence{cid}", getattr(error, "message", None) or str(error))
                if entry and option_id == entry.option_id and note == entry.note:
                    continue
        try:
            services.set_self_assessment(request.user, dossier, criterion=criteria[cid],
                                         option=options.get(option_id), note=note,
                                         evidence=evidence)
        except services.DossierError as error:
            form.add_error(f"c{cid}", getattr(error, "message", None) or str(error))
        else:
            saved += 1
    return saved


#: A refused autosave → its status: not the user's to change (403), not now (409), an
#: answer that is not one of the criterion's (422).
_REFUSAL_STATUS = {"role": 403, "area": 403, "state": 409}


@login_required
@require_POST
@vary_on_headers(*HTMX_VARY)
def self_assessment_item(request, pk, criterion_id):
    """One criterion of Mẫu 02 autosaved (htmx): its option ``c<id>`` and note
    ``note<id>`` through ``services.set_self_assessment``; the evidence file stays with the
    whole form's "Save". Answers the criterion's result line with out-of-band updates of the
    running total and the status line; a refusal answers the message with a 4xx status
    (403 not allowed, 409 not editable now, 422 a bad answer, 404 a criterion of another
    set) and changes nothing, the page keeping what was typed."""
    dossier = _dossier(request, pk)
    criterion = (Criterion.objects.filter(pk=criterion_id,
                                          criteria_set_id=dossier.criteria_set_id)
                 .prefetch_related(Prefetch("options", Option.objects.order_by("order")))
                 .first())
    if criterion is None:
        return _self_assessment_problem(
            request, dossier, criterion_id, 404,
            _("This criterion is not part of the dossier's criteria set."))
    refusal = rules.check(request.user, "set_self_assessment", dossier)
    if refusal is not None:
        return _self_assessment_problem(request, dossier, criterion_id,
                                        _REFUSAL_STATUS.get(refusal.code, 403), refusal.message)
    entry = dossier.self_assessment.filter(criterion=criterion).first()
    form = SelfAssessmentForm.for_criterion(request.POST, criterion=criterion, entry=entry)
    if not form.is_valid():
        return _self_assessment_problem(request, dossier, criterion_id, 422, form.first_error())
    stored = {criterion.pk: entry} if entry else {}
    for cid, option_id, note, _upload in form.changes(stored):
        try:
            services.set_self_assessment(request.user, dossier, criterion=cid,
                                         option=option_id, note=note,
                                         evidence=entry.evidence_id if entry else None)
        except services.DossierError as error:
            status = _REFUSAL_STATUS.get(error.code, 422)
            message = next(iter(error.fields.values()), [error.message])[0]
            return _self_assessment_problem(request, dossier, criterion_id, status, message)
    if not _wants_fragment(request):
        messages.success(request, _("Saved."))
        return redirect(reverse("dossiers:self-assessment", args=[dossier.pk]))
    entries = dossier.self_assessment.order_by().values_list("criterion_id", "option_id",
                                                             named=True)
    # No request context: the fragment needs none (nor the context processors' queries).
    return HttpResponse(render_to_string("dossiers/_self_assessment_result.html", {
        "criterion_id": criterion.pk, "summary": _self_assessment_summary(dossier, entries)}))


def _self_assessment_problem(request, dossier, criterion_id, status, message):
    """A refused autosave: the message at the criterion and in the status line."""
    if not _wants_fragment(request):
        if status == 404:
            raise Http404
        messages.error(request, message)
        return redirect(reverse("dossiers:self-assessment", args=[dossier.pk]))
    response = HttpResponse(render_to_string("dossiers/_self_assessment_result.html", {
        "criterion_id": criterion_id, "message": message}), status=status)
    response["HX-Reswap"] = "innerHTML"  # swapped although a 4xx (selfassessment.js)
    return response


def _self_assessment_summary(dossier, entries):
    """The running total of Mẫu 02 — per part and overall, with the star it would give —
    by the scoresheet's own computation (``scoring.services.summarise``: the dossier's
    answers read as one member's sheet), and the number of criteria answered."""
    entries = list(entries)
    spec = sheet_spec(dossier.criteria_set)
    try:
        bands = star_bands(dossier.criteria_set.regime_id)
    except MissingBands:  # incomplete regime data: the points without the star
        summary = None
        totals = sheet_totals(spec, sheet_choices(dossier, entries))
    else:
        summary = summarise(dossier, entries=entries, bands=bands)
        totals = summary.totals
    return {
        "parts": [{"code": code, "points": totals.parts[code], "max": spec.max_points(code)}
                  for code in sorted({c.part for c in spec.criteria})],
        "total": totals.total,
        "max": spec.max_points(),
        "stars": summary.cap.stars if summary else None,
        "answered": sum(1 for e in entries if e.option_id is not None),
        "criteria_count": len(spec.criteria),
    }


# --- workflow ----------------------------------------------------------------------------------


@login_required
@require_POST
def dossier_action(request, pk, action):
    """The single-button transitions (submit, resubmit, accept). The council's actions
    (start the evaluation, record a result) are refused here for everybody, with the way
    they are done (``rules.COUNCIL_ONLY``)."""
    refusal = council_only_refusal(action)
    if action not in BUTTON_ACTIONS and refusal is None:
        raise Http404
    dossier = _dossier(request, pk)
    if refusal is not None:
        messages.error(request, refusal.message)
        return redirect(_detail_url(dossier))
    if action == "accept" and request.POST.get("confirm") != "unchecked":
        # Accepting verifies every line still unchecked: ask first, listing them.
        unchecked = services.unchecked_documents(dossier)
        if unchecked and "accept" in services.available_actions(request.user, dossier):
            dossier = _dossier(request, pk, *DETAIL_RELATED)
            return render_detail(request, dossier, unchecked=unchecked)
    try:
        getattr(services, action)(request.user, dossier)
    except services.DossierError as error:
        messages.error(request, getattr(error, "message", None) or str(error))
    else:
        messages.success(request, BUTTON_ACTIONS[action][1])
    return redirect(_detail_url(dossier))


def _form_action_allowed(request, dossier, action):
    """GET of a workflow form the user may not use: back to the dossier with a message."""
    if action in services.available_actions(request.user, dossier):
        return True
    messages.error(request, _("This action is not available for this dossier now."))
    return False


@login_required
@require_http_methods(["GET", "POST"])
def return_for_completion(request, pk):
    dossier = _dossier(request, pk)
    if request.method == "GET" and not _form_action_allowed(request, dossier,
                                                            "return_for_completion"):
        return redirect(_detail_url(dossier))
    documents = dossier.documents.select_related("item")
    form = ReturnForm(request.POST or None, documents=documents)
    if request.method == "POST" and form.is_valid():
        try:
            services.return_for_completion(request.user, dossier, reasons=form.reasons(),
                                           note=form.cleaned_data["note"].strip())
        except services.DossierError as error:
            show_service_error(request, form, error)
        else:
            messages.success(request, _("The dossier was returned for completion."))
            return redirect(_detail_url(dossier))
    return render(request, "dossiers/return_form.html", {"dossier": dossier, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def pre_assessment(request, pk):
    dossier = _dossier(request, pk)
    if request.method == "GET" and not _form_action_allowed(request, dossier,
                                                            "record_pre_assessment"):
        return redirect(_detail_url(dossier))
    # Mẫu 03 with its four items where the regime has a commune pre-assessment (1489,
    # 26/2026); the district acceptance conclusion otherwise (148).
    items = has_pre_assessment(dossier.round.regime)
    form = PreAssessmentForm(request.POST or None, items=items)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_pre_assessment(request.user, dossier,
                                           data=form.data_for_service())
        except services.DossierError as error:
            show_service_error(request, form, error)
        else:
            messages.success(request, _("The pre-assessment was recorded."))
            return redirect(_detail_url(dossier))
    return render(request, "dossiers/pre_assessment_form.html",
                  {"dossier": dossier, "form": form, "items": items})


@login_required
@require_GET
def pre_assessment_pdf(request, pk):
    """The recorded pre-assessment (Mẫu 03, or the district acceptance) as a PDF."""
    from ocop.documents.pdf import pdf_response

    from .documents import pre_assessment_pdf as render_report

    dossier = _dossier(request, pk)
    if not hasattr(dossier, "pre_assessment"):
        raise Http404
    return pdf_response(render_report(dossier, request), f"mau-03-ho-so-{dossier.pk}.pdf")


@login_required
@require_http_methods(["GET", "POST"])
def withdraw(request, pk):
    dossier = _dossier(request, pk)
    if request.method == "GET" and not _form_action_allowed(request, dossier, "withdraw"):
        return redirect(_detail_url(dossier))
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.withdraw(request.user, dossier, reason=form.cleaned_data["reason"].strip())
        except services.DossierError as error:
            show_service_error(request, form, error)
        else:
            messages.success(request, _("The dossier was withdrawn."))
            return redirect(_detail_url(dossier))
    return render(request, "dossiers/withdraw_form.html", {"dossier": dossier, "form": form})
