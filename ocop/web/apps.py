from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "ocop.web"
    label = "web"
    verbose_name = _("Web")

    def ready(self):
        from . import menu  # noqa: F401 - connects the login hook that reads the menu facts
