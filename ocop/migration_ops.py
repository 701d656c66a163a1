"""Migration helpers."""

from django.db import migrations


def postgresql_only(forward_sql, backward_sql):
    """A migration operation that runs raw SQL on PostgreSQL and does nothing elsewhere
    (SQLite, the embedded default, lacks triggers of this kind, pg_trgm, composite FKs…).

    The SQL runs without parameters, so ``%`` needs no escaping.
    """

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(forward_sql, params=None)

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(backward_sql, params=None)

    return migrations.RunPython(forwards, backwards)
