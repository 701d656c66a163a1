"""The tracker (page and polled fragment) and the results pages run the same number of
queries whatever the number of council members (3 or 9) and the size of the criteria set
(148 set 25, 26 criteria, or set 09, 32 criteria): the numbers are pinned here.

The whole session is read at once (``councils.results.session_results``: sheets and their
entries in two queries); a criteria set's spec is built once per process and cached
(``scoring.services.sheet_spec``), so each measure follows one warm-up request.

Tracker, chair or secretary, a poll of a session where nothing changed since this process
last rendered it (:data:`TRACKER_QUERIES`, 2; the fragment :data:`FRAGMENT_QUERIES`, 2):
the user with their role assignments (``ocop.accounts.backends``; the session comes from
the cache); the session with its council and, in the same query, one digest of
everything the board shows and the requester's membership (``councils.board
.tracker_session``, a prepared statement; a member sees the session without the scoping
query). The board's fragment is then the one this process kept (``board._FRAGMENTS``).

When something changed (:data:`TRACKER_REBUILD_QUERIES`, 10; ``rebuild=True`` below
forgets the kept fragments): the round with its level; the agenda items with dossier,
product and recorded result; ``councils.board.board_results`` (members, bands,
attendance — the submitted sheets of the quorum too when no attendance is recorded — the
sheets as rows with "anything answered?", recusals); the digest again (a fragment is kept
only under the digest it shows). Only the items whose section changed are rendered again
(``board._SECTIONS``). The choices of the counted sheets are read (one more query) only
when an item's counted sheets changed since this process last evaluated it
(``board._EVALUATIONS``, keyed by sheet versions). The results page adds the permission
checks of its downloads and the minutes' status row (12). Nothing is asked per member, per
criterion or per agenda item — nor per capped item (the capping criteria are named from
the per-process criteria tree).
"""

import re

import pytest
from django.test import Client
from django.urls import reverse

from scoring.loader import DATA_DIR, load_criteria_files
from tests.councils import build, meet, pick, quick_sheet

pytestmark = pytest.mark.django_db

#: Pinned query counts (see the module docstring).
TRACKER_QUERIES = 2
FRAGMENT_QUERIES = 2
SECRETARY_TRACKER_QUERIES = 2
TRACKER_REBUILD_QUERIES = 10
FRAGMENT_REBUILD_QUERIES = 10
RESULTS_QUERIES = 12


def forget_fragments():
    """The next tracker request builds its board again (as after any change)."""
    from councils import board

    board._FRAGMENTS.clear()
    board._SECTIONS.clear()


@pytest.fixture
def set_25(criteria):
    load_criteria_files([DATA_DIR / "148" / "25-dong-vat-canh.yaml"])


def world_with(cantho, make_user, *, n_members, set_no, prefix):
    world = build(cantho, make_user, n_members=n_members, set_no=set_no, prefix=prefix)
    cs = world.dossier.criteria_set
    best = pick(cs, 100, stars=5)
    for member in world.members:
        quick_sheet(world.session, world.dossier, member, best)
    meet(world)  # everybody present and submitted: aggregates and totals are shown
    return world


def measure(django_assert_num_queries, user, address, expected, *, rebuild=False):
    client = Client(headers={"accept-language": "en"})
    client.force_login(user, backend="ocop.accounts.backends.UserWithRolesBackend")
    warm = client.get(address)
    assert warm.status_code == 200
    if rebuild:
        forget_fragments()
    with django_assert_num_queries(expected):
        response = client.get(address)
    assert response.status_code == 200
    return response.content.decode()


def _without_tokens(html):
    """The page without its CSRF tokens (a new mask on every response)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


CASES = [(3, 9, "a"), (9, 9, "b"), (3, 25, "c"), (9, 25, "d")]


@pytest.mark.parametrize(("n_members", "set_no", "prefix"), CASES)
def test_tracker_page_query_count_is_constant(
        client, cantho, make_user, set_25, django_assert_num_queries, n_members, set_no,
        prefix):
    world = world_with(cantho, make_user, n_members=n_members, set_no=set_no, prefix=prefix)
    address = reverse("councils:tracker", args=[world.session.pk])

    html = measure(django_assert_num_queries, world.chair.user, address, TRACKER_QUERIES)
    rebuilt = measure(django_assert_num_queries, world.chair.user, address,
                      TRACKER_REBUILD_QUERIES, rebuild=True)

    assert html.count('data-state="submitted"') == n_members
    assert "<strong>100.00</strong>" in html
    assert _without_tokens(rebuilt) == _without_tokens(html)


@pytest.mark.parametrize(("n_members", "set_no", "prefix"), CASES)
def test_tracker_fragment_query_count_is_constant(
        client, cantho, make_user, set_25, django_assert_num_queries, n_members, set_no,
        prefix):
    world = world_with(cantho, make_user, n_members=n_members, set_no=set_no, prefix=prefix)
    address = reverse("councils:tracker-live", args=[world.session.pk])

    html = measure(django_assert_num_queries, world.chair.user, address, FRAGMENT_QUERIES)
    rebuilt = measure(django_assert_num_queries, world.chair.user, address,
                      FRAGMENT_REBUILD_QUERIES, rebuild=True)

    assert html.count('data-state="submitted"') == n_members
    assert _without_tokens(rebuilt) == _without_tokens(html)


@pytest.mark.parametrize(("n_members", "set_no", "prefix"), CASES[::3])
def test_secretary_tracker_query_count_is_constant(
        client, cantho, make_user, set_25, django_assert_num_queries, n_members, set_no,
        prefix):
    world = world_with(cantho, make_user, n_members=n_members, set_no=set_no, prefix=prefix)
    address = reverse("councils:tracker", args=[world.session.pk])

    html = measure(django_assert_num_queries, world.secretary.user, address,
                   SECRETARY_TRACKER_QUERIES)

    assert "<strong>100.00</strong>" in html


@pytest.mark.parametrize(("n_members", "set_no", "prefix"), CASES[::3])
def test_session_results_query_count_is_constant(
        client, cantho, make_user, set_25, django_assert_num_queries, n_members, set_no,
        prefix):
    world = world_with(cantho, make_user, n_members=n_members, set_no=set_no, prefix=prefix)
    address = reverse("councils:session-results", args=[world.session.pk])

    html = measure(django_assert_num_queries, world.chair.user, address, RESULTS_QUERIES)

    assert "100.00" in html
