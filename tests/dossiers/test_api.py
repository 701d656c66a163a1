"""Dossier intake API: scoping, the workflow through the API, error bodies, query counts.

Three users throughout: the Ninh Kiều officer (owner), the Phong Điền officer (outsider,
whose colleague's data exists) and the department staff of Cần Thơ (sees both).
"""

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from dossiers import rules, services
from dossiers.models import DossierDocument, DossierState, Transition
from ocop.accounts.models import Role
from tests import factories
from tests.dossiers import PDF_BYTES

# 148 district rounds: the tests run on a day 148 was in force (tests/conftest.py)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("era_148")]

PASSWORD = "pw-Test-2026"
PDF = PDF_BYTES  # a real one-page PDF: uploads are opened by pypdf


@pytest.fixture
def area(cantho, criteria, make_user):
    """A 148 district round in Ninh Kiều, one in Phong Điền, and the three users (the
    148 checklist is seeded by the ``dossiers`` migrations)."""
    return {
        "units": cantho,
        "round_nk": factories.evaluation_round(cantho["ninhkieu"]),
        "round_pd": factories.evaluation_round(cantho["phongdien"]),
        "officer": make_user("canbo.nk", Role.LOCAL_OFFICER, cantho["ninhkieu"],
                             full_name="Trần Văn Ninh"),
        "outsider": make_user("canbo.pd", Role.LOCAL_OFFICER, cantho["phongdien"]),
        "staff": make_user("so.nn", Role.DEPARTMENT_STAFF, cantho["province"],
                           full_name="Lê Thị Sở"),
    }


def client_for(user):
    """An API client sending the user's token, as a real client does (the token view
    itself is throttled, so only ``test_token_from_the_login_endpoint_works`` calls it)."""
    from rest_framework.authtoken.models import Token

    token, _created = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def ninhkieu_dossier(area):
    """A Ninh Kiều dossier made through the service (checklist lines included)."""
    officer = area["officer"]
    producer = factories.producer(area["units"]["ninhkieu"], name="Hợp tác xã Bưởi Năm Roi")
    product = services.create_product(officer, producer=producer, name="Bưởi Năm Roi",
                                      criteria_set=factories.criteria_set("148", 9))
    return services.create_dossier(officer, round=area["round_nk"], product=product)


def pdf_upload(name="giay-dang-ky.pdf", content=PDF):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/pdf")


def ids(response):
    return sorted(row["id"] for row in response.json()["results"])


# --- scoping ---------------------------------------------------------------------------------


def test_outsider_gets_404_on_a_foreign_dossier_and_does_not_list_it(area):
    dossier = ninhkieu_dossier(area)
    document = dossier.documents.first()
    outsider = client_for(area["outsider"])

    retrieve = outsider.get(f"/api/v1/dossiers/{dossier.pk}/")
    transition = outsider.post(f"/api/v1/dossiers/{dossier.pk}/transition/",
                               {"action": "submit"}, format="json")
    upload = outsider.post(f"/api/v1/dossiers/{dossier.pk}/documents/{document.pk}/files/",
                           {"file": pdf_upload()}, format="multipart")
    actions = outsider.get(f"/api/v1/dossiers/{dossier.pk}/actions/")
    listing = outsider.get("/api/v1/dossiers/")

    for response in (retrieve, transition, upload, actions):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
        assert "Bưởi" not in response.content.decode()
    assert listing.json()["count"] == 0
    dossier.refresh_from_db()
    assert dossier.state == DossierState.DRAFT
    assert not dossier.files.exists()


def test_outsider_does_not_see_foreign_producers_products(area):
    dossier = ninhkieu_dossier(area)
    outsider = client_for(area["outsider"])

    assert outsider.get("/api/v1/producers/").json()["count"] == 0
    assert outsider.get("/api/v1/products/").json()["count"] == 0
    assert outsider.get(f"/api/v1/producers/{dossier.product.producer_id}/").status_code == 404
    assert outsider.get(f"/api/v1/products/{dossier.product_id}/").status_code == 404


def test_department_staff_sees_dossiers_of_both_districts(area):
    mine = ninhkieu_dossier(area)
    theirs = factories.dossier(area["round_pd"])
    staff = client_for(area["staff"])

    listing = staff.get("/api/v1/dossiers/")
    detail = staff.get(f"/api/v1/dossiers/{mine.pk}/")

    assert ids(listing) == sorted([mine.pk, theirs.pk])
    assert detail.json()["product"]["name"] == "Bưởi Năm Roi"
    assert detail.json()["unit"]["code"] == "916"


def test_officer_sees_only_own_district_dossiers(area):
    mine = ninhkieu_dossier(area)
    factories.dossier(area["round_pd"])

    listing = client_for(area["officer"]).get("/api/v1/dossiers/")

    assert ids(listing) == [mine.pk]
    row = listing.json()["results"][0]
    assert row["producer"]["name"] == "Hợp tác xã Bưởi Năm Roi"
    assert row["state"] == "draft"
    assert row["round"]["id"] == area["round_nk"].pk


def test_token_from_the_login_endpoint_works(area):
    dossier = ninhkieu_dossier(area)

    response = APIClient().post("/api/v1/auth/token/",
                                {"username": "canbo.nk", "password": PASSWORD}, format="json")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    listing = client.get("/api/v1/dossiers/")

    assert ids(listing) == [dossier.pk]


def test_user_without_an_intake_role_sees_nothing(area, make_user):
    dossier = ninhkieu_dossier(area)
    stranger = client_for(make_user("khach"))

    assert stranger.get("/api/v1/dossiers/").json()["count"] == 0
    assert stranger.get(f"/api/v1/dossiers/{dossier.pk}/").status_code == 404


def test_action_of_another_level_is_403_for_a_visible_dossier(area):
    provincial = factories.evaluation_round(area["units"]["province_old"],
                                            admin_level="province")
    dossier = factories.dossier(provincial, area["units"]["ninhkieu"],
                                state=DossierState.ACCEPTED)
    url = f"/api/v1/dossiers/{dossier.pk}/transition/"

    officer = client_for(area["officer"]).post(url, {"action": "start_evaluation"},
                                               format="json")
    staff = client_for(area["staff"]).post(url, {"action": "start_evaluation"},
                                           format="json")

    # the evaluation is the council's (a session's agenda), for the district officer of
    # another level as for the province's staff who runs the round
    with translation.override("vi"):  # the API answers in the default language
        message = str(rules.COUNCIL_ONLY["start_evaluation"])
    for response in (officer, staff):
        assert response.status_code == 403
        assert response.json()["error"] == {"code": "council_only", "message": message,
                                            "fields": None}
    dossier.refresh_from_db()
    assert dossier.state == DossierState.ACCEPTED
    assert not Transition.objects.filter(dossier=dossier).exists()
    assert client_for(area["staff"]).get(f"/api/v1/dossiers/{dossier.pk}/").status_code == 200


def test_dossier_list_anonymous_is_refused_with_error_body(area):
    response = APIClient().get("/api/v1/dossiers/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_outsider_cannot_create_a_dossier_for_a_foreign_product(area):
    dossier = ninhkieu_dossier(area)
    outsider = client_for(area["outsider"])

    response = outsider.post("/api/v1/dossiers/", {
        "round": area["round_pd"].pk, "product": dossier.product_id}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == ["product"]
    assert dossier.product.dossiers.count() == 1


# --- producers, products, rounds -------------------------------------------------------------


def test_producer_create_and_folded_search(area):
    officer = client_for(area["officer"])

    created = officer.post("/api/v1/producers/", {
        "type": "cooperative", "name": "  Hợp tác xã  Đông Phú ", "registration_no":
        "1801 234.567", "representative_name": "Nguyễn Thị Mai",
        "representative_gender": "female", "address": "Ấp Mỹ Ái",
        "unit": area["units"]["ninhkieu"].pk}, format="json")
    factories.producer(area["units"]["ninhkieu"], name="Cơ sở Bánh Tráng")

    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["name"], body["registration_no"], body["unit_name"]) == (
        "Hợp tác xã Đông Phú", "1801234567", "Quận Ninh Kiều")
    found = officer.get("/api/v1/producers/", {"q": "dong phu"}).json()
    assert [p["name"] for p in found["results"]] == ["Hợp tác xã Đông Phú"]
    by_number = officer.get("/api/v1/producers/", {"q": "18012345"}).json()
    assert [p["id"] for p in by_number["results"]] == [body["id"]]


def test_producer_in_a_foreign_unit_is_refused(area):
    officer = client_for(area["officer"])

    response = officer.post("/api/v1/producers/", {
        "type": "cooperative", "name": "Hợp tác xã Khác", "registration_no": "1801234568",
        "representative_name": "Nguyễn Văn A", "representative_gender": "male",
        "address": "Ấp 2", "unit": area["units"]["phongdien"].pk}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["unit"]
    assert not area["units"]["phongdien"].producers.exists()


def test_product_create_and_filter_by_producer(area):
    officer = client_for(area["officer"])
    first = factories.producer(area["units"]["ninhkieu"])
    second = factories.producer(area["units"]["ninhkieu"])
    cs = factories.criteria_set("148", 9)
    services.create_product(area["officer"], producer=second, name="Nước mắm",
                            criteria_set=cs)

    created = officer.post("/api/v1/products/", {
        "producer": first.pk, "name": "Tương ớt", "criteria_set": cs.pk}, format="json")
    listing = officer.get("/api/v1/products/", {"producer": first.pk}).json()

    assert created.status_code == 201, created.json()
    assert created.json()["producer_name"] == first.name
    assert [(p["name"], p["criteria_set_no"]) for p in listing["results"]] == [("Tương ớt", 9)]


def test_rounds_filter_open_and_regime(area):
    closed = factories.evaluation_round(area["units"]["ninhkieu"], is_open=False)
    officer = client_for(area["officer"])

    open_148 = officer.get("/api/v1/rounds/", {"open": 1, "regime": "148"}).json()
    other_regime = officer.get("/api/v1/rounds/", {"regime": "26/2026"}).json()
    unknown = officer.get("/api/v1/rounds/", {"regime": "nope"})

    assert [r["id"] for r in open_148["results"]] == [area["round_nk"].pk]
    assert closed.pk not in [r["id"] for r in open_148["results"]]
    assert open_148["results"][0]["unit"]["name"] == "Quận Ninh Kiều"
    assert other_regime["count"] == 0
    assert unknown.status_code == 400
    assert list(unknown.json()["error"]["fields"]) == ["regime"]


def test_rounds_are_read_only(area):
    response = client_for(area["staff"]).post("/api/v1/rounds/", {}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


# --- dossier list filters --------------------------------------------------------------------


def test_dossier_list_filters(area):
    target = factories.dossier(area["round_nk"], product_name="Bánh pía Sóc Trăng",
                               state=DossierState.SUBMITTED)
    factories.dossier(area["round_nk"], product_name="Khô cá lóc")
    staff = client_for(area["staff"])

    assert ids(staff.get("/api/v1/dossiers/", {"q": "BANH PIA"})) == [target.pk]
    assert ids(staff.get("/api/v1/dossiers/", {"state": "submitted"})) == [target.pk]
    assert ids(staff.get("/api/v1/dossiers/", {"round": area["round_pd"].pk})) == []
    assert len(ids(staff.get("/api/v1/dossiers/", {
        "criteria_set": target.criteria_set_id, "registration_type": "first"}))) == 2
    bad = staff.get("/api/v1/dossiers/", {"state": "lost"})
    assert bad.status_code == 400
    assert list(bad.json()["error"]["fields"]) == ["state"]


# --- the workflow through the API ------------------------------------------------------------


def test_create_upload_submit_return_resubmit_accept(area):
    officer = client_for(area["officer"])
    staff = client_for(area["staff"])
    producer = factories.producer(area["units"]["ninhkieu"], name="Hợp tác xã Mỹ Khánh")
    product = services.create_product(area["officer"], producer=producer,
                                      name="Mắm cá linh", criteria_set=factories.criteria_set())

    created = officer.post("/api/v1/dossiers/", {
        "round": area["round_nk"].pk, "product": product.pk,
        "registration": {"production_address": "Ấp Mỹ Ái"}}, format="json")
    assert created.status_code == 201, created.json()
    dossier = created.json()
    assert dossier["state"] == "draft"
    assert dossier["registration"] == {"production_address": "Ấp Mỹ Ái"}
    assert dossier["documents"], "the checklist lines are created with the dossier"
    url = f"/api/v1/dossiers/{dossier['id']}/"

    for document in dossier["documents"]:
        if document["required"]:
            upload = officer.post(f"{url}documents/{document['id']}/files/",
                                  {"file": pdf_upload()}, format="multipart")
            assert upload.status_code == 201, upload.json()
            assert upload.json()["original_name"] == "giay-dang-ky.pdf"
            assert upload.json()["size"] == len(PDF)
    detail = officer.get(url).json()
    first = next(d for d in detail["documents"] if d["required"])
    assert [f["original_name"] for f in first["files"]] == ["giay-dang-ky.pdf"]
    actions = officer.get(f"{url}actions/").json()
    assert actions["transitions"] == ["submit", "withdraw"]
    assert "upload_file" in actions["actions"]

    submitted = officer.post(f"{url}transition/", {"action": "submit"}, format="json")
    assert submitted.status_code == 200, submitted.json()
    assert submitted.json()["state"] == "submitted"

    assert staff.get(f"{url}actions/").json()["transitions"] == [
        "return_for_completion", "accept", "withdraw"]
    returned = staff.post(f"{url}transition/", {
        "action": "return_for_completion", "reason": "Bổ sung giấy tờ",
        "reasons": {str(first["id"]): "Bản chụp mờ, không đọc được"}}, format="json")
    assert returned.status_code == 200, returned.json()
    body = returned.json()
    assert body["state"] == "returned"
    line = next(d for d in body["documents"] if d["id"] == first["id"])
    assert line["reason"] == "Bản chụp mờ, không đọc được"

    refused = officer.post(f"{url}transition/", {"action": "resubmit"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "incomplete"
    assert first["title"] in refused.json()["error"]["message"]
    again = officer.post(f"{url}documents/{first['id']}/files/",
                         {"file": pdf_upload("giay-dang-ky-ro.pdf")}, format="multipart")
    assert again.status_code == 201, again.json()
    resubmitted = officer.post(f"{url}transition/", {"action": "resubmit"}, format="json")
    assert resubmitted.status_code == 200, resubmitted.json()
    assert resubmitted.json()["state"] == "resubmitted"

    accepted = staff.post(f"{url}transition/", {"action": "accept"}, format="json")
    assert accepted.status_code == 200, accepted.json()
    body = accepted.json()
    assert body["state"] == "accepted"
    assert body["accepted_at"] is not None
    timeline = [(t["from_state"], t["to_state"], t["actor"]) for t in body["transitions"]]
    assert timeline == [
        ("", "draft", "Trần Văn Ninh"),
        ("draft", "submitted", "Trần Văn Ninh"),
        ("submitted", "returned", "Lê Thị Sở"),
        ("returned", "resubmitted", "Trần Văn Ninh"),
        ("resubmitted", "accepted", "Lê Thị Sở"),
    ]
    assert body["transitions"][2]["reason"] == "Bổ sung giấy tờ"
    assert body["transitions"][2]["details"]["reasons"][0]["reason"] == (
        "Bản chụp mờ, không đọc được")
    line = next(d for d in body["documents"] if d["id"] == first["id"])
    assert (line["state"], line["reason"]) == ("verified", "")
    assert [f["original_name"] for f in line["files"]] == [
        "giay-dang-ky.pdf", "giay-dang-ky-ro.pdf"]


def test_withdraw_needs_a_reason_and_records_it(area):
    dossier = ninhkieu_dossier(area)
    officer = client_for(area["officer"])
    url = f"/api/v1/dossiers/{dossier.pk}/transition/"

    refused = officer.post(url, {"action": "withdraw", "reason": "  "}, format="json")
    withdrawn = officer.post(url, {"action": "withdraw", "reason": "Chủ thể xin rút"},
                             format="json")

    assert refused.status_code == 400
    assert list(refused.json()["error"]["fields"]) == ["reason"]
    assert withdrawn.status_code == 200
    body = withdrawn.json()
    assert body["state"] == "withdrawn"
    from django.utils import translation

    from dossiers.models import DossierState

    with translation.override("vi"):  # the API answers in the default language
        draft, gone = str(DossierState.DRAFT.label), str(DossierState.WITHDRAWN.label)
    assert (draft, gone) == ("Đang soạn", "Đã rút hồ sơ")
    assert body["transitions"][-1] | {"at": None} == {
        "from_state": "draft", "from_state_display": draft, "to_state": "withdrawn",
        "to_state_display": gone, "actor": "Trần Văn Ninh", "at": None,
        "reason": "Chủ thể xin rút", "details": {}}


def test_overdue_filter_and_flag(area):
    import datetime

    late = factories.dossier(area["round_nk"], state=DossierState.SUBMITTED,
                             due_date=datetime.date(2020, 1, 6))
    on_time = factories.dossier(area["round_nk"], state=DossierState.SUBMITTED,
                                due_date=datetime.date(2099, 1, 6))
    staff = client_for(area["staff"])

    overdue = staff.get("/api/v1/dossiers/", {"overdue": 1})
    everything = staff.get("/api/v1/dossiers/").json()["results"]

    assert ids(overdue) == [late.pk]
    assert {row["id"]: row["overdue"] for row in everything} == {late.pk: True,
                                                                on_time.pk: False}


def test_patch_updates_samples_and_registration(area):
    dossier = ninhkieu_dossier(area)
    officer = client_for(area["officer"])

    response = officer.patch(f"/api/v1/dossiers/{dossier.pk}/", {
        "samples_count": 5, "samples_received_on": "2024-05-20",
        "registration": {"production_address": "Ấp Thới Hòa"}}, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["samples_count"], body["samples_received_on"]) == (5, "2024-05-20")
    assert body["registration"]["production_address"] == "Ấp Thới Hòa"
    dossier.refresh_from_db()
    assert dossier.samples_count == 5


def test_put_is_not_allowed(area):
    dossier = ninhkieu_dossier(area)
    response = client_for(area["officer"]).put(f"/api/v1/dossiers/{dossier.pk}/", {},
                                               format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_bad_transition_answers_the_error_body_in_vietnamese(area):
    dossier = ninhkieu_dossier(area)
    staff = client_for(area["staff"])

    response = staff.post(f"/api/v1/dossiers/{dossier.pk}/transition/",
                          {"action": "accept"}, format="json", HTTP_ACCEPT_LANGUAGE="vi")

    error = response.json()["error"]
    with translation.override("vi"):
        try:
            services.accept(area["staff"], dossier)
        except services.DossierError as refusal:
            expected = str(refusal.message)
    assert response.status_code == 409
    assert response.headers["Content-Language"] == "vi"
    assert error["code"] == "state"
    assert error["message"] == expected
    dossier.refresh_from_db()
    assert dossier.state == DossierState.DRAFT
    assert Transition.objects.filter(dossier=dossier).count() == 1  # "" → draft only


def test_unknown_transition_action_lists_the_field(area):
    dossier = ninhkieu_dossier(area)

    response = client_for(area["officer"]).post(
        f"/api/v1/dossiers/{dossier.pk}/transition/", {"action": "publish"}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == ["action"]


def test_return_reasons_must_name_documents(area):
    dossier = ninhkieu_dossier(area)

    response = client_for(area["staff"]).post(
        f"/api/v1/dossiers/{dossier.pk}/transition/",
        {"action": "return_for_completion", "reasons": {"first": "x"}}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["reasons"]


def test_renamed_executable_upload_is_refused_with_error_body(area):
    dossier = ninhkieu_dossier(area)
    document = dossier.documents.first()
    officer = client_for(area["officer"])

    response = officer.post(
        f"/api/v1/dossiers/{dossier.pk}/documents/{document.pk}/files/",
        {"file": pdf_upload("hoa-don.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64)},
        format="multipart", HTTP_ACCEPT_LANGUAGE="vi")

    from dossiers import uploads

    with translation.override("vi"):
        try:
            uploads.check_upload(pdf_upload("hoa-don.pdf", b"MZ\x90\x00" + b"\x00" * 64))
        except uploads.UploadRefused as refusal:
            expected = refusal.message
    assert response.status_code == 400
    error = response.json()["error"]
    assert error == {"code": "executable", "message": expected, "fields": {"file": [expected]}}
    assert "hoa-don.pdf" in expected
    document.refresh_from_db()
    assert document.state == "missing"
    assert not dossier.files.exists()


def test_upload_to_a_document_of_another_dossier_is_404(area):
    first = ninhkieu_dossier(area)
    second = ninhkieu_dossier(area)
    document = second.documents.first()

    response = client_for(area["officer"]).post(
        f"/api/v1/dossiers/{first.pk}/documents/{document.pk}/files/",
        {"file": pdf_upload()}, format="multipart")

    assert response.status_code == 404
    assert not DossierDocument.objects.filter(files__isnull=False).exists()


# --- query counts ----------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [1, 30])
def test_dossier_list_query_count_is_constant(area, django_assert_num_queries, rows):
    for _ in range(rows):
        factories.dossier(area["round_nk"])
    staff = client_for(area["staff"])

    with django_assert_num_queries(5):
        response = staff.get("/api/v1/dossiers/")

    assert response.json()["count"] == rows


@pytest.mark.parametrize("files", [1, 6])
def test_dossier_detail_query_count_is_constant(area, django_assert_num_queries, files):
    dossier = ninhkieu_dossier(area)
    for document in dossier.documents.all():
        for _ in range(files):
            services.upload_file(area["officer"], dossier, pdf_upload(), document=document)
    officer = client_for(area["officer"])

    with django_assert_num_queries(6):
        response = officer.get(f"/api/v1/dossiers/{dossier.pk}/")

    assert sum(len(d["files"]) for d in response.json()["documents"]) == (
        files * dossier.documents.count())
