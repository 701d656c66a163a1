# The decisions page's dossier counts and the decisions a commune reads through their
# products, read from this index alone (dossiers/decision_rows.py, docs/performance.md)

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dossiers', '0012_list_indexes_ratings'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='dossier',
            index=models.Index(fields=['unit', 'state', 'result_stars', 'round', 'id'],
                               name='dossier_unit_state_ids'),
        ),
    ]
