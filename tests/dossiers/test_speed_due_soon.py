"""Dossiers near their deadline (issue #13): the home card, its "see all" link and the
dossier list's "near their deadline" filter use one definition, ``deadlines.due_soon_q``.

Today is Friday 04/12/2026: three working days later is Wednesday 09/12/2026. Due 04/12
and 09/12 are near; 10/12 is not yet; 03/12 is overdue (not near); a draft and a returned
dossier have no running deadline."""

import datetime

import pytest
import time_machine
from django.utils import translation

from dossiers.deadlines import DUE_SOON_WORKING_DAYS, due_soon_q
from dossiers.home import due_soon, home_panel
from dossiers.models import Dossier
from ocop.accounts.models import Role
from tests import factories

pytestmark = pytest.mark.django_db

TODAY = datetime.datetime(2026, 12, 4, 9, 0)


@pytest.fixture
def friday():
    with time_machine.travel(TODAY, tick=False):
        yield datetime.date(2026, 12, 4)


@pytest.fixture
def setting(cantho, criteria, make_user, friday):
    officer = make_user("cb-gan-han", Role.LOCAL_OFFICER, cantho["ninhkieu"])
    round_ = factories.evaluation_round(cantho["ninhkieu"])
    day = datetime.date

    def dossier(due, state="submitted", name="Sản phẩm"):
        return factories.dossier(round_, state=state, due_date=due, product_name=name)

    near = [dossier(day(2026, 12, 4), name="Hạn hôm nay"),
            dossier(day(2026, 12, 9), name="Hạn thứ tư")]
    others = [dossier(day(2026, 12, 10), name="Chưa gần"),
              dossier(day(2026, 12, 3), name="Đã quá hạn"),
              dossier(day(2026, 12, 7), state="draft", name="Bản nháp"),
              dossier(day(2026, 12, 7), state="returned", name="Đã trả lại")]
    return {"officer": officer, "near": near, "others": others, "today": friday}


def _listed(response):
    html = response.content.decode()
    return {pk for pk in Dossier.objects.values_list("pk", flat=True)
            if f'<tr id="dossier-{pk}"' in html}


def test_one_definition_for_the_card_and_the_filter(setting):
    today = setting["today"]
    card = due_soon(setting["officer"], today=today)
    filtered = Dossier.objects.filter(due_soon_q(today))

    assert DUE_SOON_WORKING_DAYS == 3
    assert [d.pk for d in card] == [d.pk for d in setting["near"]]
    assert set(filtered.values_list("pk", flat=True)) == {d.pk for d in setting["near"]}


def test_list_filter_shows_the_dossiers_near_their_deadline(client, setting):
    client.force_login(setting["officer"], backend="ocop.accounts.backends.UserWithRolesBackend")

    everything = client.get("/dossiers/")
    near = client.get("/dossiers/?due_soon=1", headers={"accept-language": "en"})

    assert _listed(everything) == {d.pk for d in setting["near"] + setting["others"]}
    assert _listed(near) == {d.pk for d in setting["near"]}
    html = near.content.decode()
    assert 'name="due_soon"' in html and "checked" in html.split('name="due_soon"')[1][:40]
    with translation.override("en"):
        assert "Near their deadline only" in html


def test_home_card_see_all_link_opens_the_list_with_that_filter(client, setting):
    officer = setting["officer"]
    client.force_login(officer, backend="ocop.accounts.backends.UserWithRolesBackend")
    panel = home_panel(officer, {"officer_units": [object()]})

    assert panel["due_soon_url"] == "/dossiers/?due_soon=1"
    listed = _listed(client.get(panel["due_soon_url"]))
    assert listed == {d.pk for d in panel["due_soon"]} == {d.pk for d in setting["near"]}


def test_near_and_overdue_together_find_nothing(client, setting):
    """Near means not yet overdue: the two filters exclude each other."""
    client.force_login(setting["officer"], backend="ocop.accounts.backends.UserWithRolesBackend")

    assert _listed(client.get("/dossiers/?due_soon=1&overdue=1")) == set()
    assert _listed(client.get("/dossiers/?overdue=1")) == {setting["others"][1].pk}
