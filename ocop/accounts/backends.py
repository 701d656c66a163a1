"""The authentication backend: Django's ``ModelBackend``, whose ``get_user`` (run by every
signed-in request) reads the user and their role assignments, with the assignments'
units, in one query instead of two — every page asks for the roles (the menu, the
scoping), docs/performance.md."""

from django.contrib.auth.backends import ModelBackend
from django.db import router

from ocop.regions.models import AdministrativeUnit

from .models import RoleAssignment, User

_ROLES = "role_assignments"


def _columns(model):
    """(lookup name, attname) of every concrete field of ``model``."""
    return [(f.name, f.attname) for f in model._meta.concrete_fields]


class UserWithRolesBackend(ModelBackend):
    def get_user(self, user_id):
        users, roles, units = _columns(User), _columns(RoleAssignment), _columns(
            AdministrativeUnit)
        # the user LEFT JOIN their assignments and units: one row per assignment, or one
        # row of NULLs after the user's columns for a user with no role
        rows = list(User._default_manager.filter(pk=user_id).order_by(f"{_ROLES}__pk")
                    .values_list(*(name for name, _a in users),
                                 *(f"{_ROLES}__{name}" for name, _a in roles),
                                 *(f"{_ROLES}__unit__{name}" for name, _a in units)))
        if not rows:
            return None
        db = router.db_for_read(User)
        n, m = len(users), len(roles)
        user = User.from_db(db, [a for _n, a in users], rows[0][:n])
        if not self.user_can_authenticate(user):
            return None
        assignments = []
        for row in rows:
            if row[n] is None:  # no role
                continue
            assignment = RoleAssignment.from_db(db, [a for _n, a in roles], row[n:n + m])
            assignment.user = user
            assignment.unit = AdministrativeUnit.from_db(db, [a for _n, a in units],
                                                         row[n + m:])
            assignments.append(assignment)
        # what ocop.accounts.queries.role_assignments would read
        user._role_assignment_cache = assignments
        return user
