"""The one way to write the audit log."""

from django.forms.models import model_to_dict

from .context import client_ip, current_request
from .models import AuditEvent


def snapshot(obj, fields=None):
    """A JSON-friendly picture of a model instance for ``before``/``after``."""
    if obj is None:
        return None
    data = model_to_dict(obj, fields=fields)
    return {key: (value.pk if hasattr(value, "pk") else value) for key, value in data.items()}


def record(action, obj=None, *, actor=None, before=None, after=None, reason=""):
    """Append one audit event. ``actor`` and IP default to the current request's."""
    request = current_request()
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = user
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:255] if obj is not None else "",
        before=before,
        after=after,
        reason=reason,
        ip=client_ip(request),
    )
