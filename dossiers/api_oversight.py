"""Read-only REST API of inspections and revocations (docs/ratings-lifecycle.md).

Under ``/api/v1/`` (registered on ``dossiers.api.router`` by :func:`register`):

* ``inspections/`` — list (``?year=&kind=periodic|ad_hoc&state=planned|concluded``) and
  retrieve: the inspection with its products inspected (``items``: rating, conclusion,
  findings per criterion). Scoped by ``dossiers.queries.inspections_visible_to``.
* ``revocations/`` — list (``?state=draft|issued``) and retrieve: rating, ground, the
  conclusion cited, its date, the deadline (``late``: decided — or still open — after it)
  and the revocation decision. Scoped by ``dossiers.queries.revocations_visible_to``.

Changes go through ``dossiers.inspections`` and ``dossiers.revocations`` from the pages;
every other method answers 405. Objects outside the user's areas answer 404; a bad filter
answers 400 naming the parameter.
"""

from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from ocop.api import ScopedObjectMixin

from . import revocations
from .api_params import bounded_param, choice_param
from .models import (
    Inspection,
    InspectionFinding,
    InspectionItem,
    InspectionKind,
    InspectionState,
    Revocation,
    RevocationState,
)
from .queries import inspections_visible_to, revocations_visible_to


class FindingSerializer(serializers.ModelSerializer):
    criterion = serializers.CharField(source="criterion.code", read_only=True)
    criterion_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = InspectionFinding
        fields = ["criterion_id", "criterion", "meets", "note"]
        read_only_fields = fields


class InspectionItemSerializer(serializers.ModelSerializer):
    rating = serializers.IntegerField(source="rating_id", read_only=True)
    product = serializers.CharField(source="rating.product.name", read_only=True)
    findings = FindingSerializer(many=True, read_only=True)
    # a plain string in the schema: empty until the inspection is concluded
    conclusion = serializers.CharField(
        read_only=True, help_text="'' (not concluded yet) | meets | not_meets | violation")

    class Meta:
        model = InspectionItem
        fields = ["id", "rating", "product", "conclusion", "note", "findings"]
        read_only_fields = fields


class InspectionSerializer(serializers.ModelSerializer):
    unit = serializers.CharField(source="unit.name", read_only=True)
    unit_id = serializers.IntegerField(read_only=True)
    plan = serializers.IntegerField(source="plan_id", read_only=True, allow_null=True)
    items = InspectionItemSerializer(many=True, read_only=True)

    class Meta:
        model = Inspection
        fields = ["id", "kind", "plan", "unit_id", "unit", "title", "planned_on",
                  "inspected_on", "state", "conclusion_date", "conclusion_reference", "note",
                  "items"]
        read_only_fields = fields


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter("year", int, description="Year planned (or concluded, when not "
                     "planned)."),
    OpenApiParameter("kind", str, enum=InspectionKind.values),
    OpenApiParameter("state", str, enum=InspectionState.values),
]))
class InspectionViewSet(ScopedObjectMixin, viewsets.ReadOnlyModelViewSet):
    """Inspections after recognition of your areas, with their products and findings."""

    serializer_class = InspectionSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Inspection.objects.none()
        items = (InspectionItem.objects.select_related("rating__product")
                 .prefetch_related(Prefetch("findings", queryset=InspectionFinding.objects
                                            .select_related("criterion")))
                 .order_by("pk"))
        return (inspections_visible_to(self.request.user).select_related("unit")
                .prefetch_related(Prefetch("items", queryset=items))
                .order_by("-planned_on", "-id"))

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        params = self.request.query_params
        year = bounded_param(params, "year", 1, 9999, _("Enter a year of four digits, e.g. "
                                                        "%(year)s.") % {
            "year": timezone.localdate().year})
        if year is not None:
            queryset = queryset.filter(Q(planned_on__year=year) | Q(
                planned_on__isnull=True, conclusion_date__year=year))
        kind = choice_param(params, "kind", InspectionKind.values)
        if kind:
            queryset = queryset.filter(kind=kind)
        state = choice_param(params, "state", InspectionState.values)
        if state:
            queryset = queryset.filter(state=state)
        return queryset


class RevocationDecisionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    date = serializers.DateField()
    issuer = serializers.CharField(source="issuer_name")


class RevocationSerializer(serializers.ModelSerializer):
    rating = serializers.IntegerField(source="rating_id", read_only=True)
    product = serializers.CharField(source="rating.product.name", read_only=True)
    inspection_item = serializers.IntegerField(source="inspection_item_id", read_only=True,
                                               allow_null=True)
    late = serializers.SerializerMethodField()
    decision = RevocationDecisionSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Revocation
        fields = ["id", "rating", "product", "ground", "inspection_item",
                  "conclusion_reference", "conclusion_date", "deadline", "late", "state",
                  "reason", "decision"]
        read_only_fields = fields

    def get_late(self, revocation) -> bool:
        return revocations.is_late(revocation)


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter("state", str, enum=RevocationState.values),
]))
class RevocationViewSet(ScopedObjectMixin, viewsets.ReadOnlyModelViewSet):
    """Revocations (thu hồi, 26/2026 Điều 8) of ratings of your areas."""

    serializer_class = RevocationSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Revocation.objects.none()
        return (revocations_visible_to(self.request.user)
                .select_related("rating__product", "decision")
                .order_by("-conclusion_date", "-id"))

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        state = choice_param(self.request.query_params, "state", RevocationState.values)
        if state:
            queryset = queryset.filter(state=state)
        return queryset


def register(router):
    """Add ``inspections/`` and ``revocations/`` to ``dossiers.api.router``."""
    router.register("inspections", InspectionViewSet, basename="inspection")
    router.register("revocations", RevocationViewSet, basename="revocation")
