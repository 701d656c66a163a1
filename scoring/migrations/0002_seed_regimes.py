"""Seed the four regimes (levels, bands, windows) from ``scoring/regimes.py``."""

from django.db import migrations


def seed(apps, schema_editor):
    from scoring.regimes import sync_regimes

    sync_regimes(
        apps.get_model("scoring", "Regime"),
        apps.get_model("scoring", "ProcessLevel"),
        apps.get_model("scoring", "StarBand"),
    )


class Migration(migrations.Migration):
    dependencies = [("scoring", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
