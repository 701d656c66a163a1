"""Who may see what: the units a user's roles cover."""

from ocop.regions.models import AdministrativeUnit

from .models import Role


def role_units(user, *roles):
    """The units bound to the user's roles (all roles when none are named)."""
    if not user.is_authenticated:
        return []
    assignments = getattr(user, "_role_assignment_cache", None)
    if assignments is None:
        assignments = list(user.role_assignments.select_related("unit"))
        user._role_assignment_cache = assignments
    return [a.unit for a in assignments if not roles or a.role in roles]


def has_role(user, *roles):
    return bool(role_units(user, *roles))


def is_admin(user):
    return user.is_authenticated and (user.is_superuser or has_role(user, Role.ADMIN))


def visible_units(user, *roles):
    """Queryset of every administrative unit inside the areas of the user's roles. Built
    once per user object and roles (a page asks for it for its list and again for its
    filter's choices; building it reads the absorbed provinces), like the role
    assignments of :func:`role_units`."""
    if is_admin(user):
        return AdministrativeUnit.objects.all()
    cache = getattr(user, "_visible_units_cache", None)
    if cache is None:
        cache = {}
        try:
            user._visible_units_cache = cache
        except AttributeError:  # an object that takes no attributes: no cache
            pass
    key = tuple(sorted(roles))
    if key not in cache:
        cache[key] = AdministrativeUnit.objects.within(role_units(user, *roles))
    return cache[key]
