# The ratings register's order, newest decision first, so a page of the register is read
# from the index (dossiers/rating_rows.py, docs/performance.md)

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dossiers', '0011_producer_list_order_index'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='rating',
            index=models.Index(fields=['-decision_date', '-id'], name='rating_register_order'),
        ),
    ]
