"""Admin building blocks shared by the apps."""

from django.contrib import admin


class ReadOnlyMixin:
    """Visible in the admin but never changed there: the services own every change (they
    check permissions and preconditions and write the audit log)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ReadOnlyMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False
