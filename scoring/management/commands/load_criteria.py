from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from scoring.loader import DATA_DIR, CriteriaLoadError, load_criteria_files


class Command(BaseCommand):
    help = (
        "Validate and load OCOP criteria sets from YAML files (default: every file under "
        "scoring/data/criteria). All files or nothing: one invalid published file refuses "
        "the whole batch."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help="YAML files or folders (recursive).")
        parser.add_argument("--check", action="store_true",
                            help="Validate only; write nothing.")

    def handle(self, *args, paths=None, check=False, verbosity=1, **options):
        try:
            report = load_criteria_files(paths or None, check_only=check)
        except CriteriaLoadError as exc:
            lines = [_("Criteria not loaded; the database is unchanged. %(count)d problem(s):")
                     % {"count": len(exc.issues)}]
            lines += [f"  - {issue}" for issue in exc.issues]
            raise CommandError("\n".join(lines)) from exc
        if verbosity >= 2:
            for issue in report.tolerated:
                self.stdout.write(_("  accepted in an unresolved file: %(issue)s")
                                  % {"issue": issue})
            for issue in report.warnings:
                self.stdout.write(_("  warning: %(issue)s") % {"issue": issue})
        if check:
            self.stdout.write(_("%(files)d file(s) valid (%(source)s), checked in %(sec).2f s.")
                              % {"files": len(report.files), "source": paths or DATA_DIR,
                                 "sec": report.seconds})
            return
        self.stdout.write(
            _("Criteria sets: %(files)d file(s); %(created)d created, %(replaced)d replaced, "
              "%(versions)d new version(s), %(unchanged)d unchanged, %(retired)d retired; "
              "%(drafts)d loaded as drafts (unresolved); %(warnings)d warning(s); "
              "%(sec).2f s.")
            % {"files": len(report.files), "created": len(report.created),
               "replaced": len(report.replaced), "versions": len(report.new_versions),
               "unchanged": len(report.unchanged), "retired": len(report.retired),
               "drafts": len(report.drafts), "warnings": len(report.warnings),
               "sec": report.seconds}
        )
