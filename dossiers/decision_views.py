"""Pages of recognition decisions (department staff, officers): the results waiting for a
decision, drafts, issued decisions with their documents, and the dossiers between levels
(docs/decisions.md).

Every page starts from ``dossiers.queries.*_visible_to(user)`` (404 outside the user's
area); every change is a POST to one function of ``dossiers.decisions`` or
``dossiers.forwarding``, whose refusal is shown with the user's input kept.
"""

import itertools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ocop.documents.pdf import content_disposition, pdf_response

from . import certificates, decision_rows, decisions, forwarding, issuing, rules
from .decision_forms import CentralResultForm, DraftTextsForm, IssueForm, ReceiveForm
from .forms import show_service_error
from .models import Decision, DecisionState, JobStatus
from .queries import dossiers_visible_to, recognition_decisions_visible_to
from .services import DossierError
from .views import has_intake_role

PAGE_SIZE = 50


def _intake_only(request):
    if not has_intake_role(request.user):
        raise Http404


def _decision(request, pk):
    _intake_only(request)
    qs = recognition_decisions_visible_to(request.user).select_related(
        "issuer_unit", "regime", "level", "replaces", "created_by", "issued_by")
    return get_object_or_404(qs, pk=pk)


def _may(user, action, decision):
    return rules.issuer_refusal(user, action, decision.issuer_unit) is None


# --- lists -------------------------------------------------------------------------------------


@login_required
@require_GET
def decision_list(request):
    _intake_only(request)
    drafts, page, pending_count, forwarded_count = decision_rows.decision_page(
        request.user, request.GET.get("page"), PAGE_SIZE)
    return render(request, "dossiers/decisions/list.html", {
        "drafts": drafts, "draft_rows": decision_rows.drafts_html(drafts), "page": page,
        "rows": decision_rows.issued_html(page.object_list),
        "pending_count": pending_count, "forwarded_count": forwarded_count,
    })


def _groups(dossiers):
    """Pending results grouped by issuer (unit, level, regime)."""
    dossiers = sorted(dossiers, key=lambda d: (decisions.issuer_key(d), d.product.name))
    groups = []
    for key, rows in itertools.groupby(dossiers, key=decisions.issuer_key):
        rows = list(rows)
        round_ = rows[0].round
        groups.append({"key": "-".join(map(str, key)), "unit": round_.unit,
                       "level": round_.level, "regime": round_.regime, "rows": rows})
    return groups


@login_required
@require_http_methods(["GET", "POST"])
def pending(request):
    """Recognised results waiting for a decision; select some of one issuer → a draft."""
    _intake_only(request)
    results = list(decisions.pending_results(request.user).order_by("product__name")[:1000])
    selected = set()
    if request.method == "POST":
        ids = request.POST.getlist("dossier")
        selected = {int(i) for i in ids if i.isdigit() and len(i) < 12}
        chosen = list(dossiers_visible_to(request.user).filter(pk__in=selected))
        try:
            if not chosen:
                raise DossierError(_("Select at least one recognised result."))
            draft = decisions.draft_decision(request.user, chosen)
        except DossierError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The draft decision was prepared. Check its texts, "
                                        "look at the draft PDF, then issue it."))
            return redirect("decisions:detail", draft.pk)
    return render(request, "dossiers/decisions/pending.html", {
        "groups": _groups(results), "selected": selected,
    }, status=400 if request.method == "POST" else 200)


# --- one decision --------------------------------------------------------------------------------


def _detail_context(request, decision, *, issue_form=None):
    user = request.user
    items = list(decision.items.select_related("dossier").order_by("order", "id"))
    ratings = list(decision.ratings.select_related("product").order_by("pk")) \
        if not decision.is_draft else []
    may_issue = decision.is_draft and _may(user, "issue_decision", decision)
    if may_issue and issue_form is None:
        today = timezone.localdate()
        issue_form = IssueForm(initial={
            "number": decisions.next_number(decision, today.year), "date": today,
            "signer_name": decision.signer_name,
            "signature_form": "tm" if decision.signature_authority.startswith("TM") else "kt"})
    replaced_by = Decision.objects.filter(replaces=decision).first()
    return {
        "decision": decision, "items": items, "ratings": ratings,
        "may_edit": decision.is_draft and _may(user, "draft_decision", decision),
        "may_issue": may_issue, "issue_form": issue_form,
        "may_correct": (decision.state == DecisionState.ISSUED and replaced_by is None
                        and decision.origin == "drafted"
                        and _may(user, "draft_decision", decision)),
        "may_retry": (decision.job_status == JobStatus.FAILED
                      and _may(user, "issue_decision", decision)),
        "made": decision.job_done, "total": decision.job_total, "replaced_by": replaced_by,
        "polling": decision.job_status in (JobStatus.QUEUED, JobStatus.RUNNING),
    }


@login_required
@require_GET
def detail(request, pk):
    decision = _decision(request, pk)
    return render(request, "dossiers/decisions/detail.html", _detail_context(request, decision))


@login_required
@require_GET
def progress(request, pk):
    """The documents' progress (htmx polls it every 2 s while queued or running)."""
    decision = _decision(request, pk)
    response = render(request, "dossiers/decisions/_progress.html",
                      _detail_context(request, decision))
    if decision.job_status == JobStatus.DONE:
        response["HX-Refresh"] = "true"  # show the downloads
    return response


@login_required
@require_http_methods(["GET", "POST"])
def edit(request, pk):
    decision = _decision(request, pk)
    if not decision.is_draft:
        messages.error(request, _("An issued decision is never changed; to correct it, "
                                  "draft a new decision that replaces it."))
        return redirect("decisions:detail", decision.pk)
    form = DraftTextsForm(request.POST or None, initial={
        name: getattr(decision, name) for name in decisions.DRAFT_FIELDS})
    if request.method == "POST" and form.is_valid():
        try:
            decisions.update_draft(request.user, decision, data=form.cleaned_data)
        except DossierError as error:
            show_service_error(request, form, error)
        else:
            messages.success(request, _("The draft was saved."))
            return redirect("decisions:detail", decision.pk)
    return render(request, "dossiers/decisions/edit.html", {"decision": decision, "form": form},
                  status=400 if request.method == "POST" else 200)


@login_required
@require_GET
def preview(request, pk):
    """The draft as a PDF with the "DỰ THẢO" watermark."""
    decision = _decision(request, pk)
    if not decision.is_draft:
        return redirect("decisions:pdf", decision.pk)
    pdf = certificates.render_decision(decision, draft=True)
    return pdf_response(pdf, f"du-thao-quyet-dinh-{decision.pk}.pdf", inline=True)


@login_required
@require_POST
def issue(request, pk):
    decision = _decision(request, pk)
    form = IssueForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        authority, title = decisions.SIGNATURE_FORMS[data["signature_form"]]
        try:
            decision = decisions.issue_decision(
                request.user, decision, number=data["number"], date=data["date"],
                signer_name=data["signer_name"], signature_authority=authority,
                signature_title=title)
        except DossierError as error:
            show_service_error(request, form, error)
        else:
            messages.success(request, _("Decision %(ref)s was issued; its ratings were "
                                        "created. The decision and the certificates are "
                                        "being made.") % {"ref": decision.reference})
            return redirect("decisions:detail", decision.pk)
    decision.refresh_from_db()
    return render(request, "dossiers/decisions/detail.html",
                  _detail_context(request, decision, issue_form=form), status=400)


@login_required
@require_POST
def correct(request, pk):
    decision = _decision(request, pk)
    try:
        draft = decisions.draft_decision(request.user, [], replaces=decision)
    except DossierError as error:
        messages.error(request, error.message)
        return redirect("decisions:detail", decision.pk)
    messages.success(request, _("A correcting draft was prepared; once issued it replaces "
                                "decision %(ref)s.") % {"ref": decision.reference})
    return redirect("decisions:detail", draft.pk)


@login_required
@require_POST
def delete(request, pk):
    decision = _decision(request, pk)
    try:
        decisions.delete_draft(request.user, decision)
    except DossierError as error:
        messages.error(request, error.message)
        return redirect("decisions:detail", decision.pk)
    messages.success(request, _("The draft was deleted; its results wait for a decision "
                                "again."))
    return redirect("decisions:list")


@login_required
@require_POST
def retry(request, pk):
    decision = _decision(request, pk)
    if not _may(request.user, "issue_decision", decision):
        raise Http404
    issuing.requeue(decision)
    messages.success(request, _("The documents are being made again."))
    return redirect("decisions:detail", decision.pk)


def _stored(field, filename):
    if not field or not field.storage.exists(field.name):
        raise Http404
    response = FileResponse(field.open("rb"), content_type=(
        "application/zip" if field.name.endswith(".zip") else "application/pdf"))
    response["Content-Disposition"] = content_disposition(filename, inline=False)
    return response


@login_required
@require_GET
def pdf(request, pk):
    decision = _decision(request, pk)
    if decision.is_draft:
        return redirect("decisions:preview", decision.pk)
    return _stored(decision.file, f"Quyết định {decision.reference.replace('/', '-')}.pdf")


@login_required
@require_GET
def bundle(request, pk):
    decision = _decision(request, pk)
    return _stored(decision.bundle,
                   f"Quyết định {decision.reference.replace('/', '-')} và giấy chứng nhận.zip")


# --- between levels ------------------------------------------------------------------------------


@login_required
@require_GET
def forwarded(request):
    """Forwarded dossiers that have not reached the next level's round, and dossiers sent
    to the Ministry waiting for its result."""
    _intake_only(request)
    visible = dossiers_visible_to(request.user).select_related(
        "product__producer", "round__unit", "round__level", "round__regime", "unit")
    waiting = list(forwarding.awaiting_round(visible).order_by("product__name")[:500])
    targets = forwarding.target_rounds_many(waiting)
    rows = [{"dossier": d, "rounds": targets[d.pk]} for d in waiting]
    sent = list(visible.filter(state="forwarded", round__level__admin_level="province")
                .order_by("product__name")[:500])
    following = forwarding.next_levels({d.round.level for d in sent})
    central = [d for d in sent if following[d.round.level_id] is not None
               and following[d.round.level_id].admin_level == "central"]
    return render(request, "dossiers/decisions/forwarded.html", {
        "rows": rows, "central": central,
        "may_record": rules.check_role(request.user, "record_central_result") is None})


@login_required
@require_POST
def receive(request, pk):
    _intake_only(request)
    dossier = get_object_or_404(dossiers_visible_to(request.user), pk=pk)
    form = ReceiveForm(request.POST, rounds=forwarding.target_rounds(dossier),
                       prefix=f"d{dossier.pk}")
    if not form.is_valid():
        messages.error(request, _("Choose an open round of the next level."))
        return redirect("decisions:forwarded")
    try:
        arrived = forwarding.receive_forwarded(request.user, dossier, form.cleaned_data["round"])
    except DossierError as error:
        messages.error(request, error.message)
        return redirect("decisions:forwarded")
    messages.success(request, _("The dossier is now in the intake of %(round)s.")
                     % {"round": arrived.round})
    return redirect("dossiers:detail", arrived.pk)


@login_required
@require_http_methods(["GET", "POST"])
def central_result(request, pk):
    _intake_only(request)
    dossier = get_object_or_404(dossiers_visible_to(request.user).select_related(
        "product__producer", "round__level", "round__regime"), pk=pk)
    refusal = rules.check_access(request.user, "record_central_result", dossier)
    if refusal is not None:
        raise Http404
    form = CentralResultForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            dossier = forwarding.record_central_result(
                request.user, dossier, score=data["score"], stars=data["stars"],
                decision_number=data["decision_number"], decision_date=data["decision_date"])
        except DossierError as error:
            show_service_error(request, form, error)
        else:
            if dossier.central_rating is not None:
                messages.success(request, _("The Ministry's result was recorded; the product "
                                            "is rated %(stars)s★.")
                                 % {"stars": dossier.result_stars})
            elif dossier.state == "recognised":
                messages.success(request, _("The Ministry's result was recorded; the province "
                                            "may now recognise %(stars)s★ by its own decision.")
                                 % {"stars": dossier.result_stars})
            else:
                messages.success(request, _("The Ministry's result was recorded: not "
                                            "recognised."))
            return redirect("dossiers:detail", dossier.pk)
    return render(request, "dossiers/decisions/central_result.html",
                  {"dossier": dossier, "form": form},
                  status=400 if request.method == "POST" else 200)

