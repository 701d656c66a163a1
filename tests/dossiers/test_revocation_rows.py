"""The revocations page's rows and counts, read as plain rows and written in Python
(``dossiers/revocation_rows.py``): the rows are the template's bytes (with the deadline
partial), the counts are the old page's, the page follows ``Paginator.get_page`` and each
user sees what ``revocations_visible_to`` gives them."""

import datetime

import pytest
from django.core.paginator import Paginator
from django.template import Context, Template
from django.utils import timezone, translation

from dossiers import inspections, revocation_rows, revocations
from dossiers.inspection_views import _annotate_deadlines
from dossiers.models import Producer, Revocation
from dossiers.queries import revocations_visible_to
from tests.dossiers.test_revocations import _media, opened, world  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

#: the rows as ``inspections/revocations.html`` wrote them before (its loop, verbatim)
OLD = Template(
    '{% for r in page.object_list %}\n'
    '    <tr id="revocation-{{ r.pk }}"{% if r.late %} class="overdue"{% endif %}><td><a '
    'href="{% url \'inspections:revocation\' r.pk %}">{{ r.rating.product.name }}</a> · '
    '{{ r.rating.stars }}★<br><span class="small muted">{{ r.rating.product.producer.name }}'
    '</span></td>\n'
    '      <td>{{ r.get_ground_display }}</td><td class="date">'
    '{{ r.conclusion_date|date:"d/m/Y" }}</td>\n'
    '      <td>{% include "dossiers/inspections/_deadline.html" with deadline=r.deadline '
    'days_left=r.days_left days_overdue=r.days_overdue late=r.late done=r.decision_id %}'
    '</td>\n'
    '      <td><span class="state state-{{ r.state }}" data-state="{{ r.state }}">'
    '{{ r.get_state_display }}</span></td>\n'
    '      <td>{% if r.decision %}{{ r.decision.reference }} <span class="small muted">'
    '{{ r.decision.date|date:"d/m/Y" }}</span>{% else %}—{% endif %}</td></tr>\n'
    '    {% endfor %}')


def old_rows(user, today):
    rows = (revocations_visible_to(user).select_related("rating__product__producer__unit",
                                                        "decision")
            .order_by("state", "deadline", "-id"))
    page = Paginator(rows, 50).get_page(1)
    page.object_list = _annotate_deadlines(list(page.object_list), today)
    return OLD.render(Context({"page": page}))


@pytest.mark.parametrize(("language", "decided"), [
    ("vi", None), ("en", None),
    ("vi", datetime.date(2026, 12, 3)), ("en", "today")])
def test_rows_are_the_templates_bytes(world, language, decided,  # noqa: F811
                                      django_capture_on_commit_callbacks):
    first = opened(world)
    if decided:  # on time (deadline 05/12/2026) or late: "decided late", no days left
        with django_capture_on_commit_callbacks(execute=True):
            revocations.issue_revocation(
                world["staff"], first, signer_name="Trần Văn Ký",
                date=timezone.localdate() if decided == "today" else decided)
    Producer.objects.filter(products__ratings__pk=first.rating_id).update(
        name='HTX <b>"Cá"</b> & co')
    second = revocations.open_revocation(
        world["staff"], world["cake"], ground="dd", conclusion_reference="Biên bản số 3",
        conclusion_date=datetime.date(2026, 12, 1))
    Revocation.objects.filter(pk=second.pk).update(deadline=None)
    with translation.override(language):
        for today in (timezone.localdate(), datetime.date(2026, 11, 30),
                      datetime.date(2026, 12, 5)):
            for user in (world["staff"], world["colleague"], world["outsider"]):
                page, _pending = revocation_rows.revocation_page(user, 1, 50)
                assert revocation_rows.rows_html(page.object_list, today) == \
                    old_rows(user, today)
    page, _pending = revocation_rows.revocation_page(world["staff"], 1, 50)
    html = revocation_rows.rows_html(page.object_list, timezone.localdate())
    assert "HTX &lt;b&gt;&quot;Cá&quot;&lt;/b&gt; &amp; co" in html and "<b>" not in html
    if decided:
        first.refresh_from_db()
        assert first.decision.reference in html


def test_counts_visibility_and_pages(world):  # noqa: F811
    inspections_ = inspections.pending_revocations
    opened(world)
    revocations.open_revocation(world["staff"], world["cake"], ground="dd",
                                conclusion_reference="Biên bản số 3",
                                conclusion_date=datetime.date(2026, 12, 1))
    for user in (world["staff"], world["colleague"], world["outsider"]):
        page, pending = revocation_rows.revocation_page(user, 1, 50)
        assert pending == len(inspections_(user))
        assert [row[0] for row in page.object_list] == list(
            revocations_visible_to(user).order_by("state", "deadline", "-id")
            .values_list("pk", flat=True))
    assert revocation_rows.revocation_page(world["outsider"], 1, 50)[0].object_list == []
    order = list(revocations_visible_to(world["staff"]).order_by("state", "deadline", "-id")
                 .values_list("pk", flat=True))
    assert len(order) == 2
    for number, expected in (("1", 1), ("2", 2), ("7", 2), ("x", 1), (None, 1)):
        page, _pending = revocation_rows.revocation_page(world["staff"], number, 1)
        assert page.number == expected and page.paginator.num_pages == 2
        assert [row[0] for row in page.object_list] == [order[expected - 1]]


def test_the_portable_page_of_make_run_gives_the_same_values(world, monkeypatch):  # noqa: F811
    """The embedded SQLite of ``make run`` reads the page through the ORM
    (``revocation_rows._portable_page``): the same rows, numbering and count."""
    from django.db import connection

    opened(world)
    revocations.open_revocation(world["staff"], world["cake"], ground="dd",
                                conclusion_reference="Biên bản số 3",
                                conclusion_date=datetime.date(2026, 12, 1))
    for user in (world["staff"], world["colleague"], world["outsider"]):
        for number in ("1", "2", "7", "x"):
            fast = revocation_rows.revocation_page(user, number, 1)
            with monkeypatch.context() as patched:
                patched.setattr(connection, "vendor", "sqlite")
                portable = revocation_rows.revocation_page(user, number, 1)
            assert (portable[0].number, portable[0].paginator.count, portable[1]) == (
                fast[0].number, fast[0].paginator.count, fast[1])
            assert list(portable[0].object_list) == list(fast[0].object_list)
