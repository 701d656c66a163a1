"""The recognition decisions page's rows and counts, read as plain rows and written in
Python (``dossiers/decision_rows.py``): the rows are the template's bytes, the counts are
the querysets' counts, the page follows ``Paginator.get_page`` and each user sees what
``recognition_decisions_visible_to`` gives them."""

import pytest
from django.core.paginator import Paginator
from django.db.models import Count
from django.template import Context, Template
from django.utils import translation

from dossiers import decision_rows, decisions, forwarding
from dossiers.models import Decision, DecisionState
from dossiers.queries import dossiers_visible_to, recognition_decisions_visible_to
from tests.dossiers.recognition import issued, recognised
from tests.dossiers.test_decision_pages import world  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

#: the rows as ``decisions/list.html`` wrote them before (its loops, verbatim)
OLD_DRAFTS = Template(
    '{% load i18n %}{% for d in drafts %}\n'
    '    <tr id="decision-{{ d.pk }}"><td><a href="{% url \'decisions:detail\' d.pk %}">'
    '{{ d.subject|truncatechars:90 }}</a>{% if d.replaces_id %}<br><span class="small muted">'
    '{% translate "correction" %}</span>{% endif %}</td>\n'
    '      <td>{{ d.issuer_name }}</td><td>{{ d.lines }}</td><td class="date">'
    '{{ d.created_at|date:"d/m/Y" }}</td></tr>\n'
    '    {% endfor %}')
OLD_ISSUED = Template(
    '{% load i18n %}{% for d in page.object_list %}\n'
    '    <tr id="decision-{{ d.pk }}"><td><a href="{% url \'decisions:detail\' d.pk %}">'
    '{{ d.reference }}</a></td>\n'
    '      <td class="date">{{ d.date|date:"d/m/Y" }}</td><td>{{ d.issuer_name }}</td>'
    '<td>{{ d.lines }}</td>\n'
    '      <td><span class="state state-{{ d.state }}">{{ d.get_state_display }}</span>'
    '{% if d.origin == "recorded" %} <span class="small muted">{% translate "recorded" %}'
    '</span>{% endif %}</td></tr>\n'
    '    {% endfor %}')


def old_way(user, size=50):
    visible = recognition_decisions_visible_to(user).annotate(lines=Count("items"))
    drafts = list(visible.filter(state=DecisionState.DRAFT).order_by("-created_at")[:100])
    page = Paginator(visible.exclude(state=DecisionState.DRAFT)
                     .order_by("-date", "-number", "-id"), size).get_page(1)
    return (OLD_DRAFTS.render(Context({"drafts": drafts})),
            OLD_ISSUED.render(Context({"page": page})))


def new_way(user, number=1, size=50):
    drafts, page, pending, forwarded = decision_rows.decision_page(user, number, size)
    return decision_rows.drafts_html(drafts), decision_rows.issued_html(page.object_list), \
        page, pending, forwarded


@pytest.mark.parametrize("language", ["vi", "en"])
def test_rows_are_the_templates_bytes_with_escaping(world, language):  # noqa: F811
    done = issued(world["staff"], [world["a"]], number=1)
    Decision.objects.filter(pk=done.pk).update(
        issuer_name='UBND <b>"Cần Thơ"</b> & co', origin="recorded")
    recorded = issued(world["staff"], [recognised(world["round"], unit=world["commune"])],
                      number=2)
    draft = decisions.draft_decision(world["staff"], [world["b"]])
    Decision.objects.filter(pk=draft.pk).update(
        subject="Về việc <script>x</script> & " + "công nhận " * 20, replaces=recorded)
    with translation.override(language):
        for user in (world["staff"], world["officer"], world["outsider"]):
            old_drafts, old_issued = old_way(user)
            drafts, rows, *_ = new_way(user)
            assert (drafts, rows) == (old_drafts, old_issued)
        drafts, rows, *_ = new_way(world["staff"])
    assert "&lt;script&gt;" in drafts and "<script>" not in drafts
    assert "&lt;b&gt;&quot;Cần Thơ&quot;&lt;/b&gt; &amp; co" in rows
    assert f'id="decision-{done.pk}"' in rows and f'id="decision-{recorded.pk}"' in rows


def test_counts_and_visibility_owner_colleague_outsider(world):  # noqa: F811
    done = issued(world["staff"], [world["a"]], number=1)
    decisions.draft_decision(world["staff"], [world["b"]])
    recognised(world["round"], stars=5, unit=world["commune"])  # waiting for a decision
    foreign = issued(world["outsider"], [world["foreign"]], number=1)
    for user in (world["staff"], world["officer"], world["outsider"]):
        drafts, page, pending, forwarded = decision_rows.decision_page(user, 1, 50)
        assert pending == decisions.pending_results(user).count()
        assert forwarded == forwarding.awaiting_round(dossiers_visible_to(user)).count()
        visible = recognition_decisions_visible_to(user)
        assert {row[0] for row in page.object_list} == set(
            visible.exclude(state=DecisionState.DRAFT).values_list("pk", flat=True))
        assert {row[0] for row in drafts} == set(
            visible.filter(state=DecisionState.DRAFT).values_list("pk", flat=True))
    _drafts, page, pending, _forwarded = decision_rows.decision_page(world["staff"], 1, 50)
    # b is on the draft: only the 5★ result waits
    assert [row[0] for row in page.object_list] == [done.pk] and pending == 1
    drafts, page, pending, _forwarded = decision_rows.decision_page(world["officer"], 1, 50)
    # the colleague reads the province's issued decision on their commune, not its draft
    assert [row[0] for row in page.object_list] == [done.pk] and drafts == []
    drafts, page, pending, _forwarded = decision_rows.decision_page(world["outsider"], 1,
                                                                     50)
    assert [row[0] for row in page.object_list] == [foreign.pk] and pending == 0


def test_pages_follow_get_page(world):  # noqa: F811
    made = [issued(world["staff"], [recognised(world["round"], unit=world["commune"])],
                   number=n) for n in range(1, 4)]
    order = [d.pk for d in sorted(made, key=lambda d: (d.date, d.number, d.pk), reverse=True)]
    for number, expected in (("1", 1), ("2", 2), ("9", 3), ("x", 1), (None, 1), ("-1", 3)):
        *_, page, _pending, _forwarded = new_way(world["staff"], number, size=1)
        assert page.number == expected and page.paginator.num_pages == 3
        assert [row[0] for row in page.object_list] == [order[expected - 1]]


def test_the_page_shows_the_rows_and_counts(client, world):  # noqa: F811
    done = issued(world["staff"], [world["a"]], number=1)
    client.force_login(world["staff"])
    html = client.get("/decisions/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'<tr id="decision-{done.pk}"><td><a href="/decisions/{done.pk}/">' in html
    assert "1 result waiting for a decision" in html
    client.force_login(world["outsider"])
    html = client.get("/decisions/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'id="decision-{done.pk}"' not in html


def test_the_portable_page_of_make_run_gives_the_same_values(world, monkeypatch):  # noqa: F811
    """The embedded SQLite of ``make run`` reads the page through the ORM
    (``decision_rows._portable_page``): the same drafts, rows, numbering and counts."""
    from django.db import connection

    issued(world["staff"], [world["a"]], number=1)
    decisions.draft_decision(world["staff"], [world["b"]])
    recognised(world["round"], stars=5, unit=world["commune"])
    for user in (world["staff"], world["officer"], world["outsider"]):
        for number in ("1", "2", "x"):
            fast = decision_rows.decision_page(user, number, 1)
            with monkeypatch.context() as patched:
                patched.setattr(connection, "vendor", "sqlite")
                portable = decision_rows.decision_page(user, number, 1)
            assert [tuple(row) for row in portable[0]] == [tuple(row) for row in fast[0]]
            assert portable[1].number == fast[1].number
            assert portable[1].paginator.count == fast[1].paginator.count
            assert list(portable[1].object_list) == list(fast[1].object_list)
            assert portable[2:] == fast[2:]
