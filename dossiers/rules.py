"""Who may do what to a dossier, and when: three tables and the predicates built on them.

``STATE_MACHINE`` — action → (states it may start from, state it leads to). ``None`` as the
target marks an action that changes the dossier's content without moving it.

``ACTION_ROLES`` — action → {role: scope}. The scope says whose area must cover what:

* ``AREA``: the dossier's unit (where the producer is) — or, for producers and products,
  their unit — lies inside the area of the user's assignment with that role.

``COUNCIL_ONLY`` — action → the message every other door answers. Entering evaluation and
recording a result are the council's: they happen only through ``councils.services``
(putting a dossier on a session's agenda, closing the session), which decide who may by
the council's rules and pass ``via_council=True``; the generic transition endpoint and the
pages refuse both for everybody (``docs/councils.md``).

An administrator (``is_admin``) may do every action everywhere; the state machine still
applies. Services raise ``DossierError`` from :func:`check`; views and the API show the
buttons of :func:`available_actions`.
"""

from typing import NamedTuple

from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ocop.accounts.models import Role
from ocop.accounts.queries import is_admin, role_units
from ocop.regions.models import AdministrativeUnit
from scoring.models import AdminLevel, ProcessKind, ProcessLevel

from .models import DossierState as S

# --- the state machine -----------------------------------------------------------------------

#: The officer (on behalf of the producer) edits the dossier's content only here.
EDITABLE_STATES = (S.DRAFT, S.RETURNED)
#: The intake level checks the dossier (verify/reject lines, return or accept).
UNDER_REVIEW_STATES = (S.SUBMITTED, S.RESUBMITTED)
#: Samples may be recorded until the evaluation starts.
BEFORE_EVALUATION_STATES = (S.DRAFT, S.SUBMITTED, S.RETURNED, S.RESUBMITTED, S.ACCEPTED,
                            S.PRE_ASSESSED)

STATE_MACHINE = {
    # content (no state change)
    "update_registration": (EDITABLE_STATES, None),
    "record_samples": (BEFORE_EVALUATION_STATES, None),
    "upload_file": (EDITABLE_STATES, None),
    "remove_file": (EDITABLE_STATES, None),
    "set_self_assessment": (EDITABLE_STATES, None),
    "review_document": (UNDER_REVIEW_STATES, None),
    # workflow
    "submit": ((S.DRAFT,), S.SUBMITTED),
    "return_for_completion": (UNDER_REVIEW_STATES, S.RETURNED),
    "resubmit": ((S.RETURNED,), S.RESUBMITTED),
    "accept": (UNDER_REVIEW_STATES, S.ACCEPTED),
    "record_pre_assessment": ((S.ACCEPTED,), S.PRE_ASSESSED),
    # From ``accepted`` only when the regime has no commune pre-assessment level (148);
    # under 1489 / 26/2026 the commune's Mẫu 03 report comes first (see ``_guard``).
    "start_evaluation": ((S.ACCEPTED, S.PRE_ASSESSED), S.IN_EVALUATION),
    # Then, in the same call, result_recorded → the outcome's state (OUTCOME_STATES).
    "record_result": ((S.IN_EVALUATION,), S.RESULT_RECORDED),
    # Not once the council evaluates it: the council's result decides (docs/councils.md).
    "withdraw": (BEFORE_EVALUATION_STATES, S.WITHDRAWN),
}

#: ``record_result(outcome=…)`` → the state the dossier ends in at this level.
OUTCOME_STATES = {
    "forward": S.FORWARDED,
    "recognise": S.RECOGNISED,
    "not_recognise": S.NOT_RECOGNISED,
}

WORKFLOW_ACTIONS = tuple(action for action, (_from, to) in STATE_MACHINE.items()
                         if to is not None)

# --- who ---------------------------------------------------------------------------------------

AREA = "area"

OFFICER = Role.LOCAL_OFFICER
STAFF = Role.DEPARTMENT_STAFF

ACTION_ROLES = {
    # producers and products (scope: the producer's unit)
    "create_producer": {OFFICER: AREA, STAFF: AREA},
    "update_producer": {OFFICER: AREA, STAFF: AREA},
    "create_product": {OFFICER: AREA, STAFF: AREA},
    "update_product": {OFFICER: AREA, STAFF: AREA},
    "delete_producer": {OFFICER: AREA, STAFF: AREA},
    "delete_product": {OFFICER: AREA, STAFF: AREA},
    "create_dossier": {OFFICER: AREA, STAFF: AREA},
    # dossier content
    "update_registration": {OFFICER: AREA, STAFF: AREA},
    "record_samples": {OFFICER: AREA, STAFF: AREA},
    "upload_file": {OFFICER: AREA, STAFF: AREA},
    "remove_file": {OFFICER: AREA, STAFF: AREA},
    "set_self_assessment": {OFFICER: AREA, STAFF: AREA},
    "review_document": {OFFICER: AREA, STAFF: AREA},
    # intake workflow: the local officer on behalf of the producer; the provincial OCOP
    # office (department staff) may do the same in its province
    "submit": {OFFICER: AREA, STAFF: AREA},
    "return_for_completion": {OFFICER: AREA, STAFF: AREA},
    "resubmit": {OFFICER: AREA, STAFF: AREA},
    "accept": {OFFICER: AREA, STAFF: AREA},
    "record_pre_assessment": {OFFICER: AREA, STAFF: AREA},
    "withdraw": {OFFICER: AREA, STAFF: AREA},
    # between levels and after the council (docs/decisions.md); scope: for decisions the
    # issuing People's Committee's unit, for a forwarded dossier the round it goes to or
    # the dossier's unit
    "receive_forwarded": {STAFF: AREA},
    "record_central_result": {STAFF: AREA},
    "draft_decision": {OFFICER: AREA, STAFF: AREA},
    "issue_decision": {OFFICER: AREA, STAFF: AREA},
}

#: Actions of the state machine that only the council's services do, with the message every
#: other door (transition endpoint, pages) answers.
COUNCIL_ONLY = {
    "start_evaluation": gettext_lazy(
        "A dossier enters evaluation only when it is put on the agenda of a council "
        "session (Councils → the session → Agenda); it cannot be started here."),
    "record_result": gettext_lazy(
        "The evaluation result is recorded only by the council: the chair closes the "
        "product's scoring in the meeting and the result is recorded when the session "
        "closes. It cannot be entered here."),
}

ACTION_LABELS = {
    "create_producer": gettext_lazy("register a producer"),
    "update_producer": gettext_lazy("change a producer"),
    "create_product": gettext_lazy("register a product"),
    "update_product": gettext_lazy("change a product"),
    "delete_producer": gettext_lazy("delete a producer"),
    "delete_product": gettext_lazy("delete a product"),
    "create_dossier": gettext_lazy("create a dossier"),
    "update_registration": gettext_lazy("change the registration form"),
    "record_samples": gettext_lazy("record the product samples"),
    "upload_file": gettext_lazy("upload a file"),
    "remove_file": gettext_lazy("remove a file"),
    "set_self_assessment": gettext_lazy("fill in the self-assessment"),
    "review_document": gettext_lazy("check a document"),
    "submit": gettext_lazy("submit the dossier"),
    "return_for_completion": gettext_lazy("return the dossier for completion"),
    "resubmit": gettext_lazy("resubmit the dossier"),
    "accept": gettext_lazy("accept the dossier"),
    "record_pre_assessment": gettext_lazy("record the pre-assessment"),
    "start_evaluation": gettext_lazy("start the evaluation"),
    "record_result": gettext_lazy("record the evaluation result"),
    "withdraw": gettext_lazy("withdraw the dossier"),
    "receive_forwarded": gettext_lazy("take a forwarded dossier into a round"),
    "record_central_result": gettext_lazy("record the Ministry's result"),
    "draft_decision": gettext_lazy("draft a recognition decision"),
    "issue_decision": gettext_lazy("issue a recognition decision"),
}


class Refusal(NamedTuple):
    code: str
    message: str


# --- predicates --------------------------------------------------------------------------------


def has_pre_assessment(regime):
    """True when the regime's first level is a (commune) pre-assessment (1489, 26/2026)."""
    cached = getattr(regime, "_first_level_kind", None)
    if cached is None:
        cached = regime.levels.order_by("order").values_list("kind", flat=True).first() or ""
        regime._first_level_kind = cached
    return cached == ProcessKind.PRE_ASSESSMENT


# --- state labels that depend on the level (docs/regimes-and-levels.md) ----------------------

#: ``pre_assessed`` names the level that recorded it: the commune's Mẫu 03 (1489, 26/2026)
#: or the acceptance of the round's own level (148: the district).
PRE_ASSESSED_LABELS = {
    AdminLevel.COMMUNE: gettext_lazy("Pre-assessed (commune level)"),
    AdminLevel.DISTRICT: gettext_lazy("Pre-assessed (district level)"),
    AdminLevel.PROVINCE: gettext_lazy("Pre-assessed (provincial level)"),
}


def with_first_level_kind(queryset):
    """Dossiers annotated with ``first_level_kind`` (their regime's first level), so that
    :func:`state_label` needs no query per row on lists."""
    return queryset.annotate(first_level_kind=Subquery(
        ProcessLevel.objects.filter(regime=OuterRef("round__regime"))
        .order_by("order").values("kind")[:1]))


def pre_assessment_level(dossier):
    """Where the dossier's pre-assessment is made: the commune where the regime's first
    level is a pre-assessment, else the round's own level (148: the district)."""
    kind = getattr(dossier, "first_level_kind", None)
    if kind is not None:
        commune = kind == ProcessKind.PRE_ASSESSMENT
    else:
        commune = has_pre_assessment(dossier.round.regime)
    return AdminLevel.COMMUNE if commune else dossier.round.level.admin_level


def state_label(dossier):
    """The dossier's state as the interface names it — the one place where a label
    follows the level (page, list and API ``state_display``)."""
    if dossier.state != S.PRE_ASSESSED:
        return str(S(dossier.state).label)
    return _pre_assessed_label(pre_assessment_level(dossier), dossier.state)


def state_label_of(state, first_level_kind, round_admin_level):
    """:func:`state_label` from a plain row: the state, the round's regime's first level
    (``with_first_level_kind``) and the round's level."""
    if state != S.PRE_ASSESSED:
        return str(S(state).label)
    commune = first_level_kind == ProcessKind.PRE_ASSESSMENT
    return _pre_assessed_label(AdminLevel.COMMUNE if commune else round_admin_level, state)


def _pre_assessed_label(level, state):
    label = PRE_ASSESSED_LABELS.get(level)
    return str(label) if label is not None else str(S(state).label)


def _unit_in_area(user, role, unit_id, cache):
    key = (role, unit_id)
    if key not in cache:
        units = role_units(user, role)
        cache[key] = bool(units) and AdministrativeUnit.objects.within(units).filter(
            pk=unit_id).exists()
    return cache[key]


def _role_refusal(user, action, *, dossier=None, unit_id=None, cache=None):
    """Refusal for the user's role/area, or None. ``dossier`` for dossier actions,
    ``unit_id`` for producer/product actions."""
    if not user.is_authenticated:
        return Refusal("role", _("Please sign in."))
    if is_admin(user):
        return None
    cache = {} if cache is None else cache
    has_role = False
    for role in ACTION_ROLES[action]:
        if not role_units(user, role):
            continue
        has_role = True
        target = dossier.unit_id if dossier is not None else unit_id
        if _unit_in_area(user, role, target, cache):
            return None
    label = ACTION_LABELS[action]
    if not has_role:
        return Refusal("role", _("Your role does not allow you to %(action)s.")
                       % {"action": label})
    if dossier is not None:
        return Refusal("area", _("This dossier is outside your area; you cannot %(action)s.")
                       % {"action": label})
    return Refusal("area", _("This administrative unit is outside your area; you cannot "
                             "%(action)s.") % {"action": label})


def _guard(action, dossier):
    """Preconditions of the state machine beyond the from-states."""
    if (action == "start_evaluation" and dossier.state == S.ACCEPTED
            and has_pre_assessment(dossier.round.regime)):
        return Refusal("pre_assessment_required",
                       _("The commune pre-assessment (Form 03) must be recorded before the "
                         "evaluation starts."))
    return None


def state_refusal(action, dossier):
    from_states, _to = STATE_MACHINE[action]
    if dossier.state not in from_states:
        if action in ("submit", "resubmit") and dossier.state in (S.SUBMITTED,
                                                                  S.RESUBMITTED):
            return Refusal("already_submitted",
                           _("This dossier has already been submitted; it was not submitted "
                             "again."))
        return Refusal("state", _("You cannot %(action)s while the dossier is “%(state)s”.")
                       % {"action": ACTION_LABELS[action],
                          "state": S(dossier.state).label})
    return _guard(action, dossier)


def council_only_refusal(action):
    """The refusal of a council-only action asked through any other door, or None."""
    message = COUNCIL_ONLY.get(action)
    return Refusal("council_only", str(message)) if message is not None else None


def check(user, action, dossier, *, cache=None, via_council=False):
    """Why ``user`` may not do ``action`` on ``dossier`` now (a :class:`Refusal`), or None.
    Role and area are checked first, so someone else's dossier reveals nothing of its
    state. A council-only action is refused unless ``councils.services`` asks
    (``via_council``, after checking the council's own rules); then only its state
    applies."""
    if action in COUNCIL_ONLY:
        return state_refusal(action, dossier) if via_council else council_only_refusal(
            action)
    return (_role_refusal(user, action, dossier=dossier, cache=cache)
            or state_refusal(action, dossier))


def check_access(user, action, dossier):
    """Role and area only (no state): for calls that change nothing."""
    return _role_refusal(user, action, dossier=dossier)


def check_unit(user, action, unit):
    """For actions on producers/products: may ``user`` act on ``unit``?"""
    return _role_refusal(user, action, unit_id=unit.pk if unit is not None else None)


def issuer_refusal(user, action, unit):
    """Drafting, issuing or correcting a decision of the People's Committee of ``unit``:
    the unit lies in the area of the user's role for ``action`` (docs/decisions.md). A
    Ministry decision (no unit) is recorded, never drafted or issued here."""
    if unit is None:
        return Refusal("ministry", _("A decision of the Ministry is recorded here, not "
                                     "drafted or issued."))
    return check_unit(user, action, unit)


def check_role(user, action):
    """Refusal when the user has none of the action's roles (area not considered yet)."""
    if not user.is_authenticated:
        return Refusal("role", _("Please sign in."))
    if action in COUNCIL_ONLY:
        return council_only_refusal(action)
    if is_admin(user) or any(role_units(user, role) for role in ACTION_ROLES[action]):
        return None
    return Refusal("role", _("Your role does not allow you to %(action)s.")
                   % {"action": ACTION_LABELS[action]})


def can(user, action, dossier):
    return check(user, action, dossier) is None


def available_actions(user, dossier):
    """The actions (keys of ``STATE_MACHINE``, in its order) the user may do now."""
    cache = {}
    return [
        action for action in STATE_MACHINE
        if action not in COUNCIL_ONLY and state_refusal(action, dossier) is None
        and _role_refusal(user, action, dossier=dossier, cache=cache) is None
    ]


# --- after recognition: inspections and revocation (docs/ratings-lifecycle.md) ---------------

#: Oversight action → {role: scope}. The scope is the unit the action is about — a plan's
#: province, an inspection's area, a rating's producer — which must lie in the area of the
#: user's assignment with that role. The provincial OCOP office (department staff)
#: inspects and revokes; local officers read the inspections and revocations of their
#: area (``dossiers.queries.inspections_visible_to``) but change nothing.
OVERSIGHT_ROLES = {
    "plan_inspections": {STAFF: AREA},
    "inspect": {STAFF: AREA},
    "revoke": {STAFF: AREA},
}

OVERSIGHT_LABELS = {
    "plan_inspections": gettext_lazy("plan inspections"),
    "inspect": gettext_lazy("record an inspection"),
    "revoke": gettext_lazy("revoke a rating"),
}


def oversight_refusal(user, action, unit, *, cache=None):
    """Why ``user`` may not do the oversight ``action`` about ``unit`` (a
    :class:`Refusal`), or None. An administrator may do everything."""
    if not user.is_authenticated:
        return Refusal("role", _("Please sign in."))
    if is_admin(user):
        return None
    cache = {} if cache is None else cache
    label = OVERSIGHT_LABELS[action]
    roles = [role for role in OVERSIGHT_ROLES[action] if role_units(user, role)]
    if not roles:
        return Refusal("role", _("Your role does not allow you to %(action)s.")
                       % {"action": label})
    if unit is not None and any(_unit_in_area(user, role, unit.pk, cache) for role in roles):
        return None
    return Refusal("area", _("This is outside your area; you cannot %(action)s.")
                   % {"action": label})


def may_oversee(user, action):
    """True when the user has a role that may do ``action`` somewhere (to show buttons)."""
    return user.is_authenticated and (
        is_admin(user) or any(role_units(user, role) for role in OVERSIGHT_ROLES[action]))


# --- the law in force at the date (docs/regimes-and-levels.md, "In force at the date") ------
#
# Pure functions of dates: each takes the dates it needs (a unit's or a regime's period, a
# round's deadlines, the day) and returns a :class:`Refusal` naming the unit or regime and
# the day it ended or began, or None. ``dossiers.rounds`` (rounds), ``dossiers.services``
# (dossiers) and ``councils.rules`` (councils, sessions) ask them.


def _day(day):
    return day.strftime("%d/%m/%Y")


def unit_period_refusal(name, valid_from, valid_to, day):
    """The administrative unit ``name`` (valid ``valid_from``–``valid_to``, both inclusive,
    None = open) does not exist on ``day``."""
    if valid_to is not None and day > valid_to:
        return Refusal("unit_ended", _(
            "%(unit)s no longer existed on %(date)s: it ended on %(end)s (the 2025 "
            "reorganisation of administrative units).") % {
            "unit": name, "date": _day(day), "end": _day(valid_to)})
    if valid_from is not None and day < valid_from:
        return Refusal("unit_not_yet", _(
            "%(unit)s did not exist yet on %(date)s: it exists from %(start)s.") % {
            "unit": name, "date": _day(day), "start": _day(valid_from)})
    return None


def regime_period_refusal(code, effective_from, effective_to, day):
    """The regime ``code`` (in force ``effective_from``–``effective_to``, inclusive, None =
    open) is not in force on ``day``."""
    if effective_to is not None and day > effective_to:
        return Refusal("regime_ended", _(
            "%(regime)s was no longer in force on %(date)s: it applied until %(end)s.") % {
            "regime": code, "date": _day(day), "end": _day(effective_to)})
    if day < effective_from:
        return Refusal("regime_not_yet", _(
            "%(regime)s was not yet in force on %(date)s: it applies from %(start)s.") % {
            "regime": code, "date": _day(day), "start": _day(effective_from)})
    return None


def unit_refusal(unit, day):
    return unit_period_refusal(unit.name, unit.valid_from, unit.valid_to, day)


def regime_refusal(regime, day):
    return regime_period_refusal(regime.code, regime.effective_from, regime.effective_to, day)


def window_dates(windows, year):
    """[(received by, finished by)] of ``windows`` ((receive day, month), (finish day,
    month)) in ``year``, by received-by date."""
    import datetime

    return sorted((datetime.date(year, rm, rd), datetime.date(year, fm, fd))
                  for (rd, rm), (fd, fm) in windows)


def windows_label(windows):
    """“received by 30/04, finished by 30/06; received by 30/10, finished by 30/12”."""
    return "; ".join(
        _("received by %(receive)s, finished by %(finish)s") % {
            "receive": f"{rd:02d}/{rm:02d}", "finish": f"{fd:02d}/{fm:02d}"}
        for (rd, rm), (fd, fm) in sorted(windows, key=lambda w: (w[0][1], w[0][0])))


def round_window(windows, intake_deadline):
    """The (received by, finished by) dates of the calendar slot a round with this intake
    deadline belongs to: the first slot of the deadline's year whose received-by date is
    on or after it; None when it falls after the last slot (or there is no calendar)."""
    for receive, finish in window_dates(windows, intake_deadline.year):
        if intake_deadline <= receive:
            return receive, finish
    return None


def round_calendar_refusal(regime_code, windows, intake_deadline, session_date=None):
    """The regime's round calendar (``windows``: ((day, month), (day, month)) pairs,
    e.g. 26/2026: ((30, 4), (30, 6)) and ((30, 10), (30, 12))) refuses a round whose intake
    deadline is after the last received-by date of its year, or whose (planned) session
    ``session_date`` is after the finished-by date of its slot. No calendar: no check."""
    if not windows:
        return None
    slot = round_window(windows, intake_deadline)
    listed = windows_label(windows)
    if slot is None:
        return Refusal("round_calendar", _(
            "Under %(regime)s the intake deadline %(date)s falls after the last round of "
            "its year; the round calendar is: %(windows)s.") % {
            "regime": regime_code, "date": _day(intake_deadline), "windows": listed})
    receive, finish = slot
    if session_date is not None and session_date > finish:
        return Refusal("round_calendar", _(
            "Under %(regime)s requests received by %(receive)s must be finished by "
            "%(finish)s; %(date)s is too late. The round calendar is: %(windows)s.") % {
            "regime": regime_code, "receive": _day(receive), "finish": _day(finish),
            "date": _day(session_date), "windows": listed})
    return None


def regime_windows(regime):
    """The regime's calendar as ((day, month), (day, month)) pairs (``RoundWindow`` rows)."""
    return [((w.receive_by_day, w.receive_by_month), (w.finish_by_day, w.finish_by_month))
            for w in regime.round_windows.all()]


def dossier_date_refusal(round_, day):
    """A dossier created or submitted on ``day`` in ``round_``: the round's regime is in
    force and the round's area exists. (The producer's own unit is not checked: a producer
    registered before 2025 keeps its pre-2025 commune, which maps to a current one.)"""
    return regime_refusal(round_.regime, day) or unit_refusal(round_.unit, day)


#: Who may open an evaluation round (besides an administrator): department staff of an area
#: that covers the round's unit.
ROUND_ROLES = {"create_round": {STAFF: AREA}}


def round_role_refusal(user, unit):
    """Why ``user`` may not open a round of ``unit`` (a :class:`Refusal`), or None."""
    if not user.is_authenticated:
        return Refusal("role", _("Please sign in."))
    if is_admin(user):
        return None
    for role in ROUND_ROLES["create_round"]:
        if role_units(user, role) and _unit_in_area(user, role, unit.pk, {}):
            return None
    return Refusal("role", _("Only department staff of the area or an administrator may "
                             "open an evaluation round here."))


#: Who may read the statistics (docs/statistics.md): the dashboard, its downloads and the
#: registers — department staff and local officers, each for their area; the yearly report
#: of a province — department staff whose area covers it. An administrator reads all.
STATS_ROLES = {
    "view_stats": {STAFF: AREA, OFFICER: AREA},
    "yearly_report": {STAFF: AREA},
}


def stats_refusal(user, action="view_stats", unit=None):
    """Why ``user`` may not read the statistics ``action`` (for ``unit``, when given: it
    lies in the area of the user's role), or None."""
    if not user.is_authenticated:
        return Refusal("role", _("Please sign in."))
    if is_admin(user):
        return None
    roles = [role for role in STATS_ROLES[action] if role_units(user, role)]
    if not roles:
        return Refusal("role", _("The statistics are kept for the department staff and the "
                                 "local officers; your account has none of these roles."))
    if unit is None or any(_unit_in_area(user, role, unit.pk, {}) for role in roles):
        return None
    return Refusal("area", _("This area is outside yours."))


#: Who may bring in the province's existing register (docs/register-import.md): department
#: staff, into their own province (rows elsewhere are refused); an administrator, any.
IMPORT_ROLES = {"import_register": {STAFF: AREA}}


def import_refusal(user):
    """Why ``user`` may not import a register, or None."""
    if not user.is_authenticated:
        return Refusal("role", _("Please sign in."))
    if is_admin(user) or any(role_units(user, role) for role in IMPORT_ROLES["import_register"]):
        return None
    return Refusal("role", _("Only department staff or an administrator may import the "
                             "register of rated products."))


def import_province(user):
    """The province a user's import is for: None for an administrator (any province), the
    province of their department role otherwise."""
    if is_admin(user):
        return None
    units = role_units(user, STAFF)
    return units[0] if units else None
