"""Load administrative units from the maintained ``vietnam-provinces`` package.

Both structures are loaded: the pre-July-2025 one (63 provinces → districts → communes,
valid until 30/06/2025) and the current one (34 provinces → communes, valid from
01/07/2025), with the old→new links between provinces and between communes.
Idempotent: existing rows are updated in place, nothing is duplicated.
"""

import datetime
from dataclasses import dataclass

from django.db import transaction

from ocop.versioned_cache import reference

from .models import REFORM_DATE, AdministrativeUnit, Level

LEGACY_END = REFORM_DATE - datetime.timedelta(days=1)
CODE_WIDTH = {Level.PROVINCE: 2, Level.DISTRICT: 3, Level.COMMUNE: 5}


def unit_code(level, code):
    return str(int(code)).zfill(CODE_WIDTH[level])


@dataclass
class LoadReport:
    created: int = 0
    updated: int = 0
    links: int = 0


def _division(item):
    value = getattr(item, "division_type", "")
    return getattr(value, "value", value) or ""


class _Loader:
    def __init__(self, provinces=None):
        self.only = {int(p) for p in provinces} if provinces else None
        self.report = LoadReport()
        self.existing = {
            (u.level, u.code, u.valid_from): u
            for u in AdministrativeUnit.objects.all().only(
                "id", "level", "code", "valid_from", "name", "division_type",
                "parent_id", "province_id", "valid_to",
            )
        }

    def wanted(self, province_code):
        return self.only is None or int(province_code) in self.only

    def upsert(self, rows):
        """rows: dicts of field values (``parent_id``/``province_id`` for the links)."""
        new, changed = [], []
        for row in rows:
            key = (row["level"], row["code"], row["valid_from"])
            unit = self.existing.get(key)
            if unit is None:
                unit = AdministrativeUnit(**row)
                new.append(unit)
                self.existing[key] = unit
            else:
                dirty = False
                for field, value in row.items():
                    if getattr(unit, field) != value:
                        setattr(unit, field, value)
                        dirty = True
                if dirty:
                    changed.append(unit)
        AdministrativeUnit.objects.bulk_create(new, batch_size=2000)
        fields = ["name", "division_type", "parent_id", "province_id", "valid_to"]
        AdministrativeUnit.objects.bulk_update(changed, fields, batch_size=2000)
        self.report.created += len(new)
        self.report.updated += len(changed)

    def get(self, level, code, valid_from):
        return self.existing.get((level, unit_code(level, code), valid_from))

    def load_legacy(self):
        from vietnam_provinces import legacy

        period = {"valid_from": None, "valid_to": LEGACY_END}
        self.upsert(
            dict(level=Level.PROVINCE, code=unit_code(Level.PROVINCE, p.code), name=p.name,
                 division_type=_division(p), parent_id=None, province_id=None, **period)
            for p in legacy.Province.iter_all() if self.wanted(p.code)
        )
        district_rows = []
        for d in legacy.District.iter_all():
            if not self.wanted(d.province_code):
                continue
            province = self.get(Level.PROVINCE, d.province_code, None)
            district_rows.append(dict(
                level=Level.DISTRICT, code=unit_code(Level.DISTRICT, d.code), name=d.name,
                division_type=_division(d), parent_id=province.pk, province_id=province.pk,
                **period))
        self.upsert(district_rows)
        ward_rows = []
        for w in legacy.Ward.iter_all():
            district = self.get(Level.DISTRICT, w.district_code, None)
            if district is None:
                continue
            ward_rows.append(dict(
                level=Level.COMMUNE, code=unit_code(Level.COMMUNE, w.code), name=w.name,
                division_type=_division(w), parent_id=district.pk, province_id=district.province_id,
                **period))
        self.upsert(ward_rows)

    def load_current(self):
        import vietnam_provinces as vp

        period = {"valid_from": REFORM_DATE, "valid_to": None}
        provinces = [p for p in vp.Province.iter_all() if self.wanted(p.code)]
        self.upsert(
            dict(level=Level.PROVINCE, code=unit_code(Level.PROVINCE, p.code), name=p.name,
                 division_type=_division(p), parent_id=None, province_id=None, **period)
            for p in provinces
        )
        wards = [w for p in provinces for w in vp.Ward.iter_by_province(p.code)]
        self.upsert(
            dict(level=Level.COMMUNE, code=unit_code(Level.COMMUNE, w.code), name=w.name,
                 division_type=_division(w),
                 parent_id=self.get(Level.PROVINCE, w.province_code, REFORM_DATE).pk,
                 province_id=self.get(Level.PROVINCE, w.province_code, REFORM_DATE).pk,
                 **period)
            for w in wards
        )
        links = []
        for p in provinces:
            new = self.get(Level.PROVINCE, p.code, REFORM_DATE)
            for old in p.get_legacy_sources():
                old_unit = self.get(Level.PROVINCE, old.code, None)
                if old_unit is not None:
                    links.append((old_unit.pk, new.pk))
        for w in wards:
            new = self.get(Level.COMMUNE, w.code, REFORM_DATE)
            for old in w.get_legacy_sources():
                old_unit = self.get(Level.COMMUNE, old.code, None)
                if old_unit is not None:
                    links.append((old_unit.pk, new.pk))
        through = AdministrativeUnit.successors.through
        known = set(through.objects.values_list("from_administrativeunit_id",
                                                "to_administrativeunit_id"))
        fresh = [
            through(from_administrativeunit_id=a, to_administrativeunit_id=b)
            for a, b in set(links) - known
        ]
        through.objects.bulk_create(fresh, batch_size=5000)
        self.report.links += len(fresh)


def load_units(provinces=None):
    """Load (or refresh) both structures; ``provinces`` limits it to some province codes
    (the pre-2025 ones with those codes and the current ones with those codes)."""
    with transaction.atomic():
        loader = _Loader(provinces)
        loader.load_legacy()
        loader.load_current()
        reference.bump()  # bulk writes send no signal (ocop/versioned_cache.py)
    return loader.report
