"""Staff and chair pages of the councils: councils and sessions (department staff of the
area, administrators), the chair's live tracker, the results pages and the downloads
(minutes PDF, Excel export).

Permissions come from ``councils.queries`` (one place): managing councils and sessions is
``can_manage_council`` / ``can_run_session``; the tracker is ``can_track`` (chair,
secretary, managers); what a tracker shows per agenda item is ``can_see_aggregates`` (the
INDEPENDENCE RULE: before the session is closed, counts, means, spread and the divergence
flag only — never a member's choices or total — and only to the secretary, and to the
chair once the chair's own sheet of the dossier is submitted); a member's total is shown
only for the sheets ``sheets_visible_to`` lets the user see. A session the user may not see
answers 404 (outsiders); a page of a session the user may see but not this page answers
403 (an ordinary member on the tracker).

Every change is a POST that calls one service (``councils.services``,
``scoring.services.reopen_sheet``) and redirects (POST-redirect-GET); a refusal is shown as
a message and changes nothing.

The tracker (``/councils/sessions/<id>/tracker/``) polls its fragment
(``…/tracker/live/``) with htmx every :data:`POLL_SECONDS` seconds while the session is
not closed; without JavaScript the page has a "refresh" link. The tracker and the results
read the whole session at once (:class:`Board`, built on ``councils.results.session_results``):
their query count does not depend on the number of members or criteria
(``tests/councils/test_tracker_queries.py``).
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dossiers.models import Dossier
from dossiers.queries import rounds_visible_to
from ocop.documents.pdf import content_disposition
from ocop.regions.models import AdministrativeUnit
from scoring.models import ProcessKind, SheetState
from scoring.services import OPEN_SESSION_STATES, ScoringError, reopen_sheet

from . import exports, services
from . import queries as council_queries
from . import results as council_results
from .models import (
    AgendaItem,
    Council,
    CouncilLevel,
    CouncilMember,
    DocumentKind,
    DocumentStatus,
    EvaluationSession,
    GeneratedDocument,
    MemberRole,
    SessionState,
)

#: Seconds between two refreshes of the tracker (htmx polling).
POLL_SECONDS = 5
#: htmx swaps a 286 answer like a 200 and stops polling (the session is closed).
HTMX_STOP_POLLING = 286

#: Dossier states a session's agenda is chosen from (``services.set_agenda`` checks again).
AGENDA_STATES = services.AGENDA_STATES

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: The state of a member's sheet of one dossier, as the tracker names it.
SHEET_STATUS_LABELS = {
    "not_started": gettext_lazy("Not opened"),
    SheetState.DRAFT: gettext_lazy("Draft"),
    SheetState.SUBMITTED: gettext_lazy("Submitted"),
    SheetState.REOPENED: gettext_lazy("Reopened for re-scoring"),
    "recused": gettext_lazy("Recused (conflict of interest)"),
}

OUTCOME_LABELS = {
    "forward": gettext_lazy("Forwarded to the next level"),
    "recognise": gettext_lazy("Recognised"),
    "not_recognise": gettext_lazy("Not recognised at this level"),
}

SESSION_RELATED = ("council__unit", "round__unit", "round__level", "round__regime")


def _is_htmx(request):
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-History-Restore-Request") != "true")


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


def _service_error(request, error):
    messages.error(request, getattr(error, "message", None) or str(error))


# --- Forms ----------------------------------------------------------------------------------


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class CouncilForm(forms.ModelForm):
    """The council itself: name, level, area, establishing decision, term and the settings
    that come from its rules (quorum, chair required, divergence threshold, visibility)."""

    unit = UnitChoiceField(label=gettext_lazy("Area"), queryset=None)

    class Meta:
        model = Council
        fields = ["name", "level", "unit", "decision_number", "decision_date",
                  "decision_signer", "term_start", "term_end", "quorum_ratio",
                  "chair_required", "divergence_threshold", "peer_visibility"]
        widgets = {"decision_date": DateInput(), "term_start": DateInput(),
                   "term_end": DateInput()}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = council_queries.manageable_units(user).order_by(
            "level", "name")
        for name in ("decision_date", "term_start", "term_end"):
            self.fields[name].input_formats = DATE_FORMATS


class MemberRowForm(forms.Form):
    """One member of the council, chosen by user name."""

    username = forms.CharField(label=gettext_lazy("User name"), max_length=150,
                               required=False)
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=MemberRole.choices,
                             initial=MemberRole.MEMBER)
    organisation = forms.CharField(label=gettext_lazy("Organisation"), max_length=200,
                                   required=False)
    advisory = forms.BooleanField(label=gettext_lazy("Advisory team"), required=False)

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        if not username:
            return ""
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise forms.ValidationError(_("No active user “%(name)s”.") % {"name": username})
        self.cleaned_data["user"] = user
        return username


MemberFormSet = forms.formset_factory(MemberRowForm, extra=0, min_num=1, max_num=40)


def member_rows(formset):
    """The filled rows of the members formset as ``services.create_council`` takes them."""
    rows = []
    for order, form in enumerate(f for f in formset.forms if f.cleaned_data.get("username")):
        data = form.cleaned_data
        rows.append({"user": data["user"], "role": data["role"],
                     "organisation": data.get("organisation", ""),
                     "advisory": data.get("advisory", False), "order": order})
    return rows


class SessionForm(forms.Form):
    round = forms.ModelChoiceField(label=gettext_lazy("Evaluation round"), queryset=None)
    date = forms.DateField(label=gettext_lazy("Date"), widget=DateInput(),
                           input_formats=DATE_FORMATS)
    place = forms.CharField(label=gettext_lazy("Place"), max_length=300, required=False)

    def __init__(self, *args, user, council, **kwargs):
        super().__init__(*args, **kwargs)
        # the rounds a council of this level and area evaluates (the service checks again)
        self.fields["round"].queryset = rounds_visible_to(user).filter(
            unit__in=AdministrativeUnit.objects.within([council.unit]),
            level__kind=ProcessKind.COUNCIL, level__admin_level=council.level,
        ).select_related("unit").order_by("-year", "-number")


class AgendaForm(forms.Form):
    dossiers = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Products to evaluate"), queryset=Dossier.objects.none(),
        widget=forms.CheckboxSelectMultiple, required=False)

    def __init__(self, *args, session, **kwargs):
        super().__init__(*args, **kwargs)
        on_agenda = session.agenda.values("dossier_id")
        self.fields["dossiers"].queryset = (
            Dossier.objects.filter(round_id=session.round_id)
            .filter(Q(state__in=AGENDA_STATES) | Q(pk__in=on_agenda))
            .select_related("product__producer", "criteria_set").order_by("product__name"))
        self.fields["dossiers"].label_from_instance = lambda d: (
            f"{d.product.name} — {d.product.producer.name} "
            f"({_('set %(no)02d') % {'no': d.criteria_set.set_no}}, "
            f"{d.get_state_display()})")


class AttendanceForm(forms.Form):
    present = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Members present"), queryset=CouncilMember.objects.none(),
        widget=forms.CheckboxSelectMultiple, required=False)

    def __init__(self, *args, session, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["present"]
        field.queryset = CouncilMember.objects.filter(
            council_id=session.council_id).select_related("user").order_by("order", "id")
        field.label_from_instance = lambda m: f"{m.user.display_name} ({m.get_role_display()})"


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for reopening"), max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Kept in the audit log and shown to the member, e.g. the "
                               "council discussed a divergence of the totals."))


# --- The board: a session's agenda with its live or recorded results -----------------------


@dataclass
class Summary:
    """The aggregates of one agenda item — live (``councils.results``) or recorded
    (``ItemResultRecord``) — normalised for the templates and the API. Nothing in it
    belongs to one member."""

    recorded: bool
    members_counted: int
    mean: dict  # {"A", "B", "C"}: Decimal
    total: Decimal
    band_stars: int
    stars: int
    cap_reasons: list  # dicts: code, position, title, required_star, required_points, …
    spread: Decimal
    threshold: Decimal
    flagged: bool
    outcome: str
    outcome_stars: int | None
    quorum: dict = field(default_factory=dict)

    @property
    def outcome_label(self):
        label = OUTCOME_LABELS.get(self.outcome, self.outcome)
        if self.outcome == "recognise" and self.outcome_stars:
            return _("%(outcome)s — %(stars)s stars") % {"outcome": label,
                                                         "stars": self.outcome_stars}
        return label

    @property
    def capped(self):
        return self.stars < self.band_stars

    @classmethod
    def from_live(cls, result):
        if result.evaluation is None:
            return None
        evaluation = result.evaluation
        return cls(
            recorded=False, members_counted=result.members_counted,
            mean=dict(evaluation.mean.parts), total=evaluation.mean.total,
            band_stars=evaluation.band_stars, stars=evaluation.stars,
            cap_reasons=[_cap_line(line.as_dict()) for line in result.cap_lines],
            spread=evaluation.divergence.spread, threshold=result.divergence_threshold,
            flagged=evaluation.divergence.flagged, outcome=result.outcome,
            outcome_stars=result.outcome_stars)

    @classmethod
    def from_record(cls, record):
        return cls(
            recorded=True, members_counted=record.members_counted,
            mean=dict(record.mean_parts), total=record.mean_total,
            band_stars=record.band_stars, stars=record.stars,
            cap_reasons=[_cap_line(line) for line in record.cap_reasons or []],
            spread=record.divergence, threshold=record.divergence_threshold,
            flagged=record.divergence_flagged, outcome=record.outcome,
            outcome_stars=record.outcome_stars, quorum=record.quorum or {})


def _cap_line(line):
    """A cap reason (``CapLine.as_dict()`` as recorded) with decimals back as Decimal."""
    line = dict(line)
    for key in ("required_points", "median_points"):
        if line.get(key) is not None:
            line[key] = Decimal(str(line[key]))
    return line


@dataclass
class MemberRow:
    member_id: int
    name: str
    role: str
    status: str
    reason: str = ""

    @property
    def status_label(self):
        return SHEET_STATUS_LABELS.get(self.status, self.status)

    @property
    def role_label(self):
        return MemberRole(self.role).label if self.role in MemberRole.values else self.role


@dataclass
class BoardRow:
    """One agenda item as the requesting user may see it."""

    item: AgendaItem
    dossier: Dossier
    statuses: list  # MemberRow of every scoring member
    submitted: int
    aggregates_visible: bool
    summary: Summary | None  # None when hidden or when no sheet is counted yet
    pending: list  # MemberRow whose missing sheet blocks closing
    member_totals: list = field(default_factory=list)  # after the close, visible sheets only
    counted_names: list = field(default_factory=list)  # who was counted (no scores)

    @property
    def closed(self):
        return self.item.closed_at is not None


@dataclass
class Board:
    session: EvaluationSession
    rows: list
    quorum: council_results.Quorum
    member: CouncilMember | None
    can_track: bool
    is_chair: bool

    @property
    def scoring_open(self):
        return self.session.state in OPEN_SESSION_STATES

    @property
    def closed(self):
        return self.session.state == SessionState.CLOSED

    def row(self, dossier_id):
        for row in self.rows:
            if row.dossier.pk == dossier_id:
                return row
        raise Http404


def build_board(user, session, *, dossier_id=None):
    """The session's agenda with, per item, the members' submission states and — where
    ``can_see_aggregates`` allows — the live aggregates, or the recorded result once the
    item is closed. ``dossier_id`` limits the rows to one item."""
    items = AgendaItem.objects.filter(session=session).select_related(
        "dossier__product__producer", "dossier__criteria_set", "result").order_by(
        "order", "id")
    if dossier_id is not None:
        items = items.filter(dossier_id=dossier_id)
    items = list(items)
    live = council_results.session_results(session)
    member = council_queries.membership(user, session)
    tracker = council_queries.can_track(user, session)
    closed = session.state == SessionState.CLOSED
    visible_sheets = _visible_sheet_ids(user, session) if closed else set()
    rows = []
    for item in items:
        result = live.get(item.dossier_id)
        record = getattr(item, "result", None) if item.closed_at is not None else None
        visible = _aggregates_visible(user, session, item.dossier, member, closed)
        summary = None
        if visible:
            summary = (Summary.from_record(record) if record is not None
                       else Summary.from_live(result))
        totals, names = [], []
        if record is not None and closed:
            totals = [_member_total(m) for m in record.members
                      if m.get("sheet") in visible_sheets]
        if visible:
            names = ([m.get("name", "") for m in record.members] if record is not None
                     else [m.name for m in result.counted] if result else [])
        statuses = [MemberRow(s.member_id, s.name, s.role, s.status, s.reason)
                    for s in result.statuses] if tracker and result else []
        rows.append(BoardRow(
            item=item, dossier=item.dossier, statuses=statuses,
            submitted=sum(1 for s in result.statuses if s.status == SheetState.SUBMITTED)
            if result else 0,
            aggregates_visible=visible, summary=summary,
            pending=[MemberRow(s.member_id, s.name, s.role, s.status)
                     for s in result.pending] if tracker and result else [],
            member_totals=totals, counted_names=names))
    return Board(session=session, rows=rows, quorum=council_results.quorum(session),
                 member=member, can_track=tracker,
                 is_chair=member is not None and member.role == MemberRole.CHAIR)


def _member_total(recorded):
    """A counted member's recorded totals (``MemberScore.as_dict()``), numbers as Decimal."""
    row = dict(recorded)
    row["parts"] = {part: Decimal(str(value))
                    for part, value in (recorded.get("parts") or {}).items()}
    row["total"] = Decimal(str(recorded.get("total")))
    return row


def _aggregates_visible(user, session, dossier, member, closed):
    """``can_see_aggregates`` (the independence rule), and after the close also for the
    council's ordinary members (everything is public to them then, except other members'
    sheets where ``peer_visibility`` says never)."""
    if council_queries.can_see_aggregates(user, session, dossier):
        return True
    return closed and member is not None


def _visible_sheet_ids(user, session):
    """Ids of the sheets whose totals the user may see (``sheets_visible_to``)."""
    return set(council_queries.sheets_visible_to(user, session).values_list("pk", flat=True))


def may_see_results(user, session):
    """The results pages: trackers (chair, secretary, managers) at any time — each item
    still shows only what ``can_see_aggregates`` allows — and every council member once
    the session is closed."""
    if council_queries.can_track(user, session):
        return True
    return (session.state == SessionState.CLOSED
            and council_queries.membership(user, session) is not None)


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
        "can_manage": council_queries.can_manage_council(request.user, council),
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
        _refuse(services.REFUSED_PLAN)
    form = SessionForm(request.POST or None, user=request.user, council=council)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            session = services.create_session(request.user, council=council,
                                              round=data["round"], date=data["date"],
                                              place=data["place"])
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
    return render(request, "councils/chair/session_detail.html", {
        "session": session, "items": items, "members": members, "minutes": minutes,
        "can_manage": council_queries.can_manage_council(user, session.council),
        "can_run": council_queries.can_run_session(user, session),
        "can_track": council_queries.can_track(user, session),
        "is_chair": council_queries.is_chair(user, session),
        "may_see_results": may_see_results(user, session),
        "membership": council_queries.membership(user, session),
    })


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def session_agenda_edit(request, session_id):
    session = _session(request, session_id)
    if not council_queries.can_manage_council(request.user, session.council):
        _refuse(services.REFUSED_AGENDA)
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
    if not council_queries.can_run_session(request.user, session):
        _refuse(_("Only the council's chair, secretary or department staff can open "
                  "scoring."))
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
    if not council_queries.can_run_session(request.user, session):
        _refuse(_("Only the council's chair, secretary or department staff can record the "
                  "attendance."))
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
                  {"form": form, "session": session,
                   "quorum": council_results.quorum(session)})


@login_required
@require_POST
def session_close(request, session_id):
    session = _session(request, session_id)
    if not council_queries.can_track(request.user, session):
        _refuse(_("Only the council chair can close the session."))
    try:
        services.close_session(request.user, session)
    except services.CouncilError as error:
        _service_error(request, error)
    else:
        messages.success(request, _("The session is closed. The minutes are being "
                                    "prepared."))
        return redirect("councils:session-results", session.pk)
    return redirect("councils:tracker", session.pk)


# --- The chair's tracker ---------------------------------------------------------------------


def _tracker_board(request, session_id):
    session = _session(request, session_id)
    if not council_queries.can_track(request.user, session):
        _refuse(_("Only the council's chair, vice-chair, secretary and department staff "
                  "can follow the scoring."))
    return build_board(request.user, session)


def _tracker_context(board):
    return {"board": board, "session": board.session, "poll_seconds": POLL_SECONDS,
            "live": board.session.state != SessionState.CLOSED}


@login_required
@require_GET
def tracker(request, session_id):
    """Per agenda item: who has submitted, quorum, and — where the independence rule
    allows — means, band, capped star, divergence; the chair's actions."""
    board = _tracker_board(request, session_id)
    return render(request, "councils/chair/tracker.html", _tracker_context(board))


@login_required
@require_GET
def tracker_live(request, session_id):
    """The tracker's polled fragment (the same content as the page's body)."""
    board = _tracker_board(request, session_id)
    response = render(request, "councils/chair/_tracker_board.html", _tracker_context(board))
    response["Cache-Control"] = "no-store"
    if board.closed:
        response.status_code = HTMX_STOP_POLLING
    return response


def _chair_item(request, session_id, dossier_id):
    session = _session(request, session_id)
    if not council_queries.can_track(request.user, session):
        _refuse(_("Only the council chair can do this."))
    item = get_object_or_404(AgendaItem.objects.select_related("dossier__product"),
                             session=session, dossier_id=dossier_id)
    return session, item


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def reopen(request, session_id, dossier_id, member_id):
    """Reopen a member's submitted sheet for re-scoring, with the reason
    (``scoring.services.reopen_sheet``: the chair only, audited)."""
    session, item = _chair_item(request, session_id, dossier_id)
    member = get_object_or_404(CouncilMember.objects.select_related("user"),
                               council_id=session.council_id, pk=member_id)
    sheet = session.scoresheets.filter(dossier_id=dossier_id, member=member).first()
    if sheet is None:
        raise Http404
    form = ReopenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reopen_sheet(sheet, request.user, form.cleaned_data["reason"])
        except ScoringError as error:
            _service_error(request, error)
        else:
            messages.success(request, _("The scoresheet of %(member)s for “%(product)s” was "
                                        "reopened for re-scoring.") % {
                "member": member.user.display_name, "product": item.dossier.product.name})
            return redirect("councils:tracker", session.pk)
    return render(request, "councils/chair/reopen_form.html",
                  {"form": form, "session": session, "item": item, "member": member,
                   "sheet": sheet})


@login_required
@require_POST
def close_item(request, session_id, dossier_id):
    """Close scoring of one product and record its result (``services.close_item``: the
    chair only, with quorum)."""
    session, item = _chair_item(request, session_id, dossier_id)
    try:
        services.close_item(request.user, session, item.dossier)
    except services.CouncilError as error:
        _service_error(request, error)
    else:
        messages.success(request, _("Scoring of “%(product)s” is closed and its result "
                                    "recorded.") % {"product": item.dossier.product.name})
    return redirect("councils:tracker", session.pk)


# --- Results ---------------------------------------------------------------------------------


def _results_board(request, session_id, dossier_id=None):
    session = _session(request, session_id)
    if not may_see_results(request.user, session):
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
        "can_export": _may_export(request.user, board.session),
        "can_regenerate": _may_regenerate(request.user, board.session),
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


def _may_regenerate(user, session):
    """``services.queue_minutes`` allows the chair, the secretary and the managers."""
    return session.state == SessionState.CLOSED and council_queries.can_track(user, session)


def _may_export(user, session):
    """The Excel export carries every member's choices: only after the close, for those
    who may see every sheet (``can_see_all_choices``)."""
    return (session.state == SessionState.CLOSED
            and may_see_results(user, session)
            and council_queries.can_see_all_choices(user, session))


@login_required
@require_GET
def minutes_status(request, session_id):
    """The minutes' status row (queued / running / done / failed with reason); polled by
    the results page while the PDF is being built."""
    session = _session(request, session_id)
    if not may_see_results(request.user, session) or session.state != SessionState.CLOSED:
        _refuse(_("The minutes exist once the session is closed."))
    minutes = GeneratedDocument.objects.filter(session=session,
                                               kind=DocumentKind.MINUTES).first()
    return render(request, "councils/results/_minutes.html", {
        "session": session, "minutes": minutes,
        "can_regenerate": _may_regenerate(request.user, session)})


@login_required
@require_GET
def minutes_download(request, session_id):
    session = _session(request, session_id)
    if not may_see_results(request.user, session) or session.state != SessionState.CLOSED:
        _refuse(_("The minutes exist once the session is closed."))
    minutes = GeneratedDocument.objects.filter(
        session=session, kind=DocumentKind.MINUTES, status=DocumentStatus.DONE).first()
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
    if not _may_regenerate(request.user, session):
        _refuse(_("Only the council's chair, secretary and department staff can regenerate "
                  "the minutes of a closed session."))
    try:
        services.queue_minutes(request.user, session)
    except services.CouncilError as error:
        _service_error(request, error)
    else:
        messages.success(request, _("The minutes are being generated again."))
    return redirect("councils:session-results", session.pk)


@login_required
@require_GET
def export_xlsx(request, session_id):
    """The Excel export (``councils.exports``): every member's choices, so only after the
    close and only for those who may see every sheet."""
    session = _session(request, session_id)
    if not _may_export(request.user, session):
        _refuse(_("The Excel export holds every member's scores: it is available after the "
                  "session is closed, to those who may see every scoresheet."))
    try:
        content = exports.export_session(request.user, session)
    except services.CouncilError as error:
        raise PermissionDenied(error.message) from error
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition(exports.export_filename(session),
                                                          inline=False)
    return response
