"""Celery tasks of the notifications: thin, idempotent (docs/background-jobs.md). The
pending rows are the truth; a message only wakes a worker up."""

from celery import shared_task

SOFT_TIME_LIMIT = 300
TIME_LIMIT = 330
#: E-mails one delivery sends before handing over to the next (well within the time limit).
BATCH_LIMIT = 1000


@shared_task(name="notices.send_pending_emails", ignore_result=True, acks_late=True,
             soft_time_limit=SOFT_TIME_LIMIT, time_limit=TIME_LIMIT)
def send_pending_emails():
    """Send the pending e-mails (``ocop.notices.mailer``): woken after a commit that created
    some (``services.wake_mailer``) and by Celery beat every minute (the sweep)."""
    from .mailer import send_pending
    from .services import wake_mailer

    counts = send_pending(limit=BATCH_LIMIT)
    if counts["sent"] + counts["failed"] >= BATCH_LIMIT:  # more may wait: carry on
        wake_mailer()
    return counts
