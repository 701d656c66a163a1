"""The main menu (ocop/web/menu.py): each role sees the entries it can use, in one place;
the phone's "Menu" disclosure holds the same entries; the menu costs no query of its own."""

import re

import pytest
from django.test import Client

from councils.models import CouncilMember, MemberRole
from ocop.accounts.models import Role
from ocop.web.menu import menu_for
from tests import factories

pytestmark = pytest.mark.django_db

HOME, DOSSIERS, COUNCILS, MINE = "/", "/dossiers/", "/councils/", "/councils/sessions/mine/"
DECISIONS, RATINGS, INSPECTIONS = "/decisions/", "/ratings/", "/inspections/"
STATS = "/stats/"
CRITERIA, ADMIN, API, NOTICES = "/criteria/", "/admin/", "/api/docs/", "/notifications/"
STAFF_PAGES = [DOSSIERS, DECISIONS, RATINGS, INSPECTIONS]


def keys(user, **facts):
    return [entry.key for entry in menu_for(user, facts)]


def client_for(user):
    client = Client(headers={"accept-language": "en"})
    client.force_login(user, backend="ocop.accounts.backends.UserWithRolesBackend")
    return client


def menu_links(html):
    """The hrefs of the wide menu bar, in order."""
    nav = html.split('<nav class="mainnav" id="mainnav"')[1].split("</nav>")[0]
    return re.findall(r'<a href="([^"]+)"', nav)


def phone_links(html):
    nav = html.split('<details class="navmenu">')[1].split("</details>")[0]
    return re.findall(r'<a href="([^"]+)"', nav)


@pytest.fixture
def people(cantho, make_user):
    council_member = make_user("tv")
    council = factories.council(cantho["ninhkieu"], [make_user("ct")])
    CouncilMember.objects.create(council=council, user=council_member, role=MemberRole.MEMBER)
    return {
        "staff": make_user("so", Role.DEPARTMENT_STAFF, cantho["province"]),
        "officer": make_user("cb", Role.LOCAL_OFFICER, cantho["ninhkieu"]),
        "admin": make_user("qt", Role.ADMIN, cantho["province"]),
        "member": council_member,
        "nobody": make_user("ai"),
    }


# --- the rules (unit) ------------------------------------------------------------------------


def test_department_staff_menu(people):
    assert keys(people["staff"]) == ["home", "dossiers", "councils", "decisions", "ratings",
                                     "inspections", "stats", "criteria", "api"]


def test_district_officer_menu_has_councils_and_inspections_but_no_api(people):
    assert keys(people["officer"]) == ["home", "dossiers", "councils", "decisions", "ratings",
                                       "inspections", "stats", "criteria"]


def test_commune_officer_does_not_manage_councils(cantho, make_user):
    from ocop.regions.models import AdministrativeUnit, Level

    commune = AdministrativeUnit.objects.filter(level=Level.COMMUNE).first()
    officer = make_user("cbx", Role.LOCAL_OFFICER, commune)

    assert "councils" not in keys(officer)
    assert "inspections" in keys(officer) and "api" not in keys(officer)


def test_council_member_menu_only_has_their_sessions(people):
    assert keys(people["member"], council_member=True) == ["home", "my-sessions", "criteria"]


def test_staff_on_a_council_also_gets_their_sessions(people):
    assert "my-sessions" in keys(people["staff"], council_member=True)
    assert "my-sessions" not in keys(people["staff"])


def test_admin_menu(people):
    assert keys(people["admin"]) == ["home", "dossiers", "councils", "decisions", "ratings",
                                     "inspections", "stats", "criteria", "admin", "api"]


def test_account_without_role_gets_home_and_criteria(people):
    assert keys(people["nobody"]) == ["home", "criteria"]


# --- the pages (client) ----------------------------------------------------------------------


def test_staff_page_menu_and_phone_menu(people):
    html = client_for(people["staff"]).get("/").content.decode()

    links = menu_links(html)
    assert links == [HOME, DOSSIERS, COUNCILS, DECISIONS, RATINGS, INSPECTIONS, STATS,
                     CRITERIA, API]
    assert phone_links(html) == links  # the same entries behind "Menu" on a phone
    assert "<summary>Menu</summary>" in html
    assert f'href="{NOTICES}"' in html  # notifications: everyone, in the right-side area


def test_officer_page_menu(people):
    links = menu_links(client_for(people["officer"]).get("/").content.decode())

    assert COUNCILS in links and INSPECTIONS in links
    assert API not in links and MINE not in links and ADMIN not in links


def test_council_member_page_menu(people):
    html = client_for(people["member"]).get("/").content.decode()

    assert menu_links(html) == [HOME, MINE, CRITERIA]
    assert f'href="{NOTICES}"' in html
    for page in [*STAFF_PAGES, COUNCILS, API, ADMIN]:
        assert f'href="{page}"' not in html


def test_council_seat_given_while_logged_in_shows_from_the_next_home(people, cantho,
                                                                    make_user):
    user = people["nobody"]
    client = client_for(user)
    assert MINE not in menu_links(client.get(CRITERIA).content.decode())
    council = factories.council(cantho["phongdien"], [make_user("ct2")])
    CouncilMember.objects.create(council=council, user=user, role=MemberRole.MEMBER)

    assert MINE in menu_links(client.get("/").content.decode())
    assert MINE in menu_links(client.get(CRITERIA).content.decode())


def test_admin_page_menu(people):
    links = menu_links(client_for(people["admin"]).get("/").content.decode())
    assert links[-2:] == [ADMIN, API]


def test_current_page_is_marked_once(people):
    html = client_for(people["staff"]).get(DOSSIERS).content.decode()
    nav = html.split('<nav class="mainnav" id="mainnav"')[1].split("</nav>")[0]

    assert nav.count('aria-current="page"') == 1
    assert f'<a href="{DOSSIERS}" aria-current="page">' in nav


def test_user_block_holds_roles_language_and_logout(people):
    html = client_for(people["officer"]).get("/").content.decode()
    block = html.split('<details class="usermenu whoami">')[1].split("</details>")[0]

    assert "Quận Ninh Kiều" in block
    assert 'action="/logout/"' in block
    assert 'id="lang-select"' in block


def test_anonymous_page_has_no_menu_but_a_language_switch(db):
    html = Client().get("/login/").content.decode()

    assert 'id="mainnav"' not in html and "navmenu" not in html
    assert 'id="lang-select"' in html


def test_menu_costs_no_query(people):
    """A page's queries are the same whatever the menu holds: the council seat is read at
    login and on the home page only (kept in the session)."""
    client = client_for(people["member"])
    client.get(CRITERIA)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(CRITERIA)
    assert not any("councils_councilmember" in q["sql"] for q in captured)
