"""Accent-insensitive search: ``Dossier.search_text`` holds the folded text (see
``ocop.text.fold``, the same mapping as PostgreSQL's ``unaccent``); on PostgreSQL a
pg_trgm GIN index serves ``LIKE '%…%'`` on it. SQLite scans (the portable fallback)."""

from django.db import migrations

from ocop.migration_ops import postgresql_only

CREATE = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE INDEX IF NOT EXISTS dossier_search_trgm ON dossiers_dossier
    USING gin (search_text gin_trgm_ops);
"""

DROP = "DROP INDEX IF EXISTS dossier_search_trgm;"


class Migration(migrations.Migration):
    dependencies = [("dossiers", "0001_initial")]
    operations = [postgresql_only(CREATE, DROP)]
