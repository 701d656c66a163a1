from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from ocop.demo import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Create the Cần Thơ demo data and accounts (idempotent)."

    def handle(self, *args, **options):
        seed_demo()
        self.stdout.write(_("Demo data ready. Demo password: %(password)s") % {
            "password": DEMO_PASSWORD})
