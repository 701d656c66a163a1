"""The tracker's read model (``councils.board.board_results``, issue #14): sheets read as
rows, the evaluation of an item kept per process while its counted sheets keep their
versions, the rendered board kept per process while the digest of what it shows
(``councils.board.board_version``) stays the same. A poll after a member re-scored shows
the new figures (one more query: the choices of the changed item); so do polls after a
saved choice, a recusal, the attendance; capped items add no query; the HTML is what the
template printed before (members' rows and totals built in Python); a kept board carries
each response's own CSRF token, and each viewer's own board."""

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from councils import services
from councils.results import session_board
from scoring import services as scoring
from scoring.models import Criterion, Scoresheet
from tests.councils import build, meet, options_of, pick, quick_sheet
from tests.councils.test_tracker_queries import (
    FRAGMENT_QUERIES,
    TRACKER_REBUILD_QUERIES,
    forget_fragments,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("criteria")]


def _client(user):
    client = Client(headers={"accept-language": "en"})
    client.force_login(user, backend="ocop.accounts.backends.UserWithRolesBackend")
    return client


def _world(cantho, make_user, *, n_dossiers=1, below=(), stars=3, prefix="sp"):
    world = build(cantho, make_user, n_members=3, set_no=9, n_dossiers=n_dossiers,
                  prefix=prefix)
    chosen = pick(world.dossier.criteria_set, 90, stars=stars, below=below)
    for dossier in world.dossiers:
        for member in world.members:
            quick_sheet(world.session, dossier, member, chosen)
    meet(world)
    return world


def _figures(board_results):
    """Per item: the counted members' totals and the evaluation's mean total."""
    return {dossier_id: ([str(m.total) for m in result.counted],
                         str(result.evaluation.mean.total) if result.evaluation else None,
                         [line.code for line in result.cap_lines])
            for dossier_id, result in board_results.items()}


def test_board_results_equal_the_session_board(cantho, make_user):
    from councils.board import board_results

    world = _world(cantho, make_user, n_dossiers=2)
    items = list(world.session.agenda.select_related("dossier__criteria_set")
                 .order_by("order", "id"))

    fast, fast_quorum = board_results(world.session, items)
    slow, slow_quorum = session_board(world.session)

    assert _figures(fast) == _figures(slow)
    assert [[s.status for s in r.statuses] for r in fast.values()] == \
        [[s.status for s in r.statuses] for r in slow.values()]
    assert fast_quorum == slow_quorum


def test_poll_after_a_member_rescored_shows_the_new_totals(
        cantho, make_user, django_assert_max_num_queries):
    world = _world(cantho, make_user)
    chair, member = world.members[0], world.members[2]
    address = reverse("councils:tracker", args=[world.session.pk])
    client = _client(chair.user)
    before = client.get(address).content.decode()
    assert "<strong>90.00</strong>" in before

    sheet = Scoresheet.objects.get(session=world.session, member=member)
    sheet = services.reopen_sheet(chair.user, sheet, "Chấm lại tiêu chí 1")
    sheet = Scoresheet.objects.get(pk=sheet.pk)
    criterion = Criterion.objects.filter(criteria_set=sheet.criteria_set).order_by(
        "order").first()
    current = sheet.entries.get(criterion=criterion).option
    lower = [o for o in options_of(sheet.criteria_set)[criterion.pk] if o.points < current.points]
    if not lower:
        pytest.skip("the first criterion's chosen option is already the lowest")
    sheet = scoring.save_entry(sheet, member.user, criterion_id=criterion.pk,
                               option_id=lower[0].pk, version=sheet.version)
    scoring.submit_sheet(sheet, member.user)
    drop = current.points - lower[0].points

    with django_assert_max_num_queries(TRACKER_REBUILD_QUERIES + 1):
        after = client.get(address).content.decode()

    mean = (Decimal(90) * 2 + Decimal(90) - drop) / 3
    assert f"<strong>{mean.quantize(Decimal('0.01'))}</strong>" in after
    assert "<strong>90.00</strong>" not in after


def test_capped_items_add_no_query(cantho, make_user, django_assert_num_queries):
    """90 points meet the 5-star band, the choices only the 4-star marks: every item is
    capped, and naming its capping criteria asks nothing per item."""
    world = _world(cantho, make_user, n_dossiers=3, stars=4, prefix="cap")
    address = reverse("councils:tracker", args=[world.session.pk])
    client = _client(world.chair.user)
    client.get(address)  # warms the per-process caches
    forget_fragments()  # the board is built again, its evaluations kept

    with django_assert_num_queries(TRACKER_REBUILD_QUERIES):
        html = client.get(address).content.decode()

    items = html.split('class="panel board-item"')[1:]
    assert len(items) == 3
    assert all(re.search(r'data-cap="[^"]+"', item) for item in items)


def test_poll_of_an_unchanged_session_reads_the_digest_only(
        cantho, make_user, django_assert_num_queries):
    world = _world(cantho, make_user, prefix="hit")
    address = reverse("councils:tracker-live", args=[world.session.pk])
    client = _client(world.chair.user)
    first = client.get(address).content.decode()

    with django_assert_num_queries(FRAGMENT_QUERIES):
        second = client.get(address).content.decode()

    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
    assert strip.sub("", first) == strip.sub("", second)
    assert "<strong>90.00</strong>" in second


def test_kept_board_carries_a_working_csrf_token(cantho, make_user):
    from councils.board import CSRF_SLOT

    world = _world(cantho, make_user, prefix="tok")
    address = reverse("councils:tracker", args=[world.session.pk])
    client = Client(headers={"accept-language": "en"}, enforce_csrf_checks=True)
    client.force_login(world.chair.user, backend="ocop.accounts.backends.UserWithRolesBackend")
    client.get(address)
    html = client.get(address).content.decode()  # the kept board
    assert CSRF_SLOT not in html
    action = reverse("councils:close-item", args=[world.session.pk, world.dossier.pk])
    found = re.search(re.escape(f'action="{action}"') + r'[^>]*>\s*<input type="hidden" '
                      r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert found, "the close form of the item is on the page, with its token"
    token = found.group(1)

    response = client.post(action, {"csrfmiddlewaretoken": token, "statement": ""})

    assert response.status_code == 302
    assert world.session.agenda.get(dossier=world.dossier).closed_at is not None


def test_poll_shows_a_saved_choice_a_recusal_and_the_attendance(cantho, make_user):
    world = _world(cantho, make_user, n_dossiers=2, prefix="chg")
    address = reverse("councils:tracker-live", args=[world.session.pk])
    client = _client(world.chair.user)
    member = world.members[2]
    other = world.dossiers[1]
    assert client.get(address).content.decode().count('data-state="submitted"') == 6

    sheet = Scoresheet.objects.get(session=world.session, member=member, dossier=other)
    services.reopen_sheet(world.chair.user, sheet, "Chấm lại")
    html = client.get(address).content.decode()
    assert html.count('data-state="submitted"') == 5
    assert html.count('data-state="reopened"') == 1

    from councils.models import Attendance, Recusal

    assert "3 present" in html
    Attendance.objects.filter(session=world.session, member=member).update(present=False)
    absent = client.get(address).content.decode()
    assert "2 present" in absent

    Recusal.objects.create(session=world.session, member=world.members[1], dossier=other,
                           reason="Người thân của chủ thể",
                           recorded_by=world.members[1].user)
    recused = client.get(address).content.decode()
    assert recused.count('data-state="recused"') == 1
    assert "Người thân của chủ thể" in recused


def test_without_a_digest_the_board_is_built_on_every_request(cantho, make_user,
                                                              monkeypatch):
    """Where the database cannot digest the session (SQLite, ``make run``) nothing is
    kept: every poll shows the current state."""
    from types import SimpleNamespace

    from councils import board

    monkeypatch.setattr(board, "connection", SimpleNamespace(vendor="sqlite"))
    world = _world(cantho, make_user, prefix="lite")
    address = reverse("councils:tracker-live", args=[world.session.pk])
    client = _client(world.chair.user)
    assert client.get(address).content.decode().count('data-state="submitted"') == 3

    sheet = Scoresheet.objects.get(session=world.session, member=world.members[2])
    services.reopen_sheet(world.chair.user, sheet, "Chấm lại")

    html = client.get(address).content.decode()
    assert html.count('data-state="submitted"') == 2
    assert not board._FRAGMENTS.data or all(key[0] != world.session.pk
                                            for key in board._FRAGMENTS.data)
