"""The application's PostgreSQL role: it uses the tables, it owns none of them.

Production runs web and workers as a role that owns nothing (``DATABASE_URL``); schema
changes run as the owner (``MIGRATION_DATABASE_URL``), which afterwards calls
:func:`grant_app_role`. A role that does not own the audit table cannot
``ALTER TABLE … DISABLE TRIGGER``, ``DROP TRIGGER`` or drop the trigger's function, and without
the privileges it cannot ``UPDATE``, ``DELETE`` or ``TRUNCATE`` the audit log either: the
trigger and the missing privileges guard it twice.
"""

from psycopg2 import sql

from .models import AuditEvent

#: Tables the application may only read and append to.
APPEND_ONLY_TABLES = (AuditEvent._meta.db_table,)


def role_exists(cursor, role):
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    return cursor.fetchone() is not None


def grant_app_role(cursor, role, schema="public"):
    """Give ``role`` what the application needs, as the owner of the tables (the current
    user): SELECT/INSERT/UPDATE/DELETE on every table, USAGE on every sequence, SELECT/INSERT
    only on the append-only tables; the same by default on tables and sequences the current
    user creates later. Idempotent: run it after every ``migrate``."""
    params = {"role": sql.Identifier(role), "schema": sql.Identifier(schema)}
    statements = [
        "GRANT USAGE ON SCHEMA {schema} TO {role}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema}"
        " GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ]
    for table in APPEND_ONLY_TABLES:
        table_params = {**params, "table": sql.Identifier(schema, table)}
        statements += [
            sql.SQL("REVOKE ALL ON {table} FROM {role}").format(**table_params),
            sql.SQL("GRANT SELECT, INSERT ON {table} TO {role}").format(**table_params),
        ]
    for statement in statements:
        if isinstance(statement, str):
            statement = sql.SQL(statement).format(**params)
        cursor.execute(statement)
