from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from ocop.regions.loader import load_units


class Command(BaseCommand):
    help = "Load Vietnam's administrative units (pre-2025 and current) from vietnam-provinces."

    def add_arguments(self, parser):
        parser.add_argument(
            "--province", action="append", type=int, dest="provinces",
            help="Only this province code (repeatable), e.g. --province 92 for Cần Thơ.",
        )

    def handle(self, *args, provinces=None, **options):
        report = load_units(provinces)
        self.stdout.write(
            _("Administrative units: %(created)d created, %(updated)d updated, "
              "%(links)d old→new links added.")
            % {"created": report.created, "updated": report.updated, "links": report.links}
        )
