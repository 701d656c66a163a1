"""Hostile input to the dossier API: every case is a clear 400 with the project's error body
and nothing stored — NUL and lone surrogates, 5,000-deep JSON, a sample count beyond the
column, ids beyond 64 bits, a 50,000-character search, fields the API does not accept —
and text stored in NFC.

Messages are compared in Vietnamese (the API answers in the request's language)."""

import json
import unicodedata

import pytest
from django.utils import translation

from dossiers.forms import SamplesForm
from dossiers.models import Dossier, DossierState, Producer, Transition
from ocop.input import MAX_ID
from tests.dossiers import test_api
from tests.dossiers.test_api import client_for, ninhkieu_dossier
from tests.ocop.test_input import NUL_MESSAGE, SURROGATE_MESSAGE, vi

# 148 district rounds: the tests run on a day 148 was in force (tests/conftest.py)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("era_148")]


@pytest.fixture
def area(cantho, criteria, make_user):
    """The rounds and users of ``tests/dossiers/test_api.py``."""
    return test_api.area.__wrapped__(cantho, criteria, make_user)



def send(client, method, url, body):
    """``body`` as raw JSON text (to send escapes json.dumps would not write)."""
    return getattr(client, method)(url, body, content_type="application/json",
                                   HTTP_ACCEPT_LANGUAGE="vi")


def error(response):
    return response.json()["error"]


def deep(n=5000):
    return "[" * n + "]" * n


def test_search_with_a_nul_is_refused_on_both_lists(area):
    c = client_for(area["officer"])
    ninhkieu_dossier(area)

    dossiers = c.get("/api/v1/dossiers/?q=%00", HTTP_ACCEPT_LANGUAGE="vi")
    producers = c.get("/api/v1/producers/?q=a%00b", HTTP_ACCEPT_LANGUAGE="vi")

    for response in (dossiers, producers):
        assert response.status_code == 400
        assert error(response) == {"code": "parse_error", "message": vi(NUL_MESSAGE),
                                   "fields": {"q": [vi(NUL_MESSAGE)]}}


@pytest.mark.parametrize("text", ['"a\\u0000b"', '"\\ud800"', '"x\\udfffy"'])
def test_registration_with_nul_or_lone_surrogate_is_refused_and_not_stored(area, text):
    dossier = ninhkieu_dossier(area)
    before = dossier.registration
    c = client_for(area["officer"])

    response = send(c, "patch", f"/api/v1/dossiers/{dossier.pk}/",
                    '{"registration": {"production_address": ' + text + "}}")

    assert response.status_code == 400
    body = error(response)
    assert body["code"] == "parse_error"
    assert body["message"] in (vi(NUL_MESSAGE), vi(SURROGATE_MESSAGE))
    assert body["fields"] == {"production_address": [body["message"]]}
    dossier.refresh_from_db()
    assert dossier.registration == before


def test_transition_with_a_lone_surrogate_action_is_refused(area):
    dossier = ninhkieu_dossier(area)
    c = client_for(area["officer"])
    transitions = Transition.objects.filter(dossier=dossier).count()

    response = send(c, "post", f"/api/v1/dossiers/{dossier.pk}/transition/",
                    '{"action": "\\ud800"}')

    assert response.status_code == 400
    assert error(response) == {"code": "parse_error", "message": vi(SURROGATE_MESSAGE),
                               "fields": {"action": [vi(SURROGATE_MESSAGE)]}}
    dossier.refresh_from_db()
    assert dossier.state == DossierState.DRAFT
    assert Transition.objects.filter(dossier=dossier).count() == transitions


def test_samples_count_beyond_the_limit_is_refused_like_the_page(area):
    dossier = ninhkieu_dossier(area)
    c = client_for(area["officer"])

    response = send(c, "patch", f"/api/v1/dossiers/{dossier.pk}/",
                    json.dumps({"samples_count": 32768}))
    with translation.override("vi"):
        page = SamplesForm({"samples_count": "32768", "samples_received_on": "2024-06-01"})
        page_errors = page.errors["samples_count"]

    assert response.status_code == 400
    body = error(response)
    assert body["code"] == "invalid"
    assert body["fields"] == {"samples_count": page_errors}
    assert "1000" in page_errors[0]
    dossier.refresh_from_db()
    assert dossier.samples_count is None


@pytest.mark.parametrize("target", ["producers", "dossier", "token"])
def test_json_nested_5000_deep_is_refused(area, target):
    c = client_for(area["officer"])
    dossier = ninhkieu_dossier(area)
    producers = Producer.objects.count()
    url, method = {
        "producers": ("/api/v1/producers/", "post"),
        "dossier": (f"/api/v1/dossiers/{dossier.pk}/", "patch"),
        "token": ("/api/v1/auth/token/", "post"),
    }[target]
    if target == "token":
        from rest_framework.test import APIClient

        c = APIClient()  # unauthenticated

    response = send(c, method, url, '{"name": ' + deep() + "}")

    assert response.status_code == 400
    assert error(response) == {
        "code": "parse_error",
        "message": vi("The JSON document is nested too deeply (more than %(limit)s levels).",
                      limit=32),
        "fields": None}
    assert Producer.objects.count() == producers


@pytest.mark.parametrize("huge", [str(2**70), "9" * 5000])  # 5,000 digits: int() refuses
def test_ids_beyond_64_bits_in_list_filters_are_refused(area, huge):
    c = client_for(area["officer"])

    responses = {name: c.get(f"/api/v1/dossiers/?{name}={huge}", HTTP_ACCEPT_LANGUAGE="vi")
                 for name in ("round", "criteria_set")}
    products = c.get(f"/api/v1/products/?producer={huge}", HTTP_ACCEPT_LANGUAGE="vi")

    message = vi("There is no such id (at most %(max)s).", max=MAX_ID)
    for name, response in [*responses.items(), ("producer", products)]:
        assert response.status_code == 400
        assert error(response)["fields"] == {name: [message]}


def test_a_50000_character_search_is_refused_with_the_limit(area):
    ninhkieu_dossier(area)
    c = client_for(area["officer"])
    q = "bưởi " * 10000

    response = c.get("/api/v1/dossiers/", {"q": q}, HTTP_ACCEPT_LANGUAGE="vi")
    producers = c.get("/api/v1/producers/", {"q": q}, HTTP_ACCEPT_LANGUAGE="vi")

    message = vi("The search is too long (%(length)s characters); use at most %(max)s.",
                 length=len(q.strip()), max=200)
    for r in (response, producers):
        assert r.status_code == 400
        assert error(r)["fields"] == {"q": [message]}


def test_unknown_field_in_a_dossier_patch_is_refused_by_name(area):
    dossier = ninhkieu_dossier(area)
    c = client_for(area["officer"])

    response = send(c, "patch", f"/api/v1/dossiers/{dossier.pk}/",
                    json.dumps({"state": "recognised", "samples_count": 3}))

    assert response.status_code == 400
    assert error(response)["fields"] == {
        "state": [vi("Unknown field “%(name)s”: it is not accepted here.", name="state")]}
    dossier.refresh_from_db()
    assert (dossier.state, dossier.samples_count) == (DossierState.DRAFT, None)


def test_unknown_and_read_only_fields_in_writes_are_refused(area):
    c = client_for(area["officer"])
    dossier = ninhkieu_dossier(area)
    producers = Producer.objects.count()
    dossiers = Dossier.objects.count()
    unit = area["units"]["ninhkieu"].pk

    producer = send(c, "post", "/api/v1/producers/", json.dumps({
        "type": "cooperative", "name": "HTX Mới", "registration_no": "1801999999",
        "representative_name": "Nguyễn Thị Mai", "representative_gender": "female",
        "address": "Ấp Mỹ Ái", "unit": unit, "created_at": "2020-01-01T00:00:00Z",
        "verified": True}))
    create = send(c, "post", "/api/v1/dossiers/", json.dumps({
        "round": area["round_nk"].pk, "product": dossier.product_id, "state": "recognised"}))
    transition = send(c, "post", f"/api/v1/dossiers/{dossier.pk}/transition/",
                      json.dumps({"action": "submit", "force": True}))
    token = send(c, "post", "/api/v1/auth/token/", json.dumps({
        "username": "canbo.nk", "password": "pw-Test-2026", "remember": True}))

    assert producer.status_code == 400
    assert error(producer)["fields"] == {
        "created_at": [vi("This field is read-only.")],
        "verified": [vi("Unknown field “%(name)s”: it is not accepted here.",
                        name="verified")]}
    for response, name in ((create, "state"), (transition, "force"), (token, "remember")):
        assert response.status_code == 400, response.content
        assert error(response)["fields"][name] == [
            vi("Unknown field “%(name)s”: it is not accepted here.", name=name)]
    assert Producer.objects.count() == producers
    assert Dossier.objects.count() == dossiers
    dossier.refresh_from_db()
    assert dossier.state == DossierState.DRAFT


def test_a_nested_field_error_is_named_by_its_path(area):
    dossier = ninhkieu_dossier(area)
    c = client_for(area["officer"])

    response = send(c, "post", f"/api/v1/dossiers/{dossier.pk}/transition/",
                    json.dumps({"action": "return_for_completion", "reasons": {"7": None}}))

    assert response.status_code == 400
    assert error(response)["fields"] == {"reasons.7": [vi("This field may not be null.")]}


def test_a_producer_name_typed_decomposed_is_stored_composed(area):
    c = client_for(area["officer"])
    name = unicodedata.normalize("NFD", "Hợp tác xã Bưởi Năm Roi")
    assert name != unicodedata.normalize("NFC", name)

    response = send(c, "post", "/api/v1/producers/", json.dumps({
        "type": "cooperative", "name": name, "registration_no": "1801999998",
        "representative_name": unicodedata.normalize("NFD", "Nguyễn Thị Mai"),
        "representative_gender": "female", "unit": area["units"]["ninhkieu"].pk,
        "address": unicodedata.normalize("NFD", "Ấp Mỹ Khánh")}, ensure_ascii=False).encode())

    assert response.status_code == 201, response.content
    producer = Producer.objects.get(pk=response.json()["id"])
    assert producer.name == "Hợp tác xã Bưởi Năm Roi"
    assert producer.address == "Ấp Mỹ Khánh"
    assert producer.representative_name == "Nguyễn Thị Mai"


def test_ids_beyond_64_bits_in_api_writes_are_refused_not_a_500(area):
    """On SQLite a 2**70 id crashed the driver (OverflowError); every write answers 400."""
    dossier = ninhkieu_dossier(area)
    c = client_for(area["officer"])
    huge = 2**70
    producers, dossiers = Producer.objects.count(), Dossier.objects.count()

    responses = {
        "unit": send(c, "post", "/api/v1/producers/", json.dumps({
            "type": "cooperative", "name": "HTX", "registration_no": "1801999996",
            "representative_name": "A", "representative_gender": "female", "address": "B",
            "unit": huge})),
        "producer": send(c, "post", "/api/v1/products/", json.dumps({
            "producer": huge, "name": "Bưởi", "criteria_set": huge})),
        "round": send(c, "post", "/api/v1/dossiers/", json.dumps({
            "round": huge, "product": huge, "current_rating": huge})),
        "session": send(c, "post", "/api/v1/scoresheets/", json.dumps({
            "session": huge, "dossier": huge})),
        "reasons": send(c, "post", f"/api/v1/dossiers/{dossier.pk}/transition/", json.dumps({
            "action": "return_for_completion", "reasons": {str(huge): "x"}})),
    }

    for name, response in responses.items():
        assert response.status_code == 400, (name, response.content)
        assert name in "".join(error(response)["fields"] or {}), (name, response.json())
    assert (Producer.objects.count(), Dossier.objects.count()) == (producers, dossiers)
