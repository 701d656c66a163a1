"""The public verification page of a certificate, ``/xac-minh/<code>/`` and its JSON twin
(dossiers/public_views.py, docs/verification.md): the public facts and the current state,
nothing personal, 404 for a bad code, the rate limit, the caches, the query count."""

import pytest
from django.core.cache import cache, caches
from django.test import Client
from django.urls import reverse

from dossiers import public_views
from dossiers.models import Producer, Product, Rating, RatingState
from ocop import cache as resilient
from ocop.accounts.models import Role
from ocop.regions.models import AdministrativeUnit, Level
from tests.dossiers.recognition import issued, province_round, recognised

pytestmark = [
    pytest.mark.django_db,
    # Django 5.2's {% csrf_token %} with the "NOTPROVIDED" sentinel (the anonymous page carries
    # no token) calls format_html("") itself
    pytest.mark.filterwarnings("ignore:Calling format_html\\(\\) without passing args"),
]

PERSONAL = {
    "phone": "0909 111 222",
    "email": "lienhe.buoi@example.vn",
    "registration_no": "1899887766",
    "representative_name": "Lê Thị Riêng Tư",
}
PRODUCT_CODE = "92-31117-001-2026"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rate-limit counters and cached facts live in the cache (Redis under ``make test``).
    A slow FLUSHDB on a loaded machine can make the degrading backend (ocop/cache.py)
    skip Redis for a few seconds; these tests need it answering, so that pause is lifted."""
    cache.clear()
    caches["default"].__dict__.pop("_down_until", None)
    yield
    cache.clear()


@pytest.fixture
def world(cantho, criteria, make_user):
    staff = make_user("sonn", Role.DEPARTMENT_STAFF, cantho["province"])
    commune = AdministrativeUnit.objects.current().filter(
        province=cantho["province"], level=Level.COMMUNE).order_by("code").first()
    return {"staff": staff, "round": province_round(cantho), "commune": commune, **cantho}


def _recognised_with_personal_data(world, name, code="", registration_no=None):
    dossier = recognised(world["round"], stars=4, score="78.50", unit=world["commune"],
                         product_name=name)
    personal = dict(PERSONAL, registration_no=registration_no or PERSONAL["registration_no"])
    Producer.objects.filter(pk=dossier.product.producer_id).update(
        name="Hợp tác xã Bưởi Phong Điền", address="Ấp Nhơn Lộc", **personal)
    Product.objects.filter(pk=dossier.product_id).update(code=code)
    dossier.product.refresh_from_db()
    dossier.product.producer.refresh_from_db()
    return dossier


@pytest.fixture
def rating(world):
    """A 4-star rating issued through the services by decision 07/QĐ-UBND, for a producer
    whose phone, e-mail, registration number and representative are recorded."""
    dossier = _recognised_with_personal_data(world, "Bưởi Năm Roi Phong Điền", PRODUCT_CODE)
    decision = issued(world["staff"], [dossier], number=7)
    return Rating.objects.select_related("decision", "product__producer__unit").get(
        decision=decision)


def page(client, code, **extra):
    return client.get(f"/xac-minh/{code}/", **extra)


def as_json(client, code, **extra):
    return client.get(f"/xac-minh/{code}.json", **extra)


def cache_control(response):
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part}


def set_state(rating, state, **extra):
    Rating.objects.filter(pk=rating.pk).update(state=state, **extra)
    public_views.forget(rating.verification_code)


# --- the page --------------------------------------------------------------------------------

def test_urls_are_the_ones_the_certificate_prints(rating):
    code = rating.verification_code
    assert reverse("verification", args=[code]) == f"/xac-minh/{code}/"
    assert reverse("verification-json", args=[code]) == f"/xac-minh/{code}.json"


def test_anonymous_visitor_sees_the_public_facts(client, rating):
    response = page(client, rating.verification_code)
    html = response.content.decode()

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "Bưởi Năm Roi Phong Điền" in html
    assert PRODUCT_CODE in html
    assert "Hợp tác xã Bưởi Phong Điền" in html
    assert f"Ấp Nhơn Lộc, {rating.product.producer.unit.name}" in html
    assert 'data-stars="4"' in html and "★★★★☆" in html
    assert "07/QĐ-UBND" in html and rating.decision_number == "07/QĐ-UBND"
    assert rating.decision.issuer_name in html  # THÀNH PHỐ CẦN THƠ
    assert rating.decision_date.strftime("%d/%m/%Y") in html
    assert rating.valid_from.strftime("%d/%m/%Y") in html
    assert rating.valid_until.strftime("%d/%m/%Y") in html
    assert 'data-state="valid"' in html and "state-valid" in html
    assert "Còn hiệu lực" in html  # the state's label (already in the Vietnamese catalog)
    assert 'name="viewport"' in html


def test_anonymous_page_has_no_signed_in_navigation_token_or_cookie(client, rating):
    response = page(client, rating.verification_code)
    html = response.content.decode()

    assert 'class="mainnav"' not in html and 'class="whoami"' not in html
    assert "/logout/" not in html
    assert "csrfmiddlewaretoken" not in html  # the page is shared by proxies
    assert not response.cookies  # no CSRF, session or messages cookie
    assert "<script" not in html  # works without JavaScript


def test_signed_in_user_sees_the_page_with_navigation_and_it_is_not_stored(
        client, rating, world):
    client.force_login(world["staff"], backend="ocop.accounts.backends.UserWithRolesBackend")
    response = page(client, rating.verification_code)
    html = response.content.decode()

    assert response.status_code == 200
    assert 'data-state="valid"' in html
    assert 'class="mainnav"' in html
    assert {"no-store", "private"} <= cache_control(response)
    assert "public" not in cache_control(response)


@pytest.mark.parametrize(("state", "label"), [
    (RatingState.VALID, "Còn hiệu lực"),
    (RatingState.DUE, "Đến hạn đánh giá lại"),
    (RatingState.EXPIRED, "Hết hiệu lực"),
    (RatingState.REVOKED, "Đã thu hồi"),
])
def test_each_state_has_its_banner(client, rating, state, label):
    set_state(rating, state)
    code = rating.verification_code

    html = page(client, code).content.decode()
    body = as_json(client, code).json()

    assert f'data-state="{state}"' in html and f"state-{state}" in html
    assert label in html
    assert (body["state"], body["state_label"]) == (state, label)
    assert "verify-replacement" not in html


def test_revoked_rating_in_english(client, rating):
    set_state(rating, RatingState.REVOKED)

    response = page(client, rating.verification_code, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()

    assert 'data-state="revoked"' in html
    assert "Revoked" in html
    assert "This OCOP certificate has been revoked and is no longer valid." in html
    body = as_json(client, rating.verification_code, HTTP_ACCEPT_LANGUAGE="en").json()
    assert (body["state"], body["state_label"]) == ("revoked", "Revoked")


def test_replaced_rating_links_to_the_replacing_certificate(client, world, rating,
                                                            django_assert_num_queries):
    newer_dossier = _recognised_with_personal_data(world, "Bưởi Năm Roi loại 1",
                                                   registration_no="1899887700")
    # the same product recognised again by a later decision
    newer_dossier.product = rating.product
    newer_dossier.save(update_fields=["product"])
    decision = issued(world["staff"], [newer_dossier], number=8)
    newer = Rating.objects.get(decision=decision)
    rating.refresh_from_db()
    assert (rating.state, rating.replaced_by_id) == (RatingState.REPLACED, newer.pk)

    with django_assert_num_queries(1):  # the replacing rating's code comes in the same query
        html = page(client, rating.verification_code).content.decode()
    body = as_json(client, rating.verification_code).json()

    assert 'data-state="replaced"' in html and "Đã được thay thế" in html
    assert f'href="/xac-minh/{newer.verification_code}/"' in html
    assert body["state"] == "replaced" and body["replaced_by"] == newer.verification_code
    assert 'data-state="valid"' in page(client, newer.verification_code).content.decode()


def test_replaced_rating_without_a_replacing_code_has_no_link(client, rating):
    set_state(rating, RatingState.REPLACED)

    html = page(client, rating.verification_code).content.decode()

    assert 'data-state="replaced"' in html
    assert "verify-replacement" not in html


# --- JSON ------------------------------------------------------------------------------------

def test_json_has_the_same_public_facts_with_iso_dates(client, rating):
    response = as_json(client, rating.verification_code)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body == {
        "code": rating.verification_code,
        "product": "Bưởi Năm Roi Phong Điền",
        "product_code": PRODUCT_CODE,
        "producer": "Hợp tác xã Bưởi Phong Điền",
        "address": f"Ấp Nhơn Lộc, {rating.product.producer.unit.name}",
        "stars": 4,
        "decision": {"number": "07/QĐ-UBND", "date": rating.decision_date.isoformat(),
                     "issuer": rating.decision.issuer_name},
        "valid_from": rating.valid_from.isoformat(),
        "valid_until": rating.valid_until.isoformat(),
        "state": "valid",
        "state_label": "Còn hiệu lực",
        "replaced_by": None,
        "revocation": None,  # a revoked rating: its decision's number and date
    }


def test_rating_without_decision_row_or_product_code(client, world, rating):
    Product.objects.filter(pk=rating.product_id).update(code="")
    Rating.objects.filter(pk=rating.pk).update(decision=None, product_code="",
                                               valid_from=None)

    body = as_json(client, rating.verification_code).json()
    html = page(client, rating.verification_code).content.decode()

    assert body["decision"] == {"number": "07/QĐ-UBND",
                                "date": rating.decision_date.isoformat(), "issuer": ""}
    assert (body["product_code"], body["valid_from"]) == ("", None)
    assert 'data-state="valid"' in html


# --- nothing personal ------------------------------------------------------------------------

def test_no_personal_data_in_the_page_or_the_json(client, rating):
    producer = rating.product.producer
    assert producer.phone == PERSONAL["phone"]  # recorded, yet never shown

    html = page(client, rating.verification_code).content.decode()
    raw = as_json(client, rating.verification_code).content.decode()

    for value in PERSONAL.values():
        assert value not in html
        assert value not in raw
    assert "0909" not in html and "@" not in raw
    assert "Riêng Tư" not in html and "Riêng Tư" not in raw


# --- bad codes -------------------------------------------------------------------------------

BAD_CODES = [
    "a" * 16,  # well formed, no such certificate
    "0000000000000000",
    "abc",  # too short
    "a" * 33,  # longer than any code
    "ABCDEFGHIJKLMNOP",  # codes are lowercase
    "abcdefgh.ijklmno",
    "abcdefghijklmn%20",
]


@pytest.mark.parametrize("code", BAD_CODES)
def test_unknown_or_malformed_code_is_the_404_page(client, rating, code):
    response = page(client, code)

    assert response.status_code == 404
    html = response.content.decode()
    assert "Bưởi" not in html and "data-state" not in html


@pytest.mark.parametrize("code", BAD_CODES)
def test_unknown_or_malformed_code_is_a_json_404(client, rating, code):
    response = as_json(client, code)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert list(response.json()) == ["detail"]


def test_uppercase_of_a_real_code_is_not_found(client, rating):
    assert page(client, rating.verification_code.upper()).status_code == 404


# --- methods ---------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_only_get_and_head(rating, method):
    client = Client(enforce_csrf_checks=True)  # a POST is 405, not the CSRF failure
    code = rating.verification_code

    assert getattr(client, method)(f"/xac-minh/{code}/").status_code == 405
    assert getattr(client, method)(f"/xac-minh/{code}.json").status_code == 405


def test_head_is_answered(client, rating):
    response = client.head(f"/xac-minh/{rating.verification_code}/")

    assert response.status_code == 200
    assert response.content == b""


# --- caching ---------------------------------------------------------------------------------

def test_anonymous_answers_may_be_kept_briefly(client, rating, settings):
    settings.OCOP_VERIFICATION_MAX_AGE = 300

    for response in (page(client, rating.verification_code),
                     as_json(client, rating.verification_code)):
        assert cache_control(response) == {"public", "max-age=300"}
        assert "noindex" in response["X-Robots-Tag"]


def test_json_is_public_also_for_a_signed_in_user(client, rating, world):
    client.force_login(world["staff"], backend="ocop.accounts.backends.UserWithRolesBackend")

    response = as_json(client, rating.verification_code)

    assert "public" in cache_control(response) and "no-store" not in cache_control(response)


def test_one_query_then_none_from_the_cache(client, rating, django_assert_num_queries):
    code = rating.verification_code

    with django_assert_num_queries(1):
        assert page(client, code).status_code == 200
    with django_assert_num_queries(0):
        assert page(client, code).status_code == 200
    with django_assert_num_queries(0):
        assert as_json(client, code).status_code == 200


def test_unknown_code_costs_one_query_and_is_not_cached(client, rating,
                                                         django_assert_num_queries):
    for _ in range(2):
        with django_assert_num_queries(1):
            assert page(client, "a" * 16).status_code == 404
    for malformed in ("abc", "a" * 33, "ABCDEFGHIJKLMNOP", "abcdefghijklmn-_"):
        with django_assert_num_queries(0):  # not even looked up
            assert page(client, malformed).status_code == 404


def test_a_code_recorded_from_elsewhere_still_verifies(client, rating):
    Rating.objects.filter(pk=rating.pk).update(verification_code="legacy0000000001")

    assert as_json(client, "legacy0000000001").json()["state"] == "valid"


def test_revocation_shows_when_the_server_copy_expires_or_is_forgotten(client, rating):
    code = rating.verification_code
    assert as_json(client, code).json()["state"] == "valid"
    Rating.objects.filter(pk=rating.pk).update(state=RatingState.REVOKED)

    assert as_json(client, code).json()["state"] == "valid"  # the server's copy (60 s)
    public_views.forget(code)  # what the copy's expiry does
    assert as_json(client, code).json()["state"] == "revoked"
    assert 'data-state="revoked"' in page(client, code).content.decode()


def test_server_copy_lives_for_the_setting(rating, settings, monkeypatch):
    settings.OCOP_VERIFICATION_CACHE_SECONDS = 42
    stored = {}

    class Recorder:  # stands in for the module's cache (never patch the shared one)
        def get(self, key):
            return None

        def set(self, key, value, timeout):
            stored[key] = timeout

    monkeypatch.setattr(public_views, "cache", Recorder())

    public_views.public_facts(rating.verification_code)

    assert list(stored.values()) == [42]


# --- rate limit ------------------------------------------------------------------------------

def test_rate_limit_answers_429_per_address(client, rating, settings):
    settings.OCOP_VERIFICATION_RATE = "3/h"  # an hour's window: no reset during the test
    code = rating.verification_code

    assert page(client, code, REMOTE_ADDR="10.1.1.1").status_code == 200
    assert as_json(client, code, REMOTE_ADDR="10.1.1.1").status_code == 200
    assert page(client, "a" * 16, REMOTE_ADDR="10.1.1.1").status_code == 404  # counted too

    limited = page(client, code, REMOTE_ADDR="10.1.1.1")
    assert limited.status_code == 429
    assert 'data-state="limited"' in limited.content.decode()
    assert "Bưởi" not in limited.content.decode()
    assert int(limited["Retry-After"]) >= 1
    assert "public" not in cache_control(limited)
    limited_json = as_json(client, code, REMOTE_ADDR="10.1.1.1")
    assert limited_json.status_code == 429
    assert limited_json["Content-Type"] == "application/json"
    assert limited_json.json()["detail"]
    # another address is not affected
    assert page(client, code, REMOTE_ADDR="10.1.1.2").status_code == 200


def test_rate_limit_message_is_translated(client, rating, settings):
    settings.OCOP_VERIFICATION_RATE = "1/h"
    code = rating.verification_code
    as_json(client, code)

    body = as_json(client, code, HTTP_ACCEPT_LANGUAGE="en").json()

    assert body == {"detail": "Too many requests from your address. Please wait a minute "
                              "and try again."}


def test_rate_limit_counts_the_client_behind_the_trusted_proxy(client, rating, settings):
    settings.OCOP_VERIFICATION_RATE = "2/h"
    settings.TRUSTED_PROXY_COUNT = 1
    code = rating.verification_code

    def via_proxy(client_address, forged=""):
        chain = f"{forged}, {client_address}" if forged else client_address
        return page(client, code, REMOTE_ADDR="10.0.0.254", HTTP_X_FORWARDED_FOR=chain)

    assert via_proxy("203.0.113.7").status_code == 200
    assert via_proxy("203.0.113.7", forged="1.2.3.4").status_code == 200
    assert via_proxy("203.0.113.7", forged="5.6.7.8").status_code == 429  # forging no help
    assert via_proxy("203.0.113.8").status_code == 200  # another client, same proxy


def test_an_ipv6_client_is_counted_by_its_64_block(client, rating, settings):
    settings.OCOP_VERIFICATION_RATE = "1/h"
    code = rating.verification_code

    assert page(client, code, REMOTE_ADDR="2001:db8:1:2::10").status_code == 200
    assert page(client, code, REMOTE_ADDR="2001:db8:1:2::99").status_code == 429
    assert page(client, code, REMOTE_ADDR="2001:db8:1:3::10").status_code == 200


def test_empty_rate_setting_means_no_limit(client, rating, settings):
    settings.OCOP_VERIFICATION_RATE = ""
    for _ in range(5):
        assert as_json(client, rating.verification_code).status_code == 200


@pytest.fixture
def redis_down(settings):
    """The production cache backend (ocop/cache.py) pointed at a closed port. Through
    pytest-django's ``settings`` (not a nested ``override_settings``): a test that also
    changes ``settings`` would otherwise restore the closed port for every later test."""
    resilient.ResilientRedisCache._down_until = 0.0
    settings.CACHES = {"default": {
        "BACKEND": "ocop.cache.ResilientRedisCache", "LOCATION": "redis://127.0.0.1:1/0",
        "KEY_PREFIX": "ocop", "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    yield
    resilient.ResilientRedisCache._down_until = 0.0


def test_page_answers_while_redis_is_down(client, rating, settings, redis_down,
                                          django_assert_num_queries):
    settings.OCOP_VERIFICATION_RATE = "1/h"
    code = rating.verification_code

    for _ in range(3):  # the limit cannot count: answered, never 429 nor 500
        with django_assert_num_queries(1):  # no cached copy: one query each time
            response = page(client, code)
        assert response.status_code == 200
        assert 'data-state="valid"' in response.content.decode()
    assert as_json(client, code).json()["state"] == "valid"
    assert as_json(client, "a" * 16).status_code == 404
