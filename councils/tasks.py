"""Celery tasks of the councils app: thin, JSON arguments (ids), idempotent, safe to retry.

Each reloads what it needs and calls a function of ``councils.minutes`` that keeps the
status row (``GeneratedDocument``) the user watches.
"""

from celery import shared_task


@shared_task(name="councils.build_minutes", ignore_result=True)
def build_minutes(session_id):
    """Render the minutes (biên bản) PDF of a closed session into default storage.

    Running it again after success changes nothing (one file, status done)."""
    from .minutes import generate_minutes

    document = generate_minutes(int(session_id))
    return document.status if document is not None else None
