"""Web pages: Vietnamese login, throttling, home per role, language switch, 404, health."""

import os

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db

LOGIN_ERROR = "Sai tên đăng nhập hoặc mật khẩu"


def login(client, username, password="ocop-demo-2026"):
    return client.post("/login/", {"username": username, "password": password}, follow=True)


def test_login_page_is_vietnamese(client, db):
    html = client.get("/login/").content.decode()
    assert '<html lang="vi">' in html
    assert "<title>Đăng nhập · OCOP</title>" in html
    assert "Tên đăng nhập" in html and "Mật khẩu" in html


def test_login_with_wrong_password_shows_vietnamese_message_and_keeps_username(client, demo):
    response = client.post("/login/", {"username": "canbo.ninhkieu", "password": "nope"})
    html = response.content.decode()
    assert response.status_code == 200
    assert LOGIN_ERROR in html
    assert 'value="canbo.ninhkieu"' in html
    assert "_auth_user_id" not in client.session


def test_repeated_login_failures_are_throttled(client, demo):
    for _ in range(5):
        client.post("/login/", {"username": "canbo.phongdien", "password": "bad"})
    # even the right password is refused while locked
    response = client.post("/login/", {"username": "canbo.phongdien",
                                       "password": "ocop-demo-2026"})
    html = response.content.decode()
    assert response.status_code == 429
    assert "Đăng nhập sai quá nhiều lần" in html
    assert "_auth_user_id" not in client.session
    # another account from the same address is not locked
    assert login(client, "canbo.ninhkieu").request["PATH_INFO"] == "/"


def test_home_requires_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_home_of_district_officer_shows_intake_panel_and_area(client, demo):
    html = login(client, "canbo.ninhkieu").content.decode()
    assert "Trần Thị Bình" in html
    assert 'id="panel-officer"' in html
    assert "Quận Ninh Kiều" in html
    assert 'id="panel-department"' not in html
    assert 'id="panel-admin"' not in html


def test_home_of_department_staff_shows_province_panel(client, demo):
    html = login(client, "sonn.cantho").content.decode()
    assert 'id="panel-department"' in html
    assert "Thành phố Cần Thơ" in html
    assert 'id="panel-officer"' not in html


def test_home_of_admin_links_to_admin(client, demo):
    html = login(client, "admin").content.decode()
    assert 'id="panel-admin"' in html
    assert 'href="/admin/"' in html


def test_logout_ends_the_session(client, demo):
    login(client, "canbo.ninhkieu")
    response = client.post("/logout/", follow=True)
    assert "_auth_user_id" not in client.session
    assert response.request["PATH_INFO"] == "/login/"


def test_language_switch_to_english_and_back(client, db):
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    html = client.get("/login/").content.decode()
    assert '<html lang="en">' in html and "<title>Log in · OCOP</title>" in html
    client.post("/i18n/setlang/", {"language": "vi", "next": "/login/"})
    assert "<title>Đăng nhập · OCOP</title>" in client.get("/login/").content.decode()


def test_unknown_url_gets_vietnamese_404_page(client, db):
    response = client.get("/khong-co-trang-nay/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "Không tìm thấy trang" in html
    assert "Traceback" not in html


def test_admin_is_translated_and_lists_reference_data(client, demo):
    from ocop.accounts.models import User

    client.force_login(User.objects.get(username="admin"))
    html = client.get("/admin/").content.decode()
    assert "Đơn vị hành chính" in html
    html = client.get("/admin/regions/administrativeunit/?q=Ninh+Ki%E1%BB%81u").content.decode()
    assert "Quận Ninh Kiều" in html


def test_healthz_reports_database_and_redis(client, db):
    body = client.get("/healthz").json()
    assert body["database"] == "ok"
    expected = "ok" if os.environ.get("REDIS_URL") else "not configured"
    assert body["redis"] == expected


@override_settings(
    REDIS_URL="redis://127.0.0.1:1/0",
    # the production backend (ocop/cache.py): a read is a miss, a write is dropped — the
    # sessions live in the cache and the database behind it
    CACHES={"default": {"BACKEND": "ocop.cache.ResilientRedisCache",
                        "LOCATION": "redis://127.0.0.1:1/0",
                        "OPTIONS": {"socket_connect_timeout": 0.2}}},
)
def test_healthz_with_redis_down_says_so_and_pages_still_work(client, demo):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "redis": "down"}
    html = login(client, "canbo.ninhkieu").content.decode()
    assert 'id="panel-officer"' in html


def test_home_counts_only_the_officers_own_dossiers(client, cantho, criteria, make_user, era_148):
    """On a day of 148 (its district rounds take dossiers: the open rounds listed)."""
    import datetime

    from ocop.accounts.models import Role
    from tests import factories

    officer = make_user("o.nk", Role.LOCAL_OFFICER, cantho["ninhkieu"])
    own = factories.evaluation_round(cantho["ninhkieu"])
    other = factories.evaluation_round(cantho["phongdien"])
    factories.dossier(own, state="submitted")
    factories.dossier(own, state="submitted", due_date=datetime.date(2020, 1, 2))
    factories.dossier(other, state="submitted")
    factories.dossier(other, state="returned")
    client.force_login(officer)
    html = client.get("/").content.decode()
    assert 'href="/dossiers/?state=submitted"' in html
    assert "2 hồ sơ đã nộp" in html
    assert "?state=returned" not in html  # Phong Điền's returned dossier is not counted
    assert 'href="/dossiers/?overdue=1"' in html
    assert f'href="/dossiers/?round={own.pk}"' in html
    assert f'href="/dossiers/?round={other.pk}"' not in html


# --- near their deadline (dossiers/home.py ``due_soon``, issue #13) ---------------------------


def test_due_soon_lists_running_deadlines_within_three_working_days(cantho, make_user,
                                                                    criteria):
    """Today Friday 04/12/2026: three working days later is Wednesday 09/12/2026 (Mon 7,
    Tue 8, Wed 9; no holiday in between). Due 09/12 is near; 10/12 is not yet; 03/12 is
    overdue (counted there, not here); a draft has no running deadline."""
    import datetime

    from dossiers.home import due_soon
    from ocop.accounts.models import Role
    from tests import factories

    officer = make_user("cb-due", Role.LOCAL_OFFICER, cantho["ninhkieu"])
    round_ = factories.evaluation_round(cantho["ninhkieu"])
    day = datetime.date

    def dossier(due, state="submitted"):
        return factories.dossier(round_, state=state, due_date=due)

    today_due, last, after = dossier(day(2026, 12, 4)), dossier(day(2026, 12, 9)), \
        dossier(day(2026, 12, 10))
    overdue, draft = dossier(day(2026, 12, 3)), dossier(day(2026, 12, 7), state="draft")
    outsider = make_user("cb-pd", Role.LOCAL_OFFICER, cantho["phongdien"])

    found = due_soon(officer, today=day(2026, 12, 4))

    assert [d.pk for d in found] == [today_due.pk, last.pk]
    assert after not in found and overdue not in found and draft not in found
    assert due_soon(outsider, today=day(2026, 12, 4)) == []


def test_officer_home_shows_near_deadline_card_with_links(client, cantho, make_user,
                                                          criteria):
    from django.utils import timezone

    from ocop.accounts.models import Role
    from tests import factories

    officer = make_user("cb-due", Role.LOCAL_OFFICER, cantho["ninhkieu"])
    round_ = factories.evaluation_round(cantho["ninhkieu"])
    near = factories.dossier(round_, state="submitted", due_date=timezone.localdate(),
                             product_name="Nước mắm Cái Răng")
    client.force_login(officer, backend="ocop.accounts.backends.UserWithRolesBackend")

    html = client.get("/", headers={"accept-language": "en"}).content.decode()
    card = html.split('<div class="card due-soon">')[1].split("</div>")[0]

    assert f'href="/dossiers/{near.pk}/">Nước mắm Cái Răng</a>' in card
    assert "Your account has no role yet" not in html
