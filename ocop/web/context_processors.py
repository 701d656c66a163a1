from ocop.accounts.queries import is_admin


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    assignments = getattr(user, "_role_assignment_cache", None)
    if assignments is None:
        assignments = list(user.role_assignments.select_related("unit"))
        user._role_assignment_cache = assignments
    return {"my_roles": assignments, "is_admin_user": is_admin(user)}
