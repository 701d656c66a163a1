"""The dossier list and the dossier page run a fixed number of queries whatever the number of
dossiers (1 or 1,000), files and transitions: the numbers are pinned here.

List of a district officer, with search and filters (2 queries): the user with their role
assignments (``ocop.accounts.backends``; the session comes from the cache), then the page's
rows (the dossiers with their product, producer and area) with their count in one
statement (``dossiers/list_rows.py``). The first visit counts first, then reads the page,
and reads the reference data, kept at its version (``ocop/versioned_cache.py``): the rows'
rounds and criteria sets, the filter's round and criteria-set choices, and the pre-2025
provinces a current province absorbed (5 more queries; department staff: 6), not again
until a round, a criteria set or a unit changes. Department staff: the same 2. A commune
officer: the same 2; the area and what the councils let them read as ``unit =
ANY(ARRAY(…)) OR id = ANY(ARRAY(…))`` (each side an index condition; issue #14), counted
part by part.

Dossier page (8 queries): the user with their role assignments, the dossier with everything its
summary shows, the area check of the buttons, checklist lines, files, criteria count,
answered criteria, transitions.
"""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from django.utils.translation import ngettext

from dossiers import services
from dossiers.models import Dossier, DossierState, Transition
from ocop.accounts.models import Role
from ocop.text import fold
from tests import factories
from tests.dossiers import PDF_BYTES

pytestmark = pytest.mark.django_db


PDF = PDF_BYTES  # a real one-page PDF: uploads are opened by pypdf

#: Pinned query counts (see the module docstring): the user, the page's rows with their count.
LIST_QUERIES = 2
LIST_QUERIES_STAFF = 2
#: the first visit also counts apart and reads the reference data (the filter's choices, the
#: rows' rounds and criteria sets; for department staff, the provinces their province
#: absorbed)
FIRST_LIST_QUERIES = LIST_QUERIES + 5
FIRST_LIST_QUERIES_STAFF = LIST_QUERIES_STAFF + 6
DETAIL_QUERIES = 8


@pytest.fixture
def setting(cantho, criteria, make_user):
    officer = make_user("canbo.nk", Role.LOCAL_OFFICER, cantho["ninhkieu"])
    staff = make_user("so.nn", Role.DEPARTMENT_STAFF, cantho["province"])
    round_ = factories.evaluation_round(cantho["ninhkieu"])
    first = factories.dossier(round_, product_name="Bưởi Năm Roi", state="submitted",
                              due_date=datetime.date(2026, 1, 5))
    return {"officer": officer, "staff": staff, "round": round_, "first": first,
            "unit": cantho["ninhkieu"]}


def add_dossiers(setting, n):
    """``n`` more dossiers in one INSERT (same product and producer: the list does not
    care), half of them overdue."""
    first = setting["first"]
    Dossier.objects.bulk_create([
        Dossier(round=setting["round"], product=first.product, criteria_set=first.criteria_set,
                unit=setting["unit"], state=DossierState.SUBMITTED,
                due_date=datetime.date(2026, 1, 5) if i % 2 else None,
                search_text=fold(f"Bưởi Năm Roi {i}"))
        for i in range(n)
    ])


def login(client, user):
    client.force_login(user, backend="ocop.accounts.backends.UserWithRolesBackend")
    return client


LIST_URL = "/dossiers/?q=buoi+nam+roi&state=submitted&overdue=1"


def test_list_queries_do_not_grow_with_the_number_of_dossiers(client, setting,
                                                             django_assert_num_queries):
    c = login(client, setting["officer"])
    with django_assert_num_queries(FIRST_LIST_QUERIES):
        c.get(LIST_URL)
    with django_assert_num_queries(LIST_QUERIES):
        one = c.get(LIST_URL)
    add_dossiers(setting, 999)
    with django_assert_num_queries(LIST_QUERIES):
        many = c.get(LIST_URL)

    assert one.content.decode().count('<tr id="dossier-') == 1
    assert many.content.decode().count('<tr id="dossier-') == 50
    with translation.override("vi"):
        count = ngettext("%(counter)s dossier", "%(counter)s dossiers", 500) % {
            "counter": 500}
    assert count in many.content.decode()


def test_list_queries_of_department_staff_are_constant_too(client, setting,
                                                           django_assert_num_queries):
    c = login(client, setting["staff"])
    with django_assert_num_queries(FIRST_LIST_QUERIES_STAFF):
        c.get("/dossiers/")
    with django_assert_num_queries(LIST_QUERIES_STAFF):
        c.get("/dossiers/")
    add_dossiers(setting, 999)
    with django_assert_num_queries(LIST_QUERIES_STAFF):
        response = c.get("/dossiers/?page=3")

    assert response.content.decode().count('<tr id="dossier-') == 50


@pytest.mark.usefixtures("era_148")
def test_dossier_page_queries_do_not_grow_with_files_and_transitions(
        client, setting, django_assert_num_queries):
    officer = setting["officer"]
    producer = factories.producer(setting["unit"])
    product = services.create_product(officer, producer=producer, name="Nước mắm",
                                      criteria_set=factories.criteria_set("148", 9))
    dossier = services.create_dossier(officer, round=setting["round"], product=product)
    lines = list(dossier.documents.order_by("item__order"))
    services.upload_file(officer, dossier, SimpleUploadedFile("a.pdf", PDF),
                         document=lines[0])
    c = login(client, officer)
    url = f"/dossiers/{dossier.pk}/"
    with django_assert_num_queries(DETAIL_QUERIES):
        c.get(url)

    for i, line in enumerate(lines * 3):
        services.upload_file(officer, dossier, SimpleUploadedFile(f"tep-{i}.pdf", PDF),
                             document=line)
    services.upload_file(officer, dossier, SimpleUploadedFile("chung-cu.pdf", PDF))
    Transition.objects.bulk_create([
        Transition(dossier=dossier, from_state="draft", to_state="draft", actor=officer,
                   reason=f"Ghi chú {i}") for i in range(40)])
    with django_assert_num_queries(DETAIL_QUERIES):
        response = c.get(url)

    html = response.content.decode()
    assert html.count("/dossiers/files/") == 2 + len(lines) * 3
    assert "Ghi chú 39" in html


def test_commune_officer_list_reads_the_commune_and_the_agenda_in_constant_queries(
        client, cantho, criteria, make_user, django_assert_num_queries):
    """``dossiers_visible_to`` of a commune officer: the commune's dossiers and those on the
    agenda of a council the officer sits on; nobody else's."""
    from ocop.regions.models import AdministrativeUnit, Level

    commune = AdministrativeUnit.objects.filter(level=Level.COMMUNE,
                                                parent=cantho["ninhkieu"]).first()
    neighbour = AdministrativeUnit.objects.filter(level=Level.COMMUNE,
                                                  parent=cantho["ninhkieu"]).exclude(
        pk=commune.pk).first()
    officer = make_user("canbo.xa", Role.LOCAL_OFFICER, commune)
    round_ = factories.evaluation_round(cantho["ninhkieu"])
    own = factories.dossier(round_, commune, state="submitted")
    other = factories.dossier(round_, neighbour, state="submitted")
    on_agenda = factories.dossier(round_, neighbour, state="in_evaluation")
    council = factories.council(cantho["ninhkieu"], [make_user("chu.tich"), officer])
    factories.session(council, round_, [on_agenda])
    c = login(client, officer)

    with django_assert_num_queries(FIRST_LIST_QUERIES):
        html = c.get("/dossiers/").content.decode()
    Dossier.objects.bulk_create([
        Dossier(round=round_, product=other.product, criteria_set=other.criteria_set,
                unit=neighbour, state=DossierState.SUBMITTED, search_text="x")
        for _ in range(200)])
    with django_assert_num_queries(LIST_QUERIES):
        again = c.get("/dossiers/").content.decode()

    for page in (html, again):
        assert f'id="dossier-{own.pk}"' in page and f'id="dossier-{on_agenda.pk}"' in page
        assert f'id="dossier-{other.pk}"' not in page
        assert page.count('<tr id="dossier-') == 2
