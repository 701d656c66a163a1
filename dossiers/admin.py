"""Admin for the dossier side.

Configuration is edited here: evaluation rounds, the checklist items per regime and public
holidays. Producers, products, dossiers, their documents, files, timelines and ratings are
read-only: every change goes through ``dossiers.services`` (permission, audit, timeline,
search text), which the admin would bypass.
"""

from django import forms
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


class EvaluationRoundForm(forms.ModelForm):
    """The round's dates are checked as ``dossiers.rounds.create_round`` checks them: the
    regime in force and the unit existing at the intake deadline and the planned session,
    the regime's round calendar (docs/regimes-and-levels.md, "In force at the date")."""

    class Meta:
        model = EvaluationRound
        fields = ("regime", "level", "unit", "year", "number", "intake_deadline",
                  "planned_session_date", "is_open")

    def clean(self):
        from .rounds import round_refusals

        data = super().clean()
        errors = round_refusals(
            regime=data.get("regime"), level=data.get("level"), unit=data.get("unit"),
            year=data.get("year"), intake_deadline=data.get("intake_deadline"),
            planned_session_date=data.get("planned_session_date"))
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
        return data


@admin.register(EvaluationRound)
class EvaluationRoundAdmin(admin.ModelAdmin):
    form = EvaluationRoundForm
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


# --- after recognition: inspections and revocation (read-only: dossiers.inspections and
# dossiers.revocations own every change; docs/ratings-lifecycle.md) ---------------------------

from .models import (  # noqa: E402
    Inspection,
    InspectionFile,
    InspectionFinding,
    InspectionItem,
    InspectionPlan,
    Revocation,
)


@admin.register(InspectionPlan)
class InspectionPlanAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("title", "unit", "year", "created_at")
    list_filter = ("year",)
    list_select_related = ("unit",)


class InspectionItemInline(ReadOnlyInline):
    model = InspectionItem
    fields = ("rating", "conclusion", "note")


class InspectionFileInline(ReadOnlyInline):
    model = InspectionFile
    fields = ("original_name", "content_type", "size", "uploaded_by", "uploaded_at")


@admin.register(Inspection)
class InspectionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("__str__", "kind", "unit", "planned_on", "state", "conclusion_date")
    list_filter = ("kind", "state")
    list_select_related = ("unit",)
    inlines = [InspectionItemInline, InspectionFileInline]


@admin.register(InspectionFinding)
class InspectionFindingAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("item", "criterion", "meets")
    list_select_related = ("item__inspection", "item__rating__product", "criterion")


@admin.register(Revocation)
class RevocationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("rating", "ground", "conclusion_date", "deadline", "state", "decision")
    list_filter = ("ground", "state")
    list_select_related = ("rating__product", "decision")
