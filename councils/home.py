"""The councils' part of the home page (``home_panel``, registered in
``CouncilsConfig.ready`` through ``ocop.web.panels``), and the menu fact
``council_member`` (``ocop.web.menu``).

- a council member: the sessions open for scoring (``SCORING_STATES``) of the councils
  where they score, each agenda item with their own progress (criteria answered / total,
  submitted or not, recused) and the link to its scoresheet;
- a chair, vice-chair or secretary (those who may ``track``, ``councils.rules.ACTIONS``):
  the sessions to run (preparing, open, meeting) with the tracker and the results, and the
  last closed sessions with their results and minutes;
- those who manage councils (``queries.manageable_units``: department staff, officers of
  a province or district, administrators): the sessions still to set up or running.

A fixed number of queries whatever the number of sessions, items and sheets
(``tests/councils/test_home.py`` pins them).
"""

from django.db.models import Count, Q

from ocop.regions.models import Level
from scoring.models import Scoresheet, SheetState

from . import rules
from .models import (
    SCORING_STATES,
    AgendaItem,
    CouncilMember,
    EvaluationSession,
    Recusal,
    SessionState,
)
from .queries import manageable_units

#: Closed sessions shown to a chair or secretary (the latest first).
CLOSED_SHOWN = 5
#: Sessions shown to a manager (the soonest first); the session list has them all.
MANAGED_SHOWN = 10
RUNNING_STATES = (SessionState.PREPARING, SessionState.OPEN, SessionState.MEETING)


def is_council_member(user):
    """The menu fact ``council_member``: the user sits on a council (one query)."""
    return user.is_authenticated and CouncilMember.objects.filter(user=user).exists()


def member_sessions(user, memberships):
    """The sessions open for scoring where one of ``memberships`` scores, as
    ``[{"session", "member", "items": [{"item", "sheet", "answered", "total", "submitted",
    "recused"}], "submitted", "total"}]`` (three queries, none without a scoring seat)."""
    scoring = {m.council_id: m for m in memberships if m.scores}
    if not scoring:
        return []
    sessions = list(EvaluationSession.objects
                    .filter(council_id__in=scoring, state__in=SCORING_STATES)
                    .select_related("council").order_by("date", "id"))
    if not sessions:
        return []
    ids = [s.pk for s in sessions]
    members = [m.pk for m in scoring.values()]
    items = list(AgendaItem.objects.filter(session_id__in=ids)
                 .select_related("dossier__product")
                 .annotate(criteria=Count("dossier__criteria_set__criteria"))
                 .order_by("order", "id"))
    sheets = {(s.session_id, s.dossier_id): s for s in
              Scoresheet.objects.filter(session_id__in=ids, member_id__in=members)
              .annotate(answered=Count("entries", filter=Q(entries__option__isnull=False)))}
    recused = set(Recusal.objects.filter(session_id__in=ids, member_id__in=members)
                  .values_list("session_id", "dossier_id"))
    by_session = {}
    for item in items:
        sheet = sheets.get((item.session_id, item.dossier_id))
        by_session.setdefault(item.session_id, []).append({
            "item": item, "dossier": item.dossier, "sheet": sheet,
            "answered": sheet.answered if sheet else 0, "total": item.criteria,
            "submitted": bool(sheet and sheet.state == SheetState.SUBMITTED),
            "recused": (item.session_id, item.dossier_id) in recused,
        })
    rows = []
    for session in sessions:
        rows_of = by_session.get(session.pk, [])
        rows.append({"session": session, "member": scoring[session.council_id],
                     "items": rows_of,
                     "submitted": sum(1 for r in rows_of if r["submitted"]),
                     "to_score": sum(1 for r in rows_of if not r["recused"])})
    return rows


def run_sessions(memberships):
    """For the chair, vice-chair and secretary (who may ``track``): the sessions to run and
    the last closed ones (two queries, none without such a seat)."""
    trackers = rules.ACTIONS["track"][0] - {rules.MANAGER}
    councils = {m.council_id: m for m in memberships if m.role in trackers}
    if not councils:
        return {"running": [], "closed": []}
    base = (EvaluationSession.objects.filter(council_id__in=councils)
            .select_related("council").annotate(items=Count("agenda")))
    running = list(base.filter(state__in=RUNNING_STATES).order_by("date", "id"))
    closed = list(base.filter(state=SessionState.CLOSED)
                  .order_by("-closed_at", "-date", "-id")[:CLOSED_SHOWN])
    for session in (*running, *closed):
        session.my_role = councils[session.council_id]
    return {"running": running, "closed": closed}


def managed_sessions(user):
    """The sessions to set up or running in the councils the user manages (one query)."""
    return list(EvaluationSession.objects
                .filter(council__unit__in=manageable_units(user), state__in=RUNNING_STATES)
                .select_related("council").annotate(items=Count("agenda"))
                .order_by("date", "id")[:MANAGED_SHOWN])


def home_panel(user, context):
    memberships = list(CouncilMember.objects.filter(user=user))
    fragment = {"menu_facts": {"council_member": bool(memberships)}}
    if memberships:
        fragment["member_sessions"] = member_sessions(user, memberships)
        fragment["run_sessions"] = run_sessions(memberships)
        fragment["has_council_seat"] = True
    if (context.get("show_admin") or context.get("department_units")
            or _manages(context.get("officer_units") or ())):
        fragment["managed_sessions"] = managed_sessions(user)
        fragment["manages_councils"] = True
    return fragment


def _manages(officer_units):
    """An officer manages councils only at a province or district (docs/councils.md)."""
    return any(unit.level in (Level.PROVINCE, Level.DISTRICT) for unit in officer_units)
