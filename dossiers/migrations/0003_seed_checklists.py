"""Seed the dossier checklist of 148, 148-1489 and 26/2026 from ``dossiers/checklists.py``
(idempotent: rows are matched by regime and code)."""

from django.db import migrations


def seed(apps, schema_editor):
    from dossiers.checklists import sync_checklists

    sync_checklists(
        apps.get_model("scoring", "Regime"),
        apps.get_model("dossiers", "ChecklistItem"),
    )


class Migration(migrations.Migration):

    dependencies = [
        ("dossiers", "0002_search_trigram_index"),
        ("scoring", "0002_seed_regimes"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
