# The producer list's order, name then id, with the area to filter it by from the index
# alone (dossiers/producer_rows.py, docs/performance.md)

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dossiers', '0010_register_import'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='producer',
            index=models.Index(fields=['name', 'id'], include=('unit',),
                               name='producer_list_order'),
        ),
    ]
