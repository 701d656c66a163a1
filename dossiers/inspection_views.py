"""Pages of inspections and revocations (docs/ratings-lifecycle.md): the inspections list
and page (findings, conclusion, files), the yearly plan with its products due, the
revocations with their deadlines, the inspections waiting for a revocation, the revocation
form and page with its decision.

Every page starts from ``dossiers.queries.*_visible_to(user)`` (404 outside the user's
area, and for a user without an officer or staff role); every change is a POST to one
function of ``dossiers.inspections`` or ``dossiers.revocations``, whose refusal is shown
with the user's input kept (status 400).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ocop.accounts.queries import visible_units
from ocop.documents.pdf import content_disposition
from ocop.regions.models import Level

from . import decisions, inspections, revocation_rows, revocations, rules, uploads
from .forms import show_service_error
from .inspection_forms import (
    ConcludeForm,
    FindingsForm,
    InspectionFilterForm,
    InspectionForm,
    PlanForm,
    RevocationForm,
    RevocationIssueForm,
    UploadForm,
)
from .models import (
    ACTIVE_RATING_STATES,
    InspectionConclusion,
    InspectionFinding,
    InspectionItem,
    InspectionKind,
    InspectionState,
    RevocationState,
)
from .queries import (
    INTAKE_ROLES,
    inspection_plans_visible_to,
    inspections_visible_to,
    ratings_visible_to,
    revocations_visible_to,
)
from .services import DossierError
from .views import has_intake_role

PAGE_SIZE = 50


def _intake_only(request):
    if not has_intake_role(request.user):
        raise Http404


def _may(user, action):
    return rules.may_oversee(user, action)


def _status(request):
    return 400 if request.method == "POST" else 200


# --- inspections -----------------------------------------------------------------------------


@login_required
@require_GET
def inspection_list(request):
    """The inspections of the user's area, filtered by year, kind and state, 50 a page."""
    _intake_only(request)
    form = InspectionFilterForm(request.GET or None)
    filters = form.filters()
    rows = inspections_visible_to(request.user)
    if "year" in filters:
        rows = rows.filter(Q(planned_on__year=filters["year"]) | Q(
            planned_on__isnull=True, conclusion_date__year=filters["year"]))
    if "kind" in filters:
        rows = rows.filter(kind=filters["kind"])
    if "state" in filters:
        rows = rows.filter(state=filters["state"])
    rows = rows.select_related("unit", "plan").annotate(products=Count("items"))
    page = Paginator(rows.order_by("-planned_on", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "dossiers/inspections/list.html", {
        "form": form, "page": page, "query": params.urlencode(),
        "may_inspect": _may(request.user, "inspect"),
        "may_plan": _may(request.user, "plan_inspections"),
    })


def _inspection(request, pk):
    _intake_only(request)
    qs = inspections_visible_to(request.user).select_related(
        "unit", "plan", "created_by", "concluded_by")
    return get_object_or_404(qs, pk=pk)


def _detail_context(request, inspection, *, findings_forms=None, conclude_form=None,
                    upload_form=None):
    user = request.user
    visible_ratings = ratings_visible_to(user)
    items = list(inspection.items.filter(rating__in=visible_ratings)
                 .select_related("rating__product__producer__unit", "rating__source_dossier")
                 .prefetch_related(Prefetch("findings", queryset=InspectionFinding.objects
                                            .select_related("criterion")))
                 .prefetch_related("revocations")
                 .order_by("pk"))
    may_edit = (inspection.state == InspectionState.PLANNED
                and rules.oversight_refusal(user, "inspect", inspection.unit) is None)
    may_files = rules.oversight_refusal(user, "inspect", inspection.unit) is None
    may_revoke = rules.may_oversee(user, "revoke")
    findings_forms = findings_forms or {}
    for item in items:
        item.found = list(item.findings.all())
        item.revocation = next(iter(item.revocations.all()), None)
        item.may_revoke = (may_revoke and item.conclusion in inspections.FAILING
                           and item.revocation is None
                           and item.rating.state in ACTIVE_RATING_STATES)
        if may_edit:
            item.form = findings_forms.get(item.pk) or FindingsForm(
                prefix=f"i{item.pk}", criteria=inspections.criteria_of(item),
                findings={f.criterion_id: f for f in item.found})
    if may_edit and conclude_form is None:
        conclude_form = ConcludeForm(items=items, initial={
            "conclusion_date": timezone.localdate()})
    deadline = (inspections.revocation_deadline(inspection.conclusion_date)
                if inspection.conclusion_date else None)
    return {
        "inspection": inspection, "items": items, "may_edit": may_edit,
        "may_files": may_files, "conclude_form": conclude_form,
        "upload_form": upload_form or UploadForm(), "accept": uploads.ACCEPT,
        "files": list(inspection.files.order_by("uploaded_at", "id")),
        "deadline": deadline,
    }


@login_required
@require_GET
def inspection_detail(request, pk):
    inspection = _inspection(request, pk)
    return render(request, "dossiers/inspections/detail.html",
                  _detail_context(request, inspection))


def _units_for(user):
    """The areas the user may inspect: their provinces and the current units in them."""
    return (visible_units(user, *INTAKE_ROLES).filter(valid_to__isnull=True)
            .order_by("level", "name"))


@login_required
@require_http_methods(["GET", "POST"])
def inspection_create(request):
    """Plan an inspection of one rated product (``?rating=``) or of an area."""
    _intake_only(request)
    user = request.user
    if not _may(user, "inspect"):
        raise Http404
    rating = None
    rating_id = request.GET.get("rating") or request.POST.get("rating")
    if rating_id:
        if not (str(rating_id).isdigit() and len(str(rating_id)) < 12):
            raise Http404
        rating = get_object_or_404(ratings_visible_to(user).select_related(
            "product__producer__unit"), pk=rating_id)
    plans = inspection_plans_visible_to(user).select_related("unit").order_by("-year")
    form = InspectionForm(request.POST or None, plans=plans, units=_units_for(user),
                          rating=rating, initial={"kind": InspectionKind.AD_HOC})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            inspection = inspections.create_inspection(
                user, kind=data["kind"], rating=rating, unit=data.get("unit"),
                plan=data.get("plan"), planned_on=data.get("planned_on"),
                title=data.get("title", ""), inspectors=data.get("inspectors", ""))
        except DossierError as error:
            show_service_error(request, form, error)
        else:
            messages.success(request, _("The inspection was planned; record its findings "
                                        "and conclusion on this page."))
            return redirect("inspections:detail", inspection.pk)
    return render(request, "dossiers/inspections/create.html",
                  {"form": form, "rating": rating}, status=_status(request))


@login_required
@require_POST
def findings(request, pk, item_pk):
    inspection = _inspection(request, pk)
    item = get_object_or_404(InspectionItem.objects.select_related(
        "rating__source_dossier", "rating__product"), pk=item_pk, inspection=inspection)
    form = FindingsForm(request.POST, prefix=f"i{item.pk}",
                        criteria=inspections.criteria_of(item))
    if form.is_valid():
        try:
            inspections.record_findings(request.user, item, findings=form.findings())
        except DossierError as error:
            show_service_error(request, form, error)
        else:
            messages.success(request, _("The findings were recorded."))
            return redirect("inspections:detail", inspection.pk)
    return render(request, "dossiers/inspections/detail.html", _detail_context(
        request, inspection, findings_forms={item.pk: form}), status=400)


@login_required
@require_POST
def conclude(request, pk):
    inspection = _inspection(request, pk)
    items = list(inspection.items.select_related("rating__product").order_by("pk"))
    form = ConcludeForm(request.POST, items=items)
    if form.is_valid():
        data = form.cleaned_data
        try:
            inspections.conclude(request.user, inspection, date=data["conclusion_date"],
                                 conclusions=form.conclusions(),
                                 reference=data.get("reference", ""),
                                 note=data.get("note", ""),
                                 inspected_on=data.get("inspected_on"))
        except DossierError as error:
            show_service_error(request, form, error)
        else:
            messages.success(request, _("The inspection was concluded."))
            return redirect("inspections:detail", inspection.pk)
    return render(request, "dossiers/inspections/detail.html", _detail_context(
        request, inspection, conclude_form=form), status=400)


@login_required
@require_POST
def upload(request, pk):
    inspection = _inspection(request, pk)
    form = UploadForm(request.POST, request.FILES)
    refused = uploads.refused_in(request)
    if refused is not None:
        form.is_valid()
        form.add_error(None, refused.message)
    elif form.is_valid():
        try:
            inspections.upload_file(request.user, inspection, form.cleaned_data["file"])
        except DossierError as error:
            show_service_error(request, form, error)
        else:
            messages.success(request, _("The file was added."))
            return redirect("inspections:detail", inspection.pk)
    return render(request, "dossiers/inspections/detail.html", _detail_context(
        request, inspection, upload_form=form), status=400)


@login_required
@require_GET
def inspection_file(request, pk, file_pk):
    inspection = _inspection(request, pk)
    stored = get_object_or_404(inspection.files, pk=file_pk)
    try:
        handle = stored.file.open("rb")
    except OSError as missing:
        raise Http404 from missing
    response = FileResponse(handle, content_type=stored.content_type)
    response["Content-Disposition"] = content_disposition(uploads.download_name(
        stored.original_name, stored.content_type, stored.file.name), inline=False)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- plans -----------------------------------------------------------------------------------


def _provinces_for(user):
    return (visible_units(user, *INTAKE_ROLES)
            .filter(level=Level.PROVINCE, valid_to__isnull=True).order_by("name"))


@login_required
@require_http_methods(["GET", "POST"])
def plans(request):
    """The yearly plans of the user's provinces, and a form for a new one."""
    _intake_only(request)
    user = request.user
    may_plan = _may(user, "plan_inspections")
    form = PlanForm(request.POST or None, provinces=_provinces_for(user)) if may_plan \
        else None
    if request.method == "POST":
        if form is None:
            raise Http404
        if form.is_valid():
            data = form.cleaned_data
            try:
                plan = inspections.create_plan(user, unit=data["unit"], year=data["year"],
                                               title=data["title"], note=data["note"])
            except DossierError as error:
                show_service_error(request, form, error)
            else:
                messages.success(request, _("The inspection plan was created."))
                return redirect("inspections:plan", plan.pk)
    rows = list(inspection_plans_visible_to(user).select_related("unit")
                .annotate(inspection_count=Count("inspections")).order_by("-year", "pk"))
    return render(request, "dossiers/inspections/plans.html",
                  {"plans": rows, "form": form}, status=_status(request))


@login_required
@require_GET
def plan_detail(request, pk):
    """A plan: its inspections and the products due (not inspected yet this year)."""
    _intake_only(request)
    plan = get_object_or_404(inspection_plans_visible_to(request.user).select_related("unit"),
                             pk=pk)
    due = inspections.products_due(plan).filter(pk__in=ratings_visible_to(request.user)
                                                .values("pk"))
    page = Paginator(due, PAGE_SIZE).get_page(request.GET.get("page"))
    planned = list(plan.inspections.filter(pk__in=inspections_visible_to(request.user)
                                           .values("pk"))
                   .select_related("unit").annotate(products=Count("items"))
                   .order_by("planned_on", "pk"))
    return render(request, "dossiers/inspections/plan.html", {
        "plan": plan, "page": page, "inspections": planned, "today": timezone.localdate(),
        "may_inspect": rules.oversight_refusal(request.user, "inspect", plan.unit) is None,
    })


# --- revocations -----------------------------------------------------------------------------


def _annotate_deadlines(revocations_, today):
    for revocation in revocations_:
        revocation.late = revocations.is_late(revocation, today)
        revocation.days_left = ((revocation.deadline - today).days
                                if revocation.deadline else None)
        revocation.days_overdue = -(revocation.days_left or 0)
    return revocations_


@login_required
@require_GET
def revocation_list(request):
    """The revocations of the user's area with their deadline (days left or overdue)."""
    _intake_only(request)
    page, pending_count = revocation_rows.revocation_page(
        request.user, request.GET.get("page"), PAGE_SIZE)
    today = timezone.localdate()
    return render(request, "dossiers/inspections/revocations.html", {
        "page": page, "today": today, "rows": revocation_rows.rows_html(page.object_list, today),
        "pending_count": pending_count,
    })


@login_required
@require_GET
def pending(request):
    """Inspection conclusions ("no longer meets", "violation") without a revocation yet."""
    _intake_only(request)
    return render(request, "dossiers/inspections/pending.html", {
        "items": inspections.pending_revocations(request.user),
        "may_revoke": _may(request.user, "revoke"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def revoke(request, rating_pk):
    """Open the revocation of a rating: the ground and the conclusion it rests on."""
    _intake_only(request)
    user = request.user
    if not _may(user, "revoke"):
        raise Http404
    rating = get_object_or_404(ratings_visible_to(user).select_related(
        "product__producer__unit"), pk=rating_pk)
    items = (InspectionItem.objects.filter(
        rating=rating, inspection__state=InspectionState.CONCLUDED)
        .exclude(conclusion=InspectionConclusion.MEETS)
        .select_related("inspection").order_by("-inspection__conclusion_date", "-pk"))
    initial = {}
    item_id = request.GET.get("item", "")
    if item_id.isdigit() and len(item_id) < 12:
        chosen = items.filter(pk=item_id).first()
        if chosen is not None:
            initial = {"inspection_item": chosen, "ground": (
                "b" if chosen.conclusion == InspectionConclusion.NOT_MEETS else "c")}
    form = RevocationForm(request.POST or None, items=items, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            revocation = revocations.open_revocation(
                user, rating, ground=data["ground"], inspection_item=data["inspection_item"],
                conclusion_reference=data["conclusion_reference"],
                conclusion_date=data["conclusion_date"], reason=data["reason"])
        except DossierError as error:
            show_service_error(request, form, error)
        else:
            messages.success(request, _("The revocation was opened; decide it before its "
                                        "deadline."))
            return redirect("inspections:revocation", revocation.pk)
    return render(request, "dossiers/inspections/revoke.html",
                  {"form": form, "rating": rating}, status=_status(request))


def _revocation(request, pk):
    _intake_only(request)
    qs = revocations_visible_to(request.user).select_related(
        "rating__product__producer__unit", "rating__decision", "decision",
        "inspection_item__inspection", "created_by")
    return get_object_or_404(qs, pk=pk)


def _revocation_context(request, revocation, *, issue_form=None):
    user = request.user
    today = timezone.localdate()
    _annotate_deadlines([revocation], today)
    may_decide = (revocation.state == RevocationState.DRAFT
                  and rules.oversight_refusal(user, "revoke",
                                              revocation.rating.product.producer.unit) is None)
    if may_decide and issue_form is None and revocation.rating.stars != 5:
        issue_form = RevocationIssueForm(initial={
            "number": revocations.proposed_number(revocation, today), "date": today,
            "signature_form": "kt"})
    return {"revocation": revocation, "may_decide": may_decide, "issue_form": issue_form,
            "today": today, "ministry": revocation.rating.stars == 5}


@login_required
@require_GET
def revocation_detail(request, pk):
    revocation = _revocation(request, pk)
    return render(request, "dossiers/inspections/revocation.html",
                  _revocation_context(request, revocation))


@login_required
@require_POST
def revocation_issue(request, pk):
    revocation = _revocation(request, pk)
    form = RevocationIssueForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        authority, title = decisions.SIGNATURE_FORMS[data["signature_form"]]
        try:
            revocation = revocations.issue_revocation(
                request.user, revocation, number=data["number"], date=data["date"],
                signer_name=data["signer_name"], signature_authority=authority,
                signature_title=title)
        except DossierError as error:
            show_service_error(request, form, error)
        else:
            messages.success(request, _("Decision %(ref)s revokes the rating; the public "
                                        "verification page now says it is revoked.") % {
                "ref": revocation.decision.reference})
            return redirect("inspections:revocation", revocation.pk)
    revocation.refresh_from_db()
    return render(request, "dossiers/inspections/revocation.html",
                  _revocation_context(request, revocation, issue_form=form), status=400)


@login_required
@require_POST
def revocation_withdraw(request, pk):
    revocation = _revocation(request, pk)
    try:
        revocations.withdraw_revocation(request.user, revocation)
    except DossierError as error:
        messages.error(request, error.message)
        return redirect("inspections:revocation", revocation.pk)
    messages.success(request, _("The draft revocation was deleted."))
    return redirect("inspections:revocations")


@login_required
@require_GET
def revocation_pdf(request, pk):
    revocation = _revocation(request, pk)
    decision = revocation.decision
    if decision is None or not decision.file:
        raise Http404
    try:
        handle = decision.file.open("rb")
    except OSError as missing:
        raise Http404 from missing
    response = FileResponse(handle, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition(
        f"Quyết định thu hồi {decision.reference.replace('/', '-')}.pdf", inline=False)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
