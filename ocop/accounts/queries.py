"""Who may see what: the units a user's roles cover."""

from ocop.regions.models import AdministrativeUnit, Level

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


def _remembered(user, key, build):
    """``build()`` once per user object and key (a page asks for the same units for its list
    and again for its filter's choices; building them reads the absorbed provinces)."""
    cache = getattr(user, "_visible_units_cache", None)
    if cache is None:
        cache = {}
        try:
            user._visible_units_cache = cache
        except AttributeError:  # an object that takes no attributes: no cache
            pass
    if key not in cache:
        cache[key] = build()
    return cache[key]


def area_units(user, *roles):
    """Queryset of every administrative unit inside the areas of the user's roles (the
    areas as they are: a current province covers the provinces it absorbed)."""
    if is_admin(user):
        return AdministrativeUnit.objects.all()
    return _remembered(user, ("area", *sorted(roles)), lambda: AdministrativeUnit.objects.within(
        role_units(user, *roles)))


def visible_units(user, *roles):
    """The units whose records the user reads: :func:`area_units`, and for a ward or
    commune officer also the pre-2025 communes merged into their commune."""
    if is_admin(user):
        return AdministrativeUnit.objects.all()
    return _remembered(user, ("visible", *sorted(roles)), lambda: area_units(user, *roles)
                       | _absorbed_communes(role_units(user, *roles)))


def _absorbed_communes(units):
    """The pre-2025 communes merged into the current communes among ``units``: a ward
    officer reads the producers, products and ratings registered there before 1/7/2025 —
    the officer the expiry notices of those ratings go to (docs/regimes-and-levels.md).
    Reading only: what the officer may do is decided by each app's rules."""
    communes = [u.pk for u in units if u.level == Level.COMMUNE and u.valid_to is None]
    if not communes:
        return AdministrativeUnit.objects.none()
    links = AdministrativeUnit.successors.through.objects.filter(
        to_administrativeunit_id__in=communes, from_administrativeunit__level=Level.COMMUNE)
    return AdministrativeUnit.objects.filter(pk__in=links.values("from_administrativeunit_id"))
