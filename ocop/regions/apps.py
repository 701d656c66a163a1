from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegionsConfig(AppConfig):
    name = "ocop.regions"
    label = "regions"
    verbose_name = _("Administrative units")

    def ready(self):
        from django.db.models.signals import post_migrate

        from ocop import lookups  # noqa: F401  registers field__any_of (ocop/lookups.py)
        from ocop.versioned_cache import reference

        from .models import AdministrativeUnit

        reference.watch(AdministrativeUnit, m2m=[AdministrativeUnit.successors.through])
        # a data migration may change any reference row
        post_migrate.connect(reference.bump, dispatch_uid="ref-post-migrate")
