"""Every signed-in request reads the user with their role assignments and the
assignments' units in one query (``ocop/accounts/backends.py``), and the session from the
cache (``SESSION_ENGINE`` cached_db): the same user, the same roles as the ORM reads."""

import pytest
from django.test import Client

from ocop.accounts.backends import UserWithRolesBackend
from ocop.accounts.models import Role, RoleAssignment
from ocop.accounts.queries import role_assignments
from ocop.regions.models import AdministrativeUnit

pytestmark = pytest.mark.django_db


def fields(obj):
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_the_user_and_their_roles_in_one_query(cantho, make_user,
                                                django_assert_num_queries):
    user = make_user("so.nn", Role.DEPARTMENT_STAFF, cantho["province"], full_name="Lê An")
    RoleAssignment.objects.create(user=user, role=Role.LOCAL_OFFICER, unit=cantho["ninhkieu"])

    with django_assert_num_queries(1):
        found = UserWithRolesBackend().get_user(user.pk)
        roles = role_assignments(found)
        units = [a.unit for a in roles]

    assert fields(found) == fields(type(user).objects.get(pk=user.pk))
    expected = list(user.role_assignments.select_related("unit").order_by("pk"))
    assert [fields(a) for a in roles] == [fields(a) for a in expected]
    assert [fields(u) for u in units] == [fields(AdministrativeUnit.objects.get(pk=a.unit_id))
                                          for a in expected]
    assert all(a.user is found for a in roles)


def test_a_user_without_roles_unknown_or_inactive(make_user, django_assert_num_queries):
    member = make_user("thanh.vien")
    gone = make_user("da.nghi", is_active=False)
    backend = UserWithRolesBackend()

    with django_assert_num_queries(1):
        found = backend.get_user(member.pk)
        assert role_assignments(found) == []
    assert found.username == "thanh.vien"
    assert backend.get_user(gone.pk) is None
    assert backend.get_user(999_999_999) is None


def test_a_login_through_the_form_reads_the_session_from_the_cache(
        cantho, make_user, django_assert_num_queries):
    make_user("canbo.nk", Role.LOCAL_OFFICER, cantho["ninhkieu"], password="pw-Test-2026")
    client = Client()
    response = client.post("/login/", {"username": "canbo.nk", "password": "pw-Test-2026"})
    assert response.status_code == 302

    # the user with their roles, then the count: no session query
    with django_assert_num_queries(2):
        response = client.get("/notifications/unread.json")
    assert response.json() == {"unread": 0}
