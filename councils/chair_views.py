"""Staff and chair pages of the councils: councils and sessions (department staff of the
area, administrators), the chair's live tracker, the results pages and the downloads
(minutes PDF, Excel export). Views only: forms are in ``councils/forms.py``, the tracker's
read model in ``councils/board.py``.

Who may use which page and what it shows is decided by ``councils.rules`` (one place, the
same rules as the services and the API): a session the user may not see answers 404
(outsiders); a page of a session the user may see but not use answers 403 with the
refusal's reason (an ordinary member on the tracker).

Every change is a POST that calls one service (``councils.services``) and redirects
(POST-redirect-GET); a refusal is shown as a message and changes nothing.

The tracker (``/councils/sessions/<id>/tracker/``) polls its fragment
(``…/tracker/live/``) with htmx every :data:`POLL_SECONDS` seconds while the session is
not closed; without JavaScript the page has a "refresh" link.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch
from django.http import FileResponse, Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dossiers.models import EvaluationRound
from ocop.documents.pdf import content_disposition

from . import exports, rules, services
from . import queries as council_queries
from .board import (
    CSRF_SLOT,
    build_board,
    cached_fragment,
    cached_section,
    fragment_key,
    keep_fragment,
    keep_section,
    section_key,
    tracker_session,
)
from .forms import (
    AgendaForm,
    AttendanceForm,
    CloseItemForm,
    CouncilForm,
    MemberFormSet,
    ReopenForm,
    SessionForm,
    member_rows,
)
from .models import (
    AgendaItem,
    CouncilLevel,
    CouncilMember,
    DocumentKind,
    EvaluationSession,
    GeneratedDocument,
    MemberRole,
    SessionState,
)
from .results import quorum

#: Seconds between two refreshes of the tracker (htmx polling).
POLL_SECONDS = 5
#: htmx swaps a 286 answer like a 200 and stops polling (the session is closed).
HTMX_STOP_POLLING = 286

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

SESSION_RELATED = ("council__unit", "round__unit", "round__level", "round__regime")


def _minutes_not_queued():
    """The broker was down when the minutes were queued: the row stays queued and the
    beat sweep sends the job again (docs/background-jobs.md)."""
    return _("The minutes could not be queued right now; this will be retried "
             "automatically within a few minutes.")


def _session(request, session_id):
    """The session if the user may see it (else 404), with what every page shows."""
    return get_object_or_404(
        council_queries.sessions_visible_to(request.user).select_related(*SESSION_RELATED),
        pk=session_id)


def _council(request, council_id):
    return get_object_or_404(
        council_queries.councils_visible_to(request.user).select_related("unit"),
        pk=council_id)


def _refuse(message):
    """403 for a user who sees the object but may not use this page or action."""
    raise PermissionDenied(message)


def _require(user, action, session):
    """403 with the rule's reason unless ``user`` may do ``action`` in ``session`` (role
    only: a state refusal comes from the service, as a message)."""
    if not rules.may(user, action, session):
        _refuse(rules.WHO_LABELS[action])


def _service_error(request, error):
    messages.error(request, getattr(error, "message", None) or str(error))


# --- Councils (department staff) -----------------------------------------------------------


@login_required
@require_GET
def council_list(request):
    """The councils of the user's areas (and those the user belongs to)."""
    user = request.user
    councils = list(
        council_queries.councils_visible_to(user).select_related("unit")
        .annotate(member_count=Count("members", distinct=True),
                  session_count=Count("sessions", distinct=True))
        .order_by("-decision_date", "-id"))
    can_create = council_queries.manageable_units(user).exists()
    return render(request, "councils/chair/council_list.html",
                  {"councils": councils, "can_create": can_create})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def council_create(request):
    user = request.user
    units = list(council_queries.manageable_units(user).values_list("pk", "level")[:2])
    if not units:
        _refuse(services.REFUSED_SETUP)
    # A district officer (one district) finds their district and level already chosen.
    initial = {"level": CouncilLevel.PROVINCE}
    if len(units) == 1:
        initial = {"unit": units[0][0], "level": units[0][1]}
    form = CouncilForm(request.POST or None, user=user, initial=initial)
    formset = MemberFormSet(request.POST or None, prefix="members",
                            initial=None if request.method == "POST" else
                            [{"role": MemberRole.CHAIR}, {"role": MemberRole.VICE_CHAIR},
                             {}, {}, {}, {}, {"role": MemberRole.SECRETARY}])
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = {name: value for name, value in form.cleaned_data.items()}
        try:
            council = services.create_council(user, data=data, members=member_rows(formset))
        except services.CouncilError as error:
            _show_on_form(request, form, error)
        else:
            messages.success(request, _("The council was set up."))
            return redirect("councils:council-detail", council.pk)
    return render(request, "councils/chair/council_form.html",
                  {"form": form, "formset": formset})


def _show_on_form(request, form, error):
    """A service refusal next to the fields it names, else as a message."""
    details = getattr(error, "details", None) or {}
    fields = details.get("fields") if isinstance(details, dict) else None
    if fields and form is not None:
        for name, errors in fields.items():
            for message in errors if isinstance(errors, list | tuple) else [errors]:
                form.add_error(name if name in form.fields else None, message)
    else:
        _service_error(request, error)


@login_required
@require_GET
def council_detail(request, council_id):
    council = _council(request, council_id)
    members = list(council.members.select_related("user").order_by("order", "id"))
    sessions = list(council.sessions.select_related("round__unit")
                    .annotate(items=Count("agenda")).order_by("-date", "-id"))
    return render(request, "councils/chair/council_detail.html", {
        "council": council, "members": members, "sessions": sessions,
        "can_manage": council_queries.can_manage_council(request.user, council),  # plan
    })


# --- Sessions (department staff; chair and secretary run them) ------------------------------


@login_required
@require_GET
def session_list(request):
    sessions = list(
        council_queries.sessions_visible_to(request.user)
        .select_related("council", "round__unit").annotate(items=Count("agenda"))
        .order_by("-date", "-id"))
    return render(request, "councils/chair/session_list.html", {"sessions": sessions})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def session_create(request, council_id):
    council = _council(request, council_id)
    if not council_queries.can_manage_council(request.user, council):
        _refuse(rules.WHO_LABELS["plan_session"])
    form = SessionForm(request.POST or None, user=request.user, council=council)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            session = services.create_session(request.user, council=council,
                                              round=data["round"], date=data["date"],
                                              place=data["place"],
                                              mode=data.get("mode") or "meeting",
                                              opinions_due=data.get("opinions_due"))
        except services.CouncilError as error:
            _show_on_form(request, form, error)
        else:
            messages.success(request, _("The session was planned. Now choose its agenda."))
            return redirect("councils:session-agenda-edit", session.pk)
    return render(request, "councils/chair/session_form.html",
                  {"form": form, "council": council})


@login_required
@require_GET
def session_detail(request, session_id):
    session = _session(request, session_id)
    user = request.user
    items = list(session.agenda.select_related("dossier__product__producer",
                                               "dossier__criteria_set").order_by("order", "id"))
    members = list(CouncilMember.objects.filter(council_id=session.council_id)
                   .select_related("user").prefetch_related(
                       Prefetch("attendance", queryset=session.attendance.all(),
                                to_attr="session_attendance"))
                   .order_by("order", "id"))
    minutes = GeneratedDocument.objects.filter(session=session,
                                               kind=DocumentKind.MINUTES).first()
    actor = rules.Actor(user, session)
    return render(request, "councils/chair/session_detail.html", {
        "session": session, "items": items, "members": members, "minutes": minutes,
        "can_manage": rules.may(actor, "set_agenda", session),
        "can_run": rules.may(actor, "open_scoring", session),
        "can_track": rules.may(actor, "track", session),
        "is_chair": actor.role == MemberRole.CHAIR,
        "can_close": rules.may(actor, "close_session", session),
        "may_see_results": rules.may_see_results(actor, session),
        "membership": actor.member,
    })


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def session_agenda_edit(request, session_id):
    session = _session(request, session_id)
    _require(request.user, "set_agenda", session)
    form = AgendaForm(request.POST or None, session=session,
                      initial={"dossiers": list(session.agenda.values_list("dossier_id",
                                                                            flat=True))})
    if request.method == "POST" and form.is_valid():
        try:
            services.set_agenda(request.user, session, list(form.cleaned_data["dossiers"]))
        except services.CouncilError as error:
            _show_on_form(request, form, error)
        else:
            messages.success(request, _("The agenda was saved."))
            return redirect("councils:session-detail", session.pk)
    return render(request, "councils/chair/agenda_form.html",
                  {"form": form, "session": session})


@login_required
@require_POST
def session_open(request, session_id):
    session = _session(request, session_id)
    _require(request.user, "open_scoring", session)
    try:
        services.open_scoring(request.user, session)
    except services.CouncilError as error:
        _service_error(request, error)
    else:
        messages.success(request, _("Scoring is open: members can now fill in their "
                                    "scoresheets."))
    return redirect("councils:session-detail", session.pk)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def session_meeting(request, session_id):
    """Start the meeting: record who is present (attendance checkboxes)."""
    session = _session(request, session_id)
    _require(request.user, "start_meeting", session)
    form = AttendanceForm(request.POST or None, session=session)
    if request.method == "POST" and form.is_valid():
        try:
            services.start_meeting(request.user, session,
                                   present=list(form.cleaned_data["present"]))
        except services.CouncilError as error:
            _show_on_form(request, form, error)
        else:
            messages.success(request, _("The meeting has started; the attendance was "
                                        "recorded."))
            return redirect("councils:tracker", session.pk)
    return render(request, "councils/chair/meeting_form.html",
                  {"form": form, "session": session, "quorum": quorum(session),
                   "not_yet": rules.meeting_day_refusal(session)})


@login_required
@require_POST
def session_close(request, session_id):
    session = _session(request, session_id)
    _require(request.user, "close_session", session)
    try:
        closed = services.close_session(request.user, session)
    except services.CouncilError as error:
        _service_error(request, error)
    else:
        messages.success(request, _("The session is closed. The minutes are being "
                                    "prepared."))
        if closed.minutes_wake_failed:
            messages.warning(request, _minutes_not_queued())
        return redirect("councils:session-results", session.pk)
    return redirect("councils:tracker", session.pk)


# --- The chair's tracker ---------------------------------------------------------------------


#: What the tracker reads with the session on every request (``_session`` reads more
#: for the other pages): the round and its process level only when the board is built.
TRACKER_RELATED = ("council",)


def _tracker_session(request, session_id):
    """The session and the user's standing in it (the membership read once); 404 when
    the user may not see it (as :func:`_session`), 403 when they may not track it. A
    member of the council sees its sessions (``council_queries.councils_visible_to``):
    only someone else is looked up in the scoping query."""
    try:
        found = tracker_session(session_id, request.user)
    except NotImplementedError:  # SQLite: the ORM, no digest
        session = get_object_or_404(
            EvaluationSession.objects.select_related(*TRACKER_RELATED), pk=session_id)
        actor = rules.Actor(request.user, session)
    else:
        if found is None:
            raise Http404
        session, member = found
        actor = rules.Actor(request.user, session, member=member)
    if actor.member is None and not council_queries.sessions_visible_to(
            request.user).filter(pk=session.pk).exists():
        raise Http404
    _require(actor, "track", session)
    return session, actor


def _tracker_board_html(request, session, actor):
    """The tracker's board (``_tracker_board.html``), kept per process while nothing it
    shows changed (``councils.board.fragment_key``): a poll of an unchanged session reads
    one digest and renders nothing but the CSRF token."""
    key = fragment_key(session, actor, getattr(session, "tracker_version", None))
    html = cached_fragment(key)
    if html is None:
        session.round = (EvaluationRound.objects.select_related("level")
                         .get(pk=session.round_id))
        built = build_board(request.user, session, actor=actor)
        _render_sections(built)
        # no context processor: the fragment shows nothing of the request but its token
        html = render_to_string("councils/chair/_tracker_board.html",
                                {**_tracker_context(built), "csrf_token": CSRF_SLOT})
        keep_fragment(key, session, html)
    if CSRF_SLOT in html:
        html = html.replace(CSRF_SLOT, get_token(request))
    return mark_safe(html)  # noqa: S308 - rendered by the template engine above


def _render_sections(board):
    """Each item's section of the board (``_tracker_item.html``), rendered only when what
    it shows changed (``councils.board.section_key``)."""
    for number, row in enumerate(board.rows, 1):
        key = section_key(board, row, number)
        html = cached_section(key)
        if html is None:
            html = keep_section(key, render_to_string(
                "councils/chair/_tracker_item.html",
                {"row": row, "counter": number, "board": board, "session": board.session,
                 "csrf_token": CSRF_SLOT}))
        row.section_html = mark_safe(html)  # noqa: S308 - rendered by the template engine


def _tracker_context(board):
    return {"board": board, "session": board.session, "poll_seconds": POLL_SECONDS,
            "live": board.session.state != SessionState.CLOSED,
            "can_close": board.can_close}


@login_required
@require_GET
def tracker(request, session_id):
    """Per agenda item: who has submitted, quorum, and — where the independence rule
    allows — means, band, capped star, divergence; the chair's actions."""
    session, actor = _tracker_session(request, session_id)
    return render(request, "councils/chair/tracker.html", {
        "session": session, "poll_seconds": POLL_SECONDS,
        "live": session.state != SessionState.CLOSED,
        "board_html": _tracker_board_html(request, session, actor),
        "can_close": rules.check(actor, "close_item", session) is None})


@login_required
@require_GET
def tracker_live(request, session_id):
    """The tracker's polled fragment (the same content as the page's body)."""
    session, actor = _tracker_session(request, session_id)
    response = HttpResponse(_tracker_board_html(request, session, actor))
    response["Cache-Control"] = "no-store"
    patch_vary_headers(response, ["HX-Request"])
    if session.state == SessionState.CLOSED:
        response.status_code = HTMX_STOP_POLLING
    return response


def _agenda_item(request, session_id, dossier_id, action):
    session = _session(request, session_id)
    _require(request.user, action, session)
    item = get_object_or_404(AgendaItem.objects.select_related("dossier__product"),
                             session=session, dossier_id=dossier_id)
    return session, item


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def reopen(request, session_id, dossier_id, member_id):
    """Reopen a member's submitted sheet for re-scoring, with the reason shown to them
    (``services.reopen_sheet``: the chair, or the vice-chair for the chair's sheet)."""
    session, item = _agenda_item(request, session_id, dossier_id, "reopen_sheet")
    member = get_object_or_404(CouncilMember.objects.select_related("user"),
                               council_id=session.council_id, pk=member_id)
    sheet = (session.scoresheets.select_related("session__council", "member")
             .filter(dossier_id=dossier_id, member=member).first())
    if sheet is None:
        raise Http404
    refusal = rules.reopen_refusal(request.user, sheet, item)
    if refusal is not None and refusal.code in ("permission", "own_sheet"):
        _refuse(refusal.message)
    form = ReopenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reopen_sheet(request.user, sheet, form.cleaned_data["reason"])
        except services.CouncilError as error:
            _service_error(request, error)
        else:
            messages.success(request, _("The scoresheet of %(member)s for “%(product)s” was "
                                        "reopened for re-scoring.") % {
                "member": member.user.display_name, "product": item.dossier.product.name})
            return redirect("councils:tracker", session.pk)
    return render(request, "councils/chair/reopen_form.html",
                  {"form": form, "session": session, "item": item, "member": member,
                   "sheet": sheet, "refusal": refusal})


@login_required
@require_POST
def close_item(request, session_id, dossier_id):
    """Close scoring of one product and record its result (``services.close_item``: the
    chair, in the meeting, with quorum; a divergence needs a re-score or the statement)."""
    session, item = _agenda_item(request, session_id, dossier_id, "close_item")
    form = CloseItemForm(request.POST)
    statement = form.cleaned_data["statement"] if form.is_valid() else ""
    try:
        services.close_item(request.user, session, item.dossier,
                            divergence_statement=statement)
    except services.CouncilError as error:
        # the tracker again, with the refusal and what the chair typed (nothing lost)
        _service_error(request, error)
        board = build_board(request.user, session)
        return render(request, "councils/chair/tracker.html",
                      {**_tracker_context(board),
                       "statements": {item.dossier_id: statement}}, status=422)
    else:
        messages.success(request, _("Scoring of “%(product)s” is closed and its result "
                                    "recorded.") % {"product": item.dossier.product.name})
    return redirect("councils:tracker", session.pk)


# --- Results ---------------------------------------------------------------------------------


def _results_board(request, session_id, dossier_id=None):
    session = _session(request, session_id)
    if not rules.may_see_results(request.user, session):
        _refuse(_("The results are confidential until the session is closed."))
    return build_board(request.user, session, dossier_id=dossier_id)


@login_required
@require_GET
def session_results(request, session_id):
    board = _results_board(request, session_id)
    minutes = GeneratedDocument.objects.filter(session=board.session,
                                               kind=DocumentKind.MINUTES).first()
    return render(request, "councils/results/session_results.html", {
        "board": board, "session": board.session, "minutes": minutes,
        "can_export": rules.export_refusal(request.user, board.session) is None,
        "can_read": rules.minutes_refusal(request.user, board.session) is None,
        "can_regenerate": rules.check(request.user, "request_minutes",
                                      board.session) is None,
    })


@login_required
@require_GET
def dossier_result(request, session_id, dossier_id):
    board = _results_board(request, session_id, dossier_id)
    if not board.rows:
        raise Http404
    row = board.rows[0]
    return render(request, "councils/results/dossier_result.html",
                  {"board": board, "session": board.session, "row": row})


# --- Downloads -------------------------------------------------------------------------------


@login_required
@require_GET
def minutes_status(request, session_id):
    """The minutes' status row (queued / running / done / failed with reason); polled by
    the results page while the PDF is being built."""
    session = _session(request, session_id)
    if not rules.may_see_results(request.user, session) or session.state != SessionState.CLOSED:
        _refuse(_("The minutes exist once the session is closed."))
    minutes = GeneratedDocument.objects.filter(session=session,
                                               kind=DocumentKind.MINUTES).first()
    return render(request, "councils/results/_minutes.html", {
        "session": session, "minutes": minutes,
        "can_read": rules.minutes_refusal(request.user, session) is None,
        "can_regenerate": rules.check(request.user, "request_minutes", session) is None})


@login_required
@require_GET
def minutes_download(request, session_id):
    session = _session(request, session_id)
    refusal = rules.minutes_refusal(request.user, session)
    if refusal is not None:
        _refuse(refusal.message)
    # The last good file, also while a new one is being made (it is replaced only once
    # the new one exists) or after a failed regeneration.
    minutes = GeneratedDocument.objects.filter(
        session=session, kind=DocumentKind.MINUTES).exclude(file="").first()
    if minutes is None or not minutes.file:
        raise Http404
    if not minutes.file.storage.exists(minutes.file.name):
        raise Http404
    filename = f"bien-ban-hop-hoi-dong-phien-{session.pk}.pdf"
    return FileResponse(minutes.file.open("rb"), as_attachment=True, filename=filename,
                        content_type="application/pdf")


@login_required
@require_POST
def minutes_regenerate(request, session_id):
    """Build the minutes again (``services.queue_minutes``), e.g. after a failure."""
    session = _session(request, session_id)
    _require(request.user, "request_minutes", session)
    try:
        doc = services.queue_minutes(request.user, session)
    except services.CouncilError as error:
        _service_error(request, error)
    else:
        if doc.wake_failed:
            messages.warning(request, _minutes_not_queued())
        else:
            messages.success(request, _("The minutes are being generated again."))
    return redirect("councils:session-results", session.pk)


@login_required
@require_GET
def export_xlsx(request, session_id):
    """The Excel export (``councils.exports``): every member's choices, so only after the
    close and only for those who may see every sheet."""
    session = _session(request, session_id)
    refusal = rules.export_refusal(request.user, session)
    if refusal is not None:
        _refuse(refusal.message)
    try:
        content = exports.export_session(request.user, session)
    except services.CouncilError as error:
        raise PermissionDenied(error.message) from error
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition(exports.export_filename(session),
                                                          inline=False)
    return response
