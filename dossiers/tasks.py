"""Celery tasks of the dossiers app: thin, JSON arguments (ids), idempotent, safe to retry
(docs/background-jobs.md). The status row (``Decision.job_status``) is the truth; a message
only wakes a worker up."""

import datetime

from celery import shared_task

from ocop.jobs import wake  # noqa: F401  (dossiers.issuing sends through it)

SOFT_TIME_LIMIT = 600
TIME_LIMIT = 660


@shared_task(name="dossiers.render_decision_documents", bind=True, ignore_result=True,
             soft_time_limit=SOFT_TIME_LIMIT, time_limit=TIME_LIMIT, max_retries=3)
def render_decision_documents(self, decision_id):
    """Render an issued decision's PDF, its certificates and the zip (``dossiers.issuing
    .generate``). Several deliveries share the certificates row by row. A failed render
    is recorded on the row and retried with a growing delay."""
    from .issuing import RenderFailed, generate

    try:
        generate(int(decision_id))
    except RenderFailed as failed:
        if self.request.retries < self.max_retries:
            self.retry(exc=failed, countdown=min(300, 10 * 2 ** self.request.retries),
                       throw=False)


@shared_task(name="dossiers.sweep_decision_documents", ignore_result=True)
def sweep_decision_documents():
    """Celery beat, every minute: wake a worker for decisions whose documents were left
    queued or running by a lost message or a dead worker."""
    from .issuing import sweep_stale

    return sweep_stale()


@shared_task(name="dossiers.check_rating_expiry", ignore_result=True, acks_late=True,
             soft_time_limit=SOFT_TIME_LIMIT, time_limit=TIME_LIMIT)
def check_rating_expiry(day=None):
    """Celery beat, daily (the "daily rating expiry check" periodic task, editable in the
    admin): move ratings to due / expired and notify (``dossiers.expiry``). ``day``
    (YYYY-MM-DD) defaults to today. Idempotent: a redelivery moves and notifies nothing."""
    from .expiry import check_rating_expiry as check

    moved = check(datetime.date.fromisoformat(day) if day else None)
    return {"due": len(moved["due"]), "expired": len(moved["expired"]),
            "notified": moved["notified"]}


@shared_task(name="dossiers.run_register_import", bind=True, ignore_result=True,
             acks_late=True, soft_time_limit=SOFT_TIME_LIMIT, time_limit=TIME_LIMIT,
             max_retries=4)
def run_register_import(self, import_id):
    """The dry run or the confirmed import of a register file, whichever its status row
    waits for (``dossiers.imports.run``); a failure is retried, the rows done are kept."""
    from .imports import run

    try:
        run(int(import_id))
    except Exception as exc:  # recorded on the row by the job; retried with a delay
        if self.request.retries < self.max_retries:
            self.retry(exc=exc, countdown=min(300, 10 * 2 ** self.request.retries),
                       throw=False)


@shared_task(name="dossiers.sweep_register_imports", ignore_result=True)
def sweep_register_imports():
    """Celery beat, every minute: wake a worker for imports left waiting."""
    from .imports import sweep_stale

    return sweep_stale()
