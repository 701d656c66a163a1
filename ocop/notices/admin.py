from django.contrib import admin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Read-only: notifications are written by the jobs that find their events."""

    list_display = ["created_at", "kind", "subject", "user", "email", "email_status",
                    "read_at"]
    list_filter = ["kind", "email_status"]
    search_fields = ["key", "subject", "email"]
    list_select_related = ["user"]
    raw_id_fields = ["user", "unit"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
