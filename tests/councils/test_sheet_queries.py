"""Pinned query counts: the scoresheet page, the htmx autosave, the API PATCH and the API
list run the same number of queries whatever the size of the criteria set (148 set 23
flowers, 27 criteria / 26/2026 set 13 coffee-cocoa, 34 criteria) and of the council (3 or
9 members, each with their own sheet).

The criteria tree and its HTML are cached per set version in the process, so each case is
measured on the second request (the first one warms the caches, as in production after the
first member opened the set)."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from scoring.loader import DATA_DIR, load_criteria_files
from scoring.models import Option
from scoring.services import open_sheet, save_entry
from tests import factories

pytestmark = pytest.mark.django_db

#: Sheet page (GET): the user with their role assignments (1, ``ocop.accounts.backends``;
#: the session comes from the cache), then ONE query
#: (``councils.sheets.SheetPage``, a prepared statement): the session through the member's
#: council, the membership, the agenda item with its dossier, the member's recusal, the sheet
#: with its entries and its regime's star bands. The peers' sheets are not asked while the
#: independence rule shows none (``councils.rules.only_own_sheet_visible``).
PAGE_QUERIES = 2
#: htmx autosave (POST): the user (1; the session from the cache), the sheet with its entries and
#: star bands (1), save_entry: savepoint, locked sheet (with the agenda item, the recusal, the entry
#: and the option asked in the same query), 2 updates, release (5).
AUTOSAVE_QUERIES = 7
#: API PATCH of one entry: token (1), sheet (1), entries (1), save_entry (5), star bands (1).
PATCH_QUERIES = 9
#: API list: token (1), count (1), page (1), entries of the page (1), star bands (1).
LIST_QUERIES = 5

SETS = {
    "small": ("148", 23, DATA_DIR / "148" / "23-hoa.yaml", "district", 27),
    "large": ("26/2026", 13, DATA_DIR / "26-2026" / "13-ca-phe-cacao.yaml", "province", 34),
}


@pytest.fixture
def build(cantho, make_user):
    def make(size, members):
        regime, set_no, path, level, n_criteria = SETS[size]
        load_criteria_files([path])
        unit = cantho["ninhkieu"] if level == "district" else cantho["province"]
        round_ = factories.evaluation_round(unit, regime_slug=regime, admin_level=level)
        dossier = factories.dossier(round_, set_no=set_no, state="in_evaluation")
        users = [make_user(f"q.{size}.{members}.{i}") for i in range(members)]
        council = factories.council(unit, users, level=level, peer_visibility="after_submit")
        session = factories.session(council, round_, [dossier])
        sheets = []
        for member in council.members.select_related("user"):
            sheet = open_sheet(session, dossier, member, member.user)
            option = Option.objects.filter(criteria_set=sheet.criteria_set).first()
            sheets.append(save_entry(sheet, member.user, criterion_id=option.criterion_id,
                                     option_id=option.pk, version=sheet.version))
        assert dossier.criteria_set.criteria.count() == n_criteria
        return {"session": session, "dossier": dossier, "sheets": sheets,
                "user": users[1], "sheet": sheets[1]}
    return make


CASES = [("small", 3), ("large", 3), ("small", 9), ("large", 9)]


def _next_option(sheet):
    """An option of the last criterion (not answered yet) and that criterion."""
    option = Option.objects.filter(criteria_set=sheet.criteria_set).order_by(
        "-criterion__order", "order").first()
    return option.criterion_id, option.pk


@pytest.mark.parametrize(("size", "members"), CASES)
def test_sheet_page_query_count_is_constant(client, build, django_assert_num_queries,
                                            size, members):
    ctx = build(size, members)
    client.force_login(ctx["user"])
    url = reverse("councils:sheet", args=(ctx["session"].pk, ctx["dossier"].pk))
    client.get(url)  # warms the per-set caches

    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(url)

    assert response.status_code == 200
    assert response.content.decode().count('<fieldset class="criterion"') == SETS[size][4]


@pytest.mark.parametrize(("size", "members"), CASES)
def test_autosave_query_count_is_constant(client, build, django_assert_num_queries,
                                          size, members):
    ctx = build(size, members)
    client.force_login(ctx["user"])
    url = reverse("councils:sheet-autosave", args=(ctx["session"].pk, ctx["dossier"].pk))
    client.get(reverse("councils:sheet", args=(ctx["session"].pk, ctx["dossier"].pk)))
    criterion_id, option_id = _next_option(ctx["sheet"])
    # the connection's first autosave also prepares its statement (ocop.rows): an
    # unchanged answer (nothing saved) warms it
    warm = client.post(url, {"criterion": criterion_id, "version": ctx["sheet"].version},
                       HTTP_HX_REQUEST="true")
    assert warm.status_code == 200

    with django_assert_num_queries(AUTOSAVE_QUERIES):
        response = client.post(url, {"criterion": criterion_id, f"c-{criterion_id}": option_id,
                                     "version": ctx["sheet"].version}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert f'value="{ctx["sheet"].version + 1}"' in response.content.decode()


@pytest.mark.parametrize(("size", "members"), CASES)
def test_api_patch_query_count_is_constant(build, django_assert_num_queries, size, members):
    ctx = build(size, members)
    client = APIClient()
    client.force_authenticate(ctx["user"])
    url = f"/api/v1/scoresheets/{ctx['sheet'].pk}/"
    client.get(url)  # warms the per-set caches
    criterion_id, option_id = _next_option(ctx["sheet"])

    with django_assert_num_queries(PATCH_QUERIES - 1):  # force_authenticate: no token query
        response = client.patch(url, {"version": ctx["sheet"].version, "entries": [
            {"criterion": criterion_id, "option": option_id}]}, format="json")

    assert response.status_code == 200
    assert response.json()["version"] == ctx["sheet"].version + 1


@pytest.mark.parametrize(("size", "members"), CASES)
def test_api_list_query_count_is_constant(build, django_assert_num_queries, size, members):
    ctx = build(size, members)
    client = APIClient()
    client.force_authenticate(ctx["user"])
    client.get("/api/v1/scoresheets/")

    with django_assert_num_queries(LIST_QUERIES - 1):
        response = client.get("/api/v1/scoresheets/")

    assert [s["id"] for s in response.json()["results"]] == [ctx["sheet"].pk]
