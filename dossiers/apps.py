from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DossiersConfig(AppConfig):
    name = "dossiers"
    verbose_name = _("Dossiers")

    def ready(self):
        from ocop.demo import register_step
        from ocop.web.panels import register_panel

        from .demo import seed_checklists, seed_dossiers, seed_expiry
        from .demo_oversight import seed_oversight
        from .home import home_panel

        register_step(seed_checklists, order=35, base=True)
        register_step(seed_dossiers, order=50)
        register_step(seed_expiry, order=70)  # after the councils (60)
        register_step(seed_oversight, order=75)
        register_panel(home_panel)
        from ocop.versioned_cache import reference

        from . import stats  # noqa: F401  (the statistics cache's invalidation signals)
        from .models import EvaluationRound, PublicHoliday

        # the rounds the filters offer; the holidays of the list's "due soon" filter
        reference.watch(EvaluationRound, PublicHoliday)
