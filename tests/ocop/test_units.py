"""The units loader: both structures from vietnam-provinces, old→new links, idempotent."""

import datetime

import pytest
from django.core.management import call_command

from ocop.regions.models import AdministrativeUnit, Level

pytestmark = pytest.mark.django_db

CAN_THO_DISTRICTS = [
    "Quận Ninh Kiều", "Quận Ô Môn", "Quận Bình Thuỷ", "Quận Cái Răng", "Quận Thốt Nốt",
    "Huyện Vĩnh Thạnh", "Huyện Cờ Đỏ", "Huyện Phong Điền", "Huyện Thới Lai",
]


@pytest.fixture
def all_units(db):
    call_command("load_units", verbosity=0)


def test_loader_creates_63_old_and_34_current_provinces(all_units):
    provinces = AdministrativeUnit.objects.filter(level=Level.PROVINCE)
    assert provinces.legacy().count() == 63
    assert provinces.current().count() == 34
    assert AdministrativeUnit.objects.filter(level=Level.DISTRICT).current().count() == 0
    assert AdministrativeUnit.objects.filter(level=Level.DISTRICT).count() > 600


def test_loader_old_can_tho_has_its_9_districts(all_units):
    old = AdministrativeUnit.objects.legacy().get(level=Level.PROVINCE, code="92")
    districts = old.children.filter(level=Level.DISTRICT).order_by("code")
    assert [d.name for d in districts] == CAN_THO_DISTRICTS
    assert old.valid_to == datetime.date(2025, 6, 30)


def test_loader_current_can_tho_absorbed_three_provinces(all_units):
    new = AdministrativeUnit.objects.current().get(level=Level.PROVINCE, code="92")
    assert new.valid_from == datetime.date(2025, 7, 1)
    assert sorted(p.name for p in new.predecessors.all()) == [
        "Thành phố Cần Thơ", "Tỉnh Hậu Giang", "Tỉnh Sóc Trăng"
    ]
    assert new.children.filter(level=Level.COMMUNE).count() == 103


def test_loader_links_old_wards_to_their_new_commune(all_units):
    ninhkieu = AdministrativeUnit.objects.get(level=Level.DISTRICT, code="916")
    old_ward = ninhkieu.children.order_by("code").first()
    successors = list(old_ward.successors.all())
    assert successors, "every pre-2025 ward of Ninh Kiều was merged into a current commune"
    assert all(s.is_current and s.province.code == "92" for s in successors)


def test_valid_on_picks_the_structure_of_the_day(all_units):
    before = AdministrativeUnit.objects.valid_on(datetime.date(2024, 1, 1))
    after = AdministrativeUnit.objects.valid_on(datetime.date(2026, 1, 1))
    assert before.filter(level=Level.PROVINCE).count() == 63
    assert after.filter(level=Level.PROVINCE).count() == 34


def test_loader_twice_changes_nothing(all_units):
    through = AdministrativeUnit.successors.through
    before = (AdministrativeUnit.objects.count(), through.objects.count(),
              list(AdministrativeUnit.objects.order_by("pk").values_list("pk", "name")[:50]))
    call_command("load_units", verbosity=0)
    after = (AdministrativeUnit.objects.count(), through.objects.count(),
             list(AdministrativeUnit.objects.order_by("pk").values_list("pk", "name")[:50]))
    assert before == after
