"""Council member pages: my sessions, a session's agenda, the scoresheet and the recusal
form. Views only: the sheet's read model and helpers are in ``councils/sheets.py`` (the API
uses them too), the forms in ``councils/forms.py``, who may do what in ``councils/rules.py``.

The scoresheet page (``/councils/sessions/<session>/dossiers/<dossier>/sheet/``)
------------------------------------------------------------------------------------
- The official tree of the dossier's criteria set, one radio group per criterion (a
  ``<fieldset>`` with its ``<legend>``) and an optional note; running totals per part, the
  star this sheet alone would give and what caps it (``scoring.services.summarise``).
- **Autosave protocol** (htmx): each criterion's fieldset posts ``criterion``, its option
  (``c-<id>``), its note (``n-<id>``) and the ``version`` the page holds to
  ``…/sheet/autosave/`` when a radio changes or a note loses focus. Requests of one page
  are queued (``hx-sync``), so each one carries the version the previous answer returned.
  200 → the status line ("Saved"), plus out-of-band: the new ``version``, the totals panel
  and the criterion's answered mark. 409 (``StaleSheet``: the sheet changed in another tab)
  or 422 (refused: submitted, item closed…) → the whole sheet area is replaced by the
  current database values with the message; nothing is ever overwritten silently.
- **Without JavaScript** the form posts every choice at once with ``version`` to the page
  URL; ``sheets.save_changes`` calls ``scoring.services.save_entry`` for each changed
  criterion under the same version rule, all or nothing.
- Submit (``action=submit``) saves the changes and asks for confirmation (the totals and
  what submitting means); ``action=confirm_submit`` then locks the sheet. It is refused
  while a criterion is unanswered, and the page lists them with links.
- A sheet reopened for re-scoring shows the reason the chair (or vice-chair) gave.

Every page and the autosave endpoint run a fixed number of queries whatever the size of the
set and of the council (``tests/councils/test_sheet_queries.py``).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from councils import queries as council_queries
from councils import services as council_services
from councils.models import AgendaItem, CouncilMember, MemberRole, Recusal
from dossiers.models import DocumentFile
from scoring.models import Scoresheet, SheetState
from scoring.queries import bands_of
from scoring.services import ScoringError, StaleSheet, submit_sheet

from .forms import AutosaveForm, RecusalForm, ScoresheetForm
from .sheets import (
    SheetPage,
    agenda_item,
    autosave_sheet,
    mark_html,
    member_session,
    save_changes,
    sheet_summary,
    sheet_tree,
    totals_html,
)


def _refused(request, page, message, status=403):
    return render(request, "councils/member/refused.html",
                  {"session": page.session, "item": page.item, "dossier": page.dossier,
                   "message": message, "recusal": page.recusal}, status=status)


# --- Pages -------------------------------------------------------------------------------------


@login_required
def my_sessions(request):
    """Sessions of the councils the user belongs to, with the user's role and progress."""
    user = request.user
    sessions = list(
        council_queries.sessions_visible_to(user).filter(council__members__user=user)
        .select_related("council", "round").annotate(items=Count("agenda", distinct=True))
        .order_by("-date", "-id"))
    roles = {m.council_id: m for m in CouncilMember.objects.filter(user=user)}
    progress = {}
    for session_id, state, n in (Scoresheet.objects.filter(member__user=user)
                                 .values_list("session_id", "state")
                                 .annotate(n=Count("id")).order_by()):
        progress.setdefault(session_id, {})[state] = n
    rows = [{"session": s, "member": roles.get(s.council_id),
             "submitted": progress.get(s.pk, {}).get(SheetState.SUBMITTED, 0),
             "started": sum(progress.get(s.pk, {}).values())} for s in sessions]
    return render(request, "councils/member/my_sessions.html", {"rows": rows})


@login_required
def member_agenda(request, session_id):
    """A session's agenda as a member sees it: products, criteria sets, the dossier files
    to read, the member's sheet per item and the recusal links."""
    session, member = member_session(request, session_id)
    items = list(AgendaItem.objects.filter(session=session)
                 .select_related("dossier__product__producer", "dossier__criteria_set__regime")
                 .order_by("order", "id"))
    dossier_ids = [item.dossier_id for item in items]
    files = {}
    for f in (DocumentFile.objects.filter(dossier_id__in=dossier_ids)
              .select_related("document__item").order_by("dossier_id", "uploaded_at", "id")):
        files.setdefault(f.dossier_id, []).append(f)
    sheets = {s.dossier_id: s for s in Scoresheet.objects.filter(session=session, member=member)
              .annotate(answered=Count("entries", filter=Q(entries__option__isnull=False)),
                        criteria=Count("entries"))}
    recusals = {r.dossier_id: r for r in Recusal.objects.filter(session=session,
                                                                member=member)}
    rows = [{"item": item, "dossier": item.dossier, "files": files.get(item.dossier_id, []),
             "sheet": sheets.get(item.dossier_id), "recusal": recusals.get(item.dossier_id)}
            for item in items]
    return render(request, "councils/member/agenda.html", {
        "session": session, "member": member, "rows": rows,
        "scoring_open": session.is_open_for_scoring,
    })


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def sheet_page(request, session_id, dossier_id):
    """The scoresheet page (GET); the whole sheet posted at once without JavaScript
    (POST, ``action=save``, ``action=submit`` — asks for confirmation — or
    ``action=confirm_submit``)."""
    page = SheetPage(request, session_id, dossier_id)
    refusal = page.refusal()
    if refusal:
        return _refused(request, page, refusal)
    try:
        page.open()
    except ScoringError as error:
        return _refused(request, page, error.message)
    if request.method == "POST":
        return _post_whole_sheet(request, page)
    return render(request, "councils/member/sheet.html", page.context())


def _render_sheet(request, page, status=200, **context):
    return render(request, "councils/member/sheet.html", page.context(**context),
                  status=status)


def _post_whole_sheet(request, page):
    sheet = page.sheet
    tree = sheet_tree(sheet.criteria_set)
    form = ScoresheetForm(request.POST, options=tree.options)
    if not form.is_valid():
        if "version" in form.errors:
            message = _("The page was incomplete (no version); the current values are shown.")
        else:
            message = _("Some answers could not be read; they are marked below. Nothing "
                        "was saved.")
        return _render_sheet(request, page, status=422, message=message,
                             errors=form.criterion_errors)
    version = form.cleaned_data["version"]
    action = form.cleaned_data.get("action")
    entries = page.entries()
    current = {e.criterion_id: (e.option_id, e.note) for e in entries}
    try:
        sheet, entries = save_changes(sheet, request.user, version, form.changes(current),
                                      entries=entries)
    except StaleSheet as error:
        page.sheet = Scoresheet.objects.select_related("criteria_set__regime").get(
            pk=sheet.pk)
        return _render_sheet(request, page, status=409, message=error.message)
    except ScoringError as error:
        page.sheet = Scoresheet.objects.select_related("criteria_set__regime").get(
            pk=sheet.pk)
        return _render_sheet(request, page, status=422, message=error.message)
    page.sheet = sheet
    if action == "submit":
        # first ask: submitting locks the sheet for good (unless the chair reopens it)
        missing = sheet_summary(sheet, entries, tree, page.bands())["unanswered"]
        if missing:
            return _render_sheet(
                request, page, status=422, entries=entries, unanswered_list=missing,
                message=_("Please answer every criterion before submitting. Unanswered: "
                          "%(list)s") % {"list": ", ".join(c["code"] for c in missing)})
        return _render_sheet(request, page, entries=entries, confirm_submit=True)
    if action == "confirm_submit":
        try:
            page.sheet = submit_sheet(sheet, request.user)
        except ScoringError as error:
            missing = [tree.by_id[pk] for pk in error.details.get("criteria", [])
                       if pk in tree.by_id]
            return _render_sheet(request, page, status=422, message=error.message,
                                 entries=entries, unanswered_list=missing)
        messages.success(request, _("Your scoresheet has been submitted and is now locked."))
    else:
        messages.success(request, _("Your choices have been saved."))
    return redirect(page.urls()["sheet"])


@login_required
@require_POST
@vary_on_headers("HX-Request")
def sheet_autosave(request, session_id, dossier_id):
    """One autosaved change (htmx). Answers the status line plus out-of-band updates of
    the version, the totals and the criterion's mark; on a stale version or a refusal,
    the whole sheet area with the current values and the message."""
    sheet, entries, band_rows = autosave_sheet(request.user, session_id, dossier_id)
    form = AutosaveForm(request.POST)
    if not form.is_valid():
        return _autosave_problem(
            request, session_id, dossier_id,
            _("The change could not be read; the current values are shown."), 422)
    change = form.change()
    if change[0] not in sheet_tree(sheet.criteria_set).by_id:
        return _autosave_problem(
            request, session_id, dossier_id,
            _("This criterion is not part of the scoresheet."), 422)
    try:
        sheet, entries = save_changes(sheet, request.user, form.cleaned_data["version"],
                                      [change], entries=entries)
    except StaleSheet as error:
        return _autosave_problem(request, session_id, dossier_id, error.message, 409)
    except ScoringError as error:
        return _autosave_problem(request, session_id, dossier_id, error.message, 422)
    if not request.htmx:
        messages.success(request, _("Your choices have been saved."))
        return redirect("councils:sheet", session_id, dossier_id)
    tree = sheet_tree(sheet.criteria_set)
    summary = sheet_summary(sheet, entries, tree,
                            bands_of(sheet.criteria_set.regime_id, band_rows))
    criterion = tree.by_id[change[0]]
    answered = any(e.criterion_id == criterion["id"] and e.option_id is not None
                   for e in entries)
    # No request context: the fragment needs none (and the context processors' queries).
    return HttpResponse(render_to_string("councils/member/_autosave.html", {
        "sheet": sheet, "totals": totals_html(summary, oob=True),
        "mark": mark_safe(mark_html(criterion["id"], answered, oob=True)),
    }))


def _autosave_problem(request, session_id, dossier_id, message, status):
    """The sheet area re-read from the database, with ``message`` (htmx retargets it)."""
    if not request.htmx:
        messages.error(request, message)
        return redirect("councils:sheet", session_id, dossier_id)
    page = SheetPage(request, session_id, dossier_id)
    if page.sheet is None:
        raise Http404
    response = render(request, "councils/member/_sheet_area.html",
                      {**page.context(message=message), "oob_status": True}, status=status)
    response["HX-Retarget"] = "#sheet-area"
    response["HX-Reswap"] = "outerHTML"
    return response


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def recusal(request, session_id, dossier_id):
    """Declare a conflict of interest with the producer of one agenda dossier
    (``councils.services.declare_recusal``); the secretary may declare it for a member."""
    session, member = member_session(request, session_id)
    item = agenda_item(session, dossier_id)
    for_members = None
    if member.role == MemberRole.SECRETARY:
        for_members = [m for m in session.council.members.select_related("user")
                       if m.scores]
    existing = list(Recusal.objects.filter(session=session, dossier=item.dossier)
                    .select_related("member__user", "recorded_by"))
    mine = next((r for r in existing if r.member_id == member.pk), None)
    form = RecusalForm(request.POST or None, members=for_members)
    error = None
    if request.method == "POST" and form.is_valid():
        target = member
        if for_members is not None:
            target = next(m for m in for_members if m.pk == form.cleaned_data["member"])
        try:
            council_services.declare_recusal(request.user, session, member=target,
                                             dossier=item.dossier,
                                             reason=form.cleaned_data["reason"])
        except council_services.CouncilError as exc:
            error = exc.message
        else:
            messages.success(request, _("The conflict of interest has been recorded; you will "
                                        "not score this dossier.") if target == member else
                             _("The conflict of interest has been recorded for %(member)s.")
                             % {"member": target.user.display_name})
            return redirect("councils:member-agenda", session.pk)
    status = 200 if error is None and not form.errors else 422
    return render(request, "councils/member/recusal_form.html", {
        "session": session, "member": member, "item": item, "dossier": item.dossier,
        "form": form, "error": error, "mine": mine,
        "recusals": existing if for_members is not None else [],
    }, status=status)
