"""Demo data for ``manage.py seed_demo``: Cần Thơ and its accounts.

Idempotent: running it twice changes nothing. Later parts of the system add their own
steps to ``STEPS`` (each a callable taking the step context dict).
"""

from django.db import transaction

from councils.demo import seed_councils
from dossiers.checklists import sync_checklists
from dossiers.demo import seed_dossiers
from dossiers.models import ChecklistItem
from ocop.accounts.models import Role, RoleAssignment, User
from ocop.regions.loader import load_units
from ocop.regions.models import AdministrativeUnit, Level
from scoring.loader import load_criteria_files
from scoring.models import ProcessLevel, Regime, StarBand
from scoring.regimes import sync_regimes

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
    """The regimes and checklists (which ``migrate`` also writes; synced again so that a
    flushed database is seeded whole) and the 52 shipped criteria sets. Idempotent."""
    sync_regimes(Regime, ProcessLevel, StarBand)
    sync_checklists(Regime, ChecklistItem)
    ctx["criteria"] = load_criteria_files()


#: Units, accounts and regulations: what most tests need.
BASE_STEPS = [seed_units, seed_accounts, seed_regulations]
#: Everything ``manage.py seed_demo`` creates.
STEPS = [*BASE_STEPS, seed_dossiers, seed_councils]


def seed_demo(steps=None):
    ctx = {}
    with transaction.atomic():
        for step in STEPS if steps is None else steps:
            step(ctx)
    return ctx
