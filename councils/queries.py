"""Scoping for councils: who sees which council, session and scoresheet, and who manages them.

- department staff / admins: the councils of the areas their roles cover;
- council members: their own councils and those councils' sessions;
- a member sees only their own scoresheets until ``Council.peer_visibility`` allows more.

THE INDEPENDENCE RULE lives here, once (:func:`sheets_visible_to`, :func:`can_see_choices`);
pages, the API, the Excel export and the chair's tracker all ask it. "Choices" means a
sheet's chosen options and everything derived from one member's sheet (their total).

Who sees a member's sheet (its choices and its total):

==============================  ==========================================================
the member themself             always (their own sheet)
another member, session open    ``after_submit``: the other members' SUBMITTED sheets of a
                                dossier once their own sheet of that dossier is submitted
                                (a reopened sheet hides them again; a member recused
                                from the dossier sees none); ``after_close`` and
                                ``never``: nothing
any member, session closed      ``after_submit`` / ``after_close``: every sheet;
                                ``never``: their own only
chair and secretary             like any member: before the close they see the tracker
                                (who has submitted) and, per :func:`can_see_aggregates`,
                                counts, means and the divergence flag — never another
                                member's choices or total
department staff / admin of     nothing before the close ("scores are confidential until
the council's area              the session ends", OCOP-RULES §5); everything after it
==============================  ==========================================================

Aggregates (:func:`can_see_aggregates`, used by the tracker): the number of submitted
sheets, the means per part and total, the spread and the divergence flag of one dossier.
The secretary (who does not score) sees them during the session; the chair sees them for a
dossier once the chair's own sheet of it is submitted (or the chair is recused from it),
so that the chair's own scoring stays independent too; everybody who may track the session
sees them after the close.
"""

from django.db.models import Q

from ocop.accounts.models import Role
from ocop.accounts.queries import is_admin, role_units, visible_units
from ocop.regions.models import AdministrativeUnit, Level

from .models import (
    Council,
    CouncilMember,
    EvaluationSession,
    MemberRole,
    PeerVisibility,
    SessionState,
)


def councils_visible_to(user):
    if not user.is_authenticated:
        return Council.objects.none()
    if is_admin(user):
        return Council.objects.all()
    units = visible_units(user, Role.DEPARTMENT_STAFF, Role.LOCAL_OFFICER)
    return Council.objects.filter(Q(unit__in=units) | Q(members__user=user)).distinct()


def sessions_visible_to(user):
    return EvaluationSession.objects.filter(council__in=councils_visible_to(user))


def membership(user, session):
    """The user's CouncilMember row in the session's council, or None."""
    if not user.is_authenticated:
        return None
    return CouncilMember.objects.filter(council_id=session.council_id, user=user).first()


# --- who manages ---------------------------------------------------------------------------


def manageable_units(user):
    """The province and district units whose councils ``user`` sets up and runs: those
    inside the areas of their department-staff roles, the units of their local-officer
    roles (under 148 the district sets up and runs its own council, OCOP-RULES §4), or all
    for an administrator.

    THE rule for creating and running councils and sessions (set up a council, a session,
    its agenda, open scoring, record attendance); ``can_manage_unit`` asks it for one unit.
    """
    if not user.is_authenticated:
        return AdministrativeUnit.objects.none()
    units = visible_units(user, Role.DEPARTMENT_STAFF)
    if not is_admin(user):
        units = units | AdministrativeUnit.objects.filter(
            pk__in=[unit.pk for unit in role_units(user, Role.LOCAL_OFFICER)])
    return units.filter(level__in=[Level.PROVINCE, Level.DISTRICT])


def can_manage_unit(user, unit):
    return manageable_units(user).filter(pk=unit.pk).exists()


def can_manage_council(user, council):
    return can_manage_unit(user, council.unit)


def is_chair(user, session):
    member = membership(user, session)
    return member is not None and member.role == MemberRole.CHAIR


def is_secretary(user, session):
    member = membership(user, session)
    return member is not None and member.role == MemberRole.SECRETARY


def can_run_session(user, session):
    """Open scoring and record attendance: a manager of the council, its chair or its
    secretary."""
    member = membership(user, session)
    if member is not None and member.role in (MemberRole.CHAIR, MemberRole.SECRETARY):
        return True
    return can_manage_council(user, session.council)


# --- the independence rule -----------------------------------------------------------------


def sheets_visible_to(user, session):
    """The session's scoresheets whose choices (and totals) ``user`` may see.

    The rule (see the module docstring): own sheets always; the others per the council's
    ``peer_visibility`` for members, and after the close for managers.
    """
    from scoring.models import Scoresheet, SheetState

    sheets = Scoresheet.objects.filter(session=session)
    if not user.is_authenticated:
        return sheets.none()
    member = membership(user, session)
    own = Q(member=member) if member is not None else Q(pk__in=[])
    visibility = session.council.peer_visibility
    if session.state == SessionState.CLOSED:
        if can_manage_council(user, session.council):
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


def can_see_choices(user, sheet):
    """May ``user`` see this sheet's choices and total? Same rule as
    :func:`sheets_visible_to` (it is asked, so the two can never disagree)."""
    if not user.is_authenticated:
        return False
    member = membership(user, sheet.session)
    if member is not None and sheet.member_id == member.pk:
        return True
    return sheets_visible_to(user, sheet.session).filter(pk=sheet.pk).exists()


def can_see_all_choices(user, session):
    """True when every sheet of the session is visible to ``user`` (Excel export)."""
    from scoring.models import Scoresheet

    total = Scoresheet.objects.filter(session=session).count()
    return sheets_visible_to(user, session).count() == total


def can_track(user, session):
    """May ``user`` see the tracker (who has submitted which sheet)? The chair, the
    vice-chairs, the secretary and the council's managers."""
    member = membership(user, session)
    if member is not None and member.role in (MemberRole.CHAIR, MemberRole.VICE_CHAIR,
                                              MemberRole.SECRETARY):
        return True
    return can_manage_council(user, session.council)


def can_see_aggregates(user, session, dossier):
    """May ``user`` see the aggregates of one dossier (submitted count, means, spread,
    divergence flag)? See the module docstring."""
    from scoring.models import Scoresheet, SheetState

    if not can_track(user, session):
        return False
    if session.state == SessionState.CLOSED:
        return True
    member = membership(user, session)
    if member is None:
        return False  # a manager outside the council: confidential until the close
    if member.role == MemberRole.SECRETARY:
        return True
    if member.role == MemberRole.CHAIR:
        if session.recusals.filter(member=member, dossier=dossier).exists():
            return True
        return Scoresheet.objects.filter(session=session, dossier=dossier, member=member,
                                         state=SheetState.SUBMITTED).exists()
    return False
