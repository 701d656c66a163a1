"""Accent-insensitive search: ``Dossier.search_text`` holds the folded text (see
``ocop.text.fold``, the same mapping as PostgreSQL's ``unaccent``); on PostgreSQL a
pg_trgm GIN index serves ``LIKE '%…%'`` on it. SQLite scans (the portable fallback)."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm", params=None)
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS unaccent", params=None)
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS dossier_search_trgm ON dossiers_dossier "
        "USING gin (search_text gin_trgm_ops)", params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS dossier_search_trgm", params=None)


class Migration(migrations.Migration):
    dependencies = [("dossiers", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
