"""Notifications (docs/notifications.md): one row per message to one recipient — a user
(shown in the app, and e-mailed when the user has an address) or an outside address such as
a producer's contact (e-mailed only). The row is the truth; the e-mail is sent by a
background job that reads ``email_status``. ``key`` makes sending idempotent: the same
event for the same recipient is one row, however many times the job that finds it runs."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EmailStatus(models.TextChoices):
    NONE = "", _("No e-mail")
    PENDING = "pending", _("To send")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Notification(models.Model):
    # unique by a constraint (below), not ``unique=True``: no second (LIKE) index on
    # PostgreSQL; the expiry job inserts thousands of rows at once (benchmarks/expiry.py)
    key = models.CharField(_("key"), max_length=150,
                           help_text=_("One notification per event and recipient."))
    kind = models.CharField(_("kind"), max_length=40)
    # indexed by ``notice_user_unread`` (user, read_at)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, null=True, blank=True,
                             related_name="notifications", verbose_name=_("recipient"),
                             db_index=False)
    email = models.EmailField(_("e-mail"), blank=True)
    recipient_name = models.CharField(_("recipient name"), max_length=255, blank=True)
    unit = models.ForeignKey(
        "regions.AdministrativeUnit", models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("area"),
        help_text=_("The area the notification concerns (who else may read it)."))
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("message"), blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object id"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    email_status = models.CharField(_("e-mail"), max_length=10, choices=EmailStatus.choices,
                                    default=EmailStatus.NONE, blank=True)
    email_attempts = models.PositiveSmallIntegerField(_("e-mail attempts"), default=0)
    email_sent_at = models.DateTimeField(_("e-mail sent at"), null=True, blank=True)
    email_error = models.TextField(_("e-mail error"), blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notice_user_unread"),
            models.Index(fields=["email_status"], condition=Q(email_status="pending"),
                         name="notice_email_pending"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["key"], name="unique_notification_key"),
            models.CheckConstraint(condition=Q(user__isnull=False) | ~Q(email=""),
                                   name="notification_has_recipient"),
        ]

    def __str__(self):
        return self.subject
