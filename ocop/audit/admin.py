from django.contrib import admin

from ocop.admin_mixins import ReadOnlyMixin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Read-only: the audit log is append-only."""

    list_display = ("at", "actor", "action", "object_type", "object_repr", "ip")
    list_filter = ("action", "object_type")
    search_fields = ("object_repr", "object_id", "actor__username")
    date_hierarchy = "at"
