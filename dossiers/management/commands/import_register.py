"""``manage.py import_register FILE [--dry-run] [--as USERNAME]``: bring in a register of
rated products (.xlsx or .csv, the format of docs/register-import.md) — the same checks,
jobs and audit as the department's import page, run in this process."""

import os
import time

from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dossiers.imports import confirm_import, run_check, run_import, start_import
from dossiers.models import ImportState, RegisterImport, RowOutcome
from dossiers.services import DossierError

#: Refused rows printed (all are in the error file of the import page).
SHOWN = 50


class Command(BaseCommand):
    help = "Import a register of rated products (.xlsx or .csv); --dry-run only checks it."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true",
                            help="check every row and report; save nothing")
        parser.add_argument("--as", dest="username",
                            help="the importing user (default: the first superuser); "
                                 "department staff import into their own province only")

    def handle(self, *args, **options):
        user = self._user(options["username"])
        path = options["file"]
        if not os.path.isfile(path):
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        with open(path, "rb") as handle:
            try:
                register_import = start_import(user, File(handle, os.path.basename(path)),
                                               queue=False)
            except DossierError as error:
                raise CommandError(error.message) from error
        started = time.monotonic()
        run_check(register_import.pk)
        checked = time.monotonic()
        register_import.refresh_from_db()
        self._report(register_import)
        self.stdout.write(_("Checked in %(seconds).1f s.") % {"seconds": checked - started})
        if register_import.state == ImportState.FAILED:
            raise CommandError(register_import.reason)
        if options["dry_run"]:
            self.stdout.write(_("Dry run: nothing was saved."))
            return
        try:
            confirm_import(user, register_import, queue=False)
        except DossierError as error:
            self.stdout.write(error.message)
            return
        started = time.monotonic()
        run_import(register_import.pk)
        imported = time.monotonic()
        register_import.refresh_from_db()
        if register_import.state != ImportState.DONE:
            raise CommandError(register_import.reason or register_import.get_state_display())
        self.stdout.write(_("%(n)s rating(s) imported in %(seconds).1f s.") % {
            "n": register_import.imported_count, "seconds": imported - started})

    def _user(self, username):
        users = get_user_model().objects.filter(is_active=True)
        user = (users.filter(username=username).first() if username
                else users.filter(is_superuser=True).order_by("pk").first())
        if user is None:
            raise CommandError(_("No active user %(name)s.") % {"name": username or "admin"})
        return user

    def _report(self, register_import: RegisterImport):
        self.stdout.write(_("%(rows)s row(s): %(create)s to create, %(match)s already "
                            "present, %(refused)s refused.") % {
            "rows": register_import.rows_total, "create": register_import.created_count,
            "match": register_import.matched_count,
            "refused": register_import.refused_count})
        refused = register_import.rows.filter(outcome=RowOutcome.REFUSED)[:SHOWN]
        for row in refused:
            self.stdout.write(_("Row %(row)s: %(reasons)s") % {"row": row.row_no,
                                                              "reasons": row.reasons})
