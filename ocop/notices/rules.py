"""Who may do what to a notification (docs/notifications.md).

Reading: its recipient, and — for a notification to an outside address (a producer's
contact, ``user`` empty) — the local officers and department staff whose area covers the
notification's ``unit`` (``ocop.notices.queries.notifications_visible_to``), and
administrators. Marking as read: only the recipient (a producer contact's e-mail has no
reader in the app)."""

from django.utils.translation import gettext as _

from ocop.accounts.models import Role

#: The roles that also read the notifications to outside addresses of their area.
AREA_ROLES = (Role.LOCAL_OFFICER, Role.DEPARTMENT_STAFF)

#: action → predicate(user, notification) → a refusal message or "".
ACTIONS = {
    "mark_read": lambda user, notification: "" if notification.user_id == user.pk else _(
        "Only its recipient can mark a notification as read."),
}


def refusal(user, action, notification):
    """The message refusing ``action`` to ``user``, or "" when allowed."""
    return ACTIONS[action](user, notification)


def can(user, action, notification):
    return not refusal(user, action, notification)
