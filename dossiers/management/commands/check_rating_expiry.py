"""``manage.py check_rating_expiry [--date YYYY-MM-DD]``: move ratings that entered their
re-evaluation window to "due" and ratings past their validity to "expired", and notify the
producers' contacts and the officers (``dossiers.expiry``, docs/deadlines.md)."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dossiers.expiry import check_rating_expiry


class Command(BaseCommand):
    help = "Mark ratings due for re-evaluation or expired as of a day (default: today)."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD (default: today)")

    def handle(self, *args, **options):
        day = None
        if options["date"]:
            try:
                day = datetime.date.fromisoformat(options["date"])
            except ValueError as error:
                raise CommandError(_("Enter the date as YYYY-MM-DD, e.g. 2026-12-31.")) \
                    from error
        moved = check_rating_expiry(day)
        self.stdout.write(_("%(due)s rating(s) now due for re-evaluation, %(expired)s "
                            "expired; %(notified)s notification(s) created.")
                          % {"due": len(moved["due"]), "expired": len(moved["expired"]),
                             "notified": moved["notified"]})
