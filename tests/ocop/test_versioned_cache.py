"""Values cached per data version (``ocop/versioned_cache.py``, docs/performance.md): the
reference data — the provinces a province absorbed, the rounds and criteria sets the
dossier list's filter offers — is read once and again only after a change, and a change
made through a save, a delete or a loader shows at once."""

import pytest
from django.core.cache import cache
from django.utils import translation

from dossiers.models import EvaluationRound
from ocop.accounts.models import Role
from ocop.regions.models import AdministrativeUnit, Level, absorbed_provinces
from ocop.versioned_cache import VersionedCache, reference
from tests import factories
from tests.i18n import vi

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user, backend="ocop.accounts.backends.UserWithRolesBackend")
    return client


def version():
    return cache.get(reference.version_key)


def test_a_value_is_computed_once_per_version_and_per_parts():
    family = VersionedCache("test-family", lambda: 60)
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    family.bump_now()  # the shared cache outlives the test: start at a new version
    assert family.get(compute, "a") == 1
    assert family.get(compute, "a") == 1
    assert family.get(compute, "b") == 2  # other parts: another entry
    family.bump()
    assert family.get(compute, "a") == 3
    assert len(calls) == 3


def test_a_save_bumps_now_and_again_at_commit():
    from django.db import transaction

    before = version()
    province = AdministrativeUnit.objects.create(level=Level.PROVINCE, code="99",
                                                 name="Tỉnh Thử")
    assert version() != before
    province.name = "Tỉnh Thử Hai"
    province.save()
    AdministrativeUnit.objects.create(level=Level.COMMUNE, code="99999", name="Xã Thử",
                                      province=province)
    # one commit callback for the whole transaction, however many rows it saved
    pending = [entry[1] for entry in transaction.get_connection().run_on_commit]
    assert pending.count(reference.bump_now) == 1


def test_loading_units_bumps_the_version(cantho):
    from ocop.regions.loader import load_units

    before = version()
    load_units([92])
    assert version() != before


def test_absorbed_provinces_are_read_once_then_from_the_cache(cantho,
                                                               django_assert_num_queries):
    province = cantho["province"]
    reference.bump()
    with django_assert_num_queries(1):
        first = absorbed_provinces({province.pk})
    with django_assert_num_queries(0):
        again = absorbed_provinces({province.pk})
    assert first == again == [cantho["province_old"].pk]


@pytest.fixture
def officer(cantho, criteria, make_user):
    return make_user("canbo.nk", Role.LOCAL_OFFICER, cantho["ninhkieu"])


def round_options(client):
    html = client.get("/dossiers/").content.decode()
    select = html[html.index('<select name="round"'):]
    return select[:select.index("</select>")]


def test_the_list_filter_offers_a_new_round_at_once(client, cantho, officer, era_148):
    c = login(client, officer)
    first = factories.evaluation_round(cantho["ninhkieu"])
    assert f'<option value="{first.pk}"' in round_options(c)

    second = factories.evaluation_round(cantho["ninhkieu"])  # a save: a new version
    options = round_options(c)
    assert f'<option value="{first.pk}"' in options
    assert f'<option value="{second.pk}"' in options

    EvaluationRound.objects.filter(pk=second.pk).delete()
    assert f'<option value="{second.pk}"' not in round_options(c)


def test_the_list_filter_shows_a_renamed_criteria_set_at_once(client, officer):
    c = login(client, officer)
    cs = factories.criteria_set("148", 9)
    assert cs.name in c.get("/dossiers/").content.decode()

    cs.name = "Nước mắm (tên đã sửa)"
    cs.save()
    assert "Nước mắm (tên đã sửa)" in c.get("/dossiers/").content.decode()


def test_the_filter_choices_are_per_area(client, cantho, make_user, criteria, era_148):
    nk = factories.evaluation_round(cantho["ninhkieu"])
    pd = factories.evaluation_round(cantho["phongdien"])
    nk_html = round_options(login(client, make_user("canbo.nk", Role.LOCAL_OFFICER,
                                                    cantho["ninhkieu"])))
    client.logout()
    pd_html = round_options(login(client, make_user("canbo.pd", Role.LOCAL_OFFICER,
                                                    cantho["phongdien"])))
    assert f'<option value="{nk.pk}"' in nk_html and f'<option value="{pd.pk}"' not in nk_html
    assert f'<option value="{pd.pk}"' in pd_html and f'<option value="{nk.pk}"' not in pd_html


# --- kept per process at a version (VersionedCache.local, issue #14) ---------------------------


def test_a_local_value_is_kept_per_version_parts_and_language():
    family = VersionedCache("test-local", lambda: 60)
    calls = []

    def compute():
        calls.append(1)
        return [len(calls)]

    family.bump_now()
    first = family.version()
    assert family.local(first, compute, "a") == [1]
    assert family.local(first, compute, "a") == [1]  # kept: not computed again
    assert family.local(first, compute, "b") == [2]
    with translation.override("en"):
        assert family.local(first, compute, "a") == [3]  # another language
    family.bump()
    second = family.version()
    assert second != first
    assert family.local(second, compute, "a") == [4]
    # without a version (the shared cache down) nothing is kept
    assert family.local(None, compute, "a") == [5]
    assert family.local(None, compute, "a") == [6]


def test_a_lost_version_is_set_again():
    family = VersionedCache("test-lost", lambda: 60)
    cache.delete(family.version_key)  # the shared cache was emptied (a Redis restart)
    found = family.version()
    assert found is not None and family.version() == found


def test_local_rows_read_only_the_ids_not_kept():
    family = VersionedCache("test-rows", lambda: 60)
    family.bump_now()
    asked = []

    def load(ids):
        asked.append(sorted(ids))
        return {pk: f"row {pk}" for pk in ids}

    version_ = family.version()
    assert family.local_rows(version_, "t", {1, 2}, load)[2] == "row 2"
    table = family.local_rows(version_, "t", {2, 3}, load)
    assert (table[1], table[3]) == ("row 1", "row 3")
    family.local_rows(version_, "t", {1, 3}, load)
    assert asked == [[1, 2], [3]]
    family.bump()
    family.local_rows(family.version(), "t", {1}, load)
    assert asked[-1] == [1]  # a new version: read again


def test_the_filter_fields_show_each_search_and_its_errors(client, officer):
    c = login(client, officer)
    first = c.get("/dossiers/?q=bưởi").content.decode()
    second = c.get("/dossiers/?q=mắm&round=abc").content.decode()
    again = c.get("/dossiers/?q=bưởi").content.decode()

    assert 'name="q" value="bưởi"' in first and 'name="q" value="bưởi"' in again
    assert 'name="q" value="mắm"' in second and "bưởi" not in second
    # the unusable round is reported next to its field, and only for that request
    assert 'id="id_round_errors"' in second and 'id="id_round_errors"' not in again
    with translation.override("en"):
        english = c.get("/dossiers/?q=bưởi", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "All rounds" in english and vi("All rounds") in first
