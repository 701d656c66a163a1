"""Scoping for councils: which councils and sessions a user sees, and which units' councils
they manage. What a user may DO in a council, and which scores they may SEE, is decided in
``councils.rules`` (the rules are written in ``docs/councils.md``).

- department staff / admins: the councils of the areas their roles cover;
- local officers: the councils of their district (under 148 the district runs its own);
- council members: their own councils and those councils' sessions.
"""

from django.db.models import Q

from ocop.accounts.models import Role
from ocop.accounts.queries import is_admin, role_units, visible_units
from ocop.regions.models import AdministrativeUnit, Level

from .models import Council, CouncilMember, EvaluationSession


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
    roles (under 148 the district sets up and runs its own council, docs/councils.md), or all
    for an administrator.

    THE rule for who manages councils (``councils.rules.MANAGER``: set up a council, plan its
    sessions, set the agenda, open scoring, record attendance); ``can_manage_unit`` asks it
    for one unit.
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
