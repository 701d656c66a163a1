"""Login throttling on the login page and the token API.

- one address is limited across usernames too (``AXES_IP_FAILURE_LIMIT``), not only per
  username+address (``AXES_FAILURE_LIMIT``);
- ``X-Forwarded-For`` is trusted for exactly ``TRUSTED_PROXY_COUNT`` proxies, by django-axes
  and the DRF throttle alike (default 0: ignored, so a forged header changes nothing);
- a locked login is told "locked, try again in N minutes", never "wrong password".

Messages are compared with ``gettext`` under ``translation.override`` so that the tests stay
right when the Vietnamese catalog is completed.
"""

import datetime

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from django.utils import translation
from django.utils.translation import gettext, ngettext
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PASSWORD = "ocop-demo-2026"
TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def _empty_cache():
    """The DRF throttle counts in the cache (Redis under ``make test``)."""
    cache.clear()
    yield
    cache.clear()


def text(language, message, **params):
    with translation.override(language):
        result = gettext(message)
    return result % params if params else result


def locked_message(minutes, language="vi"):
    with translation.override(language):
        return ngettext(
            "Too many failed logins: logging in is locked. Try again in %(minutes)d minute.",
            "Too many failed logins: logging in is locked. Try again in %(minutes)d minutes.",
            minutes,
        ) % {"minutes": minutes}


def wrong_password(language="vi"):
    return text(language, "Wrong username or password.")


def page_login(client, username, password, ip="10.0.0.1", **extra):
    return client.post("/login/", {"username": username, "password": password},
                       REMOTE_ADDR=ip, **extra)


def api_login(username, password, ip="10.0.0.1", **extra):
    return APIClient().post(TOKEN_URL, {"username": username, "password": password},
                            format="json", REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE="vi", **extra)


# --- one address across usernames -----------------------------------------------------------

def test_settings_limit_one_address_across_usernames():
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"], "ip_address"]
    assert settings.AXES_FAILURE_LIMIT < settings.AXES_IP_FAILURE_LIMIT <= 30


def test_one_address_trying_many_usernames_is_locked(client, demo):
    limit = settings.AXES_IP_FAILURE_LIMIT
    for n in range(limit):
        response = page_login(client, f"guess.{n}", "bad")
    # the attempt that reaches the limit is answered "locked" already
    assert response.status_code == 429
    # even a real account with its right password is refused from that address
    response = page_login(client, "canbo.ninhkieu", PASSWORD)
    html = response.content.decode()
    assert response.status_code == 429
    assert locked_message(15) in html
    assert "_auth_user_id" not in client.session
    # the same account from another address is not affected
    response = page_login(client, "canbo.ninhkieu", PASSWORD, ip="10.0.0.2")
    assert response.status_code == 302 and response["Location"] == "/"


def test_one_address_below_the_address_limit_is_not_locked(client, demo):
    for n in range(settings.AXES_IP_FAILURE_LIMIT - 1):
        page_login(client, f"guess.{n}", "bad")
    response = page_login(client, "canbo.ninhkieu", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"


def test_token_api_locks_one_address_across_usernames(demo):
    for n in range(settings.AXES_IP_FAILURE_LIMIT):
        api_login(f"guess.{n}", "bad")
    cache.clear()  # a minute later: the 20/min throttle has let go, the lock has not
    response = api_login("sonn.cantho", PASSWORD)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked"
    assert "token" not in response.json()


# --- locked, try again in N minutes ---------------------------------------------------------

def test_locked_account_on_the_page_says_locked_and_minutes_not_wrong_password(client, demo):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page_login(client, "canbo.phongdien", "bad")
    response = page_login(client, "canbo.phongdien", PASSWORD)
    html = response.content.decode()
    assert response.status_code == 429
    assert locked_message(15) in html
    assert text("vi", "Wrong username or password. Please check and try again "
                      "(passwords are case-sensitive).") not in html
    assert "_auth_user_id" not in client.session


def test_locked_page_counts_down_the_minutes_left(client, demo):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page_login(client, "canbo.phongdien", "bad")
    # the last failure was 10 minutes ago: 5 minutes are left (rounded up)
    AccessAttempt.objects.update(
        attempt_time=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=10))
    response = client.get("/login/", REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 200  # the page itself still opens
    response = page_login(client, "canbo.phongdien", PASSWORD, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429
    assert locked_message(5, "en") in response.content.decode()
    # trying again during the lock is refused without making the wait longer
    response = page_login(client, "canbo.phongdien", "bad", HTTP_ACCEPT_LANGUAGE="en")
    assert locked_message(5, "en") in response.content.decode()
    assert response["Retry-After"] == str(5 * 60)


def test_successful_login_does_not_reset_the_address_count(client, demo):
    limit = settings.AXES_IP_FAILURE_LIMIT
    for n in range(limit - 1):
        page_login(client, f"guess.{n}", "bad")
    # the attacker's own valid account, logged into between guesses
    assert page_login(client, "canbo.ninhkieu", PASSWORD).status_code == 302
    client.post("/logout/")
    response = page_login(client, "guess.last", "bad")
    assert response.status_code == 429
    assert locked_message(15) in response.content.decode()


def test_locked_account_on_the_token_api_says_locked_with_minutes(demo):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = api_login("canbo.ninhkieu", "bad")
    assert response.status_code == 429  # the failure that reaches the limit
    response = api_login("canbo.ninhkieu", PASSWORD)
    body = response.json()
    assert response.status_code == 429
    assert body["error"] == {"code": "locked", "message": locked_message(15), "fields": None}
    assert body["error"]["message"] != wrong_password()
    assert response["Retry-After"] == str(15 * 60)
    assert "token" not in body


def test_token_api_wrong_password_before_the_limit_says_wrong_password(demo):
    response = api_login("canbo.ninhkieu", "bad")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == wrong_password()


# --- trusted proxies: one setting for axes and DRF -----------------------------------------

def test_drf_and_axes_take_the_proxy_count_from_one_setting():
    assert settings.TRUSTED_PROXY_COUNT == 0
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == settings.TRUSTED_PROXY_COUNT
    assert settings.AXES_CLIENT_IP_CALLABLE == "ocop.audit.context.client_ip"


def test_forged_x_forwarded_for_does_not_escape_the_token_throttle(db):
    # invalid bodies: the throttle counts them without reaching the password check
    statuses = [
        APIClient().post(TOKEN_URL, {}, format="json", REMOTE_ADDR="10.0.0.9",
                         HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
        for n in range(21)
    ]
    assert statuses[:20] == [400] * 20
    response = APIClient().post(TOKEN_URL, {}, format="json", REMOTE_ADDR="10.0.0.9",
                                HTTP_X_FORWARDED_FOR="203.0.113.99", HTTP_ACCEPT_LANGUAGE="vi")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"


def test_forged_x_forwarded_for_does_not_escape_the_account_lock(demo):
    for n in range(settings.AXES_FAILURE_LIMIT):
        api_login("canbo.ninhkieu", "bad", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    response = api_login("canbo.ninhkieu", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.200")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked"
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"10.0.0.1"}


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_one_proxy_each_client_has_its_own_address(client, make_user):
    make_user("chutich.hoidong", password=PASSWORD)
    proxy = "172.18.0.5"
    # an attacker behind the proxy locks the chair's account for their own address only
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page_login(client, "chutich.hoidong", "bad", ip=proxy,
                   HTTP_X_FORWARDED_FOR="198.51.100.66, 203.0.113.7")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}
    response = page_login(client, "chutich.hoidong", PASSWORD, ip=proxy,
                          HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert response.status_code == 429
    # the chair, from another address behind the same proxy, still logs in
    response = page_login(client, "chutich.hoidong", PASSWORD, ip=proxy,
                          HTTP_X_FORWARDED_FOR="203.0.113.50")
    assert response.status_code == 302 and response["Location"] == "/"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_one_proxy_the_token_throttle_counts_per_client(db):
    proxy = "172.18.0.5"
    for _ in range(20):
        APIClient().post(TOKEN_URL, {}, format="json", REMOTE_ADDR=proxy,
                         HTTP_X_FORWARDED_FOR="203.0.113.7")
    blocked = APIClient().post(TOKEN_URL, {}, format="json", REMOTE_ADDR=proxy,
                               HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7")
    other = APIClient().post(TOKEN_URL, {}, format="json", REMOTE_ADDR=proxy,
                             HTTP_X_FORWARDED_FOR="203.0.113.8")
    assert blocked.status_code == 429 and blocked.json()["error"]["code"] == "throttled"
    assert other.status_code == 400 and other.json()["error"]["code"] == "invalid"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_audit_events_record_the_client_address_behind_the_proxy(rf):
    from ocop.audit.context import client_ip

    request = rf.get("/", REMOTE_ADDR="172.18.0.5",
                     HTTP_X_FORWARDED_FOR="198.51.100.66, 203.0.113.7")
    assert client_ip(request) == "203.0.113.7"
    assert client_ip(rf.get("/", REMOTE_ADDR="172.18.0.5")) == "172.18.0.5"
    with override_settings(TRUSTED_PROXY_COUNT=0):
        assert client_ip(request) == "172.18.0.5"
