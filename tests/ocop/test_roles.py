"""Roles are bound to administrative units; areas resolve to the units inside them."""

import pytest

from ocop.accounts.models import Role
from ocop.accounts.queries import has_role, is_admin, role_units, visible_units
from ocop.regions.models import AdministrativeUnit, Level

pytestmark = pytest.mark.django_db


def test_district_officer_sees_own_district_and_its_communes_only(cantho, make_user):
    officer = make_user("o1", Role.LOCAL_OFFICER, cantho["ninhkieu"])
    units = visible_units(officer)
    ninhkieu_wards = AdministrativeUnit.objects.filter(parent=cantho["ninhkieu"])
    assert ninhkieu_wards.count() > 5
    assert set(units.values_list("pk", flat=True)) == {
        cantho["ninhkieu"].pk, *ninhkieu_wards.values_list("pk", flat=True)
    }
    assert not units.filter(pk=cantho["phongdien"].pk).exists()
    assert not units.filter(parent=cantho["phongdien"]).exists()


def test_department_staff_of_current_province_covers_absorbed_old_province(cantho, make_user):
    staff = make_user("s1", Role.DEPARTMENT_STAFF, cantho["province"])
    units = visible_units(staff)
    # the current province, its communes, and the pre-2025 Cần Thơ with its districts
    assert units.filter(pk=cantho["province_old"].pk).exists()
    assert units.filter(pk=cantho["ninhkieu"].pk).exists()
    assert units.filter(parent=cantho["phongdien"]).count() == AdministrativeUnit.objects.filter(
        parent=cantho["phongdien"]).count()
    assert units.filter(level=Level.COMMUNE, valid_to__isnull=True).count() == 103


def test_user_with_several_roles_gets_the_union(cantho, make_user):
    from ocop.accounts.models import RoleAssignment

    user = make_user("multi", Role.LOCAL_OFFICER, cantho["ninhkieu"])
    RoleAssignment.objects.create(user=user, role=Role.LOCAL_OFFICER, unit=cantho["phongdien"])
    assert {u.code for u in role_units(user)} == {"916", "926"}
    units = visible_units(user)
    assert units.filter(pk=cantho["phongdien"].pk).exists()
    assert units.filter(pk=cantho["ninhkieu"].pk).exists()
    assert not units.filter(pk=cantho["province_old"].pk).exists()


def test_roles_filter_by_role_name(cantho, make_user):
    officer = make_user("o2", Role.LOCAL_OFFICER, cantho["ninhkieu"])
    assert has_role(officer, Role.LOCAL_OFFICER)
    assert not has_role(officer, Role.DEPARTMENT_STAFF)
    assert role_units(officer, Role.DEPARTMENT_STAFF) == []
    assert not visible_units(officer, Role.DEPARTMENT_STAFF).exists()


def test_user_without_role_sees_no_unit(cantho, make_user):
    nobody = make_user("nobody")
    assert not visible_units(nobody).exists()
    assert not is_admin(nobody)


def test_admin_role_and_superuser_see_everything(cantho, make_user):
    admin = make_user("adm", Role.ADMIN, cantho["province"])
    root = make_user("root", is_superuser=True)
    total = AdministrativeUnit.objects.count()
    assert is_admin(admin) and is_admin(root)
    assert visible_units(admin).count() == total
    assert visible_units(root).count() == total
