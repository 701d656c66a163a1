"""Celery tasks of the councils app: thin, JSON arguments (ids), idempotent, safe to retry.

Each reloads what it needs and calls a function of ``councils.minutes`` that keeps the
status row (``GeneratedDocument``) the user watches. The row is the truth; a message only
wakes a worker up (docs/background-jobs.md): it is acknowledged after the task has run
(``CELERY_TASK_ACKS_LATE``), put back if the worker dies, and re-sent by the sweep if lost.
"""

from celery import shared_task

from ocop.jobs import wake  # noqa: F401  (councils.services and the sweep send through it)

#: A render longer than this is stopped (soft: recorded as failed on the row; hard: the
#: process is killed and the sweep takes the row over). Well below the broker's
#: visibility timeout (CELERY_BROKER_TRANSPORT_OPTIONS).
SOFT_TIME_LIMIT = 240
TIME_LIMIT = 300


@shared_task(name="councils.build_minutes", ignore_result=True,
             soft_time_limit=SOFT_TIME_LIMIT, time_limit=TIME_LIMIT)
def build_minutes(session_id):
    """Render the minutes (biên bản) PDF of a closed session into default storage.

    Running it again after success changes nothing (one file, status done); delivered
    while another worker is on it, it leaves it; after a crash, it takes the row over."""
    from .minutes import generate_minutes

    document = generate_minutes(int(session_id))
    return document.status if document is not None else None


@shared_task(name="councils.sweep_minutes", ignore_result=True)
def sweep_minutes():
    """Celery beat, every minute: wake a worker for minutes rows left queued or running
    by a lost message or a dead worker (``councils.minutes.sweep_stale``)."""
    from .minutes import sweep_stale

    return sweep_stale()
