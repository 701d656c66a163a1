"""Demo data for ``manage.py seed_demo``: Cần Thơ and its accounts.

Idempotent: running it twice changes nothing. Later parts of the system add their own
steps to ``STEPS`` (each a callable taking the step context dict).
"""

from django.db import transaction

from ocop.accounts.models import Role, RoleAssignment, User
from ocop.regions.loader import load_units
from ocop.regions.models import AdministrativeUnit, Level
from scoring.loader import load_criteria_files

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
}


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


def seed_regulations(ctx):
    """Regimes come with ``migrate``; load the 52 shipped criteria sets (idempotent)."""
    ctx["criteria"] = load_criteria_files()


STEPS = [seed_units, seed_accounts, seed_regulations]


def seed_demo():
    ctx = {}
    with transaction.atomic():
        for step in STEPS:
            step(ctx)
    return ctx
