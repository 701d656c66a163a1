"""Read-only API of recognition (``dossiers.api_recognition``): ``/api/v1/decisions/`` and
``/api/v1/ratings/`` with their files, scoping, filters, error bodies and query counts.

Four users throughout: the department staff of current Cần Thơ (owner: issues the
decisions), the officer of one of its communes (colleague: reads the issued decisions and
the ratings of their commune only), the staff of another province (outsider, who has
recognitions of their own) and an anonymous client.
"""

import contextlib
import datetime
import io
import zipfile
from urllib.parse import urlsplit

import pytest
from django.utils import timezone, translation
from rest_framework.test import APIClient

from dossiers import decisions
from dossiers.models import Decision, DecisionState, JobStatus, Rating, RatingState
from ocop.accounts.models import Role
from ocop.regions.models import AdministrativeUnit, Level
from scoring.models import AdminLevel, ProcessLevel
from tests import factories
from tests.dossiers.recognition import issued, province_round, recognised

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cantho, criteria, make_user):
    province = cantho["province"]
    here, there = AdministrativeUnit.objects.current().filter(
        province=province, level=Level.COMMUNE).order_by("code")[:2]
    other = AdministrativeUnit.objects.create(level=Level.PROVINCE, code="99x",
                                              name="Tỉnh Khác")
    return {
        **cantho, "here": here, "there": there, "other": other,
        "round": province_round(cantho),
        "other_round": factories.evaluation_round(other, "26/2026", "province"),
        "owner": make_user("sonn", Role.DEPARTMENT_STAFF, province),
        "colleague": make_user("canbo.xa", Role.LOCAL_OFFICER, here),
        "outsider": make_user("sonn.khac", Role.DEPARTMENT_STAFF, other),
    }


def build(world, capture=None):
    """An issued decision of Cần Thơ over a product of each commune, a draft over another
    product of the colleague's commune, and the outsider's own issued decision in their
    province. With ``capture`` (``django_capture_on_commit_callbacks``) the PDFs, the
    certificates and the zips are rendered; without, they are still "queued"."""
    mine = recognised(world["round"], stars=4, score="78.50", unit=world["here"],
                      product_name="Bưởi Năm Roi")
    theirs = recognised(world["round"], stars=3, score="61.00", unit=world["there"],
                        product_name="Khô cá lóc")
    foreign = recognised(world["other_round"], stars=5, score="91.00",
                         product_name="Bưởi da xanh")
    with capture(execute=True) if capture else contextlib.nullcontext():
        decision = issued(world["owner"], [mine, theirs], number=5)
        other_decision = issued(world["outsider"], [foreign], number=5)
    waiting = recognised(world["round"], stars=5, score="90.00", unit=world["here"],
                         product_name="Mật ong hoa tràm")
    draft = decisions.draft_decision(world["owner"], [waiting])
    return {
        "decision": Decision.objects.get(pk=decision.pk), "draft": draft,
        "other_decision": Decision.objects.get(pk=other_decision.pk),
        "mine": Rating.objects.get(product=mine.product),
        "theirs": Rating.objects.get(product=theirs.product),
        "foreign": Rating.objects.get(product=foreign.product),
        "dossiers": {"mine": mine, "theirs": theirs, "foreign": foreign},
    }


@pytest.fixture
def recognition(world):
    """:func:`build` without rendering (fast: for scoping, fields and filters)."""
    return build(world)


@pytest.fixture
def rendered(world, django_capture_on_commit_callbacks):
    """:func:`build` with every file rendered (for the tests that download them)."""
    return build(world, django_capture_on_commit_callbacks)


def client_for(user):
    from rest_framework.authtoken.models import Token

    token, _created = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def ids(response):
    assert response.status_code == 200, response.content
    return sorted(row["id"] for row in response.json()["results"])


def content(response):
    return b"".join(response.streaming_content)


def vietnamese(message, **values):
    with translation.override("vi"):
        return translation.gettext(message) % values


# --- decisions: fields and files ------------------------------------------------------------


def test_owner_reads_an_issued_decision_with_its_lines_files_and_progress(world, rendered):
    decision, mine = rendered["decision"], rendered["dossiers"]["mine"]
    owner = client_for(world["owner"])

    data = owner.get(f"/api/v1/decisions/{decision.pk}/").json()

    assert data["id"] == decision.pk
    assert (data["state"], data["origin"], data["reference"], data["number"], data["year"],
            data["date"]) == ("issued", "drafted", "05/QĐ-UBND", 5, timezone.localdate().year,
                              timezone.localdate().isoformat())
    assert data["issuer_name"] == world["province"].name.upper()
    assert data["issuer_unit"]["id"] == world["province"].pk
    assert (data["regime"], data["level"]["admin_level"]) == ("26/2026", "province")
    assert data["signer_name"] == "Trần Văn Ký"
    assert data["subject"] == decision.subject
    assert (data["replaces"], data["replaced_by"]) == (None, None)
    assert [(i["product_name"], i["stars"], i["score"]) for i in data["items"]] == [
        ("Bưởi Năm Roi", 4, "78.50"), ("Khô cá lóc", 3, "61.00")]
    line = data["items"][0]
    assert line["dossier"] == mine.pk
    assert line["producer_name"] == mine.product.producer.name
    assert line["product_code"] == decision.items.get(dossier=mine).product_code
    assert line["criteria_set"].startswith("01.")
    assert world["here"].name in line["producer_address"]
    assert data["pdf"] == f"http://testserver/api/v1/decisions/{decision.pk}/pdf/"
    assert data["bundle"] == f"http://testserver/api/v1/decisions/{decision.pk}/bundle/"
    assert data["documents"] == {"status": "done", "done": 3, "total": 3}

    pdf = owner.get(data["pdf"])
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith('inline; filename="Quyet_dinh_05-QD-UBND.pdf"')
    assert "filename*=UTF-8''Quy%E1%BA%BFt" in pdf["Content-Disposition"]
    assert content(pdf).startswith(b"%PDF")

    bundle = owner.get(data["bundle"])
    assert bundle["Content-Type"] == "application/zip"
    assert bundle["Content-Disposition"].startswith("attachment; ")
    names = zipfile.ZipFile(io.BytesIO(content(bundle))).namelist()
    assert len(names) == 3 and sum(n.startswith("giay-chung-nhan/") for n in names) == 2


def test_a_draft_has_no_files_and_its_pdf_answers_no_file(world, recognition):
    draft = recognition["draft"]
    owner = client_for(world["owner"])

    data = owner.get(f"/api/v1/decisions/{draft.pk}/").json()
    pdf = owner.get(f"/api/v1/decisions/{draft.pk}/pdf/")
    bundle = owner.get(f"/api/v1/decisions/{draft.pk}/bundle/")

    assert (data["state"], data["reference"], data["number"], data["date"]) == (
        "draft", "", None, None)
    assert [i["product_name"] for i in data["items"]] == ["Mật ong hoa tràm"]
    assert (data["pdf"], data["bundle"]) == (None, None)
    assert data["documents"] == {"status": "", "done": 0, "total": 0}
    for response in (pdf, bundle):
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        error = response.json()["error"]
        assert error["code"] == "no_file" and error["message"]


def test_files_not_rendered_yet_answer_not_ready_with_the_progress(world):
    dossier = recognised(world["round"], unit=world["here"])
    decision = issued(world["owner"], [dossier], number=9)  # on-commit callbacks not run
    rating = Rating.objects.get(decision=decision)
    owner = client_for(world["owner"])

    data = owner.get(f"/api/v1/decisions/{decision.pk}/").json()
    pdf = owner.get(f"/api/v1/decisions/{decision.pk}/pdf/")
    certificate = owner.get(f"/api/v1/ratings/{rating.pk}/certificate/")

    assert (data["pdf"], data["bundle"]) == (None, None)
    assert data["documents"] == {"status": "queued", "done": 0, "total": 2}
    assert owner.get(f"/api/v1/ratings/{rating.pk}/").json()["certificate"] is None
    for response in (pdf, certificate):
        assert response.status_code == 404
        error = response.json()["error"]
        assert error["code"] == "not_ready"
        assert "0" in error["message"] and "2" in error["message"]  # 0 of 2 made

    Decision.objects.filter(pk=decision.pk).update(job_status=JobStatus.FAILED)
    failed = owner.get(f"/api/v1/decisions/{decision.pk}/pdf/").json()["error"]
    assert failed["code"] == "not_ready" and failed["message"] != error["message"]


def test_a_recorded_file_lost_from_the_storage_answers_404_not_500(world, rendered):
    decision = rendered["decision"]
    decision.file.storage.delete(decision.file.name)

    response = client_for(world["owner"]).get(f"/api/v1/decisions/{decision.pk}/pdf/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_ready"


def test_a_correction_links_both_ways_once_issued(world, recognition):
    first = recognition["decision"]
    owner = client_for(world["owner"])
    correction = decisions.draft_decision(world["owner"], [], replaces=first)

    # a correction still in draft is not announced on the issued decision
    assert owner.get(f"/api/v1/decisions/{first.pk}/").json()["replaced_by"] is None
    decisions.issue_decision(world["owner"], correction, number=6, date=first.date,
                             signer_name="B")

    old = owner.get(f"/api/v1/decisions/{first.pk}/").json()
    new = owner.get(f"/api/v1/decisions/{correction.pk}/").json()
    assert (old["state"], old["replaced_by"]) == ("replaced", correction.pk)
    assert (new["state"], new["replaces"], new["reference"]) == ("issued", first.pk,
                                                                 "06/QĐ-UBND")
    assert ids(owner.get("/api/v1/decisions/?state=replaced")) == [first.pk]
    ratings = owner.get(f"/api/v1/ratings/?unit={world['here'].pk}").json()["results"]
    by_state = {r["state"]: r for r in ratings if r["product"]["name"] == "Bưởi Năm Roi"}
    assert by_state["replaced"]["replaced_by"] == by_state["valid"]["id"]
    assert by_state["valid"]["decision"]["id"] == correction.pk


def test_a_ministry_decision_recorded_here_has_no_files(world):
    dossier = recognised(world["round"], stars=5, score="92.00", unit=world["here"])
    central = ProcessLevel.objects.get(regime=world["round"].regime,
                                       admin_level=AdminLevel.CENTRAL)
    rating = decisions.record_central_decision(world["owner"], dossier, level=central,
                                               number="123/QĐ-BNNMT",
                                               date=timezone.localdate())
    owner, colleague = client_for(world["owner"]), client_for(world["colleague"])

    data = owner.get(f"/api/v1/decisions/{rating.decision_id}/").json()
    rated = colleague.get(f"/api/v1/ratings/{rating.pk}/").json()

    assert (data["origin"], data["state"], data["reference"], data["issuer_unit"]) == (
        "recorded", "issued", "123/QĐ-BNNMT", None)
    assert [i["dossier"] for i in data["items"]] == [dossier.pk]
    assert (data["pdf"], data["bundle"]) == (None, None)
    assert ids(colleague.get("/api/v1/decisions/")) == [rating.decision_id]
    assert (rated["stars"], rated["decision"]["reference"], rated["certificate"]) == (
        5, "123/QĐ-BNNMT", None)
    for response in (owner.get(f"/api/v1/decisions/{rating.decision_id}/pdf/"),
                     colleague.get(f"/api/v1/ratings/{rating.pk}/certificate/")):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "no_file"
    assert client_for(world["outsider"]).get(
        f"/api/v1/decisions/{rating.decision_id}/").status_code == 404


# --- decisions: scoping ---------------------------------------------------------------------


def test_owner_lists_own_issued_and_draft_decisions_never_the_outsiders(world, recognition):
    owner = client_for(world["owner"])
    other = recognition["other_decision"]

    assert ids(owner.get("/api/v1/decisions/")) == sorted(
        [recognition["decision"].pk, recognition["draft"].pk])
    for path in ("", "pdf/", "bundle/"):
        response = owner.get(f"/api/v1/decisions/{other.pk}/{path}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
        assert "Bưởi da xanh" not in response.content.decode()


def test_colleague_reads_issued_decisions_of_their_commune_but_not_drafts(world, rendered):
    colleague = client_for(world["colleague"])
    decision, draft = rendered["decision"], rendered["draft"]

    assert ids(colleague.get("/api/v1/decisions/")) == [decision.pk]
    detail = colleague.get(f"/api/v1/decisions/{decision.pk}/").json()
    assert detail["reference"] == "05/QĐ-UBND"
    assert content(colleague.get(detail["pdf"])).startswith(b"%PDF")
    assert colleague.get(f"/api/v1/decisions/{draft.pk}/").status_code == 404
    assert colleague.get(f"/api/v1/decisions/{draft.pk}/pdf/").json()["error"]["code"] == \
        "not_found"
    assert colleague.get(f"/api/v1/decisions/{rendered['other_decision'].pk}/"
                         ).status_code == 404


def test_outsider_sees_only_their_own_decision(world, rendered):
    outsider = client_for(world["outsider"])
    other = rendered["other_decision"]

    assert ids(outsider.get("/api/v1/decisions/")) == [other.pk]
    assert content(outsider.get(f"/api/v1/decisions/{other.pk}/pdf/")).startswith(b"%PDF")
    for decision in (rendered["decision"], rendered["draft"]):
        for path in ("", "pdf/", "bundle/"):
            response = outsider.get(f"/api/v1/decisions/{decision.pk}/{path}")
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "not_found"
            assert "Bưởi Năm Roi" not in response.content.decode()


# --- decisions: filters ---------------------------------------------------------------------


def test_decision_filters_by_state_year_and_number(world, recognition):
    owner = client_for(world["owner"])
    decision, draft = recognition["decision"], recognition["draft"]
    year = timezone.localdate().year

    assert ids(owner.get("/api/v1/decisions/?state=draft")) == [draft.pk]
    assert ids(owner.get("/api/v1/decisions/?state=issued")) == [decision.pk]
    assert ids(owner.get(f"/api/v1/decisions/?year={year}")) == [decision.pk]
    assert ids(owner.get(f"/api/v1/decisions/?year={year - 1}")) == []
    assert ids(owner.get("/api/v1/decisions/?q=05/QĐ")) == [decision.pk]
    assert ids(owner.get("/api/v1/decisions/?q=qd-ubnd")) == [decision.pk]  # accents, case
    assert ids(owner.get("/api/v1/decisions/?q=07/QĐ")) == []


@pytest.mark.parametrize(("query", "field", "message"), [
    ("state=signed", "state", "Unknown value “%(value)s”. Use one of: %(known)s."),
    ("year=abc", "year", "Enter a whole number."),
    ("year=-2026", "year", "Enter a whole number."),
    ("year=99999999999999999999999", "year", None),
    ("year=0", "year", None),
    pytest.param("year=" + "9" * 5000, "year", None, id="year-5000-digits"),
    pytest.param("q=" + "x" * 201, "q", "The search is too long (%(length)s characters); "
                 "use at most %(max)s.", id="q-201"),
])
def test_bad_decision_filters_answer_400_naming_the_parameter(world, query, field, message):
    response = client_for(world["owner"]).get(f"/api/v1/decisions/?{query}")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field]
    if message is not None:
        values = {"value": "signed", "known": "draft, issued, replaced", "length": 201,
                  "max": 200}
        assert error["fields"][field] == [vietnamese(message, **values)]


# --- ratings: fields and files --------------------------------------------------------------


def test_owner_reads_a_rating_with_its_decision_verification_and_certificate(
        world, rendered):
    rating, decision = rendered["mine"], rendered["decision"]
    owner = client_for(world["owner"])

    data = owner.get(f"/api/v1/ratings/{rating.pk}/").json()

    assert data["id"] == rating.pk
    assert data["product"] == {"id": rating.product_id, "name": "Bưởi Năm Roi"}
    assert data["product_code"] == rating.product_code
    assert data["producer"] == {"id": rating.product.producer_id,
                                "name": rating.product.producer.name}
    assert (data["stars"], data["score"], data["state"], data["regime"]) == (
        4, "78.50", "valid", "26/2026")
    assert data["decision"] == {"id": decision.pk, "reference": "05/QĐ-UBND",
                                "date": decision.date.isoformat()}
    assert data["valid_from"] == decision.date.isoformat()
    assert data["valid_until"] == rating.valid_until.isoformat()
    assert data["verification_code"] == rating.verification_code
    assert data["verification_url"].startswith("http")
    assert data["verification_url"].endswith(f"/xac-minh/{rating.verification_code}/")
    assert data["certificate"] == f"http://testserver/api/v1/ratings/{rating.pk}/certificate/"

    certificate = owner.get(data["certificate"])
    assert certificate["Content-Type"] == "application/pdf"
    assert "filename*=UTF-8''Gi%E1%BA%A5y" in certificate["Content-Disposition"]
    assert content(certificate).startswith(b"%PDF")


def test_verification_url_opens_the_public_page(world, recognition):
    url = client_for(world["owner"]).get(
        f"/api/v1/ratings/{recognition['mine'].pk}/").json()["verification_url"]

    page = APIClient().get(urlsplit(url).path)  # public: no login

    assert page.status_code == 200
    assert "Bưởi Năm Roi" in page.content.decode()


# --- ratings: scoping -----------------------------------------------------------------------


def test_owner_lists_the_ratings_of_the_province_not_the_outsiders(world, recognition):
    owner = client_for(world["owner"])
    foreign = recognition["foreign"]

    assert ids(owner.get("/api/v1/ratings/")) == sorted(
        [recognition["mine"].pk, recognition["theirs"].pk])
    for path in ("", "certificate/"):
        response = owner.get(f"/api/v1/ratings/{foreign.pk}/{path}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert ids(owner.get(f"/api/v1/ratings/?unit={world['other'].pk}")) == []
    assert ids(owner.get("/api/v1/ratings/?q=da xanh")) == []


def test_colleague_lists_the_ratings_of_their_commune_only(world, rendered):
    colleague = client_for(world["colleague"])
    mine, theirs = rendered["mine"], rendered["theirs"]

    assert ids(colleague.get("/api/v1/ratings/")) == [mine.pk]
    assert content(colleague.get(f"/api/v1/ratings/{mine.pk}/certificate/")).startswith(
        b"%PDF")
    for rating in (theirs, rendered["foreign"]):
        assert colleague.get(f"/api/v1/ratings/{rating.pk}/").status_code == 404
        assert colleague.get(f"/api/v1/ratings/{rating.pk}/certificate/").status_code == 404
    assert ids(colleague.get(f"/api/v1/ratings/?unit={world['province'].pk}")) == [mine.pk]


def test_outsider_lists_only_their_own_ratings(world, rendered):
    outsider = client_for(world["outsider"])
    foreign = rendered["foreign"]

    assert ids(outsider.get("/api/v1/ratings/")) == [foreign.pk]
    assert content(outsider.get(f"/api/v1/ratings/{foreign.pk}/certificate/")).startswith(
        b"%PDF")
    for rating in (rendered["mine"], rendered["theirs"]):
        for path in ("", "certificate/"):
            response = outsider.get(f"/api/v1/ratings/{rating.pk}/{path}")
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "not_found"
            assert rating.verification_code not in response.content.decode()
    assert ids(outsider.get("/api/v1/ratings/?q=buoi nam roi")) == []


# --- ratings: filters -----------------------------------------------------------------------


def test_rating_filters_stars_state_criteria_set_and_unit(world, recognition):
    owner = client_for(world["owner"])
    mine, theirs = recognition["mine"], recognition["theirs"]
    criteria_set = mine.source_dossier.criteria_set_id

    assert ids(owner.get("/api/v1/ratings/?stars=4")) == [mine.pk]
    assert ids(owner.get("/api/v1/ratings/?stars=5")) == []
    assert ids(owner.get("/api/v1/ratings/?state=valid")) == sorted([mine.pk, theirs.pk])
    assert ids(owner.get("/api/v1/ratings/?state=expired")) == []
    assert ids(owner.get(f"/api/v1/ratings/?criteria_set={criteria_set}")) == sorted(
        [mine.pk, theirs.pk])
    other_set = factories.criteria_set("148", 9).pk
    assert ids(owner.get(f"/api/v1/ratings/?criteria_set={other_set}")) == []
    assert ids(owner.get(f"/api/v1/ratings/?unit={world['here'].pk}")) == [mine.pk]
    assert ids(owner.get(f"/api/v1/ratings/?unit={world['there'].pk}")) == [theirs.pk]
    assert ids(owner.get(f"/api/v1/ratings/?unit={world['province'].pk}")) == sorted(
        [mine.pk, theirs.pk])
    assert ids(owner.get("/api/v1/ratings/?unit=987654321")) == []
    assert ids(owner.get(f"/api/v1/ratings/?stars=3&unit={world['here'].pk}")) == []


def test_rating_filter_expiring_within_days(world, recognition):
    owner = client_for(world["owner"])
    mine, theirs = recognition["mine"], recognition["theirs"]
    today = timezone.localdate()
    Rating.objects.filter(pk=mine.pk).update(valid_until=today + datetime.timedelta(days=20))
    Rating.objects.filter(pk=theirs.pk).update(state=RatingState.DUE,
                                               valid_until=today - datetime.timedelta(days=3))

    assert ids(owner.get("/api/v1/ratings/?expiring_within=0")) == [theirs.pk]
    assert ids(owner.get("/api/v1/ratings/?expiring_within=19")) == [theirs.pk]
    assert ids(owner.get("/api/v1/ratings/?expiring_within=20")) == sorted(
        [mine.pk, theirs.pk])
    Rating.objects.filter(pk=theirs.pk).update(state=RatingState.EXPIRED)
    assert ids(owner.get("/api/v1/ratings/?expiring_within=30")) == [mine.pk]


def test_rating_search_ignores_accents_and_case_on_product_and_producer(world, recognition):
    owner = client_for(world["owner"])
    mine, theirs = recognition["mine"], recognition["theirs"]
    from dossiers import services

    services.update_producer(world["owner"], theirs.product.producer,
                             data={"name": "Hợp tác xã Đồng Tâm"})

    assert ids(owner.get("/api/v1/ratings/?q=buoi nam roi")) == [mine.pk]
    assert ids(owner.get("/api/v1/ratings/?q=BƯỞI")) == [mine.pk]
    assert ids(owner.get("/api/v1/ratings/?q=dong tam")) == [theirs.pk]  # đ → d
    assert ids(owner.get("/api/v1/ratings/?q=kho dong")) == [theirs.pk]  # product + producer
    assert ids(owner.get("/api/v1/ratings/?q=buoi dong")) == []  # every word must match
    assert ids(owner.get("/api/v1/ratings/?q=100%")) == []  # LIKE wildcards are literal


@pytest.mark.parametrize(("query", "field", "message", "values"), [
    ("stars=2", "stars", "Unknown value “%(value)s”. Use one of: %(known)s.",
     {"value": "2", "known": "3, 4, 5"}),
    ("stars=four", "stars", "Unknown value “%(value)s”. Use one of: %(known)s.",
     {"value": "four", "known": "3, 4, 5"}),
    ("state=valide", "state", "Unknown value “%(value)s”. Use one of: %(known)s.",
     {"value": "valide", "known": "valid, due, expired, revoked, replaced"}),
    ("criteria_set=1.5", "criteria_set", "Enter a whole number.", {}),
    ("criteria_set=99999999999999999999", "criteria_set",
     "There is no such id (at most %(max)s).", {"max": 2**63 - 1}),
    pytest.param("unit=" + "9" * 5000, "unit", "There is no such id (at most %(max)s).",
                 {"max": 2**63 - 1}, id="unit-5000-digits"),  # more than int() converts
    ("unit=-1", "unit", "Enter a whole number.", {}),
    ("unit=%C2%B2", "unit", "Enter a whole number.", {}),  # "²": a digit int() refuses
    ("expiring_within=-5", "expiring_within", "Enter a whole number.", {}),
    ("expiring_within=3651", "expiring_within", None, {}),
    ("expiring_within=99999999999999999999999999", "expiring_within", None, {}),
    pytest.param("expiring_within=" + "9" * 5000, "expiring_within", None, {},
                 id="expiring_within-5000-digits"),
    pytest.param("q=" + "y" * 201, "q", "The search is too long (%(length)s characters); "
                 "use at most %(max)s.", {"length": 201, "max": 200}, id="q-201"),
])
def test_bad_rating_filters_answer_400_naming_the_parameter(world, query, field, message,
                                                           values):
    response = client_for(world["owner"]).get(f"/api/v1/ratings/?{query}")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field]
    if message is not None:
        assert error["fields"][field] == [vietnamese(message, **values)]


# --- read-only, anonymous -------------------------------------------------------------------


def test_writes_are_not_allowed(world, recognition):
    owner = client_for(world["owner"])
    decision, draft, rating = recognition["decision"], recognition["draft"], recognition["mine"]

    answers = [
        owner.post("/api/v1/decisions/", {"dossiers": [1]}, format="json"),
        owner.put(f"/api/v1/decisions/{draft.pk}/", {"subject": "x"}, format="json"),
        owner.patch(f"/api/v1/decisions/{draft.pk}/", {"state": "issued"}, format="json"),
        owner.delete(f"/api/v1/decisions/{draft.pk}/"),
        owner.post(f"/api/v1/decisions/{decision.pk}/pdf/"),
        owner.post("/api/v1/ratings/", {"stars": 5}, format="json"),
        owner.patch(f"/api/v1/ratings/{rating.pk}/", {"stars": 5}, format="json"),
        owner.delete(f"/api/v1/ratings/{rating.pk}/"),
        owner.delete(f"/api/v1/ratings/{rating.pk}/certificate/"),
    ]

    for response in answers:
        assert response.status_code == 405
        assert response.json()["error"]["code"] == "method_not_allowed"
    draft.refresh_from_db()
    rating.refresh_from_db()
    assert (draft.state, draft.subject) == (DecisionState.DRAFT, recognition["draft"].subject)
    assert (rating.stars, rating.state) == (4, RatingState.VALID)
    assert Decision.objects.filter(pk=decision.pk).exists()


def test_anonymous_is_refused_everywhere(world, recognition):
    anonymous = APIClient()
    decision, rating = recognition["decision"], recognition["mine"]

    for path in ("decisions/", f"decisions/{decision.pk}/", f"decisions/{decision.pk}/pdf/",
                 f"decisions/{decision.pk}/bundle/", "ratings/", f"ratings/{rating.pk}/",
                 f"ratings/{rating.pk}/certificate/"):
        response = anonymous.get(f"/api/v1/{path}")
        assert response.status_code in (401, 403), path
        assert response["Content-Type"] == "application/json"
        assert response.json()["error"]["code"] == "not_authenticated"
        assert not response.content.startswith(b"%PDF")


# --- query counts ---------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [1, 4])
def test_decision_list_query_count_is_constant(world, django_assert_num_queries, rows):
    for number in range(1, rows + 1):
        dossiers = [recognised(world["round"], unit=world["here"]) for _ in range(2)]
        issued(world["owner"], dossiers, number=number)
    decisions.draft_decision(world["owner"], [recognised(world["round"],
                                                         unit=world["there"])])
    owner = client_for(world["owner"])

    # the issuing read the provinces the owner's province absorbed: cached since
    # (ocop/versioned_cache.py)
    with django_assert_num_queries(5):
        response = owner.get("/api/v1/decisions/")

    assert response.json()["count"] == rows + 1
    assert sum(len(d["items"]) for d in response.json()["results"]) == 2 * rows + 1


@pytest.mark.parametrize("rows", [1, 4])
def test_rating_list_query_count_is_constant(world, django_assert_num_queries, rows):
    issued(world["owner"], [recognised(world["round"], unit=world["here"])
                            for _ in range(rows)], number=1)
    owner = client_for(world["owner"])

    # the issuing read the provinces the owner's province absorbed: cached since
    with django_assert_num_queries(4):
        response = owner.get("/api/v1/ratings/")

    assert response.json()["count"] == rows
    assert all(r["decision"]["reference"] == "01/QĐ-UBND" for r in response.json()["results"])


# --- the schema, on real rows ----------------------------------------------------------------


@pytest.fixture
def wsgi_app():
    """The WSGI application, keeping the test's database connection between requests (as
    ``tests/ocop/test_fuzz.py`` does)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from ocop.wsgi import application

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield application
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_real_answers_conform_to_the_schema(world, rendered, wsgi_app):
    """The demo data the fuzz run uses has no decision: here every operation answers
    real rows (JSON lists and details, the PDF and the zip, the 404 of a draft's file) and
    each answer is checked against ``/api/schema/`` (body and content type)."""
    import schemathesis
    from rest_framework.authtoken.models import Token
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
    )

    token, _created = Token.objects.get_or_create(user=world["owner"])
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    decision, draft, rating = rendered["decision"], rendered["draft"], rendered["mine"]
    calls = [
        ("/api/v1/decisions/", {}, {"year": decision.year, "q": "qđ"}, 200),
        ("/api/v1/decisions/{id}/", {"id": decision.pk}, {}, 200),
        ("/api/v1/decisions/{id}/", {"id": draft.pk}, {}, 200),
        ("/api/v1/decisions/{id}/pdf/", {"id": decision.pk}, {}, 200),
        ("/api/v1/decisions/{id}/bundle/", {"id": decision.pk}, {}, 200),
        ("/api/v1/decisions/{id}/pdf/", {"id": draft.pk}, {}, 404),
        ("/api/v1/ratings/", {}, {"stars": 4, "expiring_within": 3650}, 200),
        ("/api/v1/ratings/", {}, {"unit": "x"}, 400),
        ("/api/v1/ratings/{id}/", {"id": rating.pk}, {}, 200),
        ("/api/v1/ratings/{id}/certificate/", {"id": rating.pk}, {}, 200),
    ]
    for path, path_parameters, query, status in calls:
        operation = schema[path]["GET"]
        case = operation.Case(path_parameters=path_parameters, query=query,
                              headers={"Authorization": f"Token {token.key}"})
        response = case.call()
        assert response.status_code == status, (path, response.content[:300])
        case.validate_response(response, checks=[
            not_a_server_error, response_schema_conformance, content_type_conformance])
