"""The councils' part of the home page (councils/home.py): a member's open sessions with
their own progress and the links to their scoresheets, the chair's and secretary's
sessions to run with the tracker, results and minutes, the sessions a manager sets up;
the "no role" message only for accounts with nothing; query counts pinned."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from councils.models import Recusal, SessionState
from ocop.accounts.models import Role
from scoring.models import SheetState
from tests import factories
from tests.councils import build, criteria_of, options_of, quick_sheet

pytestmark = pytest.mark.django_db

NO_ROLE = "Your account has no role yet"


def client_for(user):
    client = Client(headers={"accept-language": "en"})
    client.force_login(user, backend="ocop.accounts.backends.UserWithRolesBackend")
    return client


def home(user):
    response = client_for(user).get("/")
    assert response.status_code == 200
    return response.content.decode()


def url(name, *args):
    return reverse(f"councils:{name}", args=args)


def section(html, panel):
    match = re.search(rf'<section class="panel" id="{panel}">(.*?)</section>', html, re.S)
    return match.group(1) if match else ""


def partial_sheet(world, member, dossier, answered, state=SheetState.DRAFT):
    """A sheet of ``member`` with the first ``answered`` criteria answered (lowest option)."""
    cs = dossier.criteria_set
    options = options_of(cs)
    chosen = {c.pk: options[c.pk][0] for c in criteria_of(cs)[:answered]}
    return quick_sheet(world.session, dossier, member, chosen, state=state)


@pytest.fixture
def world(cantho, make_user, criteria):
    return build(cantho, make_user, n_members=3, n_dossiers=2, session_state="open")


def test_member_sees_open_session_with_own_progress_and_sheet_links(world):
    member = world.members[1]
    first, second = world.dossiers
    partial_sheet(world, member, first, 5)
    total = len(criteria_of(first.criteria_set))  # 32 criteria in 148 set 09

    html = home(member.user)
    panel = section(html, "panel-member")

    assert NO_ROLE not in html
    assert f'data-session="{world.session.pk}"' in panel
    assert f"5/{total} criteria answered" in panel
    assert f"0/{total} criteria answered" in panel  # second item, no sheet yet
    assert "0 of 2 scoresheets submitted" in panel
    assert f'href="{url("sheet", world.session.pk, first.pk)}">Continue scoring' in panel
    assert f'href="{url("sheet", world.session.pk, second.pk)}">Start scoring' in panel
    assert f'href="{url("member-agenda", world.session.pk)}"' in panel
    # a plain member runs nothing
    assert 'id="panel-chair"' not in html
    assert url("tracker", world.session.pk) not in html


def test_member_progress_counts_submitted_and_recused(world):
    member = world.members[1]
    first, second = world.dossiers
    total = len(criteria_of(first.criteria_set))
    partial_sheet(world, member, first, total, state=SheetState.SUBMITTED)
    Recusal.objects.create(session=world.session, member=member, dossier=second,
                           reason="Người thân", recorded_by=member.user)

    panel = section(home(member.user), "panel-member")

    assert "1 of 1 scoresheets submitted" in panel
    assert f"{total}/{total} criteria answered" in panel
    assert "Scoresheet submitted" in panel
    assert "recused" in panel
    assert url("sheet", world.session.pk, second.pk) not in panel


def test_member_does_not_see_sessions_not_open_or_of_other_councils(world, cantho,
                                                                   make_user):
    other = build(cantho, make_user, n_members=3, prefix="x", unit="phongdien")
    preparing = factories.session(world.council, world.round, world.dossiers[:1],
                                  state=SessionState.PREPARING)
    member = world.members[1]

    panel = section(home(member.user), "panel-member")

    assert f'data-session="{world.session.pk}"' in panel
    assert f'data-session="{preparing.pk}"' not in panel
    assert f'data-session="{other.session.pk}"' not in panel


def test_member_with_no_open_session_is_told_so_not_that_they_have_no_role(world):
    world.session.state = SessionState.CLOSED
    world.session.save(update_fields=["state"])

    html = home(world.members[1].user)

    assert NO_ROLE not in html
    assert "No session is open for scoring." in section(html, "panel-member")
    assert f'href="{url("my-sessions")}"' in html


def test_chair_sees_sessions_to_run_with_tracker_and_results(world):
    closed = factories.session(world.council, world.round, state=SessionState.CLOSED)

    html = home(world.chair.user)
    panel = section(html, "panel-chair")

    assert f'href="{url("tracker", world.session.pk)}"' in panel
    assert f'href="{url("session-results", world.session.pk)}"' in panel
    assert "Chair" in panel
    # the closed session: results and minutes, no tracker
    assert f'href="{url("session-results", closed.pk)}"' in panel
    assert f'href="{url("minutes-download", closed.pk)}"' in panel
    assert url("tracker", closed.pk) not in panel
    # the chair scores too
    assert f'data-session="{world.session.pk}"' in section(html, "panel-member")


def test_secretary_runs_sessions_but_has_no_scoresheet(world):
    html = home(world.secretary.user)

    assert f'href="{url("tracker", world.session.pk)}"' in section(html, "panel-chair")
    assert url("sheet", world.session.pk, world.dossier.pk) not in html
    assert "No session is open for scoring." in section(html, "panel-member")
    assert NO_ROLE not in html


def test_chair_of_another_council_sees_nothing_of_this_one(world, cantho, make_user):
    other = build(cantho, make_user, n_members=3, prefix="x", unit="phongdien")

    html = home(other.chair.user)

    assert f'data-session="{other.session.pk}"' in section(html, "panel-chair")
    assert f'data-session="{world.session.pk}"' not in html


def test_department_staff_sees_sessions_to_set_up(world):
    preparing = factories.session(world.council, world.round, state=SessionState.PREPARING)
    closed = factories.session(world.council, world.round, state=SessionState.CLOSED)

    html = home(world.staff)
    panel = section(html, "panel-sessions")

    assert f'href="{url("session-detail", preparing.pk)}">Set up the session' in panel
    assert f'href="{url("tracker", world.session.pk)}"' in panel
    assert f'data-session="{closed.pk}"' not in panel
    assert f'href="{url("session-list")}"' in panel
    assert 'id="panel-member"' not in html  # no council seat


def test_district_officer_manages_own_district_sessions_only(world, cantho, make_user):
    own = make_user("cb-nk", Role.LOCAL_OFFICER, cantho["ninhkieu"])
    other = make_user("cb-pd", Role.LOCAL_OFFICER, cantho["phongdien"])

    assert f'data-session="{world.session.pk}"' in section(home(own), "panel-sessions")
    other_panel = section(home(other), "panel-sessions")
    assert "No session to set up." in other_panel
    assert f'data-session="{world.session.pk}"' not in other_panel


def test_no_role_message_only_for_accounts_with_nothing(db, make_user, world):
    nobody = make_user("nobody")

    html = home(nobody)

    assert NO_ROLE in html
    assert 'id="panel-member"' not in html and 'id="panel-sessions"' not in html


# --- query counts ----------------------------------------------------------------------------

#: Pinned query counts of the home page, the same with one session and with many: the
#: user with their role assignments (1: ``ocop.accounts.backends``; the session comes from
#: the cache), then the councils panel — memberships; for a
#: scoring seat the open sessions, their agenda items (with the criteria count), the
#: member's sheets (with the answered count) and recusals; for a chair, vice-chair or
#: secretary the sessions to run and the last closed ones. Department staff and officers
#: add the dossier panels (``dossiers/home.py``) and the managed sessions (one query); the
#: provinces a current province absorbed are reference data, read by the warm-up and cached
#: since (``ocop/versioned_cache.py``).
HOME_QUERIES = {"chair": 8, "member": 6, "secretary": 4, "staff": 15, "officer": 14}


def measure(django_assert_num_queries, user, expected):
    client = client_for(user)
    assert client.get("/").status_code == 200  # warm-up
    with django_assert_num_queries(expected):
        response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def grow(world, n):
    """``n`` more open sessions of the world's council, each with two items and a sheet
    of every scoring member, plus closed ones."""
    for _ in range(n):
        session = factories.session(world.council, world.round, world.dossiers)
        for member in world.members:
            quick_sheet(session, world.dossiers[0], member, {})
        factories.session(world.council, world.round, state=SessionState.CLOSED)


@pytest.mark.parametrize("who", ["chair", "member", "secretary"])
def test_member_home_query_count_is_constant(world, django_assert_num_queries, who):
    user = {"chair": world.chair.user, "member": world.members[1].user,
            "secretary": world.secretary.user}[who]
    measure(django_assert_num_queries, user, HOME_QUERIES[who])
    grow(world, 4)
    html = measure(django_assert_num_queries, user, HOME_QUERIES[who])
    assert html.count("data-session=") >= 5


@pytest.mark.parametrize("role", ["staff", "officer"])
def test_manager_home_query_count_is_constant(world, cantho, make_user,
                                              django_assert_num_queries, role):
    user = (world.staff if role == "staff"
            else make_user("cb-nk", Role.LOCAL_OFFICER, cantho["ninhkieu"]))
    measure(django_assert_num_queries, user, HOME_QUERIES[role])
    grow(world, 4)
    html = measure(django_assert_num_queries, user, HOME_QUERIES[role])
    assert section(html, "panel-sessions").count("data-session=") == 5
