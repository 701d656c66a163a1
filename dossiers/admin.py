"""Admin for the dossier side.

Configuration is edited here: evaluation rounds, the checklist items per regime and public
holidays. Producers, products, dossiers, their documents, files, timelines and ratings are
read-only: every change goes through ``dossiers.services`` (permission, audit, timeline,
search text), which the admin would bypass.
"""

from django.contrib import admin

from ocop.admin_mixins import ReadOnlyInline, ReadOnlyMixin

from .models import (
    ChecklistItem,
    DocumentFile,
    Dossier,
    DossierDocument,
    EvaluationRound,
    PreAssessment,
    Producer,
    Product,
    PublicHoliday,
    Rating,
    Transition,
)

# --- configuration -----------------------------------------------------------------------------


@admin.register(EvaluationRound)
class EvaluationRoundAdmin(admin.ModelAdmin):
    list_display = ("__str__", "regime", "level", "unit", "year", "number", "intake_deadline",
                    "planned_session_date", "is_open")
    list_filter = ("regime", "is_open", "year")
    search_fields = ("unit__name",)
    raw_id_fields = ("unit",)


@admin.register(ChecklistItem)
class ChecklistItemAdmin(admin.ModelAdmin):
    list_display = ("regime", "order", "code", "title", "required", "set_numbers",
                    "excluded_set_numbers")
    list_display_links = ("code", "title")
    list_filter = ("regime", "required")
    search_fields = ("code", "title")
    ordering = ("regime", "order")


@admin.register(PublicHoliday)
class PublicHolidayAdmin(admin.ModelAdmin):
    list_display = ("date", "name", "working_day")
    list_filter = ("working_day",)
    date_hierarchy = "date"
    search_fields = ("name",)


# --- read-only records ---------------------------------------------------------------------------


@admin.register(Producer)
class ProducerAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "type", "registration_no", "unit", "representative_name")
    list_filter = ("type",)
    search_fields = ("name", "registration_no", "representative_name")
    list_select_related = ("unit",)


@admin.register(Product)
class ProductAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "code", "producer", "criteria_set")
    search_fields = ("name", "code", "producer__name")
    list_select_related = ("producer", "criteria_set__regime")


class DossierDocumentInline(ReadOnlyInline):
    model = DossierDocument
    fields = ("item", "state", "reason", "reviewed_by", "reviewed_at")
    readonly_fields = fields


class DocumentFileInline(ReadOnlyInline):
    model = DocumentFile
    fields = ("original_name", "document", "content_type", "size", "sha256", "uploaded_by",
              "uploaded_at")
    readonly_fields = fields


class TransitionInline(ReadOnlyInline):
    model = Transition
    fields = ("at", "from_state", "to_state", "actor", "reason", "details")
    readonly_fields = fields


@admin.register(Dossier)
class DossierAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "product", "round", "unit", "registration_type", "state",
                    "submitted_at", "due_date")
    list_filter = ("state", "registration_type", "round__regime")
    search_fields = ("search_text",)
    list_select_related = ("product", "round__unit", "unit")
    inlines = [DossierDocumentInline, DocumentFileInline, TransitionInline]


@admin.register(PreAssessment)
class PreAssessmentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("dossier", "assessed_by", "assessed_at")


@admin.register(Rating)
class RatingAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("product", "stars", "regime", "decision_number", "decision_date",
                    "valid_until", "state")
    list_filter = ("state", "stars", "regime")
    search_fields = ("product__name", "decision_number")
