"""Scoping: one ``notifications_visible_to(user)`` for pages and API (docs/notifications.md)."""

from django.db.models import Q

from ocop.accounts.queries import is_admin, visible_units

from .models import Notification
from .rules import AREA_ROLES


def notifications_visible_to(user):
    """The user's own notifications, and those to outside addresses (producers' contacts)
    whose unit lies in the user's area (officers, department staff; all for an admin)."""
    if not user.is_authenticated:
        return Notification.objects.none()
    if is_admin(user):
        return Notification.objects.filter(Q(user=user) | Q(user__isnull=True))
    return Notification.objects.filter(
        Q(user=user) | Q(user__isnull=True, unit__in=visible_units(user, *AREA_ROLES)))


def unread_count(user):
    """The user's own unread notifications (one query)."""
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
