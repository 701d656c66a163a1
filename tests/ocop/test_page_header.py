"""The page header is rendered once per user, roles, menu and language and kept per process
(``ocop/web/templatetags/page_header.py``, issue #14): what each request puts in it — the
CSRF token of its forms, the address the language form returns to — is that request's, and
a change of what it shows (the name, a role, the language, the current page) shows at
once."""

import re

import pytest
from django.test import Client

from ocop.accounts.models import Role, RoleAssignment
from ocop.web.templatetags import page_header

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty():
    page_header._HEADERS.clear()


def client_for(user, language="en"):
    client = Client(headers={"accept-language": language}, enforce_csrf_checks=True)
    client.force_login(user, backend="ocop.accounts.backends.UserWithRolesBackend")
    return client


def header(html):
    return html[html.index('<header class="topbar">'):html.index("</header>")]


@pytest.fixture
def staff(cantho, make_user):
    return make_user("so.nn", Role.DEPARTMENT_STAFF, cantho["province"], full_name="Lê Văn An")


def test_the_kept_header_carries_each_requests_token_and_address(staff):
    client = client_for(staff)
    first = client.get("/dossiers/?q=a&b=<x>").content.decode()
    second = client.get("/ratings/").content.decode()

    assert len(page_header._HEADERS.data) == 2  # the current menu entry differs
    assert 'value="/dossiers/?q=a&amp;b=%3Cx%3E"' in header(first)
    assert 'value="/ratings/"' in header(second)
    assert page_header.CSRF_SLOT not in first and page_header.NEXT_SLOT not in second
    # the logout form's token of a kept header is valid
    third = client.get("/ratings/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"',
                      header(third)).group(1)
    response = client.post("/logout/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert client.get("/ratings/").status_code == 302  # logged out: to the login page


def test_a_new_name_role_or_language_shows_at_once(staff, cantho):
    client = client_for(staff)
    assert "Lê Văn An" in header(client.get("/ratings/").content.decode())

    staff.full_name = "Lê Văn Bình"
    staff.save()
    RoleAssignment.objects.create(user=staff, role=Role.LOCAL_OFFICER,
                                  unit=cantho["ninhkieu"])
    html = header(client.get("/ratings/").content.decode())
    assert "Lê Văn Bình" in html and cantho["ninhkieu"].name in html

    vietnamese = client_for(staff, "vi")
    html = header(vietnamese.get("/ratings/").content.decode())
    assert "Đăng xuất" in html and "Log out" not in html


def test_the_anonymous_header_has_only_the_language_form(client):
    html = client.get("/login/?next=/ratings/").content.decode()
    head = header(html)
    assert 'name="language"' in head and "mainnav" not in head
    assert 'value="/login/?next=/ratings/"' in head
