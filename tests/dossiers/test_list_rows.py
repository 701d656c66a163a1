"""The dossier list's rows, read as plain rows and written in Python
(``dossiers/list_rows.py``, issue #14): every cell says what the template said, values are
escaped, the order of the page is kept, and a dossier read through a council (another
area's round, outside the filter's choices) is shown like any other."""

import datetime

import pytest
from django.utils import translation
from django.utils.translation import gettext

from dossiers.list_rows import list_rows, rows_html
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


def test_rows_keep_the_page_order_and_skip_unknown_ids(area):
    first = factories.dossier(area["round"], state="submitted")
    second = factories.dossier(area["round"], state="draft")

    rows = list_rows([second.pk, 999_999_999, first.pk], datetime.date(2024, 6, 10))

    assert [row[0] for row in rows] == [second.pk, first.pk]
    html = rows_html(rows)
    assert html.index(f'id="dossier-{second.pk}"') < html.index(f'id="dossier-{first.pk}"')


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
