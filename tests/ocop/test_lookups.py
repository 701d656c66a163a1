"""``field__any_of=<subquery>`` (``ocop/lookups.py``): the same rows as ``__in``, written
as ``= ANY(ARRAY(…))`` on PostgreSQL so that each side of an OR is an index condition."""

import pytest
from django.db import connection
from django.db.models import Q

from ocop.regions.models import AdministrativeUnit, Level

pytestmark = pytest.mark.django_db


def test_any_of_selects_what_in_selects(cantho):
    communes = AdministrativeUnit.objects.filter(parent=cantho["ninhkieu"]).values("pk")
    provinces = AdministrativeUnit.objects.filter(level=Level.PROVINCE, code="92").values("pk")

    found = AdministrativeUnit.objects.filter(Q(pk__any_of=communes)
                                              | Q(parent__any_of=provinces))
    expected = AdministrativeUnit.objects.filter(Q(pk__in=communes) | Q(parent__in=provinces))

    assert set(found) == set(expected) and len(set(found)) > 10
    sql = str(found.query)
    if connection.vendor == "postgresql":
        assert sql.count("= ANY(ARRAY(SELECT") == 2
    else:
        assert "ANY" not in sql


def test_any_of_takes_a_queryset_only():
    with pytest.raises(TypeError, match="queryset"):
        list(AdministrativeUnit.objects.filter(pk__any_of=[1, 2]))
