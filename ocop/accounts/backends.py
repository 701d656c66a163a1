"""The authentication backend: Django's ``ModelBackend``, whose ``get_user`` (run by every
signed-in request) reads the user and their role assignments, with the assignments'
units, in one statement instead of two queries — every page asks for the roles (the menu,
the scoping). The statement is written once per process and prepared once per database
connection (``ocop.rows``): compiling it through the ORM on every request cost more than
running it (docs/performance.md)."""

from django.contrib.auth.backends import ModelBackend

from ocop import rows
from ocop.regions.models import AdministrativeUnit

from .models import RoleAssignment, User


def _statement():
    return rows.Statement(
        "user_with_roles",
        [("u", User), ("ra", RoleAssignment), ("au", AdministrativeUnit)], [],
        f"""FROM {User._meta.db_table} u
    LEFT JOIN {RoleAssignment._meta.db_table} ra ON ra.user_id = u.id
    LEFT JOIN {AdministrativeUnit._meta.db_table} au ON au.id = ra.unit_id
    WHERE u.id = %(user)s
    ORDER BY ra.id""",
        {"user": "bigint"})


class UserWithRolesBackend(ModelBackend):
    def get_user(self, user_id):
        try:
            user_id = int(user_id)
        except (TypeError, ValueError):
            return None
        # one row per assignment, or one row with no assignment (a user with no role)
        found = rows.statement("user_with_roles", _statement).run_all({"user": user_id})
        if not found:
            return None
        user = found[0][0]["u"]
        if not self.user_can_authenticate(user):
            return None
        assignments = []
        for tables, _extra in found:
            assignment = tables["ra"]
            if assignment is not None:
                assignment.user, assignment.unit = user, tables["au"]
                assignments.append(assignment)
        # what ocop.accounts.queries.role_assignments would read
        user._role_assignment_cache = assignments
        return user
