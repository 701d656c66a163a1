"""Admin for regimes and criteria sets.

Criteria sets are edited as drafts only: a published or retired version (and every part,
section, criterion and option of it) is read-only here. To change one, use the “new draft
version” action, edit the draft, then “publish” it (validated like a file; the previous
published version is retired).
"""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .loader import CriteriaLoadError, new_version, publish
from .models import (
    CriteriaSet,
    Criterion,
    CriterionGroup,
    Option,
    Part,
    ProcessLevel,
    ProductGroup,
    ProductSubgroup,
    Regime,
    RoundWindow,
    Section,
    StarBand,
)

# --- regimes ---------------------------------------------------------------------------------


class ProcessLevelInline(admin.TabularInline):
    model = ProcessLevel
    extra = 0


class StarBandInline(admin.TabularInline):
    model = StarBand
    extra = 0


class RoundWindowInline(admin.TabularInline):
    model = RoundWindow
    extra = 0


@admin.register(Regime)
class RegimeAdmin(admin.ModelAdmin):
    list_display = ("code", "slug", "effective_from", "effective_to", "validity_months",
                    "part_a_max", "part_b_max", "part_c_max")
    search_fields = ("code", "slug", "title")
    inlines = [ProcessLevelInline, StarBandInline, RoundWindowInline]
    fieldsets = [
        (None, {"fields": ("code", "slug", "title", "effective_from", "effective_to",
                           "criteria_from", "notes")}),
        (_("Validity and re-evaluation"), {"fields": (
            "validity_months", "notify_days_before_expiry", "filing_window_start_days_before",
            "filing_window_end_days_before", "grace_days_after_expiry", "processing_days",
            "commune_deadline_working_days", "revocation_deadline_days",
            "written_reevaluation")}),
        (_("Part maxima"), {"fields": ("part_a_max", "part_b_max", "part_c_max")}),
    ]


class ProductSubgroupInline(admin.TabularInline):
    model = ProductSubgroup
    extra = 0


@admin.register(ProductGroup)
class ProductGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "category")
    search_fields = ("name", "category")
    inlines = [ProductSubgroupInline]


# --- criteria sets: drafts only ---------------------------------------------------------------


class DraftOnlyMixin:
    """Change/delete only while the element's criteria set is a draft."""

    def criteria_set_of(self, obj):
        return obj if isinstance(obj, CriteriaSet) else obj.criteria_set

    def editable(self, obj):
        return obj is None or self.criteria_set_of(obj).is_editable

    def has_change_permission(self, request, obj=None):
        return self.editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.editable(obj) and super().has_delete_permission(request, obj)


class DraftOnlyInline(DraftOnlyMixin, admin.TabularInline):
    extra = 0
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return self.editable(obj) and super().has_add_permission(request, obj)


class DraftOnlyAdmin(DraftOnlyMixin, admin.ModelAdmin):
    def has_add_permission(self, request):
        # elements are added through their parent's page (the parent must be a draft)
        return False

    def save_formset(self, request, form, formset, change):
        # new children belong to the parent's set (the denormalised ``criteria_set``)
        parent = form.instance
        set_id = parent.pk if isinstance(parent, CriteriaSet) else parent.criteria_set_id
        for obj in formset.save(commit=False):
            obj.criteria_set_id = set_id
            obj.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()


class PartInline(DraftOnlyInline):
    model = Part
    fields = ("code", "title", "max", "order", "erratum")


class SectionInline(DraftOnlyInline):
    model = Section
    fields = ("code", "title", "max", "order", "erratum")


class CriterionInline(DraftOnlyInline):
    model = Criterion
    fields = ("order", "position", "code", "title", "max", "min_star", "group")
    raw_id_fields = ("group",)


class OptionInline(DraftOnlyInline):
    model = Option
    fields = ("order", "label", "points", "min_star", "case", "erratum")


class CriterionGroupInline(DraftOnlyInline):
    model = CriterionGroup
    fields = ("code", "title", "max", "order", "erratum")


@admin.register(CriteriaSet)
class CriteriaSetAdmin(DraftOnlyAdmin):
    list_display = ("set_no", "name", "regime", "version", "status", "group", "source_file")
    list_select_related = ("regime", "group")
    list_filter = ("regime", "status", "group")
    search_fields = ("name", "slug")
    readonly_fields = ("content_hash", "source_file", "created_at", "updated_at")
    inlines = [PartInline]
    actions = ["make_new_version", "publish_drafts"]

    @admin.action(description=_("Create a new draft version of the selected sets"))
    def make_new_version(self, request, queryset):
        created = [new_version(cs, actor=request.user) for cs in queryset]
        self.message_user(request, ngettext("%(n)d draft created.", "%(n)d drafts created.",
                                            len(created)) % {"n": len(created)})

    @admin.action(description=_("Publish the selected drafts"))
    def publish_drafts(self, request, queryset):
        for cs in queryset:
            try:
                publish(cs, actor=request.user)
            except CriteriaLoadError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(request, _("%(set)s published.") % {"set": cs})


@admin.register(Part)
class PartAdmin(DraftOnlyAdmin):
    list_select_related = ("criteria_set__regime",)
    list_display = ("criteria_set", "code", "title", "max")
    list_filter = ("criteria_set__regime", "code")
    inlines = [SectionInline]

    def get_readonly_fields(self, request, obj=None):
        return ("criteria_set",)


@admin.register(Section)
class SectionAdmin(DraftOnlyAdmin):
    list_select_related = ("criteria_set__regime",)
    list_display = ("criteria_set", "code", "title", "max")
    list_filter = ("criteria_set__regime",)
    search_fields = ("title",)
    inlines = [CriterionGroupInline, CriterionInline]

    def get_readonly_fields(self, request, obj=None):
        return ("criteria_set", "part")


@admin.register(Criterion)
class CriterionAdmin(DraftOnlyAdmin):
    list_select_related = ("criteria_set__regime",)
    list_display = ("position", "code", "title", "max", "criteria_set")
    list_filter = ("criteria_set__regime", "criteria_set__status")
    search_fields = ("code", "title", "position")
    inlines = [OptionInline]

    def get_readonly_fields(self, request, obj=None):
        return ("criteria_set", "section")


@admin.register(Option)
class OptionAdmin(DraftOnlyAdmin):
    list_select_related = ("criterion", "criteria_set__regime")
    list_display = ("label", "points", "min_star", "criterion", "criteria_set")
    list_filter = ("criteria_set__regime", "criteria_set__status")
    search_fields = ("label",)

    def get_readonly_fields(self, request, obj=None):
        return ("criteria_set", "criterion")
