"""Council member pages: my sessions, a session's agenda, the scoresheet and the recusal
form.

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
  URL; :func:`save_changes` calls ``scoring.services.save_entry`` for each changed
  criterion under the same version rule (the first call uses the page's version, each
  later one the version the previous call returned), all or nothing.
- Submit (``action=submit`` on the same form) saves the changes, then locks the sheet;
  it is refused while a criterion is unanswered, and the page lists them with links.

Rendering: the criteria tree (``scoring.queries.criteria_tree``) and its HTML are built once
per criteria-set version and language and kept in this process (a published set never
changes); a request only fills the per-sheet marks (checked option, note, locked state)
into the cached HTML. Every page and the autosave endpoint run a fixed number of queries
whatever the size of the set and of the council (``tests/councils/test_sheet_queries.py``).

The API (``councils/api_sheets.py``) uses the same helpers: :func:`sheet_tree`,
:func:`save_changes`, :func:`sheet_summary`, :func:`load_bands`.
"""

import re
from collections import OrderedDict, namedtuple
from contextlib import nullcontext
from threading import Lock

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from councils import queries as council_queries
from councils import services as council_services
from councils.models import AgendaItem, CouncilMember, MemberRole, Recusal
from dossiers.models import DocumentFile
from scoring import rules
from scoring.models import ScoreEntry, Scoresheet, SheetState, StarBand
from scoring.queries import criteria_tree
from scoring.services import (
    OPEN_SESSION_STATES,
    ScoringError,
    StaleSheet,
    open_sheet,
    save_entry,
    submit_sheet,
    summarise,
)

from .forms import AutosaveForm, RecusalForm, ScoresheetForm, note_name, radio_name

#: Bump when the sheet's HTML layout changes (cached skeletons are then rebuilt).
SHEET_LAYOUT = 1
TREE_TEMPLATE = "councils/member/_sheet_tree.html"

Entry = namedtuple("Entry", "criterion_id option_id note")


# --- The criteria tree, indexed and rendered once per set version ----------------------------


class _LRU:
    """A small thread-safe least-recently-used dict (gunicorn gthread workers)."""

    def __init__(self, size):
        self.size = size
        self.data = OrderedDict()
        self.lock = Lock()

    def get(self, key):
        with self.lock:
            value = self.data.get(key)
            if value is not None:
                self.data.move_to_end(key)
            return value

    def put(self, key, value):
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)
        return value


_TREES = _LRU(64)
_SKELETONS = _LRU(64)

# Placeholders in the cached HTML, filled per sheet: \ue000<kind><id>\ue001
_MARK = re.compile("\ue000([a-z])(\\d+)\ue001")


def _mark(kind, ident):
    return f"\ue000{kind}{ident}\ue001"


class SheetTree:
    """``criteria_tree`` of one set version with the indexes a sheet needs."""

    def __init__(self, criteria_set):
        self.key = (criteria_set.pk, criteria_set.updated_at)
        self.tree = criteria_tree(criteria_set)
        self.parts = self.tree["parts"]
        self.criteria = []
        for part in self.parts:
            for section in part["sections"]:
                for criterion in section["criteria"]:
                    criterion["part"] = part["code"]
                    criterion["marks"] = {kind: _mark(kind, criterion["id"])
                                          for kind in ("m", "h", "n", "d", "e")}
                    for option in criterion["options"]:
                        option["mark"] = _mark("o", option["id"])
                    self.criteria.append(criterion)
        self.by_id = {c["id"]: c for c in self.criteria}
        self.options = {c["id"]: {o["id"] for o in c["options"]} for c in self.criteria}

    def skeleton(self):
        """The tree's HTML with placeholders, rendered once per language."""
        key = (*self.key, translation.get_language(), SHEET_LAYOUT)
        html = _SKELETONS.get(key)
        if html is None:
            html = _SKELETONS.put(key, render_to_string(TREE_TEMPLATE, {"tree": self.tree}))
        return html


def sheet_tree(criteria_set):
    """The indexed criteria tree of ``criteria_set`` (cached per set id and version)."""
    key = (criteria_set.pk, criteria_set.updated_at)
    return _TREES.get(key) or _TREES.put(key, SheetTree(criteria_set))


def mark_html(criterion_id, answered, *, oob=False):
    """The answered / not answered mark beside a criterion's legend."""
    state, label = ("answered", _("Answered")) if answered else ("unanswered",
                                                                _("Not answered"))
    swap = ' hx-swap-oob="true"' if oob else ""
    return (f'<span class="mark {state}" id="mark-{criterion_id}"{swap}>'
            f"{escape(label)}</span>")


def render_fields(tree, entries, *, editable, autosave_url, errors=None):
    """The sheet's fieldsets: the cached tree HTML with this sheet's marks filled in."""
    chosen = {e.option_id for e in entries if e.option_id is not None}
    answered = {e.criterion_id for e in entries if e.option_id is not None}
    notes = {e.criterion_id: e.note for e in entries}
    errors = errors or {}
    disabled = "" if editable else " disabled"
    url = escape(autosave_url)

    def fill(match):
        kind, ident = match.group(1), int(match.group(2))
        if kind == "o":
            return (" checked" if ident in chosen else "") + disabled
        if kind == "n":
            return escape(notes.get(ident, ""))
        if kind == "m":
            return mark_html(ident, ident in answered)
        if kind == "d":
            return disabled
        if kind == "h":
            if not editable:
                return ""
            return (f' hx-post="{url}" hx-trigger="change"'
                    f" hx-vals='{{\"criterion\": \"{ident}\"}}'"
                    f' hx-params="criterion,version,{radio_name(ident)},{note_name(ident)}"')
        if kind == "e":
            message = errors.get(ident)
            return (f'<p class="criterion-error" id="err-{ident}">{escape(message)}</p>'
                    if message else "")
        return ""

    return mark_safe(_MARK.sub(fill, tree.skeleton()))


# --- Reading and saving a sheet ----------------------------------------------------------------


def load_entries(sheet_id):
    """The sheet's entries as plain tuples (one query)."""
    return [Entry(*row) for row in ScoreEntry.objects.filter(sheet_id=sheet_id).order_by()
            .values_list("criterion_id", "option_id", "note")]


def load_bands(regime_id):
    """The regime's star bands for ``scoring.rules.band`` (one query)."""
    bands = [rules.Band(stars, min_score) for stars, min_score in
             StarBand.objects.filter(regime_id=regime_id).order_by()
             .values_list("stars", "min_score")]
    return tuple(sorted(bands, key=lambda b: -b.stars)) or rules.DEFAULT_BANDS


def stale_error(version):
    return StaleSheet(
        _("This scoresheet was changed elsewhere (another tab or device). The current "
          "values are shown; please check them and choose again."),
        code="stale", details={"version": version})


def save_changes(sheet, user, version, changes, *, only_changed=True):
    """Apply ``changes`` (``(criterion id, option id or None, note or None)``) to the sheet
    through ``scoring.services.save_entry``, all or nothing (several changes run in one
    transaction; one change is one ``save_entry``, which has its own).

    The first save uses ``version`` (the one the client holds), each later one the version
    the previous save returned, so a stale client is refused before anything changes
    (:class:`~scoring.services.StaleSheet`). With ``only_changed`` a change equal to what is
    stored is skipped; when nothing is left the version is still checked. Returns the sheet
    (its new version) and its entries after the changes.
    """
    version = int(version)
    current = {e.criterion_id: e for e in load_entries(sheet.pk)}
    todo = []
    for criterion_id, option_id, note in changes:
        entry = current.get(criterion_id)
        if (only_changed and entry is not None and entry.option_id == option_id
                and (note is None or note == entry.note)):
            continue
        todo.append((criterion_id, option_id, note))
    if not todo and sheet.version != version:
        raise stale_error(sheet.version)
    # One change is one save_entry (its own transaction); several are all or nothing.
    with transaction.atomic() if len(todo) > 1 else nullcontext():
        for criterion_id, option_id, note in todo:
            sheet = save_entry(sheet, user, criterion_id=criterion_id, option_id=option_id,
                               note=note, version=version)
            version = sheet.version
            old = current[criterion_id]
            current[criterion_id] = old._replace(
                option_id=option_id, note=old.note if note is None else note)
    return sheet, list(current.values())


def sheet_summary(sheet, entries, tree, bands):
    """What the totals panel and the API show: totals per part and overall, the band, the
    capped star with its reasons, and the unanswered criteria (in sheet order)."""
    summary = summarise(sheet, entries=entries, bands=bands)
    answered = {e.criterion_id for e in entries if e.option_id is not None}
    unanswered = [c for c in tree.criteria if c["id"] not in answered]
    reasons = []
    for reason in summary.cap.reasons:
        reasons.append({
            "criterion": tree.by_id.get(reason.criterion_key),
            "required_star": reason.required_star,
            "required_points": reason.required_points,
            "points": reason.median_points,
            "strict": reason.strict,
        })
    return {
        "parts": [{"code": p["code"], "title": p["title"], "max": p["max"],
                   "points": summary.totals.parts.get(p["code"])} for p in tree.parts],
        "total": summary.totals.total,
        "band_stars": summary.band_stars,
        "stars": summary.cap.stars,
        "capped": summary.cap.stars < summary.band_stars,
        "reasons": reasons,
        "unanswered": unanswered,
        "answered_count": len(tree.criteria) - len(unanswered),
        "criteria_count": len(tree.criteria),
        "next_unanswered": unanswered[0] if unanswered else None,
    }


def status_labels():
    """The autosave states the page's script shows in the status line."""
    return {
        "unsaved": _("Unsaved changes…"),
        "saving": _("Saving…"),
        "error": _("Not saved: the server could not save your last change. It is still "
                   "on this page; please try again or reload."),
        "offline": _("Not saved: no connection to the server. Your last change is still on "
                     "this page; try again when you are back online."),
    }


def _is_htmx(request):
    return request.headers.get("HX-Request") == "true"


# --- Looking things up for a member ------------------------------------------------------------


def _member_session(request, session_id):
    """The session (visible to the user) and the user's membership in its council; 404
    for anyone who is not a member."""
    session = get_object_or_404(
        council_queries.sessions_visible_to(request.user).select_related("council", "round"),
        pk=session_id)
    member = council_queries.membership(request.user, session)
    if member is None:
        raise Http404
    return session, member


def _agenda_item(session, dossier_id):
    return get_object_or_404(
        AgendaItem.objects.select_related("dossier__product__producer",
                                          "dossier__criteria_set__regime"),
        session=session, dossier_id=dossier_id)


class SheetPage:
    """Everything the scoresheet page needs, read in a fixed number of queries."""

    def __init__(self, request, session_id, dossier_id):
        self.request = request
        self.session, self.member = _member_session(request, session_id)
        self.item = _agenda_item(self.session, dossier_id)
        self.dossier = self.item.dossier
        self.recusal = Recusal.objects.filter(session=self.session, member=self.member,
                                              dossier=self.dossier).first()
        self.sheet = (Scoresheet.objects.select_related("criteria_set__regime")
                      .filter(session=self.session, dossier=self.dossier, member=self.member)
                      .first())

    def refusal(self):
        """Why this member may not have a sheet here, or ``None``."""
        if self.recusal is not None:
            return _("You have declared a conflict of interest with this producer and "
                     "cannot score this dossier.")
        if not self.member.scores:
            return _("Advisory-team members and the secretary do not score.")
        return None

    def open(self):
        """Open (create) the member's sheet; ``ScoringError`` when refused."""
        if self.sheet is None:
            open_sheet(self.session, self.dossier, self.member, self.request.user)
            self.sheet = Scoresheet.objects.select_related("criteria_set__regime").get(
                session=self.session, dossier=self.dossier, member=self.member)
        return self.sheet

    @property
    def read_only_reason(self):
        sheet = self.sheet
        if sheet.state == SheetState.SUBMITTED:
            return _("You have submitted this scoresheet; it can no longer be changed.")
        if self.session.state not in OPEN_SESSION_STATES:
            return _("The session is not open for scoring.")
        if self.item.closed_at is not None:
            return _("Scoring of this product has been closed by the chair.")
        return None

    def urls(self):
        args = (self.session.pk, self.dossier.pk)
        return {
            "sheet": reverse("councils:sheet", args=args),
            "autosave": reverse("councils:sheet-autosave", args=args),
            "agenda": reverse("councils:member-agenda", args=(self.session.pk,)),
            "recusal": reverse("councils:recusal", args=args),
        }

    def context(self, *, entries=None, message=None, message_level="error",
                unanswered_list=None, errors=None):
        sheet = self.sheet
        tree = sheet_tree(sheet.criteria_set)
        entries = load_entries(sheet.pk) if entries is None else entries
        read_only = self.read_only_reason
        urls = self.urls()
        summary = sheet_summary(sheet, entries, tree,
                                load_bands(sheet.criteria_set.regime_id))
        return {
            "session": self.session, "member": self.member, "item": self.item,
            "dossier": self.dossier, "sheet": sheet, "cs": sheet.criteria_set,
            "tree": tree, "summary": summary, "urls": urls,
            "editable": read_only is None, "read_only_reason": read_only,
            "fields": render_fields(tree, entries, editable=read_only is None,
                                    autosave_url=urls["autosave"], errors=errors),
            "message": message, "message_level": message_level,
            "unanswered_list": unanswered_list, "criterion_errors": errors or {},
            "peers": self.peers(),
            "i18n_labels": status_labels(),
        }

    def peers(self):
        """Other members' sheets of this dossier with their totals, as far as the
        independence rule (``councils.queries.sheets_visible_to``, the same rule as
        ``can_see_choices``) lets this member see them: nothing while the session is open
        and the member has not submitted their own sheet."""
        if self.sheet is None:
            return []
        sheets = list(council_queries.sheets_visible_to(self.request.user, self.session)
                      .filter(dossier=self.dossier).exclude(pk=self.sheet.pk)
                      .select_related("member__user", "criteria_set")
                      .order_by("member__order", "member_id"))
        if not sheets:
            return []
        by_sheet = {}
        for row in (ScoreEntry.objects.filter(sheet__in=sheets).order_by()
                    .values_list("sheet_id", "criterion_id", "option_id", "note")):
            by_sheet.setdefault(row[0], []).append(Entry(*row[1:]))
        bands = load_bands(self.sheet.criteria_set.regime_id)
        rows = []
        for other in sheets:
            summary = summarise(other, entries=by_sheet.get(other.pk, []), bands=bands)
            rows.append({"sheet": other, "member": other.member,
                         "total": summary.totals.total, "parts": summary.totals.parts,
                         "stars": summary.cap.stars})
        return rows


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
    session, member = _member_session(request, session_id)
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
        "scoring_open": session.state in OPEN_SESSION_STATES,
    })


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def sheet_page(request, session_id, dossier_id):
    """The scoresheet page (GET); the whole sheet posted at once without JavaScript
    (POST, ``action=save`` or ``action=submit``)."""
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
    submitting = form.cleaned_data.get("action") == "submit"
    entries = load_entries(sheet.pk)
    current = {e.criterion_id: (e.option_id, e.note) for e in entries}
    try:
        sheet, entries = save_changes(sheet, request.user, version, form.changes(current))
    except StaleSheet as error:
        page.sheet = Scoresheet.objects.select_related("criteria_set__regime").get(
            pk=sheet.pk)
        return _render_sheet(request, page, status=409, message=error.message)
    except ScoringError as error:
        page.sheet = Scoresheet.objects.select_related("criteria_set__regime").get(
            pk=sheet.pk)
        return _render_sheet(request, page, status=422, message=error.message)
    page.sheet = sheet
    if submitting:
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
def sheet_autosave(request, session_id, dossier_id):
    """One autosaved change (htmx). Answers the status line plus out-of-band updates of
    the version, the totals and the criterion's mark; on a stale version or a refusal,
    the whole sheet area with the current values and the message."""
    sheet = get_object_or_404(
        Scoresheet.objects.select_related("criteria_set"),
        session_id=session_id, dossier_id=dossier_id, member__user=request.user)
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
                                      [change])
    except StaleSheet as error:
        return _autosave_problem(request, session_id, dossier_id, error.message, 409)
    except ScoringError as error:
        return _autosave_problem(request, session_id, dossier_id, error.message, 422)
    if not _is_htmx(request):
        messages.success(request, _("Your choices have been saved."))
        return redirect("councils:sheet", session_id, dossier_id)
    tree = sheet_tree(sheet.criteria_set)
    summary = sheet_summary(sheet, entries, tree, load_bands(sheet.criteria_set.regime_id))
    criterion = tree.by_id[change[0]]
    answered = any(e.criterion_id == criterion["id"] and e.option_id is not None
                   for e in entries)
    # No request context: the fragment needs none (and the context processors' queries).
    return HttpResponse(render_to_string("councils/member/_autosave.html", {
        "sheet": sheet, "summary": summary, "criterion": criterion,
        "mark": mark_safe(mark_html(criterion["id"], answered, oob=True)),
    }))


def _autosave_problem(request, session_id, dossier_id, message, status):
    """The sheet area re-read from the database, with ``message`` (htmx retargets it)."""
    if not _is_htmx(request):
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
    session, member = _member_session(request, session_id)
    item = _agenda_item(session, dossier_id)
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
