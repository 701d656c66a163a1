"""The "daily rating expiry check" periodic task (django-celery-beat), created if missing
(ocop/notices/schedule.py); an administrator's edit is never overwritten."""

from django.db import migrations


def create(apps, schema_editor):
    from ocop.notices.schedule import ensure_daily_expiry_check

    ensure_daily_expiry_check(apps.get_model("django_celery_beat", "PeriodicTask"),
                              apps.get_model("django_celery_beat", "CrontabSchedule"))


class Migration(migrations.Migration):

    dependencies = [
        ("notices", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
