"""The statistics dashboard (/stats/), its downloads, the Excel registers, the yearly report
and the API (docs/statistics.md).

Every number the dashboard shows is checked against a count made here in Python over the
rows the fixture made (not through ``dossiers.stats``); an officer's numbers are at most
the province's; an account without role is refused; the query count is pinned and does
not grow with the rows.
"""

import datetime
import html
import io
import re
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from openpyxl import load_workbook

from dossiers import stats
from dossiers.models import (
    ACTIVE_RATING_STATES,
    Decision,
    DecisionKind,
    DecisionState,
    Dossier,
    DossierState,
    Producer,
    ProducerType,
    Rating,
    RatingState,
    Revocation,
    RevocationGround,
    RevocationState,
)
from dossiers.register import REGISTER_COLUMNS
from ocop.accounts.models import Role
from ocop.regions.models import AdministrativeUnit, Level
from scoring.models import ProcessLevel, Regime
from tests import factories
from tests.dossiers import current_communes
from tests.dossiers.recognition import province_round

pytestmark = pytest.mark.django_db

#: The dashboard's queries: the user with their role assignments (ocop.accounts.backends;
#: the session comes from the cache); the provinces their province
#: absorbed, read once for each visible queryset (ratings, dossiers, revocations, rounds);
#: the area choices; then one aggregate per figure (two for those that name units or
#: criteria sets: area, criteria set) and the rounds listed. Filters add none.
DASHBOARD_QUERIES = 21
#: The same page again while nothing changed: the user with their role assignments (the
#: session, the figures and the area choices come from the cache).
DASHBOARD_CACHED_QUERIES = 1


def login(client, user):
    client.force_login(user, backend="ocop.accounts.backends.UserWithRolesBackend")
    return client


def get(client, url, **extra):
    return client.get(url, HTTP_ACCEPT_LANGUAGE="vi", **extra)


class World:
    pass


def _rating(round_, unit, *, stars, state, decided, until=None, set_no=None,
            producer_type=ProducerType.COOPERATIVE, product=None, source=None):
    """A rating (and, unless given, its product and dossier) as a decision leaves it."""
    set_no = set_no or (1 if round_.regime.criteria_regime.slug == "26/2026" else 9)
    if source is None:
        source = factories.dossier(round_, unit, set_no=set_no, state=DossierState.RECOGNISED,
                                   result_stars=stars, result_score=Decimal("70.00"))
        if product is not None:
            Dossier.objects.filter(pk=source.pk).update(product=product)
            source.refresh_from_db()
        Producer.objects.filter(pk=source.product.producer_id).update(type=producer_type)
    until = until or decided.replace(year=decided.year + 3) - datetime.timedelta(days=1)
    return Rating.objects.create(
        product=source.product, regime=round_.regime, stars=stars, score=Decimal("70.00"),
        decision_number=f"{Rating.objects.count() + 1}/QĐ-UBND", decision_date=decided,
        valid_from=decided, valid_until=until, state=state, source_dossier=source,
        verification_code=f"stat{Rating.objects.count():012d}")


@pytest.fixture
def world(cantho, criteria, make_user):
    w = World()
    w.today = timezone.localdate()
    w.province = cantho["province"]
    communes = list(current_communes(cantho)[:3])
    w.c0, w.c1, w.c2 = communes
    w.legacy = AdministrativeUnit.objects.filter(
        level=Level.COMMUNE, parent=cantho["ninhkieu"]).order_by("code").first()
    w.staff = make_user("sonn", Role.DEPARTMENT_STAFF, w.province)
    w.officer = make_user("canbo.xa", Role.LOCAL_OFFICER, w.c0)
    w.nobody = make_user("khach")
    other = AdministrativeUnit.objects.create(level=Level.PROVINCE, code="99x",
                                              name="Tỉnh Khác")
    w.other_commune = AdministrativeUnit.objects.create(
        level=Level.COMMUNE, code="99901", name="Xã Bên Kia", parent=other, province=other)
    w.other_staff = make_user("sonn.khac", Role.DEPARTMENT_STAFF, other)

    w.round = province_round(cantho)  # 26/2026, open
    old_round = factories.evaluation_round(cantho["ninhkieu"], "148", "district",
                                           is_open=False)
    other_round = factories.evaluation_round(other, "26/2026", "province")
    today = w.today
    r = {}
    r["fish"] = _rating(w.round, w.c0, stars=4, state=RatingState.VALID,
                        decided=datetime.date(2026, 6, 20))
    r["due"] = _rating(w.round, w.c0, stars=3, state=RatingState.DUE,
                       decided=datetime.date(2023, 12, 20),
                       until=today + datetime.timedelta(days=13),
                       producer_type=ProducerType.ENTERPRISE)
    r["five"] = _rating(w.round, w.c1, stars=5, state=RatingState.VALID,
                        decided=datetime.date(2025, 3, 1),
                        until=today + datetime.timedelta(days=84),
                        producer_type=ProducerType.HOUSEHOLD)
    r["soon"] = _rating(w.round, w.c1, stars=4, state=RatingState.VALID,
                        decided=datetime.date(2024, 8, 1),
                        until=today + datetime.timedelta(days=150))
    r["revoked"] = _rating(w.round, w.c1, stars=3, state=RatingState.REVOKED,
                           decided=datetime.date(2025, 5, 1))
    r["expired"] = _rating(old_round, w.legacy, stars=3, state=RatingState.EXPIRED,
                           decided=datetime.date(2023, 6, 20))
    r["legacy"] = _rating(old_round, w.legacy, stars=4, state=RatingState.VALID,
                          decided=datetime.date(2025, 6, 20),
                          producer_type=ProducerType.COOPERATIVE_GROUP)
    # an upgrade: 3★ of 2024 replaced by 4★ of 2026
    r["before"] = _rating(w.round, w.c2, stars=3, state=RatingState.REPLACED,
                          decided=datetime.date(2024, 1, 10))
    r["upgraded"] = _rating(w.round, w.c2, stars=4, state=RatingState.VALID,
                            decided=datetime.date(2026, 1, 15), product=r["before"].product)
    # a correction: the same dossier's result decided again
    r["wrong"] = _rating(w.round, w.c2, stars=3, state=RatingState.REPLACED,
                         decided=datetime.date(2026, 2, 1))
    r["corrected"] = _rating(w.round, w.c2, stars=3, state=RatingState.VALID,
                             decided=datetime.date(2026, 2, 10),
                             source=r["wrong"].source_dossier)
    Rating.objects.filter(pk=r["before"].pk).update(replaced_by=r["upgraded"])
    Rating.objects.filter(pk=r["wrong"].pk).update(replaced_by=r["corrected"])
    r["foreign"] = _rating(other_round, w.other_commune, stars=5, state=RatingState.VALID,
                           decided=datetime.date(2026, 5, 5))

    regime = Regime.objects.get(slug="26/2026")
    decision = Decision.objects.create(
        kind=DecisionKind.REVOCATION, state=DecisionState.ISSUED, regime=regime,
        level=ProcessLevel.objects.get(regime=regime, admin_level="province"),
        issuer_unit=w.province, issuer_name="Ủy ban nhân dân thành phố Cần Thơ",
        number=3, symbol="QĐ-UBND", reference="03/QĐ-UBND", year=today.year,
        date=datetime.date(today.year, 1, 1))
    Revocation.objects.create(rating=r["revoked"], ground=RevocationGround.VIOLATION,
                              conclusion_reference="Biên bản kiểm tra số 1",
                              conclusion_date=decision.date, state=RevocationState.ISSUED,
                              decision=decision)
    # dossiers of the open round in several states (and one of the closed round)
    for unit, state in ((w.c0, "draft"), (w.c0, "submitted"), (w.c1, "submitted"),
                        (w.c1, "accepted"), (w.c0, "withdrawn")):
        factories.dossier(w.round, unit, set_no=1, state=state)
    factories.dossier(other_round, w.other_commune, set_no=1, state="submitted")
    w.ratings = r
    return w


# --- the independent count ---------------------------------------------------------------------


def _in_area(user_units, unit):
    """Python's reading of an area: the unit itself, its district, its province, the
    pre-2025 province a current province absorbed, or for a current commune the pre-2025
    communes merged into it (docs/regimes-and-levels.md)."""
    for area in user_units:
        if unit.pk == area.pk or unit.parent_id == area.pk:
            return True
        if (area.level == Level.COMMUNE and area.valid_to is None
                and unit.level == Level.COMMUNE
                and area.pk in {s.pk for s in unit.successors.all()}):
            return True
        if area.level == Level.PROVINCE and (
                unit.province_id == area.pk
                or unit.province_id in {p.pk for p in area.predecessors.all()}):
            return True
    return False


def _current_area(unit):
    if unit.valid_to is None:
        return unit
    successor = unit.successors.filter(valid_to__isnull=True).order_by("code").first()
    return successor or unit


def expected(w, user_units):
    """Every figure of the dashboard, counted row by row in Python: {key: {label: [n…]}}."""
    today = w.today
    ratings = [r for r in Rating.objects.select_related(
        "product__producer__unit", "source_dossier__criteria_set__group",
        "product__criteria_set__group")
        if _in_area(user_units, r.product.producer.unit)]
    active = [r for r in ratings if r.state in ACTIVE_RATING_STATES]

    def by(rows, key, stars=True):
        found = {}
        for rating in rows:
            label = key(rating)
            counts = found.setdefault(label, [0, 0, 0, 0])
            counts[0] += 1
            counts[rating.stars - 2] += 1
        return {label: counts if stars else counts[:1] for label, counts in found.items()}

    def cs(rating):
        return (rating.source_dossier.criteria_set if rating.source_dossier_id
                else rating.product.criteria_set)

    def corrected(rating):
        return any(o.replaced_by_id == rating.pk and o.source_dossier_id
                   and o.source_dossier_id == rating.source_dossier_id for o in ratings)

    with translation.override("vi"):
        star = Counter(r.stars for r in active)
        figures = {
            "stars": {f"{n}★": [star[n]] for n in (3, 4, 5)},
            "area": by(active, lambda r: _current_area(r.product.producer.unit).name),
            "district": by([r for r in active if r.product.producer.unit.valid_to],
                           lambda r: r.product.producer.unit.parent.name),
            "group": by(active, lambda r: cs(r).group.name),
            "criteria_set": by(active, lambda r: f"{cs(r).set_no:02d} · {cs(r).name}"),
            "producer_type": {str(label): [0, 0, 0, 0] for _v, label in ProducerType.choices},
            "year": by([r for r in ratings if not corrected(r)],
                       lambda r: str(r.decision_date.year)),
            "expiring": {d: [sum(
                1 for r in active if r.valid_until <= today + datetime.timedelta(days=d))]
                for d in (30, 90, 180)},
        }
        for label, counts in by(active, lambda r: str(
                ProducerType(r.product.producer.type).label)).items():
            figures["producer_type"][label] = counts
        dossiers = Counter(d.state for d in Dossier.objects.select_related("unit", "round")
                           if d.round.is_open and _in_area(user_units, d.unit))
        figures["dossier_state"] = {str(label): [dossiers[value]]
                                    for value, label in DossierState.choices}
        revoked = Counter(
            v.ground for v in Revocation.objects.select_related(
                "rating__product__producer__unit", "decision")
            if v.state == RevocationState.ISSUED and v.decision.date.year == today.year
            and _in_area(user_units, v.rating.product.producer.unit))
        figures["revocations"] = {str(label): [revoked[value]]
                                  for value, label in RevocationGround.choices}
    return figures


def shown(page):
    """{figure key: {row label: [numbers]}} as the dashboard's tables print them."""
    figures = {}
    for key, body in re.findall(r'<table class="dossiers stats-table" data-figure="([a-z_]+)">'
                                r'(.*?)</table>', page, re.S):
        rows = {}
        for label, cells in re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', body, re.S):
            label = re.sub(r"<[^>]+>", "", label)  # a label may link to the register
            rows[html.unescape(label)] = [int(n) for n in re.findall(r'data-value="(\d+)"',
                                                                      cells)]
        figures[key] = rows
    return figures


def _expiring_labels(figures):
    """The expiry rows are labelled "30 days"…; match them by their order."""
    rows = figures["expiring"]
    return {d: counts for d, counts in zip((30, 90, 180), rows.values(), strict=True)}


# --- the dashboard -------------------------------------------------------------------------------


def test_every_number_shown_matches_an_independent_count(client, world):
    for user, units in ((world.staff, [world.province]), (world.officer, [world.c0])):
        page = get(login(client, user), "/stats/").content.decode()
        figures = shown(page)
        want = expected(world, units)
        assert set(figures) == set(stats.FIGURES)
        figures["expiring"] = _expiring_labels(figures)
        for key, rows in want.items():
            assert figures[key] == rows, (user.username, key)


def test_the_fixture_covers_each_kind_of_row(client, world):
    """The cross-check above is not vacuous: the province sees the upgrade, the correction
    counted once, the legacy district, the revocation and all three horizons."""
    figures = shown(get(login(client, world.staff), "/stats/").content.decode())
    assert figures["stars"] == {"3★": [2], "4★": [4], "5★": [1]}
    assert figures["year"]["2026"] == [3, 1, 2, 0]  # fish, upgraded, corrected (once)
    assert figures["district"] == {"Quận Ninh Kiều": [1, 0, 1, 0]}
    assert sum(n for n, *_ in figures["revocations"].values()) == 1
    assert list(_expiring_labels(figures).values()) == [[1], [2], [3]]
    assert "Xã Bên Kia" not in str(figures)


def test_expiry_rows_lead_to_the_same_ratings_in_the_register(client, world):
    c = login(client, world.staff)
    page = get(c, "/stats/").content.decode()
    assert 'href="/ratings/?expiring_within=90"' in page
    register = get(c, "/ratings/?expiring_within=90").content.decode()
    assert len(re.findall(r'<tr id="rating-\d+"', register)) == 2


def test_an_officer_sees_a_part_of_the_province(client, world):
    province = shown(get(login(client, world.staff), "/stats/").content.decode())
    officer = shown(get(login(client, world.officer), "/stats/").content.decode())
    # the two of the officer's ward, and the one of the pre-2025 commune merged into it
    assert world.c0 in world.legacy.successors.all()
    assert sum(officer["stars"][k][0] for k in officer["stars"]) == 3
    for key, rows in officer.items():
        for label, counts in rows.items():
            if key == "expiring":
                continue
            assert label in province[key], (key, label)
            assert all(a <= b for a, b in zip(counts, province[key][label], strict=True))
    for a, b in zip(_expiring_labels(officer).values(), _expiring_labels(province).values(),
                    strict=True):
        assert a <= b


def test_filters_period_and_area(client, world):
    c = login(client, world.staff)
    figures = shown(get(c, "/stats/?date_from=2026-01-01&date_to=2026-12-31").content.decode())
    assert figures["stars"] == {"3★": [1], "4★": [2], "5★": [0]}
    figures = shown(get(c, f"/stats/?area={world.c1.pk}").content.decode())
    assert figures["stars"] == {"3★": [0], "4★": [1], "5★": [1]}
    # a foreign area or a reversed period: reported, ignored, never a 500
    response = get(c, f"/stats/?area={world.other_commune.pk}&date_from=2026-05-01"
                      "&date_to=2026-01-01")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'role="alert"' in page
    # the valid filter stays: decided from 01/05/2026
    assert shown(page)["stars"] == {"3★": [0], "4★": [1], "5★": [0]}
    page = get(c, "/stats/?date_from=20266-01-01&area=abc").content.decode()
    assert shown(page)["stars"] == {"3★": [2], "4★": [4], "5★": [1]}


def test_who_may_see_the_dashboard(client, world):
    assert client.get("/stats/").status_code == 302  # to the login
    assert get(login(client, world.nobody), "/stats/").status_code == 403
    assert get(login(client, world.nobody), "/stats/figures/stars.csv").status_code == 403
    other = shown(get(login(client, world.other_staff), "/stats/").content.decode())
    assert other["stars"] == {"3★": [0], "4★": [0], "5★": [1]}


def test_query_count_is_constant(client, world, django_assert_num_queries,
                                 django_assert_max_num_queries):
    c = login(client, world.staff)
    with CaptureQueriesContext(connection) as cold:
        assert get(c, "/stats/").status_code == 200
    assert len(cold) <= DASHBOARD_QUERIES
    stats.statistics.bump_now()  # counted again, with the reference data now cached
    with CaptureQueriesContext(connection) as first:
        assert get(c, "/stats/").status_code == 200
    assert len(first) == len(cold) - 1  # the provinces the province absorbed
    with django_assert_num_queries(DASHBOARD_CACHED_QUERIES):
        assert get(c, "/stats/").status_code == 200
    for n in range(15):  # more rows, more communes: the same queries, counted again
        _rating(world.round, current_communes({"province": world.province})[5 + n],
                stars=3 + n % 3, state=RatingState.VALID, decided=datetime.date(2026, 3, 1))
    with django_assert_num_queries(len(first)):
        page = get(c, "/stats/").content.decode()
    assert sum(n for n, in shown(page)["stars"].values()) == 7 + 15
    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        assert get(c, f"/stats/?date_from=2020-01-01&area={world.province.pk}"
                      ).status_code == 200


def test_charts_are_accessible_svg(client, world):
    page = get(login(client, world.staff), "/stats/").content.decode()
    svgs = re.findall(r"<svg class=\"bar-chart\".*?</svg>", page, re.S)
    assert len(svgs) >= 8
    for svg in svgs:
        assert 'role="img"' in svg and "aria-label=" in svg and "<title" in svg
        # coordinates are SVG numbers, never localised ("15,4" would draw nothing)
        for value in re.findall(r' (?:x|y|width|height)="([^"]*)"', svg):
            assert re.fullmatch(r"\d+(\.\d+)?", value), value
    assert re.search(r'<rect [^>]*width="300(\.0)?"', page)  # the longest bar is drawn
    assert "<script src=\"http" not in page


def test_table_downloads(client, world):
    c = login(client, world.staff)
    response = get(c, "/stats/figures/stars.csv?date_from=2026-01-01")
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[1:] == ["3★,1", "4★,2", "5★,0"]
    response = get(c, "/stats/figures/area.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert sum(row[1] for row in rows) == 7
    assert get(c, "/stats/figures/nothing.csv").status_code == 404
    assert get(c, "/stats/figures/stars.pdf").status_code == 404


# --- the registers -------------------------------------------------------------------------------


def test_register_header_and_rows(client, world):
    c = login(client, world.staff)
    response = get(c, "/stats/register.xlsx?stars=4")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[1]) == [column.header for column in REGISTER_COLUMNS]
    body = rows[2:]
    want = {r.product.name: r for r in Rating.objects.filter(
        stars=4, product__producer__unit__province__in=[world.province,
                                                        *world.province.predecessors.all()])}
    assert {row[1] for row in body} == set(want)
    col = {column.key: i for i, column in enumerate(REGISTER_COLUMNS)}
    for row in body:
        rating = want[row[col["product"]]]
        assert row[col["stars"]] == 4
        assert row[col["decision_number"]] == rating.decision_number
        assert row[col["decision_date"]].date() == rating.decision_date
        assert row[col["valid_until"]].date() == rating.valid_until
        assert row[col["producer"]] == rating.product.producer.name
    legacy = next(row for row in body if row[col["product"]]
                  == world.ratings["legacy"].product.name)
    assert legacy[col["district"]] == "Quận Ninh Kiều"
    assert legacy[col["commune"]].endswith("(trước 2025)")
    # the officer's register holds only their commune (and the pre-2025 one merged into it)
    sheet = load_workbook(io.BytesIO(b"".join(get(
        login(client, world.officer), "/stats/register.xlsx").streaming_content))).active
    assert len(list(sheet.iter_rows(min_row=3))) == 4
    assert get(login(client, world.nobody), "/stats/register.xlsx").status_code == 404


def test_the_ratings_page_links_to_its_register(client, world):
    page = get(login(client, world.staff), "/ratings/?stars=4").content.decode()
    assert 'href="/stats/register.xlsx?stars=4"' in page


def test_round_results(client, world):
    c = login(client, world.staff)
    response = get(c, f"/stats/rounds/{world.round.pk}/results.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert len(rows) == Dossier.objects.filter(round=world.round).count()
    other_round = Dossier.objects.get(unit=world.other_commune, state="submitted").round
    assert get(c, f"/stats/rounds/{other_round.pk}/results.xlsx").status_code == 404


# --- the yearly report ---------------------------------------------------------------------------


def test_yearly_report_figures(world):
    from dossiers.yearly_report import yearly_figures

    report = yearly_figures(world.staff, world.province, 2026, world.today)
    assert report.in_force == {3: 2, 4: 4, 5: 1}
    t = report.totals
    assert (t["recognised"], t["new"], t["upgraded"], t["reevaluated"]) == (3, 2, 1, 0)
    assert t["revoked"] == (1 if world.today.year == 2026 else 0)
    assert t["expired"] == 1  # the 2023 rating expired on 19/06/2026
    past = yearly_figures(world.staff, world.province, 2024, world.today)
    # on 31/12/2024: due (2023), before (2024, replaced only in 2026), soon (2024), expired
    # (2023, until 2026)
    assert past.in_force == {3: 3, 4: 1, 5: 0}
    assert past.totals["new"] == 2


def test_yearly_report_pdf_and_excel(client, world):
    from pypdf import PdfReader

    c = login(client, world.staff)
    year = world.today.year
    page = get(c, f"/stats/yearly/?year={year}")
    assert page.status_code == 200
    response = get(c, f"/stats/yearly/?province={world.province.pk}&year={year}&format=pdf")
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    text = " ".join(text.split())
    assert f"Kết quả thực hiện Chương trình OCOP năm {year}" in text
    assert "Số: /BC-SNNMT" in text.replace("Số: ", "Số: ").replace("  ", " ") or "BC-SNNMT" in text
    assert "có 7 sản phẩm OCOP còn hiệu lực" in text
    assert "Nơi nhận" in text
    response = get(c, f"/stats/yearly/?year={year}&format=xlsx")
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    first = list(workbook.worksheets[0].iter_rows(min_row=4, values_only=True))
    assert [row[1] for row in first] == [2, 4, 1]
    # officers and strangers do not get it
    assert get(login(client, world.officer), "/stats/yearly/").status_code == 403
    assert get(login(client, world.nobody), "/stats/yearly/").status_code == 403
    bad = get(login(client, world.staff), "/stats/yearly/?year=abc&province=999999")
    assert bad.status_code == 200 and 'role="alert"' in bad.content.decode()


# --- the API -------------------------------------------------------------------------------------


def api(client, user, url):
    return login(client, user).get(url, HTTP_ACCEPT_LANGUAGE="en")


def test_api_scoping(client, world):
    staff = api(client, world.staff, "/api/v1/stats/").json()
    figures = {f["key"]: f for f in staff["figures"]}
    assert figures["stars"]["rows"] == [["3★", 2], ["4★", 4], ["5★", 1]]
    officer = api(client, world.officer, "/api/v1/stats/stars/").json()
    assert officer["figure"]["rows"] == [["3★", 1], ["4★", 2], ["5★", 0]]
    assert api(client, world.nobody, "/api/v1/stats/").status_code == 403
    assert api(client, world.staff, "/api/v1/stats/nothing/").status_code == 404
    bad = api(client, world.officer, f"/api/v1/stats/?area={world.c1.pk}")
    assert bad.status_code == 400 and "area" in bad.json()["error"]["fields"]
    bad = api(client, world.staff, "/api/v1/stats/?date_from=yesterday")
    assert bad.status_code == 400 and "date_from" in bad.json()["error"]["fields"]
    assert api(client, world.staff, "/api/v1/stats/?area=99999999999999999999").status_code \
        == 400


def test_api_yearly(client, world):
    year = world.today.year
    body = api(client, world.staff, f"/api/v1/stats/yearly/?year={year}").json()
    assert body["province"] == world.province.pk
    assert body["in_force"] == {"3": 2, "4": 4, "5": 1}
    assert api(client, world.officer, "/api/v1/stats/yearly/").status_code == 403
    assert api(client, world.staff, "/api/v1/stats/yearly/?province=1").status_code == 404
    assert api(client, world.staff, "/api/v1/stats/yearly/?year=1200").status_code == 400


def test_api_schema_documents_the_paths(client, world):
    schema = login(client, world.staff).get("/api/schema/?format=json").json()
    for path in ("/api/v1/stats/", "/api/v1/stats/{figure}/", "/api/v1/stats/yearly/"):
        assert path in schema["paths"]
