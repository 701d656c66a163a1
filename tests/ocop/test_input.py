"""The input boundary (``ocop/input.py``): NUL and lone surrogates refused in any submitted
text with a clear 400 (page or API), text stored in NFC, JSON depth bounded, ids beyond 64
bits an invalid choice; the error body's ``fields`` flat; the schema's nullable fields.

Several of these fail on SQLite only before the fix (``OverflowError`` on a 2**70 id):
``DATABASE_URL=sqlite:////tmp/x.db pytest tests/ocop/test_input.py`` runs them there."""

import json
import unicodedata

import pytest
from django.core.validators import MaxLengthValidator
from django.test import Client
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from ocop.accounts.models import Role
from ocop.api import flatten_errors
from ocop.input import (
    MAX_JSON_DEPTH,
    InvalidInput,
    ModelMultipleChoiceField,
    check_json_depth,
    clean,
)
from tests import factories
from tests.i18n import vi

NUL_MESSAGE = ("The text contains a NUL character (\\0), which is not allowed. Remove it and "
               "send again.")
SURROGATE_MESSAGE = ("The text contains an invalid character (a lone UTF-16 surrogate). Send "
                     "the text as valid Unicode.")


# --- the rule ---------------------------------------------------------------------------------


def test_clean_normalises_every_string_to_nfc_keys_included():
    nfd = unicodedata.normalize("NFD", "Bưởi Năm Roi")

    cleaned = clean({nfd: [nfd, {"x": nfd}], "n": 3, "password": nfd})

    nfc = "Bưởi Năm Roi"
    assert cleaned == {nfc: [nfc, {"x": nfc}], "n": 3, "password": nfd}


@pytest.mark.parametrize(("text", "message"), [
    ("a\x00b", NUL_MESSAGE), ("\ud800", SURROGATE_MESSAGE), ("ok\udfff", SURROGATE_MESSAGE)])
def test_clean_refuses_nul_and_lone_surrogates_naming_the_field(text, message):
    with pytest.raises(InvalidInput) as refused, translation.override("vi"):
        clean({"registration": {"address": text}})

    assert (refused.value.field, refused.value.message) == ("address", vi(message))


def test_clean_keeps_a_valid_surrogate_pair_and_survives_deep_data():
    emoji = json.loads('"\\ud83d\\ude00"')
    deep = current = []
    for _level in range(10000):
        current.append([])
        current = current[0]

    assert clean(emoji) == "😀"
    assert isinstance(clean(deep), list)  # no RecursionError


def test_json_depth_limit_counts_brackets_outside_strings_only():
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    quoted = json.dumps({"note": "[" * 100})

    check_json_depth(at_limit)
    check_json_depth(quoted)
    with pytest.raises(InvalidInput):
        check_json_depth("[" + at_limit + "]")


def test_error_fields_are_flattened_to_one_level():
    nested = {"reasons": {"12": ["Required."]},
              "entries": [{}, {"option": ["Invalid."]}],
              "data": {"non_field_errors": ["Expected a list."]},
              "name": ["Too long."]}

    assert flatten_errors(nested) == {"reasons.12": ["Required."],
                                      "entries.1.option": ["Invalid."],
                                      "data": ["Expected a list."],
                                      "name": ["Too long."]}


# --- pages ------------------------------------------------------------------------------------


@pytest.fixture
def officer(cantho, make_user):
    return make_user("canbo.nk", Role.LOCAL_OFFICER, cantho["ninhkieu"])


def page_client(user):
    client = Client(headers={"accept-language": "vi"})
    client.force_login(user, backend="ocop.accounts.backends.UserWithRolesBackend")
    return client


def producer_form(cantho, **values):
    return {"type": "cooperative", "name": "Hợp tác xã Mới", "registration_no": "1801999997",
            "representative_name": "Nguyễn Thị Mai", "representative_gender": "female",
            "representative_ethnicity": "Kinh", "address": "Ấp Mỹ Ái",
            "unit": cantho["ninhkieu"].pk, "phone": "", "email": "", **values}


@pytest.mark.django_db
def test_page_search_with_a_nul_answers_the_400_page(officer):
    response = page_client(officer).get("/dossiers/?q=a%00b")

    assert response.status_code == 400
    html = response.content.decode()
    assert vi(NUL_MESSAGE) in html
    assert vi("Invalid request") in html


@pytest.mark.django_db
def test_page_form_with_a_nul_is_refused_and_nothing_stored(cantho, officer):
    from dossiers.models import Producer

    response = page_client(officer).post(reverse("dossiers:producer-create"),
                                         producer_form(cantho, address="Ấp\x00Mỹ Ái"))

    assert response.status_code == 400
    assert vi(NUL_MESSAGE) in response.content.decode()
    assert not Producer.objects.exists()


@pytest.mark.django_db
def test_page_form_stores_decomposed_text_composed(cantho, officer):
    from dossiers.models import Producer

    nfd = unicodedata.normalize("NFD", "Hợp tác xã Bưởi Năm Roi")
    response = page_client(officer).post(reverse("dossiers:producer-create"), producer_form(
        cantho, name=nfd, address=unicodedata.normalize("NFD", "Ấp Mỹ Khánh")))

    assert response.status_code == 302, response.content.decode()[:2000]
    producer = Producer.objects.get()
    assert (producer.name, producer.address) == ("Hợp tác xã Bưởi Năm Roi", "Ấp Mỹ Khánh")


@pytest.mark.django_db
def test_page_search_longer_than_the_limit_is_a_form_error_not_a_500(cantho, officer):
    q = "bưởi " * 10000

    response = page_client(officer).get("/dossiers/", {"q": q})

    assert response.status_code == 200
    with translation.override("vi"):
        expected = MaxLengthValidator(200).message % {"limit_value": 200,
                                                      "show_value": len(q.strip())}
    assert expected in response.content.decode()


# --- ids beyond 64 bits -----------------------------------------------------------------------


@pytest.mark.django_db
def test_model_multiple_choice_id_beyond_64_bits_is_an_invalid_choice(cantho):
    from ocop.regions.models import AdministrativeUnit

    field = ModelMultipleChoiceField(queryset=AdministrativeUnit.objects.all())

    with translation.override("vi"), pytest.raises(Exception) as refused:
        field.clean([str(cantho["ninhkieu"].pk), str(2**70)])

    assert refused.typename == "ValidationError"
    assert refused.value.messages == [vi("“%(pk)s” is not a valid value.", pk=2**70)]


@pytest.mark.django_db
def test_agenda_page_with_an_id_beyond_64_bits_shows_a_form_error(cantho, criteria,
                                                                   make_user):
    from councils.models import AgendaItem

    staff = make_user("so.nn", Role.DEPARTMENT_STAFF, cantho["province"])
    chair = make_user("chair")
    round_ = factories.evaluation_round(cantho["ninhkieu"])
    ready = factories.dossier(round_, state="accepted")
    council = factories.council(cantho["ninhkieu"], [chair])
    session = factories.session(council, round_, state="preparing")

    response = page_client(staff).post(
        reverse("councils:session-agenda-edit", args=[session.pk]),
        {"dossiers": [ready.pk, 2**70]})

    assert response.status_code == 200
    assert vi("“%(pk)s” is not a valid value.", pk=2**70) in response.content.decode()
    assert not AgendaItem.objects.filter(session=session).exists()


# --- API: the unauthenticated token endpoint --------------------------------------------------


@pytest.mark.django_db
def test_token_with_a_lone_surrogate_username_is_a_400():
    response = APIClient().post("/api/v1/auth/token/",
                                '{"username": "\\ud800", "password": "x"}',
                                content_type="application/json", HTTP_ACCEPT_LANGUAGE="vi")

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "parse_error", "message": vi(SURROGATE_MESSAGE),
        "fields": {"username": [vi(SURROGATE_MESSAGE)]}}


# --- the schema -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_schema_marks_criteria_from_nullable_as_the_data_is():
    from scoring.models import Regime

    schema = Client().get("/api/schema/?format=json").json()
    regime = schema["components"]["schemas"]["Regime"]["properties"]["criteria_from"]

    assert regime.get("nullable") is True
    assert Regime.objects.filter(criteria_from__isnull=True).exists()


@pytest.mark.django_db
def test_an_id_beyond_64_bits_in_the_address_is_not_found(officer):
    huge = 2**70
    client = page_client(officer)

    page = client.get(f"/councils/sessions/{huge}/")
    api = client.get(f"/api/v1/scoresheets/{huge}/")

    assert page.status_code == 404
    assert vi("Page not found") in page.content.decode()
    assert api.status_code == 404
    assert api.json()["error"]["code"] == "not_found"
