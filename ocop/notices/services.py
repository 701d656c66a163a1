"""Creating notifications (docs/notifications.md). Idempotent by ``key``: a second call with
the same key creates nothing and sends nothing."""

from django.db import transaction

from .models import EmailStatus, Notification


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
    """Wake the e-mail job up (the pending rows are the truth; see ``ocop.notices.tasks``)."""
