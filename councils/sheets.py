"""A council member's scoresheet as pages and the API use it: the criteria tree indexed and
rendered once per set version, the sheet's entries, saving changes under the version rule,
and the totals panel.

Rendering: the criteria tree (``scoring.queries.criteria_tree``) and its HTML are built once
per criteria-set version and language and kept in this process (a published set never
changes), split at the per-sheet marks; a request only joins the pieces with its marks
(checked option, note, locked state). The running totals panel is written here too
(:func:`totals_html`, the bytes the template printed), for the page and each autosave.

Reading (issue #14): the page reads everything in ONE statement after the session, user
and roles every page reads (:class:`SheetPage`: session through the member's council,
membership, agenda item, dossier, recusal, sheet, its entries and its regime's star bands —
read with the sheet, never cached, an administrator may edit them), and the autosave
its sheet with entries and bands in one more (:func:`autosave_sheet`); both are prepared
statements on PostgreSQL (``ocop.rows``: planning the joins cost more than running
them).
"""

import re
from collections import namedtuple
from contextlib import nullcontext

from django.db import connection, transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import floatformat
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, translation
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dossiers.models import Dossier, Producer, Product
from ocop import rows as sql_rows
from ocop.accounts.queries import is_admin
from ocop.lru import LRU
from scoring.models import CriteriaSet, Regime, ScoreEntry, Scoresheet, SheetState, StarBand
from scoring.queries import bands_of, criteria_tree, star_bands
from scoring.services import StaleSheet, open_sheet, save_entry, summarise

from . import queries as council_queries
from . import rules
from .forms import note_name, radio_name
from .models import AgendaItem, Council, CouncilMember, EvaluationSession, Recusal

#: Bump when the sheet's HTML layout changes (cached skeletons are then rebuilt).
SHEET_LAYOUT = 2
TREE_TEMPLATE = "councils/member/_sheet_tree.html"

Entry = namedtuple("Entry", "criterion_id option_id note")


# --- The criteria tree, indexed and rendered once per set version ----------------------------


_TREES = LRU(64)
_SKELETONS = LRU(64)

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
        the data-provenance notes (errata, data warnings) only for administrators. Kept
        split at the placeholders: ``[text, kind, id, text, kind, id, …, text]`` (ids as
        ``int``)."""
        key = (*self.key, translation.get_language(), SHEET_LAYOUT, provenance)
        parts = _SKELETONS.get(key)
        if parts is None:
            parts = _MARK.split(render_to_string(
                TREE_TEMPLATE, {"tree": self.tree, "provenance": provenance}))
            parts[2::3] = [int(ident) for ident in parts[2::3]]
            parts = _SKELETONS.put(key, parts)
        return parts


def sheet_tree(criteria_set):
    """The indexed criteria tree of ``criteria_set`` (cached per set id and version)."""
    key = (criteria_set.pk, criteria_set.updated_at)
    return _TREES.get(key) or _TREES.put(key, SheetTree(criteria_set))


def _mark_labels():
    return {True: ("answered", escape(_("Answered"))),
            False: ("unanswered", escape(_("Not answered")))}


def mark_html(criterion_id, answered, *, oob=False, labels=None):
    """The answered / not answered mark beside a criterion's legend (``labels``: those of
    ``_mark_labels``, read once for a whole sheet)."""
    state, label = (labels or _mark_labels())[bool(answered)]
    swap = ' hx-swap-oob="true"' if oob else ""
    return f'<span class="mark {state}" id="mark-{criterion_id}"{swap}>{label}</span>'


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
    checked = " checked" + disabled
    url = escape(autosave_url)
    labels = _mark_labels()
    parts = tree.skeleton(provenance=provenance)
    out = [parts[0]]
    append = out.append
    for index in range(1, len(parts), 3):
        kind, ident = parts[index], parts[index + 1]
        if kind == "o":
            append(checked if ident in chosen else disabled)
        elif kind == "n":
            note = notes.get(ident)
            if note:
                append(escape(note))
        elif kind == "m":
            append(mark_html(ident, ident in answered, labels=labels))
        elif kind == "d":
            append(disabled)
        elif kind == "h":
            if editable:
                append(f' hx-post="{url}" hx-trigger="change"'
                       f" hx-vals='{{\"criterion\": \"{ident}\"}}'"
                       f' hx-params="criterion,version,{radio_name(ident)},{note_name(ident)}"')
        elif kind == "e":
            message = errors.get(ident)
            if message:
                append(f'<p class="criterion-error" id="err-{ident}">{escape(message)}</p>')
        append(parts[index + 2])
    return mark_safe("".join(out))


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


def save_changes(sheet, user, version, changes, *, only_changed=True, entries=None):
    """Apply ``changes`` (``(criterion id, option id or None, note or None)``) to the sheet
    through ``scoring.services.save_entry``, all or nothing (several changes run in one
    transaction; one change is one ``save_entry``, which has its own).

    The first save uses ``version`` (the one the client holds), each later one the version
    the previous save returned, so a stale client is refused before anything changes
    (:class:`~scoring.services.StaleSheet`). With ``only_changed`` a change equal to what is
    stored is skipped; when nothing is left the version is still checked. Returns the sheet
    (its new version) and its entries after the changes. ``entries``: the sheet's entries
    as the caller just read them (else they are read here).
    """
    version = int(version)
    current = {e.criterion_id: e
               for e in (load_entries(sheet.pk) if entries is None else entries)}
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


def _text(value):
    """A value as the template engine prints it: localized, then escaped."""
    return conditional_escape(formats.localize(value))


def _points(value):
    return floatformat(value, "-2")


def totals_html(summary, *, oob=False):
    """The running totals panel, for the page and, out of band (``oob``), for each
    autosave: written here (issue #14) byte for byte as the template ``_totals.html`` it
    replaces printed it — the same msgids, values localized and escaped as the template
    engine does."""
    out = ['<aside id="sheet-totals" class="sheet-totals" aria-labelledby="sheet-totals-h"',
           ' hx-swap-oob="true"' if oob else "",
           f'>\n  <h2 id="sheet-totals-h">{escape(_("Running totals"))}</h2>\n'
           '  <table class="totals">\n    <tbody>\n      ']
    part_label = _("Part %(code)s")
    for part in summary["parts"]:
        code = _text(part["code"])
        out.append(
            f'\n      <tr data-part="{code}"><th scope="row" title="{_text(part["title"])}">'
            f'{part_label % {"code": code}}</th><td class="num" id="total-{code}">'
            f'{_points(part["points"])}</td><td class="num muted">/ {_points(part["max"])}'
            "</td></tr>\n      ")
    stars = summary["stars"]
    visual = "".join("★" if n <= stars else "☆" for n in range(1, 6))
    out.append(
        f'\n      <tr class="grand"><th scope="row">{escape(_("Total"))}</th>'
        f'<td class="num" id="total-all">{_points(summary["total"])}</td>'
        '<td class="num muted">/ 100</td></tr>\n    </tbody>\n  </table>\n'
        f'  <p class="sheet-star" id="sheet-star" data-stars="{_text(stars)}">'
        f'{escape(_("This sheet alone would give"))}\n'
        f'    <strong><span aria-hidden="true" class="stars-visual">{visual}</span>\n'
        f'    {ngettext("%(stars)s star", "%(stars)s stars", stars) % {"stars": _text(stars)}}'
        "</strong>\n    ")
    if summary["capped"]:
        band = (_("The score band gives %(band)s stars; the minimum-star requirements below "
                  "hold it back.") % {"band": _text(summary["band_stars"])})
        out.append(f'<br><span class="small">{band}</span>')
    out.append("\n  </p>\n  ")
    if summary["reasons"]:
        out.append('\n  <div class="cap-reasons" id="cap-reasons">\n'
                   f'    <h3>{escape(_("Minimum star requirements not met"))}</h3>\n'
                   "    <ul>\n      ")
        for reason in summary["reasons"]:
            criterion = reason["criterion"] or {}
            ident = escape(criterion.get("id", ""))
            star = _text(reason["required_star"])
            if reason["strict"]:
                needed = escape(_("must score more than 0"))
            else:
                needed = _("needs at least %(points)s") % {
                    "points": _points(reason["required_points"])}
            this_sheet = _("this sheet: %(points)s") % {"points": _points(reason["points"])}
            out.append(
                f'\n      <li data-criterion="{ident}" data-star="{star}">\n'
                f'        {_("For %(star)s stars:") % {"star": star}} <a href="#crit-{ident}">'
                f'{escape(criterion.get("position", ""))}</a>\n'
                f"        {needed}\n"
                f'        <span class="muted">({this_sheet})</span>\n      </li>\n      ')
        out.append("\n    </ul>\n  </div>\n  ")
    answered = _("%(answered)s of %(total)s criteria answered") % {
        "answered": _text(summary["answered_count"]),
        "total": _text(summary["criteria_count"])}
    out.append(f'\n  <p class="progress" id="sheet-progress">{answered}')
    if summary["unanswered"]:
        out.append(f' <span class="small muted">'
                   f'{escape(_("(unanswered criteria count as 0)"))}</span>')
    out.append("</p>\n  ")
    following = summary["next_unanswered"]
    if following:
        label = _("Next unanswered: %(position)s") % {
            "position": _text(following["position"])}
        out.append(f'\n  <p><a href="#crit-{escape(following["id"])}" id="next-unanswered" '
                   f'class="button">{label}</a></p>\n  ')
    out.append("\n</aside>\n")
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


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


# --- One query for the page, one for the autosave (``ocop.rows``) ---------------------------


# PostgreSQL: the sheet's entries and its regime's star bands as arrays in the sheet's query
_ENTRIES_AND_BANDS = ("ent.criteria", "ent.options", "ent.notes", "bnd.stars", "bnd.mins")
_ENTRIES_AND_BANDS_JOINS = """
    LEFT JOIN LATERAL (SELECT array_agg(e.criterion_id) AS criteria,
                              array_agg(e.option_id) AS options, array_agg(e.note) AS notes
                       FROM scoring_scoreentry e WHERE e.sheet_id = sh.id) ent ON true
    LEFT JOIN LATERAL (SELECT array_agg(b.stars) AS stars, array_agg(b.min_score) AS mins
                       FROM scoring_starband b WHERE b.regime_id = css.regime_id) bnd ON true"""

_ID_TYPES = {"user": "bigint", "session": "bigint", "dossier": "bigint"}


def _with_arrays():
    return connection.vendor == "postgresql"


def _arrays_joins():
    return _ENTRIES_AND_BANDS_JOINS if _with_arrays() else ""


def _entries_and_bands(sheet, extra):
    """``(entries, band rows)`` from the arrays of :data:`_ENTRIES_AND_BANDS`, or (other
    databases: the embedded SQLite) read now. The band rows become bands with
    ``scoring.queries.bands_of`` when the totals need them."""
    if not extra:
        return load_entries(sheet.pk), list(
            StarBand.objects.filter(regime_id=sheet.criteria_set.regime_id).order_by()
            .values_list("stars", "min_score"))
    criteria, options, notes, stars, mins = extra
    entries = [Entry(*row) for row in zip(criteria or (), options or (), notes or (),
                                          strict=True)]
    return entries, list(zip(stars or (), mins or (), strict=True))


def _page_statement():
    return sql_rows.Statement(
        "sheet_page",
        [("s", EvaluationSession), ("c", Council), ("m", CouncilMember), ("i", AgendaItem),
         ("d", Dossier), ("p", Product), ("pr", Producer), ("sh", Scoresheet),
         ("css", CriteriaSet), ("rs", Regime)],
        ["rc.id", *(_ENTRIES_AND_BANDS if _with_arrays() else ())],
        f"""FROM councils_evaluationsession s
    JOIN councils_council c ON c.id = s.council_id
    JOIN councils_councilmember m ON m.council_id = s.council_id AND m.user_id = %(user)s
    LEFT JOIN councils_agendaitem i ON i.session_id = s.id AND i.dossier_id = %(dossier)s
    LEFT JOIN dossiers_dossier d ON d.id = i.dossier_id
    LEFT JOIN dossiers_product p ON p.id = d.product_id
    LEFT JOIN dossiers_producer pr ON pr.id = p.producer_id
    LEFT JOIN councils_recusal rc
           ON rc.session_id = s.id AND rc.member_id = m.id AND rc.dossier_id = i.dossier_id
    LEFT JOIN scoring_scoresheet sh
           ON sh.session_id = s.id AND sh.dossier_id = i.dossier_id AND sh.member_id = m.id
    LEFT JOIN scoring_criteriaset css ON css.id = sh.criteria_set_id
    LEFT JOIN scoring_regime rs ON rs.id = css.regime_id{_arrays_joins()}
    WHERE s.id = %(session)s""", _ID_TYPES)


def _autosave_statement():
    return sql_rows.Statement(
        "sheet_autosave", [("sh", Scoresheet), ("css", CriteriaSet)],
        list(_ENTRIES_AND_BANDS if _with_arrays() else ()),
        f"""FROM scoring_scoresheet sh
    JOIN councils_councilmember m ON m.id = sh.member_id AND m.user_id = %(user)s
    JOIN scoring_criteriaset css ON css.id = sh.criteria_set_id{_arrays_joins()}
    WHERE sh.session_id = %(session)s AND sh.dossier_id = %(dossier)s""", _ID_TYPES)


def autosave_sheet(user, session_id, dossier_id):
    """``(sheet, entries, band rows)`` of ``user``'s sheet of the dossier in the session,
    with its criteria set, in one query; 404 when there is none."""
    found = sql_rows.statement("sheet_autosave", _autosave_statement).run(
        {"user": user.pk, "session": session_id, "dossier": dossier_id})
    if found is None:
        raise Http404
    rows, extra = found
    sheet = rows["sh"]
    sheet.criteria_set = rows["css"]
    return sheet, *_entries_and_bands(sheet, extra)


class SheetPage:
    """Everything the scoresheet page needs, read in one query (``_page_statement``): the
    session (which the member's council makes visible to them), the membership, the agenda
    item with its dossier, whether the member recused themselves, the sheet with its
    entries and its regime's star bands; 404 for anyone who is not a member, or a dossier
    not on the agenda."""

    def __init__(self, request, session_id, dossier_id):
        self.request = request
        found = None
        if request.user.is_authenticated:
            found = sql_rows.statement("sheet_page", _page_statement).run(
                {"user": request.user.pk, "session": session_id, "dossier": dossier_id})
        if found is None or found[0]["i"] is None:
            raise Http404
        rows, (recusal_id, *extra) = found
        self.session, self.member, self.item = rows["s"], rows["m"], rows["i"]
        self.session.council = rows["c"]
        dossier = self.dossier = rows["d"]
        self.item.session, self.item.dossier = self.session, dossier
        dossier.product = rows["p"]
        dossier.product.producer = rows["pr"]
        self.item.member_recusal = recusal_id
        self.recusal = (None if recusal_id is None
                        else Recusal.objects.get(pk=recusal_id))
        self.sheet = self._loaded = rows["sh"]
        self._entries, self._band_rows, self._bands = None, {}, {}
        if self.sheet is not None:
            cs = self.sheet.criteria_set = rows["css"]
            cs.regime = rows["rs"]
            if cs.pk == dossier.criteria_set_id:
                dossier.criteria_set = cs
            self._entries, self._band_rows[cs.regime_id] = _entries_and_bands(self.sheet,
                                                                              extra)

    def entries(self):
        """The sheet's entries: as read with the page while the sheet is the one read."""
        if self.sheet is self._loaded and self._entries is not None:
            return self._entries
        return load_entries(self.sheet.pk)

    def bands(self):
        """The star bands of the sheet's regime (read with the page)."""
        regime_id = self.sheet.criteria_set.regime_id
        bands = self._bands.get(regime_id)
        if bands is None:
            rows = self._band_rows.get(regime_id)
            bands = self._bands[regime_id] = (star_bands(regime_id) if rows is None
                                              else bands_of(regime_id, rows))
        return bands

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
        entries = self.entries() if entries is None else entries
        read_only = self.read_only_reason
        urls = self.urls()
        summary = sheet_summary(sheet, entries, tree, self.bands())
        return {
            "session": self.session, "member": self.member, "item": self.item,
            "dossier": self.dossier, "sheet": sheet, "cs": sheet.criteria_set,
            "tree": tree, "summary": summary, "totals": totals_html(summary), "urls": urls,
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
        if self.sheet is None or rules.only_own_sheet_visible(self.session, self.sheet):
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
        bands = self.bands()
        rows = []
        for other in sheets:
            summary = summarise(other, entries=by_sheet.get(other.pk, []), bands=bands)
            rows.append({"sheet": other, "member": other.member,
                         "total": summary.totals.total, "parts": summary.totals.parts,
                         "stars": summary.cap.stars})
        return rows
