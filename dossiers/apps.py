from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DossiersConfig(AppConfig):
    name = "dossiers"
    verbose_name = _("Dossiers")

    def ready(self):
        from ocop.demo import register_step
        from ocop.web.panels import register_panel

        from .demo import seed_checklists, seed_dossiers
        from .home import home_panel

        register_step(seed_checklists, order=35, base=True)
        register_step(seed_dossiers, order=50)
        register_panel(home_panel)
