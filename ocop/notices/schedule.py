"""The periodic tasks kept in the database (django-celery-beat, editable in the admin
under "Periodic tasks"; docs/notifications.md). Written once by a data migration; an
administrator's later edit (hour, enabled, even deleting it) is never overwritten."""

#: The name of the daily expiry check's row (``PeriodicTask.name`` is unique).
DAILY_EXPIRY_CHECK = "daily rating expiry check"
DAILY_EXPIRY_TASK = "dossiers.check_rating_expiry"
#: 01:30 in Việt Nam, after midnight so "today" is the new day.
DAILY_EXPIRY_CRONTAB = {"minute": "30", "hour": "1", "day_of_week": "*",
                        "day_of_month": "*", "month_of_year": "*",
                        "timezone": "Asia/Ho_Chi_Minh"}


def ensure_daily_expiry_check(periodic_task, crontab_schedule):
    """Create the daily expiry check if no row of that name exists; returns the created row
    or None. Takes the model classes (the migration passes its historical ones)."""
    if periodic_task.objects.filter(name=DAILY_EXPIRY_CHECK).exists():
        return None
    crontab, _created = crontab_schedule.objects.get_or_create(**DAILY_EXPIRY_CRONTAB)
    return periodic_task.objects.create(
        name=DAILY_EXPIRY_CHECK, task=DAILY_EXPIRY_TASK, crontab=crontab, enabled=True,
        description="Ratings entering their re-evaluation window become due, ratings past "
                    "their validity expire; the producers and officers are notified "
                    "(docs/deadlines.md, Expiry of ratings).")
