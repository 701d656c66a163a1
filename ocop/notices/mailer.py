"""Sending the pending e-mails of notifications (docs/notifications.md,
docs/background-jobs.md).

The row is the truth: ``email_status`` ``pending`` → ``sent``, or back to ``pending`` with
the error and one more attempt, and ``failed`` after :data:`MAX_ATTEMPTS`. Rows are claimed
in batches with ``SELECT … FOR UPDATE SKIP LOCKED`` (two workers never send the same row)
and each batch is sent and recorded in one transaction. A worker killed after sending but
before its commit leaves the rows pending: they are sent again (at least once, never lost).
"""

import logging

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import EmailStatus, Notification

logger = logging.getLogger(__name__)

#: Attempts before a row is marked failed (the sweep retries a pending row every minute).
MAX_ATTEMPTS = 5
BATCH = 50


def email_body(notification):
    """The message, with the absolute address of its page for a user of the app (an
    outside address cannot sign in: no link)."""
    body = notification.body or notification.subject
    if notification.user_id and notification.link:
        link = settings.PUBLIC_BASE_URL.rstrip("/") + notification.link
        body = f"{body}\n\n{_('See it in the OCOP system:')} {link}"
    return body


def send_pending(limit=1000):
    """Send up to ``limit`` pending e-mails; returns ``{"sent": n, "failed": n}`` (failed:
    attempts that failed in this call). A row is tried at most once per call."""
    counts = {"sent": 0, "failed": 0}
    tried = set()
    while len(tried) < limit:
        with transaction.atomic():
            rows = list(Notification.objects.select_for_update(skip_locked=True)
                        .filter(email_status=EmailStatus.PENDING).exclude(pk__in=tried)
                        .order_by("pk")[:min(BATCH, limit - len(tried))])
            if not rows:
                break
            connection = get_connection(fail_silently=False)
            for row in rows:
                tried.add(row.pk)
                row.email_attempts += 1
                try:
                    EmailMessage(subject=row.subject, body=email_body(row),
                                 to=[row.email], connection=connection).send()
                except Exception as error:  # noqa: BLE001 — any failure is recorded on the row
                    logger.warning("E-mail of notification %s failed: %s", row.pk, error)
                    row.email_error = f"{type(error).__name__}: {error}"[:1000]
                    if row.email_attempts >= MAX_ATTEMPTS:
                        row.email_status = EmailStatus.FAILED
                    counts["failed"] += 1
                else:
                    row.email_status, row.email_error = EmailStatus.SENT, ""
                    row.email_sent_at = timezone.now()
                    counts["sent"] += 1
            try:
                connection.close()
            except Exception:  # noqa: BLE001 — the messages are recorded either way
                logger.warning("Could not close the e-mail connection", exc_info=True)
            Notification.objects.bulk_update(
                rows, ["email_status", "email_attempts", "email_error", "email_sent_at"])
    return counts
