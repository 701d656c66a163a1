"""A council member's scoresheet as pages and the API use it: the criteria tree indexed and
rendered once per set version, the sheet's entries, saving changes under the version rule,
and the totals panel.

Rendering: the criteria tree (``scoring.queries.criteria_tree``) and its HTML are built once
per criteria-set version and language and kept in this process (a published set never
changes); a request only fills the per-sheet marks (checked option, note, locked state)
into the cached HTML.
"""

import re
from collections import OrderedDict, namedtuple
from contextlib import nullcontext
from threading import Lock

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from ocop.accounts.queries import is_admin
from scoring.models import ScoreEntry, Scoresheet, SheetState
from scoring.queries import criteria_tree, star_bands
from scoring.services import StaleSheet, open_sheet, save_entry, summarise

from . import queries as council_queries
from . import rules
from .forms import note_name, radio_name
from .models import AgendaItem, Recusal

#: Bump when the sheet's HTML layout changes (cached skeletons are then rebuilt).
SHEET_LAYOUT = 2
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

    def skeleton(self, *, provenance=False):
        """The tree's HTML with placeholders, rendered once per language and audience:
        the data-provenance notes (errata, data warnings) only for administrators."""
        key = (*self.key, translation.get_language(), SHEET_LAYOUT, provenance)
        html = _SKELETONS.get(key)
        if html is None:
            html = _SKELETONS.put(key, render_to_string(
                TREE_TEMPLATE, {"tree": self.tree, "provenance": provenance}))
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


def shows_provenance(user):
    """Whether ``user`` sees the criteria files' data-provenance notes (errata, data
    warnings, transcription sources): administrators and staff only; council members read
    the official text (docs/scoring-and-caps.md; scoring/data/criteria/ERRATA.md)."""
    return bool(user.is_staff or is_admin(user))


def render_fields(tree, entries, *, editable, autosave_url, errors=None, provenance=False):
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

    return mark_safe(_MARK.sub(fill, tree.skeleton(provenance=provenance)))


# --- Reading and saving a sheet ----------------------------------------------------------------


def load_entries(sheet_id):
    """The sheet's entries as plain tuples (one query)."""
    return [Entry(*row) for row in ScoreEntry.objects.filter(sheet_id=sheet_id).order_by()
            .values_list("criterion_id", "option_id", "note")]


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


# --- Looking things up for a member ------------------------------------------------------------


def member_session(request, session_id):
    """The session (visible to the user) and the user's membership in its council; 404
    for anyone who is not a member."""
    session = get_object_or_404(
        council_queries.sessions_visible_to(request.user).select_related("council", "round"),
        pk=session_id)
    member = council_queries.membership(request.user, session)
    if member is None:
        raise Http404
    return session, member


def agenda_item(session, dossier_id):
    return get_object_or_404(
        AgendaItem.objects.select_related("dossier__product__producer",
                                          "dossier__criteria_set__regime"),
        session=session, dossier_id=dossier_id)


class _MemberActor(rules.Actor):
    """``rules.Actor`` of a member already read (``member_session``): no second
    membership query for the peers' rule."""

    def __init__(self, user, session, member):
        self.user, self.session, self.member, self._manager = user, session, member, None

    @property
    def is_authenticated(self):  # ``rules.sheets_visible_to`` asks it of its ``user``
        return self.user.is_authenticated


class SheetPage:
    """Everything the scoresheet page needs, read in a fixed number of queries."""

    def __init__(self, request, session_id, dossier_id):
        self.request = request
        self.session, self.member = member_session(request, session_id)
        # the agenda item says in the same query whether the member recused themselves
        self.item = get_object_or_404(
            AgendaItem.objects.select_related("dossier__product__producer",
                                              "dossier__criteria_set__regime")
            .annotate(member_recusal=Subquery(Recusal.objects.filter(
                session_id=OuterRef("session_id"), member=self.member,
                dossier_id=OuterRef("dossier_id")).values("pk")[:1])),
            session=self.session, dossier_id=dossier_id)
        self.dossier = self.item.dossier
        self.recusal = (None if self.item.member_recusal is None
                        else Recusal.objects.get(pk=self.item.member_recusal))
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
        if not self.session.is_open_for_scoring:
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
                unanswered_list=None, errors=None, confirm_submit=False):
        sheet = self.sheet
        tree = sheet_tree(sheet.criteria_set)
        entries = load_entries(sheet.pk) if entries is None else entries
        read_only = self.read_only_reason
        urls = self.urls()
        summary = sheet_summary(sheet, entries, tree,
                                star_bands(sheet.criteria_set.regime_id))
        return {
            "session": self.session, "member": self.member, "item": self.item,
            "dossier": self.dossier, "sheet": sheet, "cs": sheet.criteria_set,
            "tree": tree, "summary": summary, "urls": urls,
            "editable": read_only is None, "read_only_reason": read_only,
            "fields": render_fields(tree, entries, editable=read_only is None,
                                    autosave_url=urls["autosave"], errors=errors,
                                    provenance=shows_provenance(self.request.user)),
            "message": message, "message_level": message_level,
            "unanswered_list": unanswered_list, "criterion_errors": errors or {},
            "peers": self.peers(),
            "i18n_labels": status_labels(),
            # the reason the chair (or vice-chair) gave when reopening the sheet
            "reopen_reason": (sheet.reopen_reason if sheet.state == SheetState.REOPENED
                              else ""),
            "confirm_submit": confirm_submit and read_only is None,
        }

    def peers(self):
        """Other members' sheets of this dossier with their totals, as far as the
        independence rule (``councils.rules.sheets_visible_to``, the same rule as
        ``can_see_choices``) lets this member see them: nothing while the session is open
        and the member has not submitted their own sheet."""
        if self.sheet is None:
            return []
        actor = _MemberActor(self.request.user, self.session, self.member)
        sheets = list(rules.sheets_visible_to(actor, self.session)
                      .filter(dossier=self.dossier).exclude(pk=self.sheet.pk)
                      .select_related("member__user", "criteria_set")
                      .order_by("member__order", "member_id"))
        if not sheets:
            return []
        by_sheet = {}
        for row in (ScoreEntry.objects.filter(sheet__in=sheets).order_by()
                    .values_list("sheet_id", "criterion_id", "option_id", "note")):
            by_sheet.setdefault(row[0], []).append(Entry(*row[1:]))
        bands = star_bands(self.sheet.criteria_set.regime_id)
        rows = []
        for other in sheets:
            summary = summarise(other, entries=by_sheet.get(other.pk, []), bands=bands)
            rows.append({"sheet": other, "member": other.member,
                         "total": summary.totals.total, "parts": summary.totals.parts,
                         "stars": summary.cap.stars})
        return rows
