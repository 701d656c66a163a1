"""API base: token auth, /me, schema, docs, error bodies, pagination settings."""

import pytest
from rest_framework.test import APIClient

from ocop.accounts.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def test_token_with_valid_credentials_authenticates_me(api, demo):
    response = api.post(
        "/api/v1/auth/token/",
        {"username": "canbo.ninhkieu", "password": "ocop-demo-2026"},
        format="json",
    )
    token = response.json()["token"]
    assert len(token) == 40

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/me/").json()
    assert me["username"] == "canbo.ninhkieu"
    assert [(r["role"], r["unit"]["name"], r["unit"]["level"]) for r in me["roles"]] == [
        (Role.LOCAL_OFFICER, "Quận Ninh Kiều", "district")
    ]
    assert [a["code"] for a in me["areas"]] == ["916"]
    assert me["areas"][0]["current"] is False


def test_token_is_stable_for_the_same_user(api, demo):
    body = {"username": "sonn.cantho", "password": "ocop-demo-2026"}
    first = api.post("/api/v1/auth/token/", body, format="json").json()["token"]
    second = api.post("/api/v1/auth/token/", body, format="json").json()["token"]
    assert first == second


def test_token_with_wrong_password_gets_vietnamese_error_body(api, demo):
    response = api.post(
        "/api/v1/auth/token/",
        {"username": "canbo.ninhkieu", "password": "wrong"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="vi",
    )
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "authentication_failed"
    assert error["message"] == "Sai tên đăng nhập hoặc mật khẩu."
    assert "token" not in response.json()


def test_token_missing_fields_lists_each_field(api, db):
    response = api.post("/api/v1/auth/token/", {}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"username", "password"}


def test_me_for_department_staff_lists_province_role(api, demo):
    from ocop.accounts.models import User

    api.force_login(User.objects.get(username="sonn.cantho"))
    me = api.get("/api/v1/me/").json()
    assert [(r["role"], r["unit"]["name"], r["unit"]["current"]) for r in me["roles"]] == [
        (Role.DEPARTMENT_STAFF, "Thành phố Cần Thơ", True)
    ]


def test_me_anonymous_is_refused_with_error_body(api, db):
    response = api.get("/api/v1/me/")
    assert response.status_code in (401, 403)
    assert response.json()["error"]["code"] == "not_authenticated"


def test_me_with_bad_token_is_refused(api, db):
    api.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    response = api.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_schema_is_openapi3_and_names_the_v1_paths(client, db):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/me/" in schema["paths"]
    assert "/api/v1/auth/token/" in schema["paths"]


def test_docs_are_served_from_local_static_files(client, db):
    response = client.get("/api/docs/")
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn." not in html and "unpkg" not in html


def test_unknown_object_gets_not_found_error_body(api, demo):
    from ocop.accounts.models import User

    api.force_authenticate(User.objects.get(username="canbo.ninhkieu"))
    response = api.get("/api/v1/criteria-sets/999999/", HTTP_ACCEPT_LANGUAGE="vi")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_openapi_schema_generates_without_warnings(tmp_path, db):
    from django.core.management import call_command

    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = target.read_text()
    for path in ("/api/v1/dossiers/{id}/transition/", "/api/v1/scoresheets/{id}/",
                 "/api/v1/sessions/{id}/results/", "/api/v1/criteria-sets/{id}/"):
        assert path in schema
