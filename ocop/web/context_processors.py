from ocop.accounts.queries import is_admin, role_assignments

from .menu import SESSION_KEY, menu_for


def navigation(request):
    """The header's menu (``ocop.web.menu``: who sees which entry) and the user's roles."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    assignments = role_assignments(user)
    session = getattr(request, "session", None)
    facts = session.get(SESSION_KEY, {}) if session is not None else {}
    return {"my_roles": assignments, "is_admin_user": is_admin(user),
            "menu": menu_for(user, facts, getattr(request, "resolver_match", None))}
