from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    name = "scoring"
    verbose_name = _("Scoring")

    def ready(self):
        from ocop.demo import register_step

        from .demo import seed_regulations

        register_step(seed_regulations, order=30, base=True)

        from ocop.versioned_cache import reference

        from .models import CriteriaSet, ProcessLevel, Regime

        # the criteria sets and regimes the filters offer (ocop/versioned_cache.py)
        reference.watch(Regime, CriteriaSet, ProcessLevel)
