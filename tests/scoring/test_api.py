"""API of regimes and criteria sets (scoring/api.py)."""

import pytest
import yaml
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from scoring.loader import DATA_DIR, new_version
from scoring.models import CriteriaSet, Criterion, Part, ProductGroup, Regime, Section
from scoring.queries import TREE_QUERIES

pytestmark = pytest.mark.django_db

UNRESOLVED_148 = {7, 11, 12, 13}
#: token (with its user), the set, the tree (one query per level).
DETAIL_QUERIES = 1 + 1 + TREE_QUERIES


@pytest.fixture(autouse=True)
def _criteria(loaded_criteria):
    """All 52 shipped files, loaded once for the module."""


@pytest.fixture
def api(django_user_model):
    """A client authenticated by token, as an integration would be (a user with no role)."""
    user = django_user_model.objects.create(username="api.reader")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def the_set(slug, set_no, version=1):
    return CriteriaSet.objects.get(regime__slug=slug, set_no=set_no, version=version)


def listing(api, **params):
    response = api.get("/api/v1/criteria-sets/", params)
    assert response.status_code == 200, response.content
    return response.json()


def read_yaml(folder, set_no):
    path = next((DATA_DIR / folder).glob(f"{set_no:02d}-*.yaml"))
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def decimal(value):
    return f"{value:.2f}"


# --- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/regimes/", "/api/v1/criteria-sets/",
                                 "/api/v1/criteria-sets/{pk}/"])
def test_scoring_api_anonymous_gets_401_error_body(url):
    response = APIClient().get(url.format(pk=the_set("26/2026", 1).pk),
                               HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert "results" not in response.json() and "parts" not in response.json()


def test_scoring_api_accepts_a_session_too(client, django_user_model):
    client.force_login(django_user_model.objects.create(username="session.reader"))
    body = client.get("/api/v1/criteria-sets/", {"regime": "26/2026"}).json()
    assert body["count"] == 26


# --- regimes ---------------------------------------------------------------------------------


def test_regimes_list_carries_dates_levels_bands_and_windows(api):
    body = api.get("/api/v1/regimes/").json()
    assert body["count"] == 4
    regimes = {r["slug"]: r for r in body["results"]}
    assert list(regimes) == ["1048", "148", "148-1489", "26/2026"]
    current = regimes["26/2026"]
    assert current["code"] == "26/2026/QĐ-TTg"
    assert (current["effective_from"], current["effective_to"]) == ("2026-05-22", None)
    assert current["levels"] == [
        {"order": 1, "kind": "pre_assessment", "admin_level": "commune", "recognises": [],
         "forward_from": None},
        {"order": 2, "kind": "council", "admin_level": "province", "recognises": [3, 4],
         "forward_from": "90.00"},
        {"order": 3, "kind": "council", "admin_level": "central", "recognises": [5],
         "forward_from": None},
    ]
    assert current["bands"] == [{"stars": s, "min_score": f"{m}.00"} for s, m in
                                ((5, 90), (4, 70), (3, 50), (2, 30), (1, 0))]
    assert current["windows"] == {
        "validity_months": 36, "notify_days_before_expiry": None,
        "filing_window_start_days_before": 180, "filing_window_end_days_before": 120,
        "grace_days_after_expiry": 180, "processing_days": 45,
        "commune_deadline_working_days": 15,
    }
    assert current["part_maxima"] == {"A": 40, "B": 25, "C": 35}
    assert regimes["148"]["levels"][0]["admin_level"] == "district"
    assert regimes["148"]["windows"]["notify_days_before_expiry"] == 30
    assert regimes["148"]["effective_to"] == "2025-07-05"
    amended = regimes["148-1489"]
    assert (amended["criteria_from"], amended["criteria_regime"]) == ("148", "148")
    assert (current["criteria_from"], current["criteria_regime"]) == (None, "26/2026")


def test_regimes_list_query_count_is_fixed(api, django_assert_num_queries):
    # token, count, regimes, levels, bands
    with django_assert_num_queries(5):
        body = api.get("/api/v1/regimes/").json()
    assert sum(len(r["levels"]) for r in body["results"]) == 12


# --- criteria-set list -----------------------------------------------------------------------


def test_criteria_sets_filtered_by_regime_slug_26_2026_lists_its_26_sets(api):
    body = listing(api, regime="26/2026")
    assert body["count"] == 26
    assert body["next"] is None
    items = body["results"]
    assert [i["set_no"] for i in items] == list(range(1, 27))
    assert {i["regime"] for i in items} == {"26/2026"}
    assert {i["regime_code"] for i in items} == {"26/2026/QĐ-TTg"}
    coffee = items[12]
    cs = the_set("26/2026", 13)
    assert coffee == {
        "id": cs.pk, "regime": "26/2026", "regime_code": "26/2026/QĐ-TTg", "set_no": 13,
        "name": "Cà phê, cacao", "slug": "ca-phe-cacao", "version": 1, "status": "published",
        "scorable": True,
        "group": {"id": cs.group_id, "name": "Cà phê, ca cao", "category": "Thực phẩm"},
        "subgroup": None, "max_score": "100.00", "unresolved_reasons": [],
    }
    assert items[0]["subgroup"]["name"] == "Rau, củ, quả, hạt tươi"


def test_criteria_sets_filtered_by_regime_code_equals_by_slug(api):
    by_code = listing(api, regime="26/2026/QĐ-TTg")["results"]
    assert [i["id"] for i in by_code] == [i["id"] for i in listing(api, regime="26/2026")[
        "results"]]


def test_criteria_sets_of_148_include_drafts_marked_not_scorable(api):
    items = listing(api, regime="148")["results"]
    assert len(items) == 26
    drafts = {i["set_no"] for i in items if i["status"] == "draft"}
    assert drafts == UNRESOLVED_148
    for item in items:
        assert item["scorable"] is (item["set_no"] not in UNRESOLVED_148)
        assert bool(item["unresolved_reasons"]) is (item["set_no"] in UNRESOLVED_148)
    assert items[6]["unresolved_reasons"][0].startswith("E148-01")


def test_criteria_sets_of_148_1489_are_those_of_148(api):
    amended = listing(api, regime="148-1489")
    assert amended["count"] == 26
    assert {i["regime"] for i in amended["results"]} == {"148"}
    assert [i["id"] for i in amended["results"]] == [
        i["id"] for i in listing(api, regime="148")["results"]]
    # the ones it can actually score with
    scorable = listing(api, regime="148-1489", status="published")
    regime = Regime.objects.get(slug="148-1489")
    assert scorable["count"] == 22
    assert sorted(i["id"] for i in scorable["results"]) == sorted(
        CriteriaSet.objects.scorable_for(regime).values_list("pk", flat=True))


def test_criteria_sets_filtered_by_group_name_or_id(api):
    tea = ProductGroup.objects.get(name="Chè")
    by_name = listing(api, group="Chè")
    assert by_name["count"] == 4
    assert sorted((i["regime"], i["set_no"]) for i in by_name["results"]) == [
        ("148", 11), ("148", 12), ("26/2026", 11), ("26/2026", 12)]
    assert {i["group"]["id"] for i in by_name["results"]} == {tea.pk}
    by_id = listing(api, group=str(tea.pk), regime="26/2026")
    assert [i["set_no"] for i in by_id["results"]] == [11, 12]
    assert listing(api, group="chè", regime="148", status="published")["count"] == 0


def test_criteria_sets_filtered_by_subgroup_and_status(api):
    published = listing(api, status="published")
    assert published["count"] == 48
    drafts = listing(api, status="draft")
    assert sorted(i["set_no"] for i in drafts["results"]) == sorted(UNRESOLVED_148)
    spirits = listing(api, subgroup="Rượu trắng")
    assert sorted((i["regime"], i["set_no"]) for i in spirits["results"]) == [
        ("148", 14), ("26/2026", 14)]


def test_criteria_sets_unknown_regime_is_400_with_vietnamese_error_body(api):
    response = api.get("/api/v1/criteria-sets/", {"regime": "27/2027"},
                       HTTP_ACCEPT_LANGUAGE="vi")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"] == "Dữ liệu gửi lên không hợp lệ."
    assert list(error["fields"]) == ["regime"]
    [detail] = error["fields"]["regime"]
    assert "27/2027" in detail
    for slug in ("1048", "148", "148-1489", "26/2026"):
        assert slug in detail


def test_criteria_sets_unknown_group_or_status_is_400_naming_each(api):
    response = api.get("/api/v1/criteria-sets/", {"group": "Xe máy", "status": "old"},
                       HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"group", "status"}
    assert "Xe máy" in fields["group"][0]
    assert "published" in fields["status"][0]


def test_criteria_sets_list_query_count_same_for_one_and_26(api, django_assert_num_queries):
    new_version(the_set("26/2026", 1))  # the only draft of 26/2026
    # token, regime lookup, count, page
    with django_assert_num_queries(4):
        one = listing(api, regime="26/2026", status="draft")
    with django_assert_num_queries(4):
        many = listing(api, regime="148-1489")
    assert (one["count"], many["count"]) == (1, 26)
    assert one["results"][0]["version"] == 2
    # an empty page needs no page query
    with django_assert_num_queries(3):
        assert listing(api, regime="1048")["count"] == 0


# --- criteria-set detail ---------------------------------------------------------------------


def test_criteria_set_detail_returns_the_whole_tree_as_in_the_file(api):
    cs = the_set("26/2026", 13)
    body = api.get(f"/api/v1/criteria-sets/{cs.pk}/").json()
    doc = read_yaml("26-2026", 13)
    assert body["id"] == cs.pk and body["name"] == "Cà phê, cacao"
    assert body["disqualification"] == doc["disqualification"]
    assert body["product_code_format"] == doc["product_code_format"]
    assert body["source_file"] == "26-2026/13-ca-phe-cacao.yaml"
    assert [p["code"] for p in body["parts"]] == ["A", "B", "C"]
    criteria = 0
    for part, ypart in zip(body["parts"], doc["parts"], strict=True):
        assert (part["title"], part["max"]) == (ypart["title"], decimal(ypart["max"]))
        for section, ysection in zip(part["sections"], ypart["sections"], strict=True):
            assert (section["code"], section["max"]) == (ysection["code"],
                                                         decimal(ysection["max"]))
            assert [(g["code"], g["title"], g["max"]) for g in section["criterion_groups"]] == [
                (g["code"], g["title"], decimal(g["max"]))
                for g in ysection.get("criterion_groups") or []]
            for c, yc in zip(section["criteria"], ysection["criteria"], strict=True):
                criteria += 1
                assert (c["code"], c["title"], c["max"], c["group"], c["min_star"]) == (
                    yc["code"], yc["title"], decimal(yc["max"]), yc.get("group"),
                    yc.get("min_star"))
                assert c["mandatory_for_stars"] == yc.get("mandatory_for_stars", [])
                assert c["erratum"] == yc.get("erratum", "")
                assert [(o["label"], o["points"], o["min_star"]) for o in c["options"]] == [
                    (o["label"], decimal(o["points"]), o.get("min_star"))
                    for o in yc["options"]]
    assert criteria == 34
    sensory = body["parts"][2]["sections"][0]
    assert [g["code"] for g in sensory["criterion_groups"]] == ["6.1", "6.2"]


def test_criteria_set_detail_carries_errata_and_cases(api):
    honey = api.get(f"/api/v1/criteria-sets/{the_set('26/2026', 4).pk}/").json()
    options = [o for p in honey["parts"] for s in p["sections"] for c in s["criteria"]
               for o in c["options"]]
    corrected = {o["erratum_id"] for o in options if o["erratum"]}
    assert corrected == {"E26-01", "E26-02", "E26-03"}
    fixed = next(o for o in options if o["erratum_id"] == "E26-03")
    assert fixed["points"] == "3.00" and fixed["erratum"].startswith("E26-03: printed 13")

    tourism = api.get(f"/api/v1/criteria-sets/{the_set('26/2026', 26).pk}/").json()
    with_cases = [c for p in tourism["parts"] for s in p["sections"] for c in s["criteria"]
                  if c["cases"]]
    assert with_cases
    for c in with_cases:
        assert [k["code"] for k in c["cases"]] == ["a", "b"]
        assert {o["case"] for o in c["options"]} == {"a", "b"}


def test_criteria_set_detail_of_draft_keeps_printed_values(api):
    body = api.get(f"/api/v1/criteria-sets/{the_set('148', 11).pk}/").json()
    assert (body["status"], body["scorable"]) == ("draft", False)
    assert body["unresolved_reasons"][0].startswith("E148-02")
    assert body["disqualification"] == ""


def test_criteria_set_detail_unknown_id_is_404_error_body(api):
    missing = CriteriaSet.objects.order_by("-pk").first().pk + 1000
    response = api.get(f"/api/v1/criteria-sets/{missing}/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response.json() == {"error": {
        "code": "not_found", "message": "There is no criteria set with this id.",
        "fields": None}}


def test_criteria_set_detail_query_count_same_for_one_criterion_and_34(
        api, django_assert_num_queries):
    flowers = the_set("26/2026", 23)
    coffee = the_set("26/2026", 13)
    tiny = new_version(flowers)
    keep = tiny.criteria.order_by("order").first()
    Criterion.objects.filter(criteria_set=tiny).exclude(pk=keep.pk).delete()
    Section.objects.filter(criteria_set=tiny).exclude(pk=keep.section_id).delete()
    Part.objects.filter(criteria_set=tiny).exclude(sections__isnull=False).delete()

    sizes = {}
    for cs in (tiny, flowers, coffee):
        with django_assert_num_queries(DETAIL_QUERIES):
            body = api.get(f"/api/v1/criteria-sets/{cs.pk}/").json()
        sizes[cs.pk] = sum(len(s["criteria"]) for p in body["parts"] for s in p["sections"])
    assert sizes == {tiny.pk: 1, flowers.pk: 26, coffee.pk: 34}
