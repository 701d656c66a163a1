from django.contrib import admin

from .models import AdministrativeUnit


@admin.register(AdministrativeUnit)
class AdministrativeUnitAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "level", "province", "valid_from", "valid_to")
    list_filter = ("level", "valid_to")
    search_fields = ("name", "code")
    raw_id_fields = ("parent", "province")
    filter_horizontal = ()
    autocomplete_fields = ("successors",)
