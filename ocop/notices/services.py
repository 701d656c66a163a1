"""Creating and reading notifications (docs/notifications.md). Idempotent by ``key``: a
second call with the same key creates nothing and sends nothing. Every change of a
notification goes through this module; who may do what is ``ocop.notices.rules``."""

from django.db import transaction
from django.utils import timezone

from ocop.audit.services import record

from . import rules
from .models import EmailStatus, Notification


class NoticeError(Exception):
    """A refused change, with the message to show (``code`` names the reason)."""

    def __init__(self, message, code="refused"):
        super().__init__(message)
        self.message, self.code = message, code


def notify(*, key, kind, subject, user=None, email="", recipient_name="", unit=None, body="",
           link="", about=None):
    """One notification to ``user`` (in the app, and by e-mail when the user has an
    address) or to the outside address ``email``; returns it, or None when ``key`` was
    already used. The e-mail goes out after the commit (the pending row is the truth)."""
    address = email or (user.email if user is not None else "")
    notification, created = Notification.objects.get_or_create(key=key, defaults={
        "kind": kind, "user": user, "email": address, "recipient_name": recipient_name,
        "unit": unit, "subject": subject[:300], "body": body, "link": link,
        "object_type": about._meta.label_lower if about is not None else "",
        "object_id": str(about.pk) if about is not None else "",
        "email_status": EmailStatus.PENDING if address else EmailStatus.NONE,
    })
    if not created:
        return None
    if address:
        transaction.on_commit(wake_mailer)
    return notification


def wake_mailer():
    """Wake the e-mail job up (the pending rows are the truth; see ``ocop.notices.tasks``);
    False when the broker cannot be reached (the beat sweep sends them later)."""
    from ocop.jobs import wake

    from .tasks import send_pending_emails

    return wake(send_pending_emails)


def mark_read(user, notification):
    """Mark one of the user's own notifications as read (again: nothing changes)."""
    with transaction.atomic():
        notification = Notification.objects.select_for_update().get(pk=notification.pk)
        refusal = rules.refusal(user, "mark_read", notification)
        if refusal:
            raise NoticeError(refusal, code="not_recipient")
        if notification.read_at is None:
            notification.read_at = timezone.now()
            notification.save(update_fields=["read_at"])
            record("notification.read", notification, actor=user)
    return notification


def mark_all_read(user):
    """Mark every unread notification of the user as read; returns how many."""
    with transaction.atomic():
        count = Notification.objects.filter(user=user, read_at__isnull=True).update(
            read_at=timezone.now())
        if count:
            record("notification.read_all", actor=user, after={"count": count})
    return count
