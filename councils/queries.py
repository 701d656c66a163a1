"""Scoping for councils: who sees which council, session and scoresheet.

- department staff / admins: the councils of the areas their roles cover;
- council members: their own councils and those councils' sessions;
- a member sees only their own scoresheets until ``scoring.visibility`` allows more.
"""

from django.db.models import Q

from ocop.accounts.models import Role
from ocop.accounts.queries import is_admin, visible_units

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
    return CouncilMember.objects.filter(council_id=session.council_id, user=user).first()
