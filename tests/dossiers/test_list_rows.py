"""The dossier list's rows, read as plain rows and written in Python
(``dossiers/list_rows.py``, issue #14): every cell says what the template said, values are
escaped, the order of the page is kept, and a dossier read through a council (another
area's round, outside the filter's choices) is shown like any other."""

import datetime

import pytest
from django.utils import translation
from django.utils.translation import gettext

from dossiers import list_rows
from dossiers.list_rows import list_page, rows_html
from ocop.accounts.models import Role
from tests import factories
from tests.i18n import vi

pytestmark = pytest.mark.django_db

#: era_148 runs on 10/06/2024
PAST = datetime.date(2024, 6, 3)
FUTURE = datetime.date(2024, 6, 28)


def login(client, user):
    client.force_login(user, backend="ocop.accounts.backends.UserWithRolesBackend")
    return client


def row_of(html, dossier):
    start = html.index(f'<tr id="dossier-{dossier.pk}"')
    return html[start:html.index("</tr>", start)]


@pytest.fixture
def area(cantho, criteria, make_user, era_148):
    return {
        "round": factories.evaluation_round(cantho["ninhkieu"]),
        "officer": make_user("canbo.nk", Role.LOCAL_OFFICER, cantho["ninhkieu"]),
        "units": cantho,
    }


def test_a_row_shows_each_cell_escaped(client, area):
    dossier = factories.dossier(area["round"], state="submitted", due_date=PAST,
                                product_name='Mắm <b>"Ba Tư"</b> & cá')
    producer = dossier.product.producer
    producer.name = "HTX <script>alert(1)</script>"
    producer.save()

    html = login(client, area["officer"]).get("/dossiers/",
                                               HTTP_ACCEPT_LANGUAGE="vi").content.decode()

    row = row_of(html, dossier)
    assert row.startswith(f'<tr id="dossier-{dossier.pk}" class="overdue">')
    assert (f'<a href="/dossiers/{dossier.pk}/">Mắm &lt;b&gt;&quot;Ba Tư&quot;&lt;/b&gt; '
            "&amp; cá</a>") in row
    assert "HTX &lt;script&gt;alert(1)&lt;/script&gt;" in row and "<script>" not in row
    assert f"<td>{area['units']['ninhkieu'].name}</td>" in row
    round_ = area["round"]
    with translation.override("vi"):
        label = gettext("Round %(number)s/%(year)s") % {"number": round_.number,
                                                        "year": round_.year}
    assert f'{label}<br><span class="small muted">{round_.unit.name}</span>' in row
    cs = dossier.criteria_set
    assert f"{cs.set_no:02d} · {cs.name}" in row and cs.regime.slug in row
    assert f'<span class="state state-submitted">{vi("Submitted")}</span>' in row
    assert (f'<td class="date">{PAST:%d/%m/%Y} <span class="overdue-flag">{vi("Overdue")}'
            "</span></td>") in row


def test_no_running_deadline_shows_a_dash_and_no_flag(client, area):
    returned = factories.dossier(area["round"], state="returned", due_date=PAST)
    pending = factories.dossier(area["round"], state="submitted", due_date=FUTURE)

    html = login(client, area["officer"]).get("/dossiers/").content.decode()

    assert '<td class="date">—</td>' in row_of(html, returned)
    assert "overdue" not in row_of(html, returned)
    assert f'<td class="date">{FUTURE:%d/%m/%Y}</td>' in row_of(html, pending)


def test_a_page_holds_the_count_and_its_rows_newest_change_first(area):
    first = factories.dossier(area["round"], state="submitted")
    second = factories.dossier(area["round"], state="draft")
    third = factories.dossier(area["round"], state="returned")
    first.save()  # the latest change: first in the list
    today = datetime.date(2024, 6, 10)

    officer = area["officer"]
    page = list_page(officer, {}, "1", 2, today)
    assert page.paginator.count == 3 and page.paginator.num_pages == 2
    assert [row[0] for row in page.object_list] == [first.pk, third.pk]
    assert [row[1] for row in page.object_list] == ["submitted", "returned"]
    html = rows_html(page.object_list)
    assert html.index(f'id="dossier-{first.pk}"') < html.index(f'id="dossier-{third.pk}"')

    last = list_page(officer, {}, "2", 2, today)
    assert (last.number, [row[0] for row in last.object_list]) == (2, [second.pk])
    assert last.has_previous() and not last.has_next()


@pytest.mark.parametrize(("asked", "shown"), [("9", 2), ("abc", 1), (None, 1), ("0", 1),
                                               ("-3", 1), ("1.5", 1)])
def test_a_page_past_the_end_is_the_last_and_a_bad_number_the_first(area, asked, shown):
    for _i in range(3):
        factories.dossier(area["round"], state="submitted")

    page = list_page(area["officer"], {}, asked, 2, datetime.date(2024, 6, 10))

    assert page.number == shown and page.paginator.count == 3
    assert len(page.object_list) == (1 if shown == 2 else 2)


def test_a_filter_matching_nothing_is_an_empty_first_page(area):
    factories.dossier(area["round"], state="submitted")

    for asked in ("1", "4"):
        page = list_page(area["officer"], {"state": "rejected"}, asked, 50,
                         datetime.date(2024, 6, 10))
        assert (page.number, page.paginator.count, page.object_list) == (1, 0, [])


def test_a_dossier_read_through_a_council_shows_its_own_round(client, area, make_user):
    """The member's list holds a dossier of another district's round: its round is not
    among the rounds the member's filter offers, and its row still names it."""
    other_round = factories.evaluation_round(area["units"]["phongdien"])
    on_agenda = factories.dossier(other_round, state="in_evaluation")
    member = make_user("thanh.vien")
    council = factories.council(area["units"]["phongdien"], [make_user("chu.tich"), member])
    factories.session(council, other_round, [on_agenda])

    html = login(client, member).get("/dossiers/").content.decode()

    assert f'<span class="small muted">{other_round.unit.name}</span>' in row_of(html,
                                                                                  on_agenda)


# --- one statement, kept per process (issue #14): counted once, and as fresh as the data ----


def count_on(html):
    """The number the list's count line shows."""
    line = html[html.index('<p class="result-count">'):]
    return int("".join(ch for ch in line[:line.index("</p>")] if ch.isdigit()))


@pytest.fixture
def seated(area, make_user):
    """The district officer also sits on a council whose agenda holds a dossier of their
    own district and one of another district."""
    units = area["units"]
    own = factories.dossier(area["round"], state="in_evaluation")
    other_round = factories.evaluation_round(units["phongdien"])
    other = factories.dossier(other_round, state="in_evaluation")
    outside = factories.dossier(other_round, state="submitted")
    member = make_user("chu.tich")
    council = factories.council(units["ninhkieu"], [member, area["officer"]])
    meeting = factories.session(council, area["round"], [own, other])
    return {"own": own, "other": other, "outside": outside, "meeting": meeting,
            "council": council, "chair": member}


def test_a_dossier_of_the_area_on_the_agenda_is_counted_once(client, area, seated):
    factories.dossier(area["round"], state="submitted")

    html = login(client, area["officer"]).get("/dossiers/").content.decode()

    # the district's two dossiers and the other district's one on the agenda
    assert count_on(html) == 3 == html.count('<tr id="dossier-')
    assert f'id="dossier-{seated["outside"].pk}"' not in html


def test_the_list_follows_the_agenda_and_recusals_at_once(client, area, seated):
    from councils.models import AgendaItem, Recusal

    c = login(client, area["officer"])
    assert count_on(c.get("/dossiers/").content.decode()) == 2
    AgendaItem.objects.create(session=seated["meeting"], dossier=seated["outside"], order=9)
    html = c.get("/dossiers/").content.decode()
    assert count_on(html) == 3 and f'id="dossier-{seated["outside"].pk}"' in html

    member = seated["council"].members.get(user=area["officer"])
    Recusal.objects.create(session=seated["meeting"], member=member,
                           dossier=seated["other"], reason="Người thân",
                           recorded_by=seated["chair"])
    html = c.get("/dossiers/").content.decode()
    assert count_on(html) == 2 and f'id="dossier-{seated["other"].pk}"' not in html


def test_the_list_follows_a_new_role_at_once(client, area):
    from ocop.accounts.models import RoleAssignment

    theirs = factories.dossier(factories.evaluation_round(area["units"]["phongdien"]),
                               state="submitted")
    c = login(client, area["officer"])
    assert f'id="dossier-{theirs.pk}"' not in c.get("/dossiers/").content.decode()

    RoleAssignment.objects.create(user=area["officer"], role=Role.LOCAL_OFFICER,
                                  unit=area["units"]["phongdien"])
    assert f'id="dossier-{theirs.pk}"' in c.get("/dossiers/").content.decode()


def test_near_their_deadline_follows_a_new_holiday_the_same_day(client, area):
    from dossiers.deadlines import working_days_after
    from dossiers.models import PublicHoliday

    today = datetime.date(2024, 6, 10)  # era_148: a Monday
    fourth = working_days_after(today, 4)
    dossier = factories.dossier(area["round"], state="submitted", due_date=fourth)
    c = login(client, area["officer"])
    assert f'id="dossier-{dossier.pk}"' not in c.get("/dossiers/?due_soon=on").content.decode()

    PublicHoliday.objects.create(date=datetime.date(2024, 6, 11), name="Nghỉ bù")
    assert working_days_after(today, 3) == fourth
    assert f'id="dossier-{dossier.pk}"' in c.get("/dossiers/?due_soon=on").content.decode()


def test_the_page_is_read_along_the_index_when_many_match_else_sorted():
    # 50,000 dossiers: a commune of 4,500 along the index, a commune of 90 sorted
    assert list_rows._way(0, 50, 4_500, 50_000) == "index"
    assert list_rows._way(0, 50, 90, 50_000) == "sorted"
    assert list_rows._way(0, 50, 50_000, 50_000) == "index"
    # a deep page of the same commune: sorting is cheaper than walking the index
    assert list_rows._way(4_450, 50, 4_500, 50_000) == "sorted"


@pytest.mark.parametrize("way", ["index", "sorted"])
def test_both_ways_give_the_same_page(area, monkeypatch, way):
    made = [factories.dossier(area["round"], state="submitted") for _i in range(5)]
    for dossier in made[1::2]:
        dossier.save()  # changed later: first
    expected = [d.pk for d in made[1::2][::-1]] + [d.pk for d in made[::2][::-1]]
    monkeypatch.setattr(list_rows, "_way", lambda *args: way)

    first = list_page(area["officer"], {}, "1", 3, datetime.date(2024, 6, 10))
    second = list_page(area["officer"], {}, "2", 3, datetime.date(2024, 6, 10))

    assert [row[0] for row in first.object_list + second.object_list] == expected
    assert first.paginator.count == 5 and second.number == 2


def test_a_page_past_the_end_after_dossiers_left_is_the_last(area):
    """The second request reads the page with its count in one statement, the way the
    first count said; when the page is now past the end it counts again and shows the
    last page."""
    from dossiers.models import Dossier

    made = [factories.dossier(area["round"], state="submitted") for _i in range(7)]
    today = datetime.date(2024, 6, 10)
    assert list_page(area["officer"], {}, "3", 3, today).number == 3  # 3 + 3 + 1
    Dossier.objects.filter(pk__in=[d.pk for d in made[:4]]).delete()

    page = list_page(area["officer"], {}, "3", 3, today)

    assert (page.number, page.paginator.count) == (1, 3)
    assert [row[0] for row in page.object_list] == [d.pk for d in made[4:][::-1]]
