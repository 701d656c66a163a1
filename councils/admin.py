"""Admin for councils: read-only.

Councils, members, sessions, agendas, recusals, attendance and results change only
through ``councils.services`` (permission, audit, dossier workflow), which the admin would
bypass; the admin is for looking things up.
"""

from django.contrib import admin

from ocop.admin_mixins import ReadOnlyInline, ReadOnlyMixin

from .models import (
    AgendaItem,
    Attendance,
    Council,
    CouncilMember,
    EvaluationSession,
    GeneratedDocument,
    ItemResultRecord,
    Recusal,
)


class MemberInline(ReadOnlyInline):
    model = CouncilMember
    fields = ("order", "user", "role", "organisation", "advisory")


@admin.register(Council)
class CouncilAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "level", "unit", "decision_number", "decision_date",
                    "quorum_ratio", "chair_required", "divergence_threshold",
                    "peer_visibility")
    list_filter = ("level", "peer_visibility")
    search_fields = ("name", "decision_number", "unit__name")
    inlines = [MemberInline]


class AgendaInline(ReadOnlyInline):
    model = AgendaItem
    fields = ("order", "dossier", "closed_at")


class RecusalInline(ReadOnlyInline):
    model = Recusal
    fields = ("member", "dossier", "reason", "recorded_by", "recorded_at")


class AttendanceInline(ReadOnlyInline):
    model = Attendance
    fields = ("member", "present", "recorded_by", "recorded_at")


class DocumentInline(ReadOnlyInline):
    model = GeneratedDocument
    fields = ("kind", "status", "reason", "file", "attempts", "started_at", "finished_at")


@admin.register(EvaluationSession)
class EvaluationSessionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("__str__", "council", "round", "date", "state", "closed_at")
    list_filter = ("state",)
    search_fields = ("council__name", "place")
    date_hierarchy = "date"
    inlines = [AgendaInline, AttendanceInline, RecusalInline, DocumentInline]


@admin.register(ItemResultRecord)
class ItemResultRecordAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("item", "members_counted", "mean_total", "band_stars", "stars",
                    "divergence", "divergence_flagged", "outcome", "recorded_at")
    list_filter = ("outcome", "stars", "divergence_flagged")
    list_select_related = ("item__dossier__product", "item__session")


@admin.register(GeneratedDocument)
class GeneratedDocumentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("session", "kind", "status", "attempts", "started_at", "finished_at")
    list_filter = ("kind", "status")
