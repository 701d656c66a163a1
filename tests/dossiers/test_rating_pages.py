"""The ratings register (/ratings/), a rating's page and its certificate, and what the
dossier page shows after the council (``templates/dossiers/_recognition.html``).

Users: the department staff of Cần Thơ (owner), an officer of one current commune of
Cần Thơ (colleague: sees that commune's ratings only), the department staff of another
province whose own ratings exist (outsider), an account without role, and anonymous.
Texts are asserted through ``gettext`` under ``translation.override("vi")``, so the tests
stay right once the Vietnamese catalog has the new strings.
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import formats, timezone, translation

from dossiers import decisions, forwarding
from dossiers import ratings as ratings_module
from dossiers.models import Dossier, DossierState, Product, Rating, RatingState
from dossiers.ratings import filter_ratings
from ocop.accounts.models import Role
from ocop.regions.models import AdministrativeUnit, Level
from tests import factories
from tests.dossiers import current_communes
from tests.dossiers.recognition import issued, province_round, recognised
from tests.i18n import vi

pytestmark = pytest.mark.django_db

#: Pinned query counts of the register (1 row and 60 rows alike) once the ratings changed: the
#: user with their role assignments (ocop.accounts.backends; the session from the cache), the
#: area choices, the criteria set choices, the count, the page's rows. The choices, the count
#: and the page's rating ids are then kept per process until the ratings change again
#: (dossiers/rating_rows.py, docs/performance.md): a page read again costs the user and the
#: rows of those ids (and the count when a filter reads the state). A first visit also reads
#: the rows' criteria sets (reference data), and department staff of a current province the
#: pre-2025 provinces it absorbed.
LIST_QUERIES_OFFICER = 5
LIST_QUERIES_STAFF = 5
#: The dossier page of a recognised dossier with its rating, for department staff: the user with
#: their role assignments (the session from the cache), the dossier, checklist lines, files,
#: criteria count, answered criteria, transitions (no button: no area check) — then the
#: recognition block: the rating with its decision (1). The provinces the area absorbed are read
#: by a first visit, then cached (reference data, ``ocop/versioned_cache.py``).
RECOGNISED_DETAIL_QUERIES = 8
#: A rating's page (see the test); a first visit reads the provinces the area absorbed
#: (then cached: reference data, ocop/versioned_cache.py).
RATING_PAGE_QUERIES = 3


def vi_number(value):
    with translation.override("vi"):
        return formats.localize(value)


def login(client, user):
    client.force_login(user, backend="ocop.accounts.backends.UserWithRolesBackend")
    return client


def get(client, url, **extra):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="vi", **extra)
    return response, response.content.decode()


def row_ids(html):
    return {int(pk) for pk in re.findall(r'<tr id="rating-(\d+)"', html)}


def row(html, rating):
    start = html.index(f'<tr id="rating-{rating.pk}"')
    return html[start:html.index("</tr>", start)]


def section(html, anchor):
    start = html.index(f'id="{anchor}"')
    return html[start:html.index("</section>", start)]


def options(html, name):
    match = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    return re.findall(r'<option value="([^"]*)"', match.group(1))


@pytest.fixture
def world(cantho, criteria, make_user, django_capture_on_commit_callbacks):
    """Two Cần Thơ ratings issued by the province, one legacy 148 rating of a Ninh Kiều
    commune recorded without a decision, and another province with its staff and its own
    rating. The documents are rendered only for the tests that ask for ``made`` (the
    decisions' on-commit callbacks are kept, not run: rendering takes seconds)."""
    communes = list(current_communes(cantho)[:3])
    staff = make_user("sonn", Role.DEPARTMENT_STAFF, cantho["province"])
    colleague = make_user("canbo.xa", Role.LOCAL_OFFICER, communes[0])
    round_ = province_round(cantho)
    fish = recognised(round_, stars=4, score="78.50", unit=communes[0],
                      product_name="Nước mắm Cá Cơm Đặc Biệt")
    Product.objects.filter(pk=fish.product_id).update(code="92-001-0001-2026")
    cake = recognised(round_, stars=3, score="62.00", unit=communes[1],
                      product_name="Bánh tráng Thuận Hưng")
    with django_capture_on_commit_callbacks() as render_ours:
        decision = issued(staff, [fish, cake], number=5)

    legacy_commune = AdministrativeUnit.objects.filter(
        level=Level.COMMUNE, parent=cantho["ninhkieu"]).order_by("code").first()
    district_round = factories.evaluation_round(cantho["ninhkieu"], "148", "district")
    old = factories.dossier(district_round, legacy_commune, set_no=9,
                            state=DossierState.RECOGNISED, product_name="Mắm cá linh",
                            result_stars=3, result_score=Decimal("66.00"))
    legacy = Rating.objects.create(
        product=old.product, regime=district_round.regime, stars=3, score=Decimal("66.00"),
        decision_number="12/QĐ-UBND", decision_date=datetime.date(2024, 5, 2),
        valid_from=datetime.date(2024, 5, 2), valid_until=datetime.date(2027, 5, 1),
        state=RatingState.VALID, verification_code="legacy0000000001", source_dossier=old)

    other = AdministrativeUnit.objects.create(level=Level.PROVINCE, code="99x",
                                              name="Tỉnh Khác")
    other_commune = AdministrativeUnit.objects.create(
        level=Level.COMMUNE, code="99901", name="Xã Bên Kia", parent=other, province=other)
    outsider = make_user("sonn.khac", Role.DEPARTMENT_STAFF, other)
    foreign_dossier = recognised(factories.evaluation_round(other, "26/2026", "province"),
                                 stars=4, score="80.00", unit=other_commune,
                                 product_name="Nước mắm Tỉnh Khác")
    with django_capture_on_commit_callbacks() as render_theirs:
        issued(outsider, [foreign_dossier], number=1)

    ratings = {r.product_id: r for r in Rating.objects.all()}
    return {
        **cantho, "communes": communes, "staff": staff, "colleague": colleague,
        "outsider": outsider, "round": round_, "decision": decision,
        "fish": ratings[fish.product_id], "cake": ratings[cake.product_id],
        "legacy": legacy, "foreign": ratings[foreign_dossier.product_id],
        "fish_dossier": fish, "legacy_commune": legacy_commune,
        "render": [*render_ours, *render_theirs],
    }


@pytest.fixture
def made(world):
    """The decisions' documents and certificates, rendered as after the commit."""
    for callback in world["render"]:
        callback()
    for name in ("fish", "cake", "foreign"):
        world[name].refresh_from_db()
    assert world["fish"].certificate and world["foreign"].certificate
    return world


def register(client, world, who, query=""):
    response, html = get(login(client, world[who]), f"/ratings/{query}")
    assert response.status_code == 200
    return html


def ids(world, *names):
    return {world[name].pk for name in names}


# --- the register: scoping -------------------------------------------------------------------


def test_register_of_department_staff_shows_the_province_ratings_with_their_facts(
        client, world):
    html = register(client, world, "staff")

    assert row_ids(html) == ids(world, "fish", "cake", "legacy")
    fish = row(html, world["fish"])
    decision = world["decision"]
    assert "Nước mắm Cá Cơm Đặc Biệt" in fish and f'href="/ratings/{world["fish"].pk}/"' in fish
    assert "92-001-0001-2026" in fish
    assert world["fish"].product.producer.name in fish
    assert world["communes"][0].name in fish
    assert "01 · " in fish and "26/2026" in fish
    assert "4★" in fish and vi_number(Decimal("78.50")) in fish
    assert f'href="/decisions/{decision.pk}/"' in fish and "05/QĐ-UBND" in fish
    assert decision.date.strftime("%d/%m/%Y") in fish
    assert world["fish"].valid_until.strftime("%d/%m/%Y") in fish
    assert vi("Valid") in fish and "rating-state-valid" in fish
    legacy = row(html, world["legacy"])
    assert "12/QĐ-UBND" in legacy and "/decisions/" not in legacy  # no decision recorded
    assert "09 · " in legacy and "148" in legacy


def test_register_of_a_commune_officer_shows_that_commune_only(client, world):
    """…and the ratings of the pre-2025 commune merged into it (the legacy Ninh Kiều
    commune became part of the colleague's ward; docs/regimes-and-levels.md)."""
    assert world["communes"][0] in world["legacy_commune"].successors.all()
    html = register(client, world, "colleague")

    assert row_ids(html) == ids(world, "fish", "legacy")
    assert "Bánh tráng Thuận Hưng" not in html


def test_outsider_and_owner_see_only_their_own_ratings(client, world):
    theirs = register(client, world, "outsider", "?q=nuoc+mam")
    assert row_ids(theirs) == ids(world, "foreign")
    assert "Cá Cơm" not in theirs

    client.logout()
    ours = register(client, world, "staff", "?q=nuoc+mam")
    assert row_ids(ours) == ids(world, "fish")
    assert "Tỉnh Khác" not in ours and "Xã Bên Kia" not in ours


def test_outsider_gets_404_on_our_rating_and_certificate_and_we_on_theirs(client, world,
                                                                         made):
    c = login(client, world["outsider"])
    for url in (f"/ratings/{world['fish'].pk}/", f"/ratings/{world['fish'].pk}/certificate/"):
        response, html = get(c, url)
        assert response.status_code == 404
        assert "Cá Cơm" not in html
    theirs = c.get(f"/ratings/{world['foreign'].pk}/certificate/")
    assert theirs.status_code == 200
    assert b"".join(theirs.streaming_content).startswith(b"%PDF")

    c = login(client, world["staff"])
    for url in (f"/ratings/{world['foreign'].pk}/",
                f"/ratings/{world['foreign'].pk}/certificate/"):
        response, html = get(c, url)
        assert response.status_code == 404
        assert "Tỉnh Khác" not in html


def test_commune_officer_gets_404_on_another_communes_rating(client, world):
    response, html = get(login(client, world["colleague"]), f"/ratings/{world['cake'].pk}/")
    assert response.status_code == 404
    assert "Bánh tráng" not in html


def test_anonymous_is_sent_to_the_login_page(client, world):
    for url in ("/ratings/", f"/ratings/{world['fish'].pk}/",
                f"/ratings/{world['fish'].pk}/certificate/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")
        assert not response.get("Content-Disposition")


def test_account_without_role_gets_a_clear_message_and_no_rating(client, world, make_user):
    html = register(client, {**world, "nobody": make_user("khach")}, "nobody")

    assert row_ids(html) == set()
    assert "Cá Cơm" not in html and '<form method="get"' not in html
    assert vi("The ratings register is kept for the department staff and the district and "
              "commune officers; your account has none of these roles, so there is no "
              "rating to show. Ask the administrator if you need access.") in html


# --- the register: filters -------------------------------------------------------------------


def test_filter_by_stars(client, world):
    assert row_ids(register(client, world, "staff", "?stars=3")) == ids(world, "cake",
                                                                          "legacy")
    assert row_ids(register(client, world, "staff", "?stars=4")) == ids(world, "fish")
    assert row_ids(register(client, world, "staff", "?stars=5")) == set()


def test_filter_by_area_a_commune_or_the_district_above_it(client, world):
    commune = world["communes"][1]
    assert row_ids(register(client, world, "staff", f"?area={commune.pk}")) == ids(
        world, "cake")
    district = world["ninhkieu"]
    assert row_ids(register(client, world, "staff", f"?area={district.pk}")) == ids(
        world, "legacy")


def test_area_choices_are_the_units_that_have_ratings_only(client, world):
    html = register(client, world, "staff")

    choices = options(html, "area")
    expected = {world["communes"][0].pk, world["communes"][1].pk,
                world["legacy_commune"].pk, world["ninhkieu"].pk}
    assert {int(v) for v in choices if v} == expected
    assert str(world["communes"][2].pk) not in choices  # a commune without ratings
    assert len(choices) == 1 + len(expected)
    # the colleague's ward, and the pre-2025 commune merged into it with its district
    assert {int(v) for v in options(register(client, world, "colleague"), "area") if v} == {
        world["communes"][0].pk, world["legacy_commune"].pk, world["ninhkieu"].pk}


def test_too_many_areas_leave_the_districts_and_provinces_only(client, world, monkeypatch):
    monkeypatch.setattr(ratings_module, "AREA_CHOICES_MAX", 3)  # 4 units have ratings
    html = register(client, world, "staff")

    province_old = world["province_old"]
    assert {int(v) for v in options(html, "area") if v} == {
        world["ninhkieu"].pk, world["province"].pk, province_old.pk}
    assert vi("Too many areas to list them all: choose a district or a province, or search "
              "for the producer.") in html
    # the current province covers the pre-2025 province it absorbed, as scoping does
    assert row_ids(register(client, world, "staff", f"?area={world['province'].pk}")) == \
        ids(world, "fish", "cake", "legacy")
    assert row_ids(register(client, world, "staff", f"?area={province_old.pk}")) == ids(
        world, "legacy")


def test_filter_by_criteria_set_offers_only_the_sets_in_use(client, world):
    html = register(client, world, "staff")
    set_26 = world["fish_dossier"].criteria_set
    set_148 = world["legacy"].source_dossier.criteria_set
    assert {int(v) for v in options(html, "criteria_set") if v} == {set_26.pk, set_148.pk}

    assert row_ids(register(client, world, "staff", f"?criteria_set={set_148.pk}")) == ids(
        world, "legacy")
    assert row_ids(register(client, world, "staff", f"?criteria_set={set_26.pk}")) == ids(
        world, "fish", "cake")


def test_filter_by_state(client, world):
    Rating.objects.filter(pk=world["cake"].pk).update(state=RatingState.DUE)
    Rating.objects.filter(pk=world["legacy"].pk).update(state=RatingState.REVOKED)

    assert row_ids(register(client, world, "staff", "?state=due")) == ids(world, "cake")
    html = register(client, world, "staff", "?state=revoked")
    assert row_ids(html) == ids(world, "legacy")
    assert vi("Revoked") in row(html, world["legacy"])
    assert row_ids(register(client, world, "staff", "?state=valid")) == ids(world, "fish")


def test_expiring_filter_keeps_valid_and_due_ratings_ending_soon(client, world):
    today = timezone.localdate()
    Rating.objects.filter(pk=world["fish"].pk).update(
        valid_until=today + datetime.timedelta(days=20))
    Rating.objects.filter(pk=world["cake"].pk).update(
        valid_until=today + datetime.timedelta(days=45), state=RatingState.DUE)
    Rating.objects.filter(pk=world["legacy"].pk).update(
        valid_until=today - datetime.timedelta(days=3), state=RatingState.EXPIRED)

    assert row_ids(register(client, world, "staff", "?expiring_within=30")) == ids(
        world, "fish")
    html = register(client, world, "staff", "?expiring_within=60")
    assert row_ids(html) == ids(world, "fish", "cake")
    assert html.index(f'id="rating-{world["fish"].pk}"') < html.index(
        f'id="rating-{world["cake"].pk}"')  # soonest first
    assert row_ids(register(client, world, "staff", "?expiring_within=10")) == set()
    # a valid rating already past its date (the expiry job has not run) is expiring too
    Rating.objects.filter(pk=world["legacy"].pk).update(state=RatingState.VALID)
    assert row_ids(register(client, world, "staff", "?expiring_within=0")) == ids(
        world, "legacy")


@pytest.mark.parametrize("query", ["nuoc mam", "NƯỚC MẮM", "nước mắm cá", "Nuoc  Mam"])
def test_search_is_accent_and_case_insensitive(client, world, query):
    html = register(client, world, "staff", f"?q={query}")
    assert row_ids(html) == ids(world, "fish")


def test_search_finds_the_producer_name(client, world):
    producer = world["cake"].product.producer.name  # "Hợp tác xã thử nghiệm N"
    number = producer.rsplit(" ", 1)[-1]
    html = register(client, world, "staff", f"?q=hop+tac+xa+thu+nghiem+{number}")
    assert row_ids(html) == ids(world, "cake")


def test_filters_combine(client, world):
    html = register(client, world, "staff",
                    f"?q=mam&stars=3&area={world['ninhkieu'].pk}&state=valid")
    assert row_ids(html) == ids(world, "legacy")


@pytest.mark.parametrize("query", [
    "?stars=9", "?stars=abc", "?area=999999999999999999999999", "?area=x",
    "?criteria_set=-1", "?state=bogus", "?expiring_within=abc", "?expiring_within=-5",
    "?expiring_within=99999999999999999999", "?q=" + "a" * 500, "?page=zzz",
    "?expires_month=2027-13", "?expires_month=27-01", "?expires_month=abc",
])
def test_unusable_filter_is_reported_and_ignored(client, world, query):
    html = register(client, world, "staff", query)

    assert row_ids(html) == ids(world, "fish", "cake", "legacy")
    if "page=" not in query:
        assert vi("Some filters could not be used and were ignored:") in html


def test_a_foreign_area_or_criteria_set_is_not_a_choice(client, world):
    foreign = world["foreign"]
    unit = foreign.product.producer.unit
    html = register(client, world, "staff", f"?area={unit.pk}")
    assert row_ids(html) == ids(world, "fish", "cake", "legacy")
    assert vi("This choice is not available here; choose one from the list.") in html


def test_filter_ratings_serves_the_api_with_plain_values(world):
    """The same function, called with ids (as the API will)."""
    qs = Rating.objects.all()
    assert set(filter_ratings(qs, {"q": "nuoc mam"}).values_list("pk", flat=True)) == ids(
        world, "fish", "foreign")
    assert set(filter_ratings(qs, {"area": world["ninhkieu"].pk, "stars": 3})
               .values_list("pk", flat=True)) == ids(world, "legacy")
    assert filter_ratings(qs, {"expiring_within": 10 ** 12}).count() == 4  # bounded


def test_htmx_filter_answers_the_results_only(client, world):
    response, html = get(login(client, world["staff"]), "/ratings/?stars=4",
                         HTTP_HX_REQUEST="true")
    assert row_ids(html) == ids(world, "fish")
    assert "<html" not in html and '<form method="get"' not in html
    assert "HX-Request" in response["Vary"]


def test_page_has_title_breadcrumbs_and_a_form_that_works_without_javascript(client, world):
    html = register(client, world, "staff")
    assert f"<title>{vi('Ratings register')}" in html
    crumbs = html[html.index('<nav class="breadcrumbs"'):]
    assert 'href="/"' in crumbs[:crumbs.index("</nav>")]
    assert '<form method="get" action="/ratings/"' in html
    assert 'type="submit"' in html


# --- the register: pages and query counts ---------------------------------------------------


def add_ratings(world, n):
    """``n`` more valid 4★ ratings of fish sauce in the colleague's commune."""
    today = timezone.localdate()
    ratings = []
    for i in range(n):
        dossier = factories.dossier(world["round"], world["communes"][0], set_no=1,
                                    state=DossierState.RECOGNISED,
                                    product_name=f"Nước mắm loại {i}", result_stars=4,
                                    result_score=Decimal("75.00"))
        ratings.append(Rating(
            product=dossier.product, regime=world["round"].regime, stars=4,
            score=Decimal("75.00"), decision_number="99/QĐ-UBND", decision_date=today,
            valid_from=today, valid_until=today + datetime.timedelta(days=400),
            state=RatingState.VALID, verification_code=f"many{i:012d}",
            source_dossier=dossier))
    Rating.objects.bulk_create(ratings)


def test_register_queries_do_not_grow_with_the_number_of_ratings(
        client, world, django_assert_num_queries):
    cs = world["fish_dossier"].criteria_set
    url = (f"/ratings/?q=nuoc+mam&stars=4&area={world['communes'][0].pk}"
           f"&criteria_set={cs.pk}&state=valid&expiring_within=3650")
    c = login(client, world["staff"])
    # + the absorbed provinces and the rows' criteria sets (reference data)
    with django_assert_num_queries(LIST_QUERIES_STAFF + 2):
        one = c.get(url)
    add_ratings(world, 60)
    with django_assert_num_queries(LIST_QUERIES_STAFF):
        many = c.get(url)

    assert row_ids(one.content.decode()) == ids(world, "fish")
    assert len(row_ids(many.content.decode())) == 50
    assert "page=2" in many.content.decode()


def test_register_queries_of_a_commune_officer_are_constant_too(
        client, world, django_assert_num_queries):
    c = login(client, world["colleague"])
    with django_assert_num_queries(LIST_QUERIES_OFFICER + 1):  # + the rows' criteria sets
        c.get("/ratings/")
    add_ratings(world, 60)
    with django_assert_num_queries(LIST_QUERIES_OFFICER):
        response = c.get("/ratings/?page=2")
    with django_assert_num_queries(2):  # nothing changed: the user and the page's rows
        again = c.get("/ratings/?page=2")
    assert row_ids(again.content.decode()) == row_ids(response.content.decode())

    # 62 ratings (60 added, the ward's and the one of the commune merged into it): 50 + 12
    assert len(row_ids(response.content.decode())) == 12


# --- a rating's page and its certificate ------------------------------------------------------


def test_rating_page_queries_do_not_grow_with_the_products_history(
        client, world, django_assert_num_queries):
    """Session, user, role assignments, the absorbed provinces (the scope), the rating with
    everything it shows, the product's ratings (the history)."""
    c = login(client, world["staff"])
    with django_assert_num_queries(RATING_PAGE_QUERIES + 1):  # + the absorbed provinces
        c.get(f"/ratings/{world['fish'].pk}/")
    for number in (6, 7, 8):
        last = Rating.objects.filter(product=world["fish"].product).exclude(
            state=RatingState.REPLACED).get().decision
        correction = decisions.draft_decision(world["staff"], [], replaces=last)
        decisions.issue_decision(world["staff"], correction, number=number,
                                 date=world["decision"].date, signer_name="B")
    with django_assert_num_queries(RATING_PAGE_QUERIES):
        response = c.get(f"/ratings/{world['fish'].pk}/")

    html = response.content.decode()
    for reference in ("05/QĐ-UBND", "06/QĐ-UBND", "07/QĐ-UBND", "08/QĐ-UBND"):
        assert reference in html


def test_rating_page_shows_facts_decision_certificate_verification_and_dossier(client, made):
    world = made
    rating, decision = world["fish"], world["decision"]
    response, html = get(login(client, world["staff"]), f"/ratings/{rating.pk}/")

    assert response.status_code == 200
    assert "Nước mắm Cá Cơm Đặc Biệt" in html and "92-001-0001-2026" in html
    assert rating.product.producer.name in html and world["communes"][0].name in html
    assert vi_number(Decimal("78.50")) in html and "4★" in html
    assert rating.valid_from.strftime("%d/%m/%Y") in html
    assert rating.valid_until.strftime("%d/%m/%Y") in html
    assert vi("Valid") in html
    assert f'href="/decisions/{decision.pk}/"' in html and "05/QĐ-UBND" in html
    assert f'href="/decisions/{decision.pk}/pdf/"' in html
    assert f'href="/ratings/{rating.pk}/certificate/"' in html
    assert rating.verification_code in html
    assert f'href="/xac-minh/{rating.verification_code}/"' in html
    assert f'href="/dossiers/{world["fish_dossier"].pk}/"' in html
    crumbs = html[html.index('<nav class="breadcrumbs"'):]
    crumbs = crumbs[:crumbs.index("</nav>")]
    assert 'href="/ratings/"' in crumbs and 'href="/"' in crumbs  # back to the register


def test_certificate_streams_the_stored_pdf_with_its_name(client, made):
    world = made
    response = login(client, world["staff"]).get(f"/ratings/{world['fish'].pk}/certificate/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename=\"Giay_chung_nhan_OCOP")
    assert "filename*=UTF-8''Gi%E1%BA%A5y%20ch%E1%BB%A9ng%20nh%E1%BA%ADn%20OCOP" in disposition
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_correction_links_old_and_new_ratings_and_a_certificate_not_made_yet_is_404(
        client, world):
    old = world["fish"]
    correction = decisions.draft_decision(world["staff"], [], replaces=world["decision"])
    decisions.issue_decision(world["staff"], correction, number=6,
                             date=world["decision"].date, signer_name="B")  # no rendering
    new = Rating.objects.get(product=old.product, state=RatingState.VALID)
    c = login(client, world["staff"])

    _, old_html = get(c, f"/ratings/{old.pk}/")
    assert vi("Replaced") in old_html
    assert f'href="/ratings/{new.pk}/"' in old_html and "06/QĐ-UBND" in old_html
    response, new_html = get(c, f"/ratings/{new.pk}/")
    assert f'href="/ratings/{old.pk}/"' in new_html and "05/QĐ-UBND" in new_html
    assert vi("The certificate is being made; it can be downloaded here in a moment.") \
        in new_html
    assert f'href="/ratings/{new.pk}/certificate/"' not in new_html
    assert c.get(f"/ratings/{new.pk}/certificate/").status_code == 404


# --- the dossier page after the council ------------------------------------------------------


def dossier_page(client, user, dossier):
    response, html = get(login(client, user), f"/dossiers/{dossier.pk}/")
    assert response.status_code == 200
    start = html.find('id="recognition"')
    return html[start:html.index("</section>", start)] if start != -1 else ""


def test_dossier_page_shows_the_result_the_decision_and_the_rating(client, made):
    world = made
    rating, decision = world["fish"], world["decision"]
    block = dossier_page(client, world["staff"], world["fish_dossier"])

    assert vi_number(Decimal("78.50")) in block and "4★" in block
    assert f'href="/decisions/{decision.pk}/"' in block and "05/QĐ-UBND" in block
    assert decision.date.strftime("%d/%m/%Y") in block
    assert f'href="/ratings/{rating.pk}/"' in block
    assert rating.valid_until.strftime("%d/%m/%Y") in block and vi("Valid") in block
    assert f'href="/ratings/{rating.pk}/certificate/"' in block


def test_recognised_dossier_waiting_for_a_decision_links_those_who_may_draft(client, world):
    waiting = recognised(world["round"], stars=4, unit=world["communes"][0],
                         product_name="Mật ong U Minh")
    text = vi("This result is recognised and waiting for a recognition decision.")

    block = dossier_page(client, world["staff"], waiting)
    assert text in block and 'href="/decisions/pending/"' in block
    client.logout()
    block = dossier_page(client, world["colleague"], waiting)
    assert text in block and "/decisions/pending/" not in block  # a commune issues nothing


def test_recognised_dossier_on_a_draft_links_the_draft_for_its_issuer_only(client, world):
    waiting = recognised(world["round"], stars=3, unit=world["communes"][0])
    draft = decisions.draft_decision(world["staff"], [waiting])
    text = vi("A draft recognition decision covers this result; it is not issued yet.")

    block = dossier_page(client, world["staff"], waiting)
    assert text in block and f'href="/decisions/{draft.pk}/"' in block
    client.logout()
    block = dossier_page(client, world["colleague"], waiting)
    assert text in block and f"/decisions/{draft.pk}/" not in block


def test_dossier_page_before_the_result_has_no_recognition_block(client, world):
    draft = factories.dossier(world["round"], world["communes"][0], set_no=1)
    assert dossier_page(client, world["staff"], draft) == ""


def test_dossier_page_queries_stay_constant_with_a_rating(
        client, world, django_assert_num_queries):
    dossier = world["fish_dossier"]
    c = login(client, world["staff"])
    with django_assert_num_queries(RECOGNISED_DETAIL_QUERIES + 1):  # + absorbed provinces
        c.get(f"/dossiers/{dossier.pk}/")
    # a correction: the dossier now has two ratings (the old one replaced)
    correction = decisions.draft_decision(world["staff"], [], replaces=world["decision"])
    decisions.issue_decision(world["staff"], correction, number=6,
                             date=world["decision"].date, signer_name="B")
    with django_assert_num_queries(RECOGNISED_DETAIL_QUERIES):
        response = c.get(f"/dossiers/{dossier.pk}/")

    assert "06/QĐ-UBND" in response.content.decode()


# --- between levels ---------------------------------------------------------------------------


@pytest.fixture
def levels(world, make_user):
    """A 148 district dossier forwarded with 75 points and taken into the province's round,
    one still waiting for a round, and a provincial dossier sent to the Ministry."""
    district_round = factories.evaluation_round(world["ninhkieu"], "148", "district")
    province_round_148 = factories.evaluation_round(world["province"], "148", "province")
    low = factories.dossier(district_round, state=DossierState.FORWARDED,
                            product_name="Bưởi Năm Roi", result_score=Decimal("75.00"),
                            result_stars=3)
    high = Dossier.objects.create(
        round=province_round_148, product=low.product, criteria_set=low.criteria_set,
        unit=low.unit, state=DossierState.SUBMITTED, forwarded_from=low,
        search_text=low.search_text)
    waiting = factories.dossier(district_round, state=DossierState.FORWARDED,
                                product_name="Khô cá lóc", result_score=Decimal("71.00"),
                                result_stars=3)
    central = factories.dossier(province_round_148, world["ninhkieu"],
                                state=DossierState.FORWARDED, product_name="Rượu nếp",
                                result_score=Decimal("92.00"), result_stars=5)
    officer = make_user("canbo.nk", Role.LOCAL_OFFICER, world["ninhkieu"])
    return {"low": low, "high": high, "waiting": waiting, "central": central,
            "officer": officer}


def test_forwarded_dossier_links_the_next_levels_dossier(client, world, levels):
    low, high = levels["low"], levels["high"]
    block = dossier_page(client, world["staff"], low)

    assert vi_number(Decimal("75.00")) in block and "3★" in block
    assert f'href="/dossiers/{high.pk}/"' in block
    assert str(high.round) in block


def test_dossier_from_a_lower_level_says_what_the_district_council_gave(
        client, world, levels):
    low, high = levels["low"], levels["high"]
    block = dossier_page(client, world["staff"], high)

    assert vi("Forwarded by the district council with %(score)s points, %(stars)s★.",
              score=vi_number(Decimal("75.00")), stars=3) in block
    assert f'href="/dossiers/{low.pk}/"' in block


def test_forwarded_dossier_waiting_for_a_round_links_the_list_for_staff_only(
        client, world, levels):
    text = vi("Waiting for the province's round: the provincial office takes it into an "
              "open round of the next level.")
    block = dossier_page(client, world["staff"], levels["waiting"])
    assert text in block and 'href="/decisions/forwarded/"' in block
    assert "71" in block
    client.logout()
    block = dossier_page(client, levels["officer"], levels["waiting"])
    assert "/decisions/forwarded/" not in block
    assert text in block


def test_dossier_sent_to_the_ministry_links_the_central_result_for_staff_only(
        client, world, levels):
    central = levels["central"]
    text = vi("Sent to the Ministry: the central council evaluates it; its result is "
              "recorded here when it arrives.")
    block = dossier_page(client, world["staff"], central)
    assert text in block and f'href="/decisions/central/{central.pk}/"' in block
    client.logout()
    block = dossier_page(client, levels["officer"], central)
    assert text in block and "/decisions/central/" not in block


def test_ministry_result_shows_the_recorded_decision_and_its_rating(client, world, levels):
    central = levels["central"]
    forwarding.record_central_result(world["staff"], central, score="93.5", stars=5,
                                     decision_number="123/QĐ-BNNMT",
                                     decision_date=timezone.localdate())
    rating = Rating.objects.get(source_dossier=central)

    block = dossier_page(client, world["staff"], central)
    assert vi_number(Decimal("93.50")) in block and "5★" in block
    assert "123/QĐ-BNNMT" in block and f'href="/decisions/{rating.decision_id}/"' in block
    assert f'href="/ratings/{rating.pk}/"' in block
    assert vi("Issued by the Ministry.") in block and "/certificate/" not in block
    _, html = get(client, f"/ratings/{rating.pk}/")
    assert vi("The Ministry issues the certificate of this rating; no file is kept here.") \
        in html
    assert "BỘ NÔNG NGHIỆP VÀ MÔI TRƯỜNG" in html


def test_rating_recorded_without_a_decision_has_no_certificate_to_wait_for(client, world):
    legacy = world["legacy"]
    response, html = get(login(client, world["staff"]), f"/ratings/{legacy.pk}/")

    assert response.status_code == 200
    assert "12/QĐ-UBND" in section(html, "decision")
    assert "/decisions/" not in section(html, "decision")
    assert vi("No certificate file is kept for this rating (it was recorded without a "
              "decision of this system).") in html
    assert f"/ratings/{legacy.pk}/certificate/" not in html
    assert client.get(f"/ratings/{legacy.pk}/certificate/").status_code == 404


# --- by month: the register's month filter and the department's expiry calendar -------------


def _calendar(html):
    """{"MM/YYYY": count} of the home page's expiry calendar."""
    start = html.index('id="card-expiry-calendar"')
    table = html[start:html.index("</table>", start)]
    return {month: int(n) for month, n in re.findall(
        r'<th scope="row">(?:<a [^>]*>)?(\d\d/\d{4})(?:</a>)?</th>\s*<td class="num">(\d+)</td>',
        table)}


def test_month_filter_lists_the_ratings_whose_validity_ends_that_month(client, world):
    Rating.objects.filter(pk=world["fish"].pk).update(valid_until=datetime.date(2027, 1, 31))
    Rating.objects.filter(pk=world["cake"].pk).update(valid_until=datetime.date(2027, 2, 1))

    assert row_ids(register(client, world, "staff", "?expires_month=2027-01")) == ids(
        world, "fish")
    assert row_ids(register(client, world, "staff", "?expires_month=2027-02")) == ids(
        world, "cake")
    assert row_ids(register(client, world, "staff", "?expires_month=2027-05")) == ids(
        world, "legacy")  # 01/05/2027
    # the outsider's rating of another province ends in some month too: never listed
    assert row_ids(register(client, world, "outsider", "?expires_month=2027-01")) == set()


def test_month_filter_of_the_api_checks_its_shape(client, world):
    Rating.objects.filter(pk=world["fish"].pk).update(valid_until=datetime.date(2027, 1, 31))
    login(client, world["staff"])

    listed = client.get("/api/v1/ratings/?expires_month=2027-01").json()
    bad = client.get("/api/v1/ratings/?expires_month=2027-1", HTTP_ACCEPT_LANGUAGE="vi")

    assert [row["id"] for row in listed["results"]] == [world["fish"].pk]
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"] == {
        "expires_month": [vi("Enter a month as YYYY-MM, e.g. 2027-01.")]}


def test_department_home_shows_due_expired_and_the_next_12_months(client, world, monkeypatch):
    today = datetime.date(2026, 12, 6)
    monkeypatch.setattr(timezone, "localdate", lambda *args: today)
    Rating.objects.filter(pk=world["fish"].pk).update(valid_until=datetime.date(2026, 12, 31))
    Rating.objects.filter(pk=world["cake"].pk).update(
        valid_until=datetime.date(2027, 11, 30), state=RatingState.DUE)
    # the legacy rating ends 01/05/2027; one past the 12 months and one expired do not count
    outside = Rating.objects.filter(pk=world["legacy"].pk)
    outside.update(valid_until=datetime.date(2027, 12, 1))

    response, html = get(login(client, world["staff"]), "/")
    calendar = _calendar(html)

    assert list(calendar) == ["12/2026", "01/2027", "02/2027", "03/2027", "04/2027",
                              "05/2027", "06/2027", "07/2027", "08/2027", "09/2027",
                              "10/2027", "11/2027"]
    assert calendar["12/2026"] == 1 and calendar["11/2027"] == 1
    assert sum(calendar.values()) == 2  # 12/2027 is the 13th month
    assert 'href="/ratings/?expires_month=2026-12"' in html
    assert vi("Expiry calendar (next 12 months)") in html
    assert 'href="/ratings/?state=due"' in html


def test_officer_home_has_no_calendar_but_the_due_count(client, world):
    Rating.objects.filter(pk=world["fish"].pk).update(state=RatingState.DUE)

    response, html = get(login(client, world["colleague"]), "/")

    assert 'id="card-expiry-calendar"' not in html
    assert 'href="/ratings/?state=due"' in html


def test_expiry_calendar_counts_only_what_the_user_sees_in_one_query(
        world, django_assert_num_queries):
    from dossiers.home import expiry_calendar

    Rating.objects.filter(pk=world["fish"].pk).update(valid_until=datetime.date(2027, 3, 3))
    Rating.objects.filter(pk=world["foreign"].pk).update(valid_until=datetime.date(2027, 3, 9))
    world["staff"].refresh_from_db()
    world["outsider"].refresh_from_db()
    staff = expiry_calendar(world["staff"], datetime.date(2027, 3, 1))
    theirs = expiry_calendar(world["outsider"], datetime.date(2027, 3, 1))

    assert staff[0] == {"month": datetime.date(2027, 3, 1), "count": 1}
    assert theirs[0] == {"month": datetime.date(2027, 3, 1), "count": 1}
    assert staff[-1]["month"] == datetime.date(2028, 2, 1)
