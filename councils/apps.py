from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CouncilsConfig(AppConfig):
    name = "councils"
    verbose_name = _("Councils")

    def ready(self):
        from dossiers.queries import register_reader
        from ocop.demo import register_step
        from ocop.web.menu import register_fact
        from ocop.web.panels import register_panel

        from .demo import seed_councils
        from .home import home_panel, is_council_member
        from .readers import agenda_dossier_ids

        register_step(seed_councils, order=60)
        register_reader(agenda_dossier_ids)
        register_panel(home_panel)
        register_fact("council_member", is_council_member)
