"""The producer list's rows, read in one statement and written in Python
(``dossiers/producer_rows.py``, docs/performance.md): every row is the markup the template
wrote, byte for byte (rendered both ways below, in both languages), values are escaped,
producers come by name and their products by name, the pages are those of
``Paginator.get_page``, the rows and the count are those of ``producers_visible_to`` and
follow a new role or producer at once, and a page costs two queries.

Users: the Ninh Kiều officer (owner), the Phong Điền officer (outsider), department staff
of Cần Thơ (the whole province), a superuser and a user without an area."""

import re

import pytest
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.template import Context, Template
from django.utils import translation
from django.utils.html import escape

from dossiers.models import ProducerType, Product
from dossiers.producer_rows import producer_page, rows_html
from dossiers.queries import producers_visible_to
from ocop.accounts.models import Role
from scoring.models import Regime
from tests import factories
from tests.i18n import vi

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("era_148")]

#: the rows as templates/dossiers/producer_list.html wrote them before
#: dossiers/producer_rows.py (the loop of its table; a producer without a registration
#: number now shows a dash, where the template wrote "None")
TEMPLATE_ROWS = """{% load i18n %}{% for producer in producers %}
  <tr id="producer-{{ producer.pk }}">
    <td>{{ producer.name }}<br><span class="small muted">{{ producer.get_type_display }} · {{ producer.registration_no|default:"—" }}</span><br>
      <a class="small" href="{% url 'dossiers:producer-edit' producer.pk %}">{% translate "Change" %}<span class="visually-hidden"> {{ producer.name }}</span></a>
      {% if not producer.products.all %}· <a class="small" href="{% url 'dossiers:producer-delete' producer.pk %}">{% translate "Delete" %}<span class="visually-hidden"> {{ producer.name }}</span></a>{% endif %}</td>
    <td>{{ producer.unit.name }}</td>
    <td>{% for product in producer.products.all %}<div id="product-{{ product.pk }}">{{ product.name }} <span class="small muted">{{ product.criteria_set.regime.slug }} · {{ product.criteria_set.set_no|stringformat:"02d" }}</span>
      <a class="small" href="{% url 'dossiers:product-edit' product.pk %}">{% translate "Change" %}<span class="visually-hidden"> {{ product.name }}</span></a> ·
      <a class="small" href="{% url 'dossiers:product-delete' product.pk %}">{% translate "Delete" %}<span class="visually-hidden"> {{ product.name }}</span></a></div>{% empty %}
      <a class="small" href="{% url 'dossiers:product-create' %}?producer={{ producer.pk }}">{% translate "Add a product" %}</a>{% endfor %}</td>
  </tr>
  {% endfor %}"""  # noqa: E501 - the template's lines as they were

ROW = re.compile(r'<tr id="producer-\d+">.*?</tr>', re.S)


def template_queryset(user):
    """The list's queryset before dossiers/producer_rows.py."""
    return (producers_visible_to(user).select_related("unit")
            .prefetch_related(Prefetch("products", queryset=Product.objects
                                       .select_related("criteria_set__regime")
                                       .order_by("name")))
            .order_by("name", "pk"))


def login(client, user):
    client.force_login(user, backend="ocop.accounts.backends.UserWithRolesBackend")
    return client


def product(producer, name, set_no=9, regime="148"):
    return Product.objects.create(producer=producer, name=name,
                                  criteria_set=factories.criteria_set(regime, set_no))


@pytest.fixture
def world(cantho, criteria, make_user):
    return {
        **cantho,
        "officer": make_user("canbo.nk", Role.LOCAL_OFFICER, cantho["ninhkieu"]),
        "outsider": make_user("canbo.pd", Role.LOCAL_OFFICER, cantho["phongdien"]),
        "staff": make_user("so.nn", Role.DEPARTMENT_STAFF, cantho["province"]),
    }


@pytest.fixture
def producers(world):
    """Ninh Kiều: one producer with two products (created out of their order), one without
    a product, no registration number and markup in its name, and one in Phong Điền."""
    with_products = factories.producer(world["ninhkieu"], name='HTX "Mắm" <Ba> & Con')
    product(with_products, "Nước mắm <b>cá cơm</b>")
    product(with_products, "Bánh 'tráng'", set_no=1, regime="26/2026")
    bare = factories.producer(world["ninhkieu"], name="<script>alert(1)</script> Hộ",
                              type=ProducerType.HOUSEHOLD, registration_no=None)
    foreign = factories.producer(world["phongdien"], name="Hợp tác xã Phong Điền")
    product(foreign, "Rượu")
    return {"with_products": with_products, "bare": bare, "foreign": foreign}


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("who", ["officer", "staff"])
def test_each_row_is_the_templates_markup(world, producers, language, who):
    user = world[who]
    with translation.override(language):
        before = Template(TEMPLATE_ROWS).render(Context(
            {"producers": list(template_queryset(user))}))
        after = rows_html(producer_page(user, "1", 50).object_list)

    assert ROW.findall(after) == ROW.findall(before)
    assert len(ROW.findall(after)) == (2 if who == "officer" else 3)


def test_a_row_shows_its_values_escaped_and_its_links(world, producers):
    with translation.override("vi"):
        html = rows_html(producer_page(world["officer"], "1", 50).object_list)
    bare, full = producers["bare"], producers["with_products"]

    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; Hộ" in html
    assert "HTX &quot;Mắm&quot; &lt;Ba&gt; &amp; Con" in html
    assert "Nước mắm &lt;b&gt;cá cơm&lt;/b&gt;" in html and "Bánh &#x27;tráng&#x27;" in html
    # no registration number: a dash, not "None"
    assert f"{vi(ProducerType.HOUSEHOLD.label)} · —</span>" in html and "None" not in html
    # a producer with products cannot be deleted: no link; one without: a link to delete it
    # and one to add a product
    assert f'href="/dossiers/producers/{full.pk}/delete/"' not in html
    assert f'href="/dossiers/producers/{bare.pk}/delete/"' in html
    assert f'href="/dossiers/products/new/?producer={bare.pk}"' in html
    for made in full.products.all():
        assert f'href="/dossiers/products/{made.pk}/edit/"' in html
        assert f'href="/dossiers/products/{made.pk}/delete/"' in html
    assert '<span class="small muted">148 · 09</span>' in html
    assert f'<span class="small muted">{escape(Regime.objects.get(slug="26/2026").slug)} · 01' \
        "</span>" in html


def test_producers_by_name_and_their_products_by_name(world, producers):
    page = producer_page(world["staff"], "1", 50)

    assert [row[2] for row in page.object_list] == sorted(row[2] for row in page.object_list)
    full = next(row for row in page.object_list if row[0] == producers["with_products"].pk)
    assert [p[1] for p in full[5]] == ["Bánh 'tráng'", "Nước mắm <b>cá cơm</b>"]


@pytest.mark.parametrize("asked", ["1", "2", "3", "4", "99", "0", "-1", "abc", None, "1.5", ""])
def test_the_pages_are_those_of_get_page(world, asked):
    for i in (3, 1, 4, 1, 5):  # two producers of the same name: by id
        factories.producer(world["ninhkieu"], name=f"Hộ kinh doanh {i}")
    user = world["officer"]

    page = producer_page(user, asked, 2)
    expected = Paginator(template_queryset(user), 2).get_page(asked)

    assert (page.number, page.paginator.count, page.paginator.num_pages) == (
        expected.number, expected.paginator.count, expected.paginator.num_pages)
    assert [row[0] for row in page.object_list] == [p.pk for p in expected.object_list]


@pytest.mark.parametrize("who", ["officer", "outsider", "staff", "admin", "nobody"])
def test_the_rows_and_the_count_are_those_the_user_reads(world, producers, make_user, who):
    user = {"admin": lambda: make_user("quan.tri", is_superuser=True),
            "nobody": lambda: make_user("khach")}.get(who, lambda: world[who])()
    extra = factories.producer(world["province"], name="Công ty ở tỉnh")

    page = producer_page(user, "1", 50)

    visible = list(producers_visible_to(user).order_by("name", "pk").values_list("pk",
                                                                                 flat=True))
    assert [row[0] for row in page.object_list] == visible
    assert page.paginator.count == len(visible)
    shown = {row[0] for row in page.object_list}
    assert (producers["bare"].pk in shown) == (who in ("officer", "staff", "admin"))
    assert (producers["foreign"].pk in shown) == (who in ("outsider", "staff", "admin"))
    assert (extra.pk in shown) == (who in ("staff", "admin"))


def test_the_list_follows_a_new_role_and_a_new_producer_at_once(client, world, producers):
    from ocop.accounts.models import RoleAssignment

    c = login(client, world["officer"])
    html = c.get("/dossiers/producers/").content.decode()
    assert f'id="producer-{producers["foreign"].pk}"' not in html

    RoleAssignment.objects.create(user=world["officer"], role=Role.LOCAL_OFFICER,
                                  unit=world["phongdien"])
    added = factories.producer(world["ninhkieu"], name="Hộ mới")
    html = c.get("/dossiers/producers/").content.decode()
    assert f'id="producer-{producers["foreign"].pk}"' in html
    assert f'id="producer-{added.pk}"' in html and html.count('<tr id="producer-') == 4


def test_a_page_is_the_users_query_and_one_statement(client, world, producers, settings,
                                                     django_assert_num_queries):
    from dossiers.stats import statistics

    settings.OCOP_PREPARED_STATEMENTS = False  # the statements' text, not EXECUTE
    for i in range(60):
        factories.producer(world["ninhkieu"], name=f"Cơ sở {i:02d}")
    c = login(client, world["officer"])
    c.get("/dossiers/producers/")  # the session, the statement and the count kept

    with django_assert_num_queries(2) as page:  # the user with their roles, the statement
        html = c.get("/dossiers/producers/?page=2", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert html.count('<tr id="producer-') == 12
    assert vi("Page %(number)s of %(total)s", number=2, total=2) in html
    assert "COUNT(" not in page.captured_queries[-1]["sql"]  # the count is kept
    with django_assert_num_queries(2):  # past the end: the last page, the count being known
        html = c.get("/dossiers/producers/?page=9").content.decode()
    assert html.count('<tr id="producer-') == 12

    statistics.bump_now()  # the count is not known: the statement counts too
    with django_assert_num_queries(2) as page:
        c.get("/dossiers/producers/")
    assert "COUNT(" in page.captured_queries[-1]["sql"]
    statistics.bump_now()  # past the end: nothing found, then the count and the last page
    with django_assert_num_queries(4):
        html = c.get("/dossiers/producers/?page=9").content.decode()
    assert html.count('<tr id="producer-') == 12


def test_the_count_follows_a_save_a_delete_and_an_import_at_once(world, producers):
    from dossiers.models import Producer
    from dossiers.stats import statistics

    user = world["officer"]
    assert producer_page(user, "1", 1).paginator.count == 2
    added = factories.producer(world["ninhkieu"], name="Hộ mới")
    assert producer_page(user, "1", 1).paginator.count == 3
    added.unit = world["phongdien"]
    added.save()
    assert producer_page(user, "1", 1).paginator.count == 2
    producers["bare"].delete()
    assert producer_page(user, "1", 1).paginator.count == 1

    # a bulk insert sends no signal: its writer bumps the version (dossiers/imports.py)
    Producer.objects.bulk_create([Producer(
        type=ProducerType.COOPERATIVE, name=f"HTX nhập {i}", registration_no=f"19{i:08d}",
        representative_name="Lê Văn An", representative_gender="male", address="Ấp 2",
        unit=world["ninhkieu"]) for i in range(3)])
    statistics.bump()
    page = producer_page(user, "4", 1)
    assert (page.paginator.count, page.number, len(page.object_list)) == (4, 4, 1)


def test_without_the_shared_cache_every_page_counts(world, producers, monkeypatch,
                                                    django_assert_num_queries):
    from dossiers.stats import statistics

    monkeypatch.setattr(statistics, "version", lambda: None)  # Redis down: nothing kept
    assert producer_page(world["officer"], "1", 1).paginator.count == 2
    factories.producer(world["ninhkieu"], name="Hộ mới")
    with django_assert_num_queries(1):
        page = producer_page(world["officer"], "3", 1)
    assert (page.paginator.count, page.number, len(page.object_list)) == (3, 3, 1)


def test_an_empty_area_says_so(client, world):
    html = login(client, world["outsider"]).get(
        "/dossiers/producers/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()

    assert vi("No producer in your area yet.") in html and "<table" not in html
