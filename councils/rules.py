"""Who may do what in a council, and who may see which scores: tables and predicates.

The rules themselves are written down in ``docs/councils.md``; this module is their one
implementation. Pages, the API, the exports, the minutes task and the services all ask it
(the services raise its refusals; the pages hide what it refuses).

``ACTIONS`` — action → (who may do it, session states in which it may be done). "Who" is a
set of the council roles below plus ``MANAGER``: department staff whose area covers the
council's unit, officers of the council's own district under 148, administrators
(``queries.manageable_units``).

:func:`check` returns a :class:`Refusal` (code, Vietnamese message) or None; the services
turn it into ``CouncilError``. Preconditions that need more than the session (a sheet's
state, the item being closed, the meeting's date) are checked by the predicates below it.

WHAT EACH PERSON SEES of an agenda item (:func:`item_view`, the INDEPENDENCE RULE — one
function for the tracker, results pages, API, exports and minutes):

==========================  ===============================================================
before the session closes
--------------------------  ---------------------------------------------------------------
the chair                   who has submitted and the quorum; once the chair's own sheet
                            of the item is submitted (or the chair is recused): the
                            aggregates (means, spread, band, star) when at least
                            ``max(quorum, MIN_SHEETS_FOR_AGGREGATES)`` sheets are counted;
                            once every present, non-recused scoring member has submitted
                            (in the meeting), the aggregates and each member's total (the
                            council's summary table)
the secretary               the same, without the own-sheet condition (does not score)
the vice-chair, managers    who has submitted and the quorum — never a score
a member                    their own sheet; others' submitted sheets of a dossier only
                            when the council's ``peer_visibility`` is ``after_submit`` and
                            their own sheet of it is submitted
--------------------------  ---------------------------------------------------------------
after the session closes
--------------------------  ---------------------------------------------------------------
chair, vice-chair,          every recorded result and every member's total
secretary, managers
a member                    every recorded result; others' totals per ``peer_visibility``
                            (``never``: their own only)
==========================  ===============================================================
"""

from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dossiers import rules as in_force
from ocop.accounts.queries import is_admin

from . import queries
from .models import SCORING_STATES, MemberRole, PeerVisibility, SessionMode, SessionState

S = SessionState
#: Session states in which the agenda may still change.
AGENDA_EDIT_STATES = (S.PREPARING, S.OPEN)

CHAIR = MemberRole.CHAIR
VICE_CHAIR = MemberRole.VICE_CHAIR
SECRETARY = MemberRole.SECRETARY
MEMBER = MemberRole.MEMBER
#: Not a council role: department staff of the area, the district's officers (148), admins.
MANAGER = "manager"

#: action → (who, session states). ``None`` for states: any.
ACTIONS = {
    "plan_session": ({MANAGER}, None),
    "set_agenda": ({MANAGER}, AGENDA_EDIT_STATES),
    "open_scoring": ({MANAGER, CHAIR, SECRETARY}, (S.PREPARING,)),
    "start_meeting": ({MANAGER, CHAIR, SECRETARY}, (S.OPEN,)),
    "record_attendance": ({MANAGER, CHAIR, SECRETARY}, (S.MEETING,)),
    "declare_recusal": ({CHAIR, VICE_CHAIR, MEMBER, SECRETARY}, (S.PREPARING, S.OPEN,
                                                                 S.MEETING)),
    "reopen_sheet": ({CHAIR, VICE_CHAIR}, SCORING_STATES),
    "close_item": ({CHAIR}, (S.MEETING,)),
    "close_session": ({CHAIR}, (S.MEETING,)),
    "track": ({MANAGER, CHAIR, VICE_CHAIR, SECRETARY}, None),
    "request_minutes": ({MANAGER, CHAIR, SECRETARY}, (S.CLOSED,)),
}

#: A session decided by members' written opinions (``SessionMode.WRITTEN``, 26/2026
#: re-evaluations; docs/councils.md): no meeting, no attendance, no quorum — the chair or
#: the secretary closes the items and the session while it is open for scoring. Actions
#: listed here replace their ``ACTIONS`` entry; ``None``: the action does not exist there.
WRITTEN_ACTIONS = {
    "start_meeting": None,
    "record_attendance": None,
    "close_item": ({CHAIR, SECRETARY}, (S.OPEN,)),
    "close_session": ({CHAIR, SECRETARY}, (S.OPEN,)),
}

ACTION_LABELS = {
    "plan_session": gettext_lazy("plan a session of this council"),
    "set_agenda": gettext_lazy("set the agenda"),
    "open_scoring": gettext_lazy("open the scoring"),
    "start_meeting": gettext_lazy("start the meeting"),
    "record_attendance": gettext_lazy("record the attendance"),
    "declare_recusal": gettext_lazy("declare a recusal"),
    "reopen_sheet": gettext_lazy("reopen a scoresheet"),
    "close_item": gettext_lazy("close a product's scoring"),
    "close_session": gettext_lazy("close the session"),
    "track": gettext_lazy("follow the scoring"),
    "request_minutes": gettext_lazy("request the minutes"),
}

#: Who may do it, as the refusal says it.
WHO_LABELS = {
    "plan_session": gettext_lazy("Only department staff of the area, officers of the "
                                 "council's own district or an administrator may plan a "
                                 "council session."),
    "set_agenda": gettext_lazy("Only department staff of the area, officers of the council's "
                               "own district or an administrator may set the agenda."),
    "open_scoring": gettext_lazy("Only the council's chair, secretary or department staff "
                                 "can open scoring."),
    "start_meeting": gettext_lazy("Only the council's chair, secretary or department staff "
                                  "can record the attendance."),
    "record_attendance": gettext_lazy("Only the council's chair, secretary or department "
                                      "staff can record the attendance."),
    "declare_recusal": gettext_lazy("A recusal is declared by the member, or recorded for "
                                    "them by the council's secretary."),
    "reopen_sheet": gettext_lazy("Only the council chair reopens a member's scoresheet; the "
                                 "chair's own sheet is reopened by the vice-chair."),
    "close_item": gettext_lazy("Only the council chair may close a dossier's scoring."),
    "close_session": gettext_lazy("Only the council chair may close the session."),
    "track": gettext_lazy("Only the council's chair, vice-chair, secretary and department "
                          "staff can follow the scoring."),
    "request_minutes": gettext_lazy("Only the council's chair, secretary and department "
                                    "staff can regenerate the minutes of a closed session."),
}

#: Aggregates of an item are never shown on fewer counted sheets than this (with three, the
#: mean, the spread and one's own total give the other two totals exactly).
MIN_SHEETS_FOR_AGGREGATES = getattr(settings, "COUNCIL_MIN_SHEETS_FOR_AGGREGATES", 4)


class Refusal(NamedTuple):
    code: str
    message: str


# --- who the user is in the session ------------------------------------------------------------


class Actor:
    """The user's standing in one session, read once: their council membership (or None)
    and whether they manage the council."""

    _UNREAD = object()

    def __init__(self, user, session, member=_UNREAD):
        """``member``: the user's membership when already read with the session (a
        CouncilMember of the session's council, or None)."""
        self.user = user
        self.session = session
        self.member = (queries.membership(user, session) if member is Actor._UNREAD
                       else member)
        self._manager = None

    @property
    def role(self):
        return self.member.role if self.member is not None else None

    @property
    def manager(self):
        if self._manager is None:
            self._manager = bool(self.user.is_authenticated) and (
                is_admin(self.user) or queries.can_manage_council(self.user,
                                                                  self.session.council))
        return self._manager


def _actor(user, session):
    return user if isinstance(user, Actor) else Actor(user, session)


def is_written(session):
    return getattr(session, "mode", "meeting") == SessionMode.WRITTEN


def _entry(action, session):
    """``(who, states)`` of ``action`` in this session's mode, or None when the action
    does not exist in it (a meeting in a written session)."""
    if is_written(session) and action in WRITTEN_ACTIONS:
        return WRITTEN_ACTIONS[action]
    return ACTIONS[action]


def may(user, action, session):
    """Role only (no state): may ``user`` ever do ``action`` in this session?"""
    entry = _entry(action, session)
    if entry is None:
        return False
    who, _states = entry
    actor = _actor(user, session)
    if actor.role in who:
        return True
    return MANAGER in who and actor.manager


def check(user, action, session):
    """Why ``user`` may not do ``action`` in ``session`` now, or None."""
    entry = _entry(action, session)
    if entry is None:
        return Refusal("written", _("This session is decided by the members' written "
                                    "opinions: it has no meeting and no attendance."))
    who, states = entry
    if not may(user, action, session):
        return Refusal("permission", str(WHO_LABELS[action]))
    if states is not None and session.state not in states:
        return Refusal("state", _("You cannot %(action)s while the session is “%(state)s”.")
                       % {"action": ACTION_LABELS[action],
                          "state": S(session.state).label})
    return None


# --- preconditions beyond the session's state --------------------------------------------------


def meeting_day_refusal(session, today=None):
    """A council evaluates in its meeting, held on the session's date: not before it."""
    today = today or timezone.localdate()
    if today < session.date:
        return Refusal("before_meeting_day",
                       _("The council meets on %(date)s; this cannot be done before that "
                         "day.") % {"date": session.date.strftime("%d/%m/%Y")})
    return None


def written_close_refusal(session, result, today=None):
    """A product of a written session is closed once every non-recused scoring member has
    submitted, or after the opinions' deadline (a sheet not submitted by then is not
    counted); never on no counted sheet (``close_item`` checks that)."""
    today = today or timezone.localdate()
    if today > session.opinions_due:
        return None
    missing = result.not_submitted
    if missing:
        return Refusal("opinions_pending", _(
            "The written opinions are due by %(date)s; before then a product is closed only "
            "once every scoring member has submitted. Not yet: %(list)s.") % {
            "date": session.opinions_due.strftime("%d/%m/%Y"),
            "list": ", ".join(s.name for s in missing)})
    return None


def recusal_refusal(user, session, member):
    """A recusal is declared by the member themself, or recorded for them by the secretary."""
    actor = _actor(user, session)
    refusal = check(actor, "declare_recusal", session)
    if refusal:
        return refusal
    if member.council_id != session.council_id:
        return Refusal("not_member", _("This person is not a member of the session's "
                                       "council."))
    if member.user_id != actor.user.pk and actor.role != SECRETARY:
        return Refusal("permission", str(WHO_LABELS["declare_recusal"]))
    return None


def may_reopen_for(actor, owner_id, owner_role):
    """Whose sheets ``actor`` reopens: the chair every scoring member's but their own, the
    vice-chair the chair's (``owner_*``: the sheet's member)."""
    if actor.member is None or owner_id == actor.member.pk:
        return False
    if actor.role == CHAIR:
        return owner_role != CHAIR
    return actor.role == VICE_CHAIR and owner_role == CHAIR


def reopen_refusal(user, sheet, item):
    """Who reopens whose sheet: the chair any scoring member's sheet but their own, the
    vice-chair the chair's; never after the item is closed; only a submitted sheet."""
    session = sheet.session
    actor = _actor(user, session)
    refusal = check(actor, "reopen_sheet", session)
    if refusal:
        return refusal
    if not may_reopen_for(actor, sheet.member_id, sheet.member.role):
        if actor.member is not None and sheet.member_id == actor.member.pk:
            return Refusal("own_sheet", _("Nobody reopens their own scoresheet; the chair's "
                                          "sheet is reopened by the vice-chair."))
        return Refusal("permission", str(WHO_LABELS["reopen_sheet"]))
    if item is None or item.closed_at is not None:
        return Refusal("item_closed", _("The result of this product has been recorded; its "
                                        "scoresheets can no longer be reopened."))
    if sheet.state != "submitted":
        return Refusal("not_submitted", _("Only a submitted scoresheet can be reopened."))
    return None


# --- what each person sees -----------------------------------------------------------------


@dataclass(frozen=True)
class ItemView:
    """What a user may see of one agenda item (see the module docstring)."""

    progress: bool = False  # who has submitted, the quorum
    aggregates: bool = False  # counted sheets, means, spread, band, star, outcome
    member_totals: bool = False  # each counted member's total (all, or ``own_only``)
    own_only: bool = False  # member totals limited to the sheets ``sheets_visible_to`` gives
    reason: str = ""  # why the aggregates are hidden (shown on the tracker)


def item_view(user, session, result=None, *, quorum=None):
    """The one answer to "what may ``user`` see of this item's scores?".

    ``result`` is the item's live ``councils.results.ItemResult`` and ``quorum`` the
    session's ``councils.results.Quorum`` (both needed before the close: the counted
    sheets, the pending members, the chair's own sheet, the members needed).
    """
    actor = _actor(user, session)
    role = actor.role
    tracker = may(actor, "track", session)
    if session.state == S.CLOSED:
        if tracker:
            return ItemView(progress=True, aggregates=True, member_totals=True)
        if role is not None:
            return ItemView(aggregates=True, member_totals=True,
                            own_only=session.council.peer_visibility == PeerVisibility.NEVER)
        return ItemView()
    if not tracker:
        return ItemView()
    if role not in (CHAIR, SECRETARY):
        return ItemView(progress=True, reason=_("Scores are confidential until the session "
                                                "is closed."))
    if result is None:
        return ItemView(progress=True)
    if role == CHAIR:
        own = next((s for s in result.statuses if s.member_id == actor.member.pk), None)
        if own is not None and own.status not in ("submitted", "recused"):
            return ItemView(progress=True, reason=_(
                "Submit your own scoresheet of this product to see its aggregates."))
    floor = max(quorum.needed if quorum else 0, MIN_SHEETS_FOR_AGGREGATES)
    # in a meeting with quorum, every present member has submitted: the council's summary
    # table (each member's total) is shown, so the aggregates are too
    all_in = bool(result.by_meeting and quorum is not None and quorum.met
                  and result.counted and not result.pending)
    aggregates = result.members_counted >= floor or all_in
    reason = "" if aggregates else _(
        "The aggregates appear once %(n)s scoresheets are submitted.") % {"n": floor}
    return ItemView(progress=True, aggregates=aggregates, member_totals=all_in,
                    reason=reason)


def may_see_results(user, session):
    """The results pages and API: those who may track the session at any time (each item
    then shows what :func:`item_view` allows), and the council's members once closed."""
    actor = _actor(user, session)
    if may(actor, "track", session):
        return True
    return session.state == S.CLOSED and actor.member is not None


def sheets_visible_to(user, session):
    """The session's scoresheets whose choices (and totals) ``user`` may see: own sheets
    always; others per :func:`item_view` — after the close for trackers and (per
    ``peer_visibility``) members, before it only under ``after_submit``."""
    from scoring.models import Scoresheet, SheetState

    sheets = Scoresheet.objects.filter(session=session)
    if not user.is_authenticated:
        return sheets.none()
    actor = _actor(user, session)
    member = actor.member
    own = Q(member=member) if member is not None else Q(pk__in=[])
    visibility = session.council.peer_visibility
    if session.state == S.CLOSED:
        if may(actor, "track", session):
            return sheets
        if member is not None and visibility != PeerVisibility.NEVER:
            return sheets
        return sheets.filter(own)
    if member is not None and visibility == PeerVisibility.AFTER_OWN_SUBMIT:
        submitted_own = Scoresheet.objects.filter(
            session=session, member=member, state=SheetState.SUBMITTED).exclude(
            dossier_id__in=session.recusals.filter(member=member).values("dossier_id")
        ).values("dossier_id")
        return sheets.filter(own | Q(state=SheetState.SUBMITTED,
                                     dossier_id__in=submitted_own))
    return sheets.filter(own)


def only_own_sheet_visible(session, own_sheet):
    """Whether :func:`sheets_visible_to` gives the member who owns ``own_sheet`` no other
    sheet of its dossier, known without a query (the scoresheet page then asks none):
    before the close, unless ``after_submit`` lets them see submitted peers once
    ``own_sheet`` is submitted."""
    from scoring.models import SheetState

    if session.state == S.CLOSED:
        return False
    return not (session.council.peer_visibility == PeerVisibility.AFTER_OWN_SUBMIT
                and own_sheet.state == SheetState.SUBMITTED)


def can_see_choices(user, sheet):
    """May ``user`` see this sheet's choices and total? (asks :func:`sheets_visible_to`)."""
    if not user.is_authenticated:
        return False
    member = queries.membership(user, sheet.session)
    if member is not None and sheet.member_id == member.pk:
        return True
    return sheets_visible_to(user, sheet.session).filter(pk=sheet.pk).exists()


def minutes_refusal(user, session):
    """The minutes print every member's total: after the close, to those who may see every
    member's total (trackers; members unless ``peer_visibility`` is ``never``)."""
    if session.state != S.CLOSED or not may_see_results(user, session):
        return Refusal("confidential", _("The minutes exist once the session is closed."))
    view = item_view(user, session)
    if not view.member_totals or view.own_only:
        return Refusal("confidential", _("The council's rules do not let you see the other "
                                         "members' scoresheets."))
    return None


def export_refusal(user, session):
    """The Excel export carries every member's choices: after the close, to those who may
    see every sheet of the session."""
    if session.state != S.CLOSED:
        return Refusal("confidential", _("The scores are confidential until the session is "
                                         "closed; the export shows every member's choices."))
    if not may_see_results(user, session):
        return Refusal("confidential", _("The results are confidential until the session is "
                                         "closed."))
    visible = sheets_visible_to(user, session).count()
    if visible != session.scoresheets.count():
        return Refusal("confidential", _("The council's rules do not let you see the other "
                                         "members' scoresheets."))
    return None


# --- the law in force at the date (docs/regimes-and-levels.md, "In force at the date") ------


def council_date_refusal(unit, level_label, decision_date, regimes):
    """A council set up on ``decision_date`` for ``unit``: the unit exists that day and a
    regime in force that day has a council at the council's level. ``regimes``: (code,
    effective_from, effective_to) of the regimes with a council at that level. Pure: dates
    only."""
    refusal = in_force.unit_refusal(unit, decision_date)
    if refusal is not None:
        return refusal
    if any(in_force.regime_period_refusal(code, start, end, decision_date) is None
           for code, start, end in regimes):
        return None
    return Refusal("regime", _(
        "No regime in force on %(date)s has a %(level)s council (%(regimes)s).") % {
        "date": decision_date.strftime("%d/%m/%Y"), "level": level_label,
        "regimes": "; ".join(
            f"{code}: {start:%d/%m/%Y}–{end:%d/%m/%Y}" if end else f"{code}: {start:%d/%m/%Y}–"
            for code, start, end in regimes) or "—"})


def session_date_refusal(council_unit, round_, day, windows=()):
    """A session on ``day`` of a council of ``council_unit`` on ``round_``: the council's
    unit and the round's exist that day, the round's regime is in force, and under a round
    calendar (``windows``, see ``dossiers.rules.round_calendar_refusal``) the day is not
    after the finished-by date of the round's slot. Pure: dates only."""
    return (in_force.unit_refusal(council_unit, day) or in_force.unit_refusal(round_.unit, day)
            or in_force.regime_refusal(round_.regime, day)
            or in_force.round_calendar_refusal(round_.regime.code, windows,
                                               round_.intake_deadline, day))
