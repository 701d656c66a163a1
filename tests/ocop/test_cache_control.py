"""Pages and files served to a logged-in user are never kept by the browser or a proxy
(``Cache-Control: no-store``): after logout on a shared office PC, Back must not show the
last dossier. Anonymous pages are left alone, and a view's own Cache-Control wins."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from ocop.accounts.models import Role
from tests import factories

pytestmark = pytest.mark.django_db


def cache_control(response):
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part}


@pytest.fixture
def officer(cantho, make_user):
    return make_user("canbo.nk", Role.LOCAL_OFFICER, cantho["ninhkieu"])


def logged_in(client, user):
    client.force_login(user, backend="ocop.accounts.backends.UserWithRolesBackend")
    return client


def test_home_page_of_a_logged_in_user_is_not_stored(client, officer):
    response = logged_in(client, officer).get("/")
    assert response.status_code == 200
    assert 'id="panel-officer"' in response.content.decode()
    assert {"no-store", "private"} <= cache_control(response)


def test_dossier_page_is_not_stored(client, officer, cantho, criteria):
    dossier = factories.dossier(factories.evaluation_round(cantho["ninhkieu"]),
                                product_name="Nước mắm Phú Quốc thử")
    response = logged_in(client, officer).get(f"/dossiers/{dossier.pk}/")
    assert response.status_code == 200
    assert "Nước mắm Phú Quốc thử" in response.content.decode()
    assert {"no-store", "private"} <= cache_control(response)


def test_generated_pdf_download_is_not_stored(client, officer):
    response = logged_in(client, officer).get("/documents/sample.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in cache_control(response)


def test_api_answers_to_a_token_user_are_not_stored(client, officer):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=officer)
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.json()["username"] == "canbo.nk"
    assert "no-store" in cache_control(response)


def test_anonymous_pages_are_left_alone(client, officer):
    response = client.get("/jsi18n/")
    assert response.status_code == 200
    assert "no-store" not in cache_control(response)
    # the same page for a logged-in user is not stored
    response = logged_in(client, officer).get("/jsi18n/")
    assert "no-store" in cache_control(response)


def test_a_views_own_cache_control_is_kept(officer):
    from ocop.web.middleware import NoStoreForAuthenticatedMiddleware

    def view(request):
        response = HttpResponse("public figures")
        response["Cache-Control"] = "public, max-age=600"
        return response

    request = RequestFactory().get("/")
    request.user = officer
    response = NoStoreForAuthenticatedMiddleware(view)(request)
    assert response["Cache-Control"] == "public, max-age=600"


def test_back_after_logout_finds_nothing_cached(client, officer, cantho, criteria):
    dossier = factories.dossier(factories.evaluation_round(cantho["ninhkieu"]))
    page = logged_in(client, officer).get(f"/dossiers/{dossier.pk}/")
    assert "no-store" in cache_control(page)
    client.post("/logout/")
    # the browser must ask again, and the server now sends the login page
    again = client.get(f"/dossiers/{dossier.pk}/")
    assert again.status_code == 302 and again["Location"].startswith("/login/")
