"""Read-only API of regimes and criteria sets (any authenticated user).

* ``GET /api/v1/regimes/`` — regimes with process levels, star bands, validity and
  re-evaluation windows.
* ``GET /api/v1/criteria-sets/?regime=&group=&subgroup=&status=`` — the sets (every
  version), without their tree. ``regime`` takes a short code or a code (``26/2026``,
  ``148``, ``148-1489``, ``26/2026/QĐ-TTg``); a regime that scores with another one's sets
  (148 as amended by 1489) lists those sets (add ``status=published`` for the scorable ones).
* ``GET /api/v1/criteria-sets/{id}/`` — one set with its whole tree, in a fixed number of
  queries (``scoring.queries.criteria_tree``).

Points and maxima are decimal strings with two places (``"3.00"``), as everywhere in the
API; star marks are integers (``min_star``: 3, 4 or 5, or ``null``).
"""

from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.routers import DefaultRouter

from .models import (
    CriteriaSet,
    CriteriaSetStatus,
    ProcessLevel,
    ProductGroup,
    ProductSubgroup,
    Regime,
    StarBand,
)
from .queries import criteria_sets, criteria_tree, regimes_with_rules, resolve_regime

POINTS = {"max_digits": 5, "decimal_places": 2, "read_only": True}

# --- regimes ---------------------------------------------------------------------------------


class ProcessLevelSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProcessLevel
        fields = ["order", "kind", "admin_level", "recognises", "forward_from"]


class StarBandSerializer(serializers.ModelSerializer):
    class Meta:
        model = StarBand
        fields = ["stars", "min_score"]


class WindowsSerializer(serializers.ModelSerializer):
    """Validity and re-evaluation windows (days; ``null`` where the regime sets none)."""

    class Meta:
        model = Regime
        fields = ["validity_months", "notify_days_before_expiry",
                  "filing_window_start_days_before", "filing_window_end_days_before",
                  "grace_days_after_expiry", "processing_days",
                  "commune_deadline_working_days"]


class RegimeSerializer(serializers.ModelSerializer):
    criteria_from = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True,
        help_text="Short code of the regime whose criteria this one reuses, or null.")
    criteria_regime = serializers.SerializerMethodField()
    part_maxima = serializers.DictField(child=serializers.IntegerField(), read_only=True)
    windows = WindowsSerializer(source="*", read_only=True)
    levels = ProcessLevelSerializer(many=True, read_only=True)
    bands = StarBandSerializer(many=True, read_only=True)

    class Meta:
        model = Regime
        fields = ["id", "code", "slug", "title", "effective_from", "effective_to",
                  "criteria_from", "criteria_regime", "part_maxima", "windows", "levels",
                  "bands", "notes"]

    @extend_schema_field(OpenApiTypes.STR)
    def get_criteria_regime(self, regime):
        """Short code of the regime whose criteria sets this one scores with."""
        return regime.criteria_regime.slug


class RegimeViewSet(viewsets.ReadOnlyModelViewSet):
    """Legal instruments with their process levels, star bands and windows."""

    serializer_class = RegimeSerializer
    queryset = regimes_with_rules().order_by("effective_from")


# --- criteria sets: the tree -----------------------------------------------------------------


class _Element(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    code = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    max = serializers.DecimalField(allow_null=True, **POINTS)
    notes = serializers.ListField(child=serializers.CharField(), read_only=True)
    erratum = serializers.CharField(read_only=True,
                                    help_text="Correction of the published text (ERRATA.md).")
    erratum_id = serializers.CharField(read_only=True, help_text="e.g. “E26-02”, or empty.")
    data_warning = serializers.CharField(read_only=True)


class OptionSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    label = serializers.CharField(read_only=True)
    points = serializers.DecimalField(allow_null=True, **POINTS)
    points_raw = serializers.CharField(read_only=True)
    min_star = serializers.IntegerField(allow_null=True, read_only=True)
    case = serializers.CharField(read_only=True)
    erratum = serializers.CharField(read_only=True)
    erratum_id = serializers.CharField(read_only=True)
    data_warning = serializers.CharField(read_only=True)


class CaseSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)


class CriterionSerializer(_Element):
    position = serializers.CharField(read_only=True)
    group = serializers.CharField(allow_null=True, read_only=True,
                                  help_text="Code of the criterion group (heading row).")
    min_star = serializers.IntegerField(allow_null=True, read_only=True)
    mandatory_for_stars = serializers.ListField(child=serializers.IntegerField(),
                                                read_only=True)
    implicit = serializers.BooleanField(read_only=True)
    cases = CaseSerializer(many=True, read_only=True)
    options = OptionSerializer(many=True, read_only=True)


class CriterionGroupSerializer(_Element):
    pass


class SectionSerializer(_Element):
    criterion_groups = CriterionGroupSerializer(many=True, read_only=True)
    criteria = CriterionSerializer(many=True, read_only=True)


class PartSerializer(_Element):
    sections = SectionSerializer(many=True, read_only=True)


# --- criteria sets ---------------------------------------------------------------------------


class ProductGroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProductGroup
        fields = ["id", "name", "category"]


class ProductSubgroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProductSubgroup
        fields = ["id", "name"]


class CriteriaSetSerializer(serializers.ModelSerializer):
    regime = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    regime_code = serializers.CharField(source="regime.code", read_only=True)
    scorable = serializers.BooleanField(source="is_scorable", read_only=True)
    group = ProductGroupSerializer(read_only=True)
    subgroup = ProductSubgroupSerializer(read_only=True, allow_null=True)

    class Meta:
        model = CriteriaSet
        fields = ["id", "regime", "regime_code", "set_no", "name", "slug", "version",
                  "status", "scorable", "group", "subgroup", "max_score",
                  "unresolved_reasons"]


class CriteriaSetDetailSerializer(CriteriaSetSerializer):
    parts = serializers.SerializerMethodField()

    class Meta(CriteriaSetSerializer.Meta):
        fields = CriteriaSetSerializer.Meta.fields + [
            "disqualification", "product_code_format", "star_rule", "notes", "source",
            "source_file", "parts"]

    @extend_schema_field(PartSerializer(many=True))
    def get_parts(self, cs):
        return PartSerializer(criteria_tree(cs)["parts"], many=True).data


def _known_regimes():
    return ", ".join(Regime.objects.order_by("effective_from").values_list("slug", flat=True))


LIST_PARAMETERS = [
    OpenApiParameter("regime", str, description="Short code or code of a regime, e.g. "
                     "“26/2026”, “148”, “148-1489” or “26/2026/QĐ-TTg”."),
    OpenApiParameter("group", str, description="Product group: id or exact name."),
    OpenApiParameter("subgroup", str, description="Product subgroup: id or exact name."),
    OpenApiParameter("status", str, enum=CriteriaSetStatus.values),
]


@extend_schema_view(
    list=extend_schema(parameters=LIST_PARAMETERS,
                       description="Criteria sets (every version), without their tree."),
    retrieve=extend_schema(description="One criteria set with its whole tree: parts → "
                           "sections → criterion groups and criteria → options."),
)
class CriteriaSetViewSet(viewsets.ReadOnlyModelViewSet):
    """Criteria sets (every version); the detail carries the whole tree."""

    def get_queryset(self):
        return criteria_sets()

    def get_serializer_class(self):
        return CriteriaSetDetailSerializer if self.action == "retrieve" else CriteriaSetSerializer

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            raise NotFound(_("There is no criteria set with this id.")) from None

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        params = self.request.query_params
        errors = {}
        value = params.get("regime", "").strip()
        if value:
            regime = resolve_regime(value)
            if regime is None:
                errors["regime"] = [_("Unknown regime “%(value)s”. Known regimes: %(known)s.")
                                    % {"value": value, "known": _known_regimes()}]
            else:
                queryset = queryset.filter(regime=regime.criteria_regime)
        for name, model in (("group", ProductGroup), ("subgroup", ProductSubgroup)):
            value = params.get(name, "").strip()
            if not value:
                continue
            is_id = value.isdigit() and len(value) < 10
            lookup = Q(pk=int(value)) if is_id else Q(name__iexact=value)
            ids = list(model.objects.filter(lookup).values_list("pk", flat=True))
            if not ids:
                errors[name] = [_("Unknown product group “%(value)s”.") % {"value": value}
                                if name == "group" else
                                _("Unknown product subgroup “%(value)s”.") % {"value": value}]
            else:
                queryset = queryset.filter(**{f"{name}_id__in": ids})
        value = params.get("status", "").strip()
        if value:
            if value not in CriteriaSetStatus.values:
                errors["status"] = [_("Unknown status “%(value)s”. Use one of: %(known)s.")
                                    % {"value": value,
                                       "known": ", ".join(CriteriaSetStatus.values)}]
            else:
                queryset = queryset.filter(status=value)
        if errors:
            raise ValidationError(errors)
        return queryset


router = DefaultRouter()
router.include_root_view = False
router.register("regimes", RegimeViewSet, basename="regime")
router.register("criteria-sets", CriteriaSetViewSet, basename="criteria-set")
scoring_router = router
#: Included by ``ocop/urls.py`` under ``api/v1/`` (``include("scoring.api")``).
urlpatterns = router.urls
