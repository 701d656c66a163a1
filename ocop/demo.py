"""Demo data for ``manage.py seed_demo``: the kernel's part (Cần Thơ's units and the demo
accounts) and the registry of the seeding steps.

The kernel imports no app: each app registers its steps in its ``AppConfig.ready()`` with
:func:`register_step`. A step is a callable taking the step context dict; it must be
idempotent. ``seed_demo`` runs the steps by their ``order``:

* 10 ``seed_units`` and 20 ``seed_accounts`` (here, base steps);
* 30 ``scoring.demo.seed_regulations`` — regimes and criteria sets (base);
* 35 ``dossiers.demo.seed_checklists`` — the document checklists (base);
* 50 ``dossiers.demo.seed_dossiers``;
* 60 ``councils.demo.seed_councils``.

"Base" steps (units, accounts, regulations) are what most tests need:
``seed_demo(base=True)``. Running everything twice changes nothing.
"""

from dataclasses import dataclass

from django.apps import apps
from django.db import transaction

from ocop.accounts.models import Role, RoleAssignment, User
from ocop.regions.loader import load_units
from ocop.regions.models import AdministrativeUnit, Level

DEMO_PASSWORD = "ocop-demo-2026"
CAN_THO = 92

#: username → (full name, organisation, role, unit lookup (level, code, current))
ACCOUNTS = {
    "sonn.cantho": (
        "Nguyễn Văn An", "Sở Nông nghiệp và Môi trường thành phố Cần Thơ",
        Role.DEPARTMENT_STAFF, (Level.PROVINCE, "92", True),
    ),
    "canbo.ninhkieu": (
        "Trần Thị Bình", "Ủy ban nhân dân quận Ninh Kiều",
        Role.LOCAL_OFFICER, (Level.DISTRICT, "916", False),
    ),
    "canbo.phongdien": (
        "Lê Văn Cường", "Ủy ban nhân dân huyện Phong Điền",
        Role.LOCAL_OFFICER, (Level.DISTRICT, "926", False),
    ),
    # Since 01/07/2025 (no districts): the officers of a current ward and commune, who take
    # in the 26/2026 dossiers and write the Mẫu 03 pre-assessment.
    "canbo.phuongninhkieu": (
        "Đỗ Thị Hạnh", "Ủy ban nhân dân phường Ninh Kiều",
        Role.LOCAL_OFFICER, (Level.COMMUNE, "31135", True),
    ),
    "canbo.xaphongdien": (
        "Nguyễn Văn Phúc", "Ủy ban nhân dân xã Phong Điền",
        Role.LOCAL_OFFICER, (Level.COMMUNE, "31299", True),
    ),
    # Xã Nhơn Ái (from Nhơn Ái and Nhơn Nghĩa of the former Phong Điền district): the
    # officer told when the 2023 ratings of its producers come due.
    "canbo.xanhonai": (
        "Phạm Thị Lan", "Ủy ban nhân dân xã Nhơn Ái",
        Role.LOCAL_OFFICER, (Level.COMMUNE, "31315", True),
    ),
}


# --- the registry ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    order: int
    fn: object
    base: bool

    @property
    def key(self):
        return f"{self.fn.__module__}.{self.fn.__qualname__}"


_registry = []


def register_step(fn, *, order, base=False):
    """Make ``fn(ctx)`` a step of ``seed_demo``, run at ``order`` (lower first); ``base``:
    also one of the base steps (units, accounts, regulations).

    Registering the same function again replaces its entry (``ready()`` may run more than
    once); two different steps may not share an order (the order must be unambiguous).
    """
    step = Step(order, fn, base)
    others = [s for s in _registry if s.key != step.key]
    clash = next((s for s in others if s.order == order), None)
    if clash is not None:
        raise ValueError(f"demo step order {order} is taken by {clash.key}")
    _registry[:] = sorted([*others, step], key=lambda s: s.order)
    return fn


def registered_steps(*, base=False):
    """The registered steps in their order; ``base``: the base steps only."""
    apps.check_apps_ready()  # the apps register theirs in ready()
    return [s.fn for s in _registry if s.base or not base]


def __getattr__(name):
    # The former module constants, read from the registry when asked for.
    if name == "BASE_STEPS":
        return registered_steps(base=True)
    if name == "STEPS":
        return registered_steps()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def seed_demo(steps=None, *, base=False):
    """Run ``steps`` (default: every registered step, or the base ones with ``base=True``)
    in one transaction; return the step context dict."""
    if steps is None:
        steps = registered_steps(base=base)
    ctx = {}
    with transaction.atomic():
        for step in steps:
            step(ctx)
    return ctx


# --- the kernel's steps ----------------------------------------------------------------------


def _unit(level, code, current):
    units = AdministrativeUnit.objects.filter(level=level, code=code)
    return units.get(valid_to__isnull=current)


def _user(username, full_name="", organisation="", *, superuser=False):
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, full_name=full_name, organisation=organisation,
                    is_staff=superuser, is_superuser=superuser)
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user


def seed_accounts(ctx):
    _user("admin", "Quản trị hệ thống", superuser=True)
    for username, (full_name, organisation, role, lookup) in ACCOUNTS.items():
        user = _user(username, full_name, organisation)
        RoleAssignment.objects.get_or_create(user=user, role=role, unit=_unit(*lookup))


def seed_units(ctx):
    load_units([CAN_THO])


register_step(seed_units, order=10, base=True)
register_step(seed_accounts, order=20, base=True)
