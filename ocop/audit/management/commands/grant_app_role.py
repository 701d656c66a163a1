"""``manage.py grant_app_role <role>``: give the application's role its privileges.

Run by the owner of the tables (the migration role), after ``migrate``; see
:mod:`ocop.audit.roles`."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from ocop.audit.roles import APPEND_ONLY_TABLES, grant_app_role, role_exists


class Command(BaseCommand):
    help = (
        "Grant a PostgreSQL role the privileges the application needs (read/write tables, "
        "use sequences; only SELECT/INSERT on the audit log), also for tables created later. "
        "Run it as the owner of the tables after migrate."
    )

    def add_arguments(self, parser):
        parser.add_argument("role", help="the role web and workers connect as (DATABASE_URL)")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, role, database, verbosity=1, **options):
        connection = connections[database]
        if connection.vendor != "postgresql":
            raise CommandError("grant_app_role needs PostgreSQL (database roles).")
        with transaction.atomic(using=database), connection.cursor() as cursor:
            if not role_exists(cursor, role):
                raise CommandError(
                    f'Role "{role}" does not exist; create it first (CREATE ROLE … LOGIN '
                    "PASSWORD …; docker compose: scripts/postgres-init/10-app-role.sh).")
            cursor.execute("SELECT current_user")
            owner = cursor.fetchone()[0]
            if owner == role:
                raise CommandError(
                    f'Role "{role}" is the current user (the owner); the application role '
                    "must be another role.")
            grant_app_role(cursor, role)
        if verbosity:
            self.stdout.write(
                f'Granted role "{role}" read/write on the tables owned by "{owner}" '
                f"(read/insert only on {', '.join(APPEND_ONLY_TABLES)}), also for future tables.")
