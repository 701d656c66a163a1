"""Scoping: who sees which dossiers (``dossiers_visible_to``) and which rounds a user may
file into — the owner, a colleague of the province, an outsider whose own data exists."""

import pytest

from dossiers import services
from dossiers.queries import (
    dossiers_visible_to,
    files_visible_to,
    producers_visible_to,
    rounds_visible_to,
)
from ocop.accounts.models import Role
from tests import factories
from tests.dossiers import current_communes, new_dossier, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cantho, criteria, make_user, settings, tmp_path):
    """A dossier in Ninh Kiều, one in Phong Điền, one in each of two current communes —
    all created before anyone looks."""
    settings.MEDIA_ROOT = str(tmp_path)
    communes = list(current_communes(cantho)[:2])
    users = {
        "nk": make_user("canbo.nk", Role.LOCAL_OFFICER, cantho["ninhkieu"]),
        "pd": make_user("canbo.pd", Role.LOCAL_OFFICER, cantho["phongdien"]),
        "xa": make_user("canbo.xa", Role.LOCAL_OFFICER, communes[0]),
        "xa2": make_user("canbo.xa2", Role.LOCAL_OFFICER, communes[1]),
        "staff": make_user("so.nn", Role.DEPARTMENT_STAFF, cantho["province"]),
        "admin": make_user("quantri", Role.ADMIN, cantho["province"]),
        "nobody": make_user("khach"),
    }
    rounds = {
        "nk": factories.evaluation_round(cantho["ninhkieu"], "148", "district"),
        "pd": factories.evaluation_round(cantho["phongdien"], "148", "district"),
        "26": factories.evaluation_round(cantho["province"], "26/2026", "province"),
    }
    with factories.era_148():  # the district dossiers are filed while 148 was in force
        dossiers = {
            "nk": new_dossier(users["nk"], rounds["nk"], cantho["ninhkieu"]),
            "pd": new_dossier(users["pd"], rounds["pd"], cantho["phongdien"]),
        }
        services.upload_file(users["pd"], dossiers["pd"], upload("bi-mat.pdf"))
    dossiers.update({
        "xa": new_dossier(users["xa"], rounds["26"], communes[0]),
        "xa2": new_dossier(users["xa2"], rounds["26"], communes[1]),
    })
    return {"users": users, "rounds": rounds, "dossiers": dossiers, "communes": communes}


def visible(world, who):
    pks = set(dossiers_visible_to(world["users"][who]).values_list("pk", flat=True))
    return {key for key, dossier in world["dossiers"].items() if dossier.pk in pks}


@pytest.mark.parametrize(("who", "expected"), [
    ("nk", {"nk"}),
    ("pd", {"pd"}),
    ("xa", {"xa"}),
    ("xa2", {"xa2"}),
    ("staff", {"nk", "pd", "xa", "xa2"}),
    ("admin", {"nk", "pd", "xa", "xa2"}),
    ("nobody", set()),
])
def test_dossiers_visible_to_user_of_area(world, who, expected):
    assert visible(world, who) == expected


def test_files_and_producers_of_another_district_do_not_leak(world):
    nk = world["users"]["nk"]

    assert not files_visible_to(nk).exists()
    assert files_visible_to(world["users"]["pd"]).count() == 1
    assert world["dossiers"]["pd"].product.producer not in producers_visible_to(nk)


def test_rounds_visible_to_a_commune_officer_include_the_provinces(world):
    rounds = set(rounds_visible_to(world["users"]["xa"]))

    assert world["rounds"]["26"] in rounds
    assert world["rounds"]["nk"] not in rounds and world["rounds"]["pd"] not in rounds


def test_available_actions_are_empty_outside_the_area(world):
    nk_dossier = world["dossiers"]["nk"]

    assert services.available_actions(world["users"]["pd"], nk_dossier) == []
    assert services.available_actions(world["users"]["xa"], nk_dossier) == []
    assert services.available_actions(world["users"]["nobody"], nk_dossier) == []
    assert "submit" in services.available_actions(world["users"]["staff"], nk_dossier)
    assert "submit" in services.available_actions(world["users"]["admin"], nk_dossier)


def test_department_staff_may_file_into_a_district_round_of_the_province(world, cantho):
    staff = world["users"]["staff"]

    with factories.era_148():
        dossier = new_dossier(staff, world["rounds"]["pd"], cantho["phongdien"])

    assert dossier in dossiers_visible_to(world["users"]["pd"])
    assert dossier not in dossiers_visible_to(world["users"]["nk"])


def test_commune_officer_cannot_file_a_producer_of_another_commune(world):
    xa = world["users"]["xa"]
    foreign_product = world["dossiers"]["xa2"].product
    foreign_product.dossiers.update(state="withdrawn")

    with pytest.raises(services.DossierError) as refused:
        services.create_dossier(xa, round=world["rounds"]["26"], product=foreign_product)

    assert refused.value.code == "area"
    assert foreign_product.dossiers.count() == 1


def test_council_member_reads_agenda_dossiers_only_and_may_not_act(
        client, cantho, criteria, make_user):
    """A council member without a role reads the dossiers on their council's agenda (not
    the others, not the ones they recused from) and gets no workflow action."""
    from councils.models import Recusal
    from dossiers.models import Dossier
    from dossiers.queries import dossiers_visible_to
    from dossiers.services import available_actions
    from tests import factories

    chair, member, recused = (make_user(f"hd.{n}") for n in ("chair", "member", "recused"))
    round_ = factories.evaluation_round(cantho["ninhkieu"])
    on_agenda = factories.dossier(round_, state="in_evaluation")
    conflict = factories.dossier(round_, state="in_evaluation")
    elsewhere = factories.dossier(round_, state="accepted")
    council = factories.council(cantho["ninhkieu"], [chair, member, recused])
    session = factories.session(council, round_, [on_agenda, conflict])
    Recusal.objects.create(session=session, member=council.members.get(user=recused),
                           dossier=conflict, reason="Người thân", recorded_by=recused)

    assert set(dossiers_visible_to(member)) == {on_agenda, conflict}
    assert set(dossiers_visible_to(recused)) == {on_agenda}
    assert available_actions(member, on_agenda) == []
    # nor the chair: the council's result reaches the dossier when the chair closes the
    # session (councils.services), never through the dossier's actions
    assert available_actions(chair, on_agenda) == []
    for user in (chair, member):
        with pytest.raises(services.DossierError) as refused:
            services.record_result(user, on_agenda, outcome="recognise", result={})
        assert refused.value.code == "council_only"
    assert Dossier.objects.get(pk=on_agenda.pk).state == "in_evaluation"

    client.force_login(member)
    page = client.get(f"/dossiers/{on_agenda.pk}/")
    assert page.status_code == 200
    assert on_agenda.product.name in page.content.decode()
    assert client.get(f"/dossiers/{elsewhere.pk}/").status_code == 404
    client.force_login(recused)
    assert client.get(f"/dossiers/{conflict.pk}/").status_code == 404


def test_a_ward_officer_reads_the_ratings_of_the_communes_merged_into_the_ward(
        cantho, criteria, make_user):
    """A producer registered before 1/7/2025 in a commune merged into today's ward: the
    ward's officer — whom the expiry notices of its rating reach — reads the producer and
    the rating; the officer of another ward does not (docs/regimes-and-levels.md)."""
    import datetime

    from dossiers.models import Product, Rating
    from dossiers.queries import ratings_visible_to
    from ocop.regions.models import AdministrativeUnit, Level
    from scoring.models import Regime

    old = (AdministrativeUnit.objects.legacy().filter(level=Level.COMMUNE,
                                                      successors__isnull=False)
           .order_by("code").first())
    ward = old.successors.get()
    other = (AdministrativeUnit.objects.current().filter(level=Level.COMMUNE)
             .exclude(pk=ward.pk).exclude(predecessors=old).order_by("code").first())
    producer = factories.producer(old)
    product = Product.objects.create(producer=producer, name="Mắm tép Ba Lúa",
                                     criteria_set=factories.criteria_set("148", 9))
    rating = Rating.objects.create(
        product=product, regime=Regime.objects.get(slug="148"), stars=3,
        decision_number="12/QĐ-UBND", decision_date=datetime.date(2024, 3, 1),
        valid_until=datetime.date(2027, 2, 28))
    mine = make_user("canbo.phuong", Role.LOCAL_OFFICER, ward)
    theirs = make_user("canbo.khac", Role.LOCAL_OFFICER, other)

    assert list(ratings_visible_to(mine)) == [rating]
    assert list(producers_visible_to(mine)) == [producer]
    assert not ratings_visible_to(theirs).exists()
    assert not producers_visible_to(theirs).exists()


def test_a_ward_officer_files_only_in_the_ward_not_in_the_communes_merged_into_it(
        cantho, make_user):
    """Reading the merged communes' records gives no right to file there: the producer
    form offers the ward only, and the service refuses a merged commune."""
    from dossiers.forms import _unit_choices
    from ocop.regions.models import AdministrativeUnit, Level

    old = (AdministrativeUnit.objects.legacy().filter(level=Level.COMMUNE,
                                                      successors__isnull=False)
           .order_by("code").first())
    ward = old.successors.get()
    officer = make_user("canbo.phuong", Role.LOCAL_OFFICER, ward)

    assert list(_unit_choices(officer)) == [ward]
    with pytest.raises(services.DossierError):
        services.create_producer(officer, data={
            "type": "cooperative", "name": "HTX Mới", "registration_no": "1800123456",
            "representative_name": "Lê Văn A", "representative_gender": "male",
            "address": "Ấp 1", "unit": old})
