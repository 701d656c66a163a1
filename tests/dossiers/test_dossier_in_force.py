"""A dossier belongs to a regime in force at its date (docs/regimes-and-levels.md, "In force
at the date"): ``create_dossier`` and ``submit`` refuse, with the day and the end (or start)
of the regime or unit, on a day the round's regime is not in force or its unit no longer
exists; ``resubmit`` does not (the filing was made in time). The round pickers (the dossier
page, the API's ``?open=1``) offer only the rounds ``queries.filing_rounds`` gives.
Hand-computed dates: Quận Ninh Kiều ended on 30/06/2025, 148 as written on 05/07/2025,
26/2026 applies from 22/05/2026."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rest_framework.test import APIClient

from dossiers import services
from dossiers.models import Dossier, DossierState
from dossiers.queries import filing_rounds
from ocop.accounts.models import Role
from ocop.audit.models import AuditEvent
from tests import factories
from tests.dossiers import complete_checklist, current_communes, db_rows, producer_data, upload

D = datetime.date
pytestmark = pytest.mark.django_db


def on(day):
    """The clock on ``day`` at 10:00 in Việt Nam."""
    return time_machine.travel(datetime.datetime(day.year, day.month, day.day, 10,
                                                 tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")))


@pytest.fixture
def world(cantho, criteria, make_user):
    """148 district rounds of Ninh Kiều and Phong Điền whose intake runs to 31/07/2025 (past
    the districts' end), a 26/2026 round of today's Cần Thơ, the Ninh Kiều officer (owner),
    the province's staff (colleague) and the Phong Điền officer (outsider, with a round of
    their own)."""
    commune = current_communes(cantho).first()
    return {
        "commune": commune,
        "round_148": factories.evaluation_round(cantho["ninhkieu"], year=2025,
                                                intake_deadline=D(2025, 7, 31)),
        "round_pd": factories.evaluation_round(cantho["phongdien"], year=2025,
                                               intake_deadline=D(2025, 7, 31)),
        "round_26": factories.evaluation_round(cantho["province"], "26/2026", "province"),
        "officer": make_user("canbo.nk", Role.LOCAL_OFFICER, cantho["ninhkieu"]),
        "staff": make_user("so.nn", Role.DEPARTMENT_STAFF, cantho["province"]),
        "outsider": make_user("canbo.pd", Role.LOCAL_OFFICER, cantho["phongdien"]),
        **cantho,
    }


def product_148(world):
    producer = services.create_producer(world["officer"],
                                        data=producer_data(world["ninhkieu"]))
    return services.create_product(world["officer"], producer=producer, name="Nước mắm",
                                   criteria_set=factories.criteria_set("148", 9))


def product_26(world):
    producer = services.create_producer(world["staff"], data=producer_data(world["commune"]))
    return services.create_product(world["staff"], producer=producer, name="Rau má",
                                   criteria_set=factories.criteria_set("26/2026", 1))


def refused_create(user, round_, product):
    events = AuditEvent.objects.count()
    with pytest.raises(services.DossierError) as refused:
        services.create_dossier(user, round=round_, product=product)
    assert refused.value.code == "in_force"
    assert refused.value.fields == {"round": [refused.value.message]}
    assert not Dossier.objects.filter(product=product).exists()
    assert AuditEvent.objects.count() == events
    return refused.value.message


# --- the services ------------------------------------------------------------------------------


def test_a_district_dossier_is_filed_on_the_districts_last_day_not_the_next(world):
    first, second = product_148(world), product_148(world)

    with on(D(2025, 6, 30)):
        filed = services.create_dossier(world["officer"], round=world["round_148"],
                                        product=first)
    with on(D(2025, 7, 1)):
        message = refused_create(world["officer"], world["round_148"], second)

    assert filed.state == DossierState.DRAFT
    # 148 was still in force on 01/07/2025 (to 05/07): the district is what ended
    assert "Quận Ninh Kiều" in message
    assert "01/07/2025" in message and "30/06/2025" in message


def test_after_148_ended_the_regime_is_named(world, cantho):
    # a 148 district round left open to the end of 2026 (as the tests once made them)
    left_open = factories.evaluation_round(cantho["ninhkieu"], year=2026,
                                           intake_deadline=D(2026, 12, 31))
    with on(D(2026, 12, 10)):
        message = refused_create(world["officer"], left_open, product_148(world))

    assert "148/QĐ-TTg" in message
    assert "10/12/2026" in message and "05/07/2025" in message


def test_a_26_2026_dossier_not_before_22_may_2026(world):
    early, in_time = product_26(world), product_26(world)

    with on(D(2026, 5, 21)):
        message = refused_create(world["staff"], world["round_26"], early)
    with on(D(2026, 5, 22)):
        filed = services.create_dossier(world["staff"], round=world["round_26"],
                                        product=in_time)

    assert "26/2026/QĐ-TTg" in message
    assert "21/05/2026" in message and "22/05/2026" in message
    assert filed.state == DossierState.DRAFT


def test_submit_the_day_after_the_district_ended_is_refused_and_changes_nothing(world):
    officer = world["officer"]
    with on(D(2025, 6, 30)):
        dossier = services.create_dossier(officer, round=world["round_148"],
                                          product=product_148(world))
        complete_checklist(officer, dossier)
    before = db_rows(dossier)

    with on(D(2025, 7, 1)), pytest.raises(services.DossierError) as refused:
        services.submit(officer, dossier)

    assert refused.value.code == "in_force"
    assert "30/06/2025" in refused.value.fields["round"][0]
    assert db_rows(dossier) == before
    assert Dossier.objects.get(pk=dossier.pk).state == DossierState.DRAFT


def test_a_returned_148_dossier_is_resubmitted_after_148_ended(world):
    """The documented choice: a completion continues a filing made in time."""
    officer = world["officer"]
    with on(D(2025, 6, 2)):
        dossier = services.create_dossier(officer, round=world["round_148"],
                                          product=product_148(world))
        complete_checklist(officer, dossier)
        dossier = services.submit(officer, dossier)
        line = dossier.documents.filter(item__required=True).order_by("item__order").first()
        dossier = services.return_for_completion(
            officer, dossier, reasons={line.pk: "Giấy đăng ký đã hết hạn"})
    with on(D(2026, 12, 10)):
        services.upload_file(officer, dossier, upload("giay-dang-ky-moi.pdf"), document=line)
        dossier = services.resubmit(officer, dossier)

    assert dossier.state == DossierState.RESUBMITTED
    # 148: the round's intake deadline (31/07/2025), or the day received if later
    # (docs/deadlines.md)
    assert dossier.due_date == D(2026, 12, 10)


# --- the round pickers -------------------------------------------------------------------------


def test_filing_rounds_are_open_in_force_and_of_an_existing_unit(world, cantho):
    closed = factories.evaluation_round(cantho["province"], "26/2026", "province",
                                        is_open=False)
    late = factories.evaluation_round(cantho["province"], "26/2026", "province",
                                      intake_deadline=D(2026, 10, 30))
    staff, officer, outsider = world["staff"], world["officer"], world["outsider"]

    today = set(filing_rounds(staff, D(2026, 12, 10)))
    in_148 = set(filing_rounds(staff, D(2025, 6, 30)))

    assert today == {world["round_26"]}
    assert closed not in today and late not in today
    # on 30/06/2025 the district rounds take dossiers; 26/2026 is not yet in force
    assert in_148 == {world["round_148"], world["round_pd"]}
    assert set(filing_rounds(staff, D(2025, 7, 1))) == set()
    assert set(filing_rounds(officer, D(2025, 6, 30))) == {world["round_148"]}
    assert set(filing_rounds(outsider, D(2025, 6, 30))) == {world["round_pd"]}


def round_options(html):
    select = re.search(r'<select name="round"[^>]*>(.*?)</select>', html, re.S)
    return {int(pk) for pk in re.findall(r'<option value="(\d+)"', select.group(1))}


def test_the_dossier_page_offers_only_the_rounds_taking_dossiers_that_day(client, world):
    for user, day, expected in [
            (world["staff"], D(2026, 12, 10), {world["round_26"].pk}),
            (world["officer"], D(2026, 12, 10), set()),
            (world["officer"], D(2025, 6, 30), {world["round_148"].pk}),
            (world["outsider"], D(2025, 6, 30), {world["round_pd"].pk})]:
        client.force_login(user)
        with on(day):
            page = client.get("/dossiers/new/")
        assert page.status_code == 200
        assert round_options(page.content.decode()) == expected, (user, day)


def test_the_dossier_page_refuses_a_round_it_does_not_offer(client, world):
    product = product_148(world)
    client.force_login(world["officer"])

    with on(D(2026, 12, 10)):
        response = client.post("/dossiers/new/", {
            "round": world["round_148"].pk, "product": product.pk,
            "registration_type": "first"})

    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'id="id_round_errors"[^>]*>\s*<li>', html)
    assert not Dossier.objects.filter(product=product).exists()


def api_for(user):
    from rest_framework.authtoken.models import Token

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0]}")
    return client


def ids(response):
    return {row["id"] for row in response.json()["results"]}


def test_api_open_rounds_are_the_filing_rounds_with_constant_queries(
        world, cantho, django_assert_num_queries):
    staff = api_for(world["staff"])
    with on(D(2026, 12, 10)):
        with django_assert_num_queries(OPEN_ROUNDS_QUERIES):
            taking = staff.get("/api/v1/rounds/", {"open": 1})
        others = staff.get("/api/v1/rounds/", {"open": 0})
        for _ in range(5):
            factories.evaluation_round(cantho["province"], "26/2026", "province")
            factories.evaluation_round(cantho["ninhkieu"])
        with django_assert_num_queries(OPEN_ROUNDS_QUERIES):
            more = staff.get("/api/v1/rounds/", {"open": 1})
        outsider = api_for(world["outsider"]).get("/api/v1/rounds/", {"open": 0})

    assert ids(taking) == {world["round_26"].pk}
    assert ids(others) == {world["round_148"].pk, world["round_pd"].pk}
    assert len(ids(more)) == 6 and world["round_148"].pk not in ids(more)
    assert world["round_148"].pk not in ids(outsider)
    assert world["round_pd"].pk in ids(outsider)


#: token and user, role assignments, the pre-2025 provinces the staff's province absorbed,
#: the count, the page rows
OPEN_ROUNDS_QUERIES = 5


def test_api_create_in_a_round_of_an_ended_regime_is_refused_and_changes_nothing(world):
    product = product_148(world)
    events = AuditEvent.objects.count()

    left_open = factories.evaluation_round(world["ninhkieu"], year=2026,
                                           intake_deadline=D(2026, 12, 31))
    with on(D(2026, 12, 10)):
        response = api_for(world["officer"]).post("/api/v1/dossiers/", {
            "round": left_open.pk, "product": product.pk}, format="json")

    body = response.json()["error"]
    assert response.status_code == 400
    assert body["code"] == "in_force"
    assert "05/07/2025" in body["fields"]["round"][0]
    assert not Dossier.objects.filter(product=product).exists()
    assert AuditEvent.objects.count() == events
