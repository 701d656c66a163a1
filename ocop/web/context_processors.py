from ocop.accounts.queries import is_admin

from .menu import SESSION_KEY, menu_for


def navigation(request):
    """The header's menu (``ocop.web.menu``: who sees which entry) and the user's roles."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    assignments = getattr(user, "_role_assignment_cache", None)
    if assignments is None:
        assignments = list(user.role_assignments.select_related("unit"))
        user._role_assignment_cache = assignments
    session = getattr(request, "session", None)
    facts = session.get(SESSION_KEY, {}) if session is not None else {}
    return {"my_roles": assignments, "is_admin_user": is_admin(user),
            "menu": menu_for(user, facts, getattr(request, "resolver_match", None))}
