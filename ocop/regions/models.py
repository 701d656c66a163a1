"""Administrative units with validity dates.

The pre-July-2025 structure (63 provinces → districts → communes) and the current one
(34 provinces → communes) live side by side; ``successors`` links an old unit to the
units that took it over. Units are loaded by ``manage.py load_units`` from the
``vietnam-provinces`` package.
"""

import datetime

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

#: The day the two-level local government (no districts, 34 provinces) took effect.
REFORM_DATE = datetime.date(2025, 7, 1)


class Level(models.TextChoices):
    PROVINCE = "province", _("Province")
    DISTRICT = "district", _("District")
    COMMUNE = "commune", _("Commune")


class UnitQuerySet(models.QuerySet):
    def valid_on(self, day):
        return self.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=day)).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=day)
        )

    def current(self):
        return self.filter(valid_to__isnull=True)

    def legacy(self):
        return self.filter(valid_to__isnull=False)

    def within(self, units):
        """Every unit inside ``units`` (themselves included), following the old→new links
        of provinces so that a current province also covers the provinces it absorbed."""
        ids = {u.pk for u in units}
        provinces = {u.pk for u in units if u.level == Level.PROVINCE}
        districts = {u.pk for u in units if u.level == Level.DISTRICT}
        if provinces:
            provinces |= set(absorbed_provinces(provinces))
        return self.filter(
            Q(pk__in=ids | provinces) | Q(province_id__in=provinces) | Q(parent_id__in=districts)
        )


def absorbed_provinces(provinces):
    """The ids of the pre-2025 provinces merged into the ``provinces`` (ids); the links
    change only when units are loaded: cached at the reference data's version
    (ocop/versioned_cache.py)."""
    from ocop.versioned_cache import reference

    def read():
        return sorted(AdministrativeUnit.successors.through.objects.filter(
            to_administrativeunit_id__in=provinces,
            from_administrativeunit__level=Level.PROVINCE,
        ).values_list("from_administrativeunit_id", flat=True))

    return reference.get(read, "absorbed-provinces", sorted(provinces))


class AdministrativeUnit(models.Model):
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    code = models.CharField(_("code"), max_length=10)
    name = models.CharField(_("name"), max_length=120)
    division_type = models.CharField(_("division type"), max_length=60, blank=True)
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("parent unit"),
    )
    province = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("province"),
        help_text=_("The province the unit belongs to (empty for a province)."),
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    successors = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="predecessors",
        verbose_name=_("successor units"),
    )

    objects = UnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("administrative unit")
        verbose_name_plural = _("administrative units")
        ordering = ["level", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["level", "code"], condition=Q(valid_to__isnull=True),
                name="unique_current_unit_code",
            ),
            models.UniqueConstraint(
                fields=["level", "code", "valid_from"], condition=Q(valid_from__isnull=False),
                name="unique_unit_code_per_period",
            ),
            models.UniqueConstraint(
                fields=["level", "code"], condition=Q(valid_from__isnull=True),
                name="unique_unit_code_since_always",
            ),
        ]
        indexes = [models.Index(fields=["province", "level"])]

    def __str__(self):
        return self.name

    @property
    def is_current(self):
        return self.valid_to is None
