"""Who may see what: the units a user's roles cover."""

from ocop.regions.models import AdministrativeUnit, Level

from .models import Role


def role_units(user, *roles):
    """The units bound to the user's roles (all roles when none are named)."""
    if not user.is_authenticated:
        return []
    return [a.unit for a in role_assignments(user) if not roles or a.role in roles]


def role_assignments(user):
    """The user's role assignments with their units, read once per user object."""
    assignments = getattr(user, "_role_assignment_cache", None)
    if assignments is None:
        assignments = list(user.role_assignments.select_related("unit").order_by("pk"))
        user._role_assignment_cache = assignments
    return assignments


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


def area_signature(user, *roles):
    """What decides the areas of the user's ``roles``: "admin", or the units bound to those
    roles (a cache key part)."""
    if is_admin(user):
        return "admin"
    return str(sorted((str(a.role), a.unit_id) for a in role_assignments(user)
                      if not roles or a.role in roles))


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
    return _remembered(user, ("visible", *sorted(roles)), lambda: _with_absorbed_communes(
        area_units(user, *roles), role_units(user, *roles)))


def _with_absorbed_communes(area, units):
    """``area`` and the pre-2025 communes merged into the current communes among ``units``:
    a ward officer reads the producers, products and ratings registered there before
    1/7/2025 — the officer the expiry notices of those ratings go to
    (docs/regimes-and-levels.md). Reading only: what the officer may do is decided by each
    app's rules."""
    communes = [u.pk for u in units if u.level == Level.COMMUNE and u.valid_to is None]
    if not communes:
        return area
    links = AdministrativeUnit.successors.through.objects.filter(
        to_administrativeunit_id__in=communes, from_administrativeunit__level=Level.COMMUNE)
    # A UNION of the two id sets, not "in the area OR absorbed": PostgreSQL estimates the
    # OR of a subquery at half the units and scans every dossier of the province (16 ms
    # at 50,000 dossiers against 1.7 ms for the union, benchmarks/pages.py).
    return AdministrativeUnit.objects.filter(pk__in=area.order_by().values("pk").union(
        links.values("from_administrativeunit_id")))
