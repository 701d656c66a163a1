"""seed_demo: Cần Thơ in both structures and the demo accounts; running it twice changes
nothing."""

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import call_command

from ocop.accounts.models import Role, RoleAssignment, User
from ocop.regions.models import AdministrativeUnit, Level

pytestmark = pytest.mark.django_db

ACCOUNTS = {
    "sonn.cantho": (Role.DEPARTMENT_STAFF, "Thành phố Cần Thơ", Level.PROVINCE),
    "canbo.ninhkieu": (Role.LOCAL_OFFICER, "Quận Ninh Kiều", Level.DISTRICT),
    "canbo.phongdien": (Role.LOCAL_OFFICER, "Huyện Phong Điền", Level.DISTRICT),
}


def table_counts():
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in {"accounts", "regions", "scoring", "dossiers", "councils"}
    }


def test_seed_demo_creates_can_tho_and_accounts(rf, db):
    call_command("seed_demo", verbosity=0)
    old = AdministrativeUnit.objects.legacy().get(level=Level.PROVINCE, code="92")
    assert old.children.filter(level=Level.DISTRICT).count() == 9
    new = AdministrativeUnit.objects.current().get(level=Level.PROVINCE, code="92")
    assert new.children.filter(level=Level.COMMUNE).count() == 103

    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    request = rf.post("/login/")
    for username, (role, unit_name, level) in ACCOUNTS.items():
        user = authenticate(request, username=username, password="ocop-demo-2026")
        assert user is not None, username
        assignment = RoleAssignment.objects.get(user=user)
        assert (assignment.role, assignment.unit.name, assignment.unit.level) == (
            role, unit_name, level)


def test_seed_demo_twice_changes_nothing(db):
    call_command("seed_demo", verbosity=0)
    first = table_counts()
    passwords = dict(User.objects.values_list("username", "password"))
    call_command("seed_demo", verbosity=0)
    assert table_counts() == first
    assert dict(User.objects.values_list("username", "password")) == passwords
