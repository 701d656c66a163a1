"""Rendering an issued decision's documents in the background (docs/background-jobs.md).

``issue_decision`` marks the decision ``queued`` (``Decision.job_status``) and, once
committed, wakes ``settings.DECISION_RENDER_PARALLELISM`` workers. Each delivery of the
task runs :func:`generate`, which is idempotent and shares the work:

1. the decision PDF, once (whoever holds the decision's advisory lock writes it);
2. the certificates, row by row: a worker claims the next rating without a certificate
   with ``SELECT … FOR UPDATE SKIP LOCKED``, renders it and records the file in the same
   transaction, so two workers never render the same certificate and a killed worker's
   claim is released with its connection;
3. the zip (decision + certificates), by the worker that finds nothing left, and the row
   becomes ``done``. A revocation decision (``Decision.kind``) is one PDF of its own
   template (``dossiers.revocations``), no certificates and no zip: the row is ``done``
   once its PDF exists.

A render that raises is recorded on the row (``failed`` with the reason) and the task is
retried with a growing delay (``dossiers.tasks``); a delivery after a success changes
nothing. :func:`sweep_stale` (Celery beat) wakes rows left queued or running by a lost
message or a dead worker. Files are written before the row points to them; nothing that
was written is overwritten.
"""

import io
import logging
import zipfile
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ocop import jobs

from .models import Decision, DecisionKind, DecisionState, JobStatus, Rating

logger = logging.getLogger(__name__)

#: First key of the decision job's advisory lock ("OCDQ"); the second is the decision id.
LOCK_CLASS = 0x4F434451
STALE_RUNNING = timedelta(minutes=3)
QUEUED_STALE = timedelta(minutes=2)
MAX_ATTEMPTS = 5


class RenderFailed(RuntimeError):
    """A document could not be rendered; the row says why, the task retries."""


def queue_documents(decision):
    """Inside the issuing transaction: mark the row queued and wake the workers after the
    commit."""
    from .tasks import render_decision_documents

    # ``job_done`` counts the files recorded, so a re-queue keeps what was made
    ratings = decision.ratings.all()
    total = 1 + len(ratings)
    done = sum(1 for r in ratings if r.certificate) + (1 if decision.file else 0)
    Decision.objects.filter(pk=decision.pk).update(
        job_status=JobStatus.QUEUED, job_total=total, job_done=done, job_reason="",
        queued_at=timezone.now(), started_at=None, finished_at=None)
    decision.job_status, decision.job_total, decision.job_done = JobStatus.QUEUED, total, done
    decision_id = decision.pk
    outcome = {"sent": None}

    def send():
        sent = True
        for _worker in range(max(1, settings.DECISION_RENDER_PARALLELISM)):
            sent = jobs.wake(render_decision_documents, decision_id) and sent
            if Decision.objects.filter(pk=decision_id, job_status=JobStatus.DONE).exists():
                break  # eager Celery (make run) did everything in the first call
        outcome["sent"] = sent

    transaction.on_commit(send)
    return outcome


def requeue(decision):
    """Render again what is missing (after a failure): the files already made are kept."""
    with transaction.atomic():
        decision = Decision.objects.select_for_update().get(pk=decision.pk)
        if decision.state == DecisionState.DRAFT or decision.job_status == JobStatus.DONE:
            return decision
        Decision.objects.filter(pk=decision.pk).update(job_attempts=0)
        queue_documents(decision)
    return decision


def _fail(decision_id, reason):
    Decision.objects.filter(pk=decision_id).update(
        job_status=JobStatus.FAILED, job_reason=reason[:2000], finished_at=timezone.now())


def _start(decision_id):
    """Mark the row running (counting an attempt when it was not); False when there is
    nothing to do (done, draft, gone, or given up)."""
    with transaction.atomic():
        decision = Decision.objects.select_for_update().filter(pk=decision_id).first()
        if decision is None or decision.state == DecisionState.DRAFT:
            return None
        if decision.job_status == JobStatus.DONE and _complete(decision):
            return None
        if decision.job_status != JobStatus.RUNNING or (
                decision.started_at and timezone.now() - decision.started_at > STALE_RUNNING):
            if decision.job_attempts >= MAX_ATTEMPTS:
                _fail(decision_id, f"Đã thử lập {decision.job_attempts} lần mà không thành "
                                   "công; hãy kiểm tra lỗi và lập lại.")
                return None
            decision.job_status, decision.job_reason = JobStatus.RUNNING, ""
            decision.started_at, decision.finished_at = timezone.now(), None
            decision.job_attempts += 1
            decision.save(update_fields=["job_status", "job_reason", "started_at",
                                         "finished_at", "job_attempts"])
        return decision


def generate(decision_id):
    """One delivery of the job (see the module docstring). Raises :class:`RenderFailed`
    after recording the failure."""
    from .certificates import (
        certificate_file_name,
        decision_file_name,
        render_certificate,
        render_decision,
    )

    decision = _start(decision_id)
    if decision is None:
        return Decision.objects.filter(pk=decision_id).first()
    try:
        with jobs.job_lock(LOCK_CLASS, decision_id) as held:
            # read again under the lock: another delivery may have written it meanwhile
            if held is not False and Decision.objects.filter(pk=decision_id,
                                                             file="").exists():
                pdf = _render(decision, render_decision)
                name = decision.file.field.generate_filename(decision,
                                                             decision_file_name(decision))
                written = decision.file.storage.save(name, ContentFile(pdf))
                Decision.objects.filter(pk=decision_id, file="").update(
                    file=written, job_done=F("job_done") + 1)
        while True:
            with transaction.atomic():
                rating = (Rating.objects.select_for_update(skip_locked=True)
                          .filter(decision_id=decision_id, certificate="")
                          .order_by("pk").first())
                if rating is None:
                    break
                pdf = render_certificate(rating)
                name = rating.certificate.field.generate_filename(
                    rating, certificate_file_name(rating))
                rating.certificate.name = rating.certificate.storage.save(name,
                                                                          ContentFile(pdf))
                rating.save(update_fields=["certificate"])
                # ``started_at`` doubles as the heartbeat the sweep looks at
                Decision.objects.filter(pk=decision_id).update(
                    job_done=F("job_done") + 1, started_at=timezone.now())
        with jobs.job_lock(LOCK_CLASS, decision_id) as held:
            if held is not False:
                _finish(decision_id)
    except Exception as exc:  # recorded for the user; the task retries
        logger.exception("Documents of decision %s failed", decision_id)
        _fail(decision_id, f"{type(exc).__name__}: {exc}")
        raise RenderFailed(str(exc)) from exc
    return Decision.objects.filter(pk=decision_id).first()


def _finish(decision_id):
    with transaction.atomic():
        decision = Decision.objects.select_for_update().get(pk=decision_id)
        if decision.job_status == JobStatus.DONE and _complete(decision):
            return
        if decision.kind == DecisionKind.REVOCATION:
            if decision.file:  # one PDF, no certificates, no zip
                decision.job_status, decision.finished_at = JobStatus.DONE, timezone.now()
                decision.job_done = 1
                decision.save(update_fields=["job_status", "finished_at", "job_done"])
            return
        ratings = list(decision.ratings.order_by("pk"))
        if not decision.file or any(not r.certificate for r in ratings):
            return  # another worker is still on a certificate; it finishes the job
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            with decision.file.open("rb") as fh:
                archive.writestr(decision.file.name.rsplit("/", 1)[-1], fh.read())
            for rating in ratings:
                with rating.certificate.open("rb") as fh:
                    archive.writestr("giay-chung-nhan/" + rating.certificate.name.rsplit(
                        "/", 1)[-1], fh.read())
        name = decision.bundle.field.generate_filename(
            decision, f"quyet-dinh-{decision.pk}-va-giay-chung-nhan.zip")
        decision.bundle.name = decision.bundle.storage.save(name,
                                                            ContentFile(buffer.getvalue()))
        decision.job_status, decision.finished_at = JobStatus.DONE, timezone.now()
        decision.job_done = 1 + len(ratings)
        decision.save(update_fields=["bundle", "job_status", "finished_at", "job_done"])
        logger.info("Documents of decision %s done (%s certificates)", decision_id,
                    len(ratings))


def _complete(decision):
    """Every file of the decision exists: the zip of a recognition decision, the PDF of a
    revocation decision (docs/ratings-lifecycle.md)."""
    if decision.kind == DecisionKind.REVOCATION:
        return bool(decision.file)
    return bool(decision.bundle)


def _render(decision, render_decision):
    """The decision's PDF: a revocation decision has its own template
    (``dossiers.revocations``); a recognition decision is rendered as before."""
    if decision.kind == DecisionKind.REVOCATION:
        from .revocations import render_revocation_decision

        return render_revocation_decision(decision)
    return render_decision(decision, draft=False)


def sweep_stale(now=None):
    """Wake a worker for decisions left ``queued`` longer than ``QUEUED_STALE`` or
    ``running`` with no progress for ``STALE_RUNNING``. Returns their ids."""
    from .tasks import render_decision_documents

    now = now or timezone.now()
    woken = []
    stale = (Decision.objects.filter(job_status=JobStatus.QUEUED,
                                     queued_at__lt=now - QUEUED_STALE)
             | Decision.objects.filter(job_status=JobStatus.RUNNING,
                                       started_at__lt=now - STALE_RUNNING))
    for decision in stale.order_by("pk"):
        if jobs.locks_supported():
            with jobs.job_lock(LOCK_CLASS, decision.pk) as held:
                if held is False:
                    continue  # a worker is on it
        updated = Decision.objects.filter(pk=decision.pk,
                                          queued_at=decision.queued_at).update(queued_at=now)
        if updated and jobs.wake(render_decision_documents, decision.pk):
            woken.append(decision.pk)
    return woken
