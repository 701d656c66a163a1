"""The ratings register's rows, read as plain rows and written in Python
(``dossiers/rating_rows.py``, docs/performance.md): every row is byte for byte what the
template's loop wrote (valid and due ratings, with and without a decision, without a score,
names that need escaping), the register's order, its pagination, and counts and pages
that follow every change at once although they are kept per process — a new rating, a
revocation, a producer moved to another unit, and for the filters on the state a bulk
UPDATE without a signal (the nightly expiry job's)."""

import datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from dossiers import rating_rows
from dossiers.models import Product, Rating, RatingState
from dossiers.queries import ratings_visible_to
from dossiers.ratings import criteria_set_of, filter_ratings, register_order, register_rows
from ocop.accounts.models import Role
from tests import factories
from tests.dossiers import current_communes
from tests.dossiers.recognition import issued, province_round, recognised

pytestmark = pytest.mark.django_db

#: The loop of ``templates/dossiers/ratings/_results.html`` before the rows were written in
#: Python, as it was.
OLD_LOOP = Template("{% load i18n %}" + (
    '{% for rating in ratings %}\n'
    '  <tr id="rating-{{ rating.pk }}">\n'
    '    <td><a href="{% url \'ratings:detail\' rating.pk %}'
    '">{{ rating.product.name }}</a></td>\n'
    '    <td>{{ rating.product_code|default:rating.product.code|default:"—" }}</td>\n'
    '    <td>{{ rating.product.producer.name }}</td>\n'
    '    <td>{{ rating.product.producer.unit.name }}</td>\n'
    '    <td>{% with cs=rating.criteria_set %}{{ cs.set_no|stringformat:"02d" }}'
    ' · {{ cs.name }}<br><span class="small muted">{{ cs.regime.slug }}'
    '</span>{% endwith %}</td>\n'
    '    <td class="num stars" aria-label="{% blocktranslate count stars=rating.stars %}'
    '{{ stars }} star{% plural %}{{ stars }} stars{% endblocktranslate %}'
    '">{{ rating.stars }}★</td>\n'
    '    <td class="num">{% if rating.score is not None %}{{ rating.score }}'
    '{% else %}—{% endif %}</td>\n'
    '    <td>{% if rating.decision_id %}'
    '<a href="{% url \'decisions:detail\' rating.decision_id %}'
    '">{{ rating.decision_number }}</a>{% else %}{{ rating.decision_number }}'
    '{% endif %}'
    '<br><span class="small muted">{{ rating.decision_date|date:"d/m/Y" }}'
    '</span></td>\n'
    '    <td class="date">{{ rating.valid_until|date:"d/m/Y" }}</td>\n'
    '    <td>{% include "dossiers/ratings/_state.html" %}'
    '{% if rating.state == "due" %}'
    '<br><a class="small" href="{% url \'ratings:reevaluate\' rating.pk %}'
    '">{% translate "Re-evaluate" %}</a>{% endif %}</td>\n'
    '  </tr>\n'
    '  {% endfor %}'))


def login(client, user):
    client.force_login(user, backend="ocop.accounts.backends.UserWithRolesBackend")
    return client


def old_rows(user, filters=None):
    """The rows as the template's loop wrote them from the ORM's ratings."""
    filters = filters or {}
    ratings = list(register_order(register_rows(filter_ratings(
        ratings_visible_to(user), filters, timezone.localdate())), filters))
    for rating in ratings:
        rating.criteria_set = criteria_set_of(rating)
    return OLD_LOOP.render(Context({"ratings": ratings}))


def page(user, filters=None, number=None, size=50):
    return rating_rows.register_page(user, filters or {}, number, size, timezone.localdate(),
                                     rating_rows.versions())


def new_rows(user, filters=None):
    return str(rating_rows.rows_html(page(user, filters).object_list))


def page_ids(user, filters=None, number=None, size=50):
    return [row[0] for row in page(user, filters, number, size).object_list]


def count(user, filters=None):
    return page(user, filters).paginator.count


@pytest.fixture
def area(cantho, criteria, make_user):
    """Two ratings issued by the province in the officer's commune and the next one, one
    of them due; a rating without a decision, without a score, whose names and numbers
    need escaping; the department staff and the commune officer."""
    communes = list(current_communes(cantho)[:3])
    staff = make_user("sonn", Role.DEPARTMENT_STAFF, cantho["province"])
    officer = make_user("canbo.xa", Role.LOCAL_OFFICER, communes[0])
    round_ = province_round(cantho)
    fish = recognised(round_, stars=4, score="78.50", unit=communes[0],
                      product_name='Nước mắm <b>"Cá Cơm"</b> & \'Đặc Biệt\'')
    producer = fish.product.producer
    producer.name = "HTX <script>alert('x')</script> & \"Con\""
    producer.save()
    cake = recognised(round_, stars=3, score="62.00", unit=communes[1],
                      product_name="Bánh tráng Thuận Hưng")
    decision = issued(staff, [fish, cake], number=5)
    by_product = {r.product_id: r for r in Rating.objects.filter(decision=decision)}
    fish_rating, cake_rating = by_product[fish.product_id], by_product[cake.product_id]
    Rating.objects.filter(pk=cake_rating.pk).update(state=RatingState.DUE)
    old = factories.dossier(round_, communes[0], set_no=1, product_name="Mắm cá linh")
    Product.objects.filter(pk=old.product_id).update(code="92-<001>-&-2026")
    recorded = Rating.objects.create(
        product=old.product, regime=round_.regime, stars=5, score=None,
        decision_number='12/QĐ-UBND <"&">', decision_date=datetime.date(2024, 5, 2),
        valid_from=datetime.date(2024, 5, 2), valid_until=datetime.date(2027, 5, 1),
        state=RatingState.DUE, verification_code="legacy0000000001", product_code="")
    return {"cantho": cantho, "communes": communes, "staff": staff, "officer": officer,
            "round": round_, "fish": fish_rating, "cake": cake_rating, "recorded": recorded}


_CODES = iter(range(10**6))


def add_ratings(area, n, unit=None, *, start=datetime.date(2025, 1, 1)):
    """``n`` more valid 4★ ratings (one a day from ``start``) in ``unit``."""
    made = []
    for i in range(n):
        dossier = factories.dossier(area["round"], unit or area["communes"][0], set_no=1,
                                    product_name=f"Nước mắm loại {i:03d}")
        day = start + datetime.timedelta(days=i)
        made.append(Rating.objects.create(
            product=dossier.product, regime=area["round"].regime, stars=4,
            score=Decimal("75.00"), decision_number=f"{i}/QĐ-UBND", decision_date=day,
            valid_from=day, valid_until=day + datetime.timedelta(days=1095),
            state=RatingState.VALID, verification_code=f"many{next(_CODES):012d}",
            source_dossier=dossier))
    return made


# --- the rows, byte for byte ------------------------------------------------------------------


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("who", ["staff", "officer"])
def test_the_rows_are_what_the_template_wrote(area, language, who):
    with translation.override(language):
        old, new = old_rows(area[who]), new_rows(area[who])
        kept = new_rows(area[who])  # the page's ids kept: the rows of those ids
    assert new == old and kept == old
    assert new.count("<tr ") == (3 if who == "staff" else 2)


def test_the_rows_show_each_case(area):
    with translation.override("en"):
        html = new_rows(area["staff"])
    fish, cake, recorded = area["fish"], area["cake"], area["recorded"]

    def row(rating):
        start = html.index(f'<tr id="rating-{rating.pk}"')
        return html[start:html.index("</tr>", start)]

    # escaped names, a decision's link, a valid rating without a re-evaluation
    assert ("Nước mắm &lt;b&gt;&quot;Cá Cơm&quot;&lt;/b&gt; &amp; &#x27;Đặc Biệt&#x27;"
            in row(fish))
    assert "HTX &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;Con&quot;" \
        in row(fish)
    assert "<script>" not in html and "<b>" not in html
    assert f'<a href="/decisions/{fish.decision_id}/">' in row(fish)
    assert "/reevaluate/" not in row(fish)
    assert '<td class="num">78.50</td>' in row(fish)
    # due: the re-evaluation's link
    assert f'href="/ratings/{cake.pk}/reevaluate/">Re-evaluate</a>' in row(cake)
    # no decision of this system, no score, the product's code escaped
    assert "12/QĐ-UBND &lt;&quot;&amp;&quot;&gt;<br>" in row(recorded)
    assert "/decisions/" not in row(recorded)
    assert '<td class="num">—</td>' in row(recorded)
    assert "<td>92-&lt;001&gt;-&amp;-2026</td>" in row(recorded)
    assert 'aria-label="5 stars">5★' in row(recorded)
    assert '<td class="date">01/05/2027</td>' in row(recorded)


def test_the_rows_of_the_expiry_order_are_the_templates_too(area):
    filters = {"expiring_within": 3650}
    with translation.override("vi"):
        assert new_rows(area["staff"], filters) == old_rows(area["staff"], filters)


# --- order and pages ---------------------------------------------------------------------------


def test_newest_decision_first_then_the_highest_id(area):
    made = add_ratings(area, 4)
    Rating.objects.filter(pk=made[1].pk).update(decision_date=made[3].decision_date)
    found = page_ids(area["officer"])
    expected = [r.pk for r in Rating.objects.filter(pk__in=[*found]).order_by(
        "-decision_date", "-pk")]
    assert found == expected
    assert found.index(made[3].pk) < found.index(made[1].pk)  # same day: higher id first
    assert found[-1] == area["recorded"].pk  # 2024: the oldest decision


def test_the_expiry_filter_sorts_by_the_end_of_validity_then_the_name(area):
    made = add_ratings(area, 3)
    Rating.objects.filter(pk__in=[r.pk for r in made]).update(
        valid_until=timezone.localdate() + datetime.timedelta(days=30))
    found = page_ids(area["officer"], {"expiring_within": 60})
    names = list(Rating.objects.filter(pk__in=found).order_by(
        "valid_until", "product__name", "pk").values_list("pk", flat=True))
    assert found == names and set(found) == {r.pk for r in made}


@pytest.mark.parametrize("filters", [{}, {"expiring_within": 3650}, {"stars": 4}])
def test_both_ways_of_reading_a_page_agree(area, monkeypatch, filters):
    add_ratings(area, 12)
    add_ratings(area, 5, area["communes"][1])
    user = area["staff"]
    pages = {}
    for way in ("index", "sorted"):
        monkeypatch.setattr(rating_rows, "_way", lambda *args, way=way: way)
        rating_rows._COUNTS.clear()  # read, not kept
        pages[way] = [page_ids(user, filters, n, size=5) for n in (1, 2, 3, 4)]
    assert pages["index"] == pages["sorted"]
    assert sum(len(ids) for ids in pages["index"]) == count(user, filters)


def test_the_way_reads_along_the_index_when_many_match():
    assert rating_rows._way(0, 50, 1_620, 20_000) == "index"  # a commune's first page
    assert rating_rows._way(0, 50, 20_000, 20_000) == "index"  # the province
    assert rating_rows._way(0, 50, 30, 20_000) == "sorted"  # a handful of ratings
    assert rating_rows._way(1_000, 50, 1_620, 20_000) == "sorted"  # deep in a commune


def test_pages(area):
    made = add_ratings(area, 10)
    user = area["officer"]  # 12 ratings: 10, the fish sauce and the recorded one
    first = page(user, number=None, size=5)
    assert first.number == 1 and first.paginator.num_pages == 3 and first.has_next()
    assert page(user, number="abc", size=5).number == 1  # not a number: the first
    assert page(user, number="2", size=5).number == 2
    assert page(user, number="2.5", size=5).number == 1
    assert page(user, number="99", size=5).number == 3  # past the end: the last
    assert page(user, number="0", size=5).number == 3  # as Paginator.get_page
    assert page(user, number="-1", size=5).number == 3
    # today's fish sauce, the ten of 2025 newest first, the recorded one of 2024
    assert page_ids(user, number="3", size=5) == [made[0].pk, area["recorded"].pk]
    everything = [pk for n in (1, 2, 3) for pk in page_ids(user, number=n, size=5)]
    assert sorted(everything) == sorted([r.pk for r in made] + [area["fish"].pk,
                                                                area["recorded"].pk])
    assert len(set(everything)) == 12


def test_no_rating_is_an_empty_first_page(cantho, criteria, make_user):
    officer = make_user("canbo.trong", Role.LOCAL_OFFICER, current_communes(cantho)[2])
    empty = page(officer, number="7")
    assert empty.number == 1 and list(empty.object_list) == [] and empty.paginator.count == 0


def test_the_page_through_the_view_past_the_end_is_the_last(client, area):
    add_ratings(area, 55)
    html = login(client, area["officer"]).get("/ratings/?page=9").content.decode()
    assert html.count('<tr id="rating-') == 7  # 57: 50 + 7
    html = login(client, area["officer"]).get("/ratings/?page=x").content.decode()
    assert html.count('<tr id="rating-') == 50


# --- counts and pages kept per process follow every change --------------------------------------


def test_a_new_rating_shows_at_once(area):
    user = area["officer"]
    before, ids = count(user), page_ids(user)
    assert page_ids(user) == ids  # kept
    (new,) = add_ratings(area, 1, start=timezone.localdate())
    assert count(user) == before + 1
    assert page_ids(user)[0] == new.pk


def test_a_revocation_shows_at_once(area):
    user, fish = area["staff"], area["fish"]
    assert fish.pk in page_ids(user, {"state": "valid"})
    ids = page_ids(user)
    revoked = count(user, {"state": "revoked"})
    # as ``revocations._finish``: the rating saved with its new state
    fish.state = RatingState.REVOKED
    fish.save(update_fields=["state"])
    assert count(user, {"state": "revoked"}) == revoked + 1
    assert fish.pk not in page_ids(user, {"state": "valid"})
    assert page_ids(user) == ids  # still listed, now shown as revoked
    with translation.override("en"):
        html = new_rows(user)
    assert f'<tr id="rating-{fish.pk}"' in html
    assert '<span class="rating-state rating-state-revoked">Revoked</span>' in html


def test_a_producer_moved_to_another_unit_moves_its_ratings_at_once(area):
    officer, staff, fish = area["officer"], area["staff"], area["fish"]
    there = {"area": area["communes"][2]}
    assert fish.pk in page_ids(officer)
    before, there_before = count(officer), count(staff, there)
    producer = fish.product.producer
    producer.unit = area["communes"][2]
    producer.save()
    assert count(officer) == before - 1 and fish.pk not in page_ids(officer)
    assert count(staff, there) == there_before + 1 and fish.pk in page_ids(staff, there)


@pytest.mark.parametrize("filters", [{"state": "due"}, {"expiring_within": 90}])
def test_a_bulk_change_of_states_shows_at_once_for_the_state_filters(area, filters):
    user, fish = area["staff"], area["fish"]
    Rating.objects.filter(pk=fish.pk).update(
        valid_until=timezone.localdate() + datetime.timedelta(days=30))
    before = set(page_ids(user, filters))
    counted = count(user, filters)
    assert page_ids(user, filters) == page_ids(user, filters)
    # as the nightly expiry job: one UPDATE, no signal, no new version
    moved = RatingState.DUE if fish.pk not in before else RatingState.EXPIRED
    Rating.objects.filter(pk=fish.pk).update(state=moved)
    after = set(page_ids(user, filters))
    assert after ^ before == {fish.pk}
    assert count(user, filters) == counted + (1 if fish.pk in after else -1)


def test_kept_pages_cost_one_statement(area, django_assert_num_queries):
    user = area["officer"]
    versions = rating_rows.versions()
    today = timezone.localdate()
    rating_rows.register_page(user, {}, None, 50, today, versions)
    rating_rows.register_page(user, {}, None, 50, today, versions)  # the sets kept too
    with django_assert_num_queries(1):  # the rows of the kept ids
        kept = rating_rows.register_page(user, {}, None, 50, today, versions)
    assert [row[0] for row in kept.object_list] == page_ids(user)
    with django_assert_num_queries(2):  # state filters: the count and the rows
        rating_rows.register_page(user, {"state": "valid"}, None, 50, today, versions)
