"""REST API of dossier intake: producers, products, evaluation rounds and dossiers.

Every viewset starts from ``dossiers.queries.*_visible_to(user)`` (an object outside the
user's areas answers 404, exactly like the pages) and every change goes through
``dossiers.services`` (the same functions the pages call). Under ``/api/v1/``:

* ``producers/`` — list (``?q=`` accent-insensitive on name and registration number),
  retrieve, create (``services.create_producer``).
* ``products/`` — list (``?producer=<id>``), retrieve, create (``services.create_product``).
* ``rounds/`` — list (``?open=1|0``, ``?regime=<short code or code>``), retrieve. Read-only:
  department staff create rounds in the admin.
* ``dossiers/`` — list (``?round=&state=&criteria_set=&registration_type=&overdue=1&q=``),
  retrieve (with the checklist ``documents`` and their ``files``, and the ``transitions``
  timeline), create (``services.create_dossier``), ``PATCH`` of the registration form and the
  samples (``services.update_dossier``).
* ``dossiers/{id}/transition/`` — ``POST {"action", "reason", "reasons": {"<document id>":
  "..."}, "data": {...}}`` runs ``services.TRANSITIONS[action]`` and answers the dossier.
* ``dossiers/{id}/actions/`` — ``GET``: the actions the user may run now.
* ``dossiers/{id}/documents/{document_id}/files/`` — ``POST`` multipart ``file``:
  ``services.upload_file``; answers the stored file (201).

Refusals of the services (:class:`dossiers.services.DossierError`) keep the project's error
body ``{"error": {"code", "message", "fields"}}`` (``ocop.api.exception_handler``):

* an error naming fields → 400, ``code`` ``"invalid"``, the service's message and
  ``fields`` (the handler shapes every field error that way);
* the dossier is not in a state that allows the action (codes ``state``,
  ``already_submitted``, ``pre_assessment_required``) or the product already has an open
  dossier (``duplicate``) → **409 Conflict** with the service's code and message: the
  request was well-formed, the resource's current state conflicts (reload it);
* the user's role or area does not allow the action on a dossier they can see (``role``,
  ``area``) → 403;
* anything else (e.g. ``incomplete``: required documents missing) → 400 with the service's
  code. See :data:`STATUS_BY_CODE`.
"""

import inspect
from contextlib import contextmanager

from django.db import connection
from django.db.models import Prefetch, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from ocop.accounts.queries import area_units
from ocop.api import ScopedObjectMixin, StrictFieldsMixin, StrictSerializer, UnitSerializer
from ocop.input import FormParser, MultiPartParser, id_in_range
from ocop.regions.models import AdministrativeUnit
from ocop.text import fold
from scoring.models import CriteriaSet
from scoring.queries import resolve_regime

from . import api_oversight, api_recognition, rules, services, uploads
from .api_params import bad_filter, flag_param, id_param, search_param
from .deadlines import annotate_overdue, is_overdue
from .forms import SAMPLES_COUNT_VALIDATORS
from .models import (
    DocumentFile,
    DocumentState,
    Dossier,
    DossierDocument,
    DossierState,
    EvaluationRound,
    Producer,
    Product,
    Rating,
    RegistrationType,
    Transition,
)
from .queries import (
    INTAKE_ROLES,
    dossiers_visible_to,
    filing_q,
    filter_dossiers,
    producers_visible_to,
    products_visible_to,
    rounds_visible_to,
)
from .validators import normalise_registration_no

# --- errors ----------------------------------------------------------------------------------

#: ``DossierError.code`` (``dossiers.rules`` / ``dossiers.services``) → HTTP status, for
#: refusals that name no field. The state machine's refusals — and a second open dossier of
#: the same product — conflict with the current state of a resource: 409. The role/area
#: refusals of a dossier the user can see: 403. Anything else (documents missing, no commune
#: for the product code, a line not yet submitted…): 400.
STATUS_BY_CODE = {
    "state": status.HTTP_409_CONFLICT,
    "already_submitted": status.HTTP_409_CONFLICT,
    "pre_assessment_required": status.HTTP_409_CONFLICT,
    "duplicate": status.HTTP_409_CONFLICT,
    "role": status.HTTP_403_FORBIDDEN,
    "area": status.HTTP_403_FORBIDDEN,
    "council_only": status.HTTP_403_FORBIDDEN,
}


class ServiceRefused(exceptions.APIException):
    """A :class:`~dossiers.services.DossierError` without field errors, with its own code."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "refused"

    def __init__(self, message, *, code, status_code):
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.default_code = code  # ocop.api.exception_handler reads ``default_code``


def api_error(error):
    """The DRF exception that ``ocop.api.exception_handler`` turns into the error body."""
    message = str(getattr(error, "message", "") or error)
    code = getattr(error, "code", None) or "refused"
    fields = dict(getattr(error, "fields", None) or {})
    non_field = fields.pop("__all__", None) or fields.pop("non_field_errors", None) or []
    if fields:
        if isinstance(non_field, str):
            non_field = [non_field]
        messages = [message, *(str(m) for m in non_field if str(m) != message)]
        detail = {"non_field_errors": [" ".join(messages)]}
        for name, errors in fields.items():
            detail[name] = [str(e) for e in errors] if isinstance(errors, list | tuple) \
                else [str(errors)]
        invalid = exceptions.ValidationError(detail)
        invalid.error_code = code  # kept in the error body by ocop.api.exception_handler
        return invalid
    return ServiceRefused(message, code=code,
                          status_code=STATUS_BY_CODE.get(code, status.HTTP_400_BAD_REQUEST))


@contextmanager
def service_call():
    """Run a service; its refusal becomes the API's error body."""
    try:
        yield
    except services.DossierError as error:
        raise api_error(error) from error


ErrorSerializer = inline_serializer("Error", {"error": inline_serializer("ErrorBody", {
    "code": serializers.CharField(),
    "message": serializers.CharField(),
    "fields": serializers.DictField(child=serializers.ListField(
        child=serializers.CharField()), allow_null=True),
})})

NOT_FOUND = {
    404: OpenApiResponse(ErrorSerializer, description="Not found or outside your areas."),
}
ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid data or a refused action."),
    403: OpenApiResponse(ErrorSerializer, description="Your role or area does not allow "
                                                      "this."),
    **NOT_FOUND,
}
CONFLICT = {409: OpenApiResponse(ErrorSerializer, description=(
    "The dossier's state does not allow this action (reload it)."))}


class ScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """An id chosen among what the requesting user may see; anything else reads as
    "does not exist" (never "not yours")."""

    def __init__(self, scope, **kwargs):
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.scope(self.context["request"].user)


# --- producers -------------------------------------------------------------------------------


class ProducerSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    type_display = serializers.CharField(source="get_type_display", read_only=True)
    unit = ScopedPrimaryKeyField(
        lambda user: area_units(user, *INTAKE_ROLES),
        queryset=AdministrativeUnit.objects.all(),
        help_text="Id of the administrative unit where the producer is (one of your areas).")
    unit_name = serializers.CharField(source="unit.name", read_only=True)

    class Meta:
        model = Producer
        fields = ["id", "type", "type_display", "name", "registration_no",
                  "representative_name", "representative_gender",
                  "representative_ethnicity", "address", "unit", "unit_name", "phone",
                  "email", "created_at"]
        read_only_fields = ["created_at"]
        # the service normalises and checks the number (format and uniqueness) itself
        extra_kwargs = {"registration_no": {"validators": [], "allow_null": False}}

    def validate_registration_no(self, value):
        return normalise_registration_no(value)  # forgiving, as the page: "1801 234.567"

    def validate_name(self, value):
        return " ".join(value.split())


def _producer_search(queryset, q):
    """Accent- and case-insensitive match on the name, or the registration number."""
    folded = fold(q)
    number = normalise_registration_no(q)
    if connection.vendor == "postgresql":  # unaccent is installed by dossiers 0002
        return queryset.filter(Q(name__unaccent__icontains=folded)
                               | Q(registration_no__icontains=number))
    # portable fallback (SQLite): fold in Python over the user's own producers
    ids = [pk for pk, name, reg in queryset.values_list("pk", "name", "registration_no")
           if folded in fold(name) or (number and number in reg)]
    return queryset.filter(pk__in=ids)


@extend_schema_view(
    list=extend_schema(parameters=[OpenApiParameter(
        "q", str, description="Part of the name (accents and case ignored) or of the "
                              "registration / tax number.")]),
    create=extend_schema(responses={201: ProducerSerializer, **ERRORS}),
)
class ProducerViewSet(ScopedObjectMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Producers (chủ thể OCOP) of your areas."""

    serializer_class = ProducerSerializer

    def get_queryset(self):
        return producers_visible_to(self.request.user).select_related("unit")

    def filter_queryset(self, queryset):
        if self.action == "list":
            q = search_param(self.request.query_params)
            if q:
                queryset = _producer_search(queryset, q)
        return queryset

    def perform_create(self, serializer):
        with service_call():
            serializer.instance = services.create_producer(
                self.request.user, data=serializer.validated_data)


# --- products --------------------------------------------------------------------------------


class ProductSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    producer = ScopedPrimaryKeyField(producers_visible_to, queryset=Producer.objects.all())
    producer_name = serializers.CharField(source="producer.name", read_only=True)
    criteria_set = serializers.PrimaryKeyRelatedField(
        queryset=CriteriaSet.objects.published(),
        help_text="Id of a published criteria set (GET /api/v1/criteria-sets/).")
    criteria_set_name = serializers.CharField(source="criteria_set.name", read_only=True)
    criteria_set_no = serializers.IntegerField(source="criteria_set.set_no", read_only=True)

    class Meta:
        model = Product
        fields = ["id", "name", "code", "producer", "producer_name", "criteria_set",
                  "criteria_set_no", "criteria_set_name", "created_at"]
        read_only_fields = ["code", "created_at"]

    def validate_name(self, value):
        return " ".join(value.split())


@extend_schema_view(
    list=extend_schema(parameters=[OpenApiParameter("producer", int)]),
    create=extend_schema(responses={201: ProductSerializer, **ERRORS}),
)
class ProductViewSet(ScopedObjectMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Products of the producers of your areas."""

    serializer_class = ProductSerializer

    def get_queryset(self):
        return products_visible_to(self.request.user).select_related(
            "producer", "criteria_set")

    def filter_queryset(self, queryset):
        if self.action == "list":
            producer = id_param(self.request.query_params, "producer")
            if producer is not None:
                queryset = queryset.filter(producer_id=producer)
        return queryset

    def perform_create(self, serializer):
        data = serializer.validated_data
        with service_call():
            serializer.instance = services.create_product(
                self.request.user, producer=data["producer"], name=data["name"],
                criteria_set=data["criteria_set"])


# --- rounds ----------------------------------------------------------------------------------


class LevelSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    kind = serializers.CharField()
    admin_level = serializers.CharField()


class RoundSerializer(serializers.ModelSerializer):
    label = serializers.CharField(source="__str__", read_only=True)
    regime = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    regime_code = serializers.CharField(source="regime.code", read_only=True)
    level = LevelSerializer(read_only=True)
    unit = UnitSerializer(read_only=True)

    class Meta:
        model = EvaluationRound
        fields = ["id", "label", "regime", "regime_code", "level", "unit", "year", "number",
                  "intake_deadline", "planned_session_date", "is_open"]


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter("open", int, enum=[0, 1], description="1: taking new dossiers today "
                     "(open, intake deadline not passed, its regime in force and its unit "
                     "existing); 0: the others."),
    OpenApiParameter("regime", str, description="Short code or code of a regime, e.g. "
                     "“148-1489” or “26/2026”."),
]))
class RoundViewSet(ScopedObjectMixin, viewsets.ReadOnlyModelViewSet):
    """Evaluation rounds you may file into: those of your areas and of the areas above."""

    serializer_class = RoundSerializer

    def get_queryset(self):
        return rounds_visible_to(self.request.user).select_related("regime", "level", "unit")

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        params = self.request.query_params
        is_open = flag_param(params, "open")
        if is_open is not None:
            filing = filing_q(timezone.localdate())
            queryset = queryset.filter(filing) if is_open else queryset.exclude(filing)
        value = params.get("regime", "").strip()
        if value:
            regime = resolve_regime(value)
            if regime is None:
                raise bad_filter("regime", _("Unknown regime “%(value)s”.") % {
                    "value": value})
            queryset = queryset.filter(regime=regime)
        return queryset


# --- dossiers: read --------------------------------------------------------------------------


class RoundRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField(source="__str__")
    year = serializers.IntegerField()
    number = serializers.IntegerField()


class ProductRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    code = serializers.CharField()


class ProducerRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    registration_no = serializers.CharField()


class CriteriaSetRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    set_no = serializers.IntegerField()
    version = serializers.IntegerField()
    name = serializers.CharField()


class DossierSerializer(serializers.ModelSerializer):
    # the label follows the level (``rules.state_label``), as on the pages
    state_display = serializers.SerializerMethodField()
    registration_type_display = serializers.CharField(
        source="get_registration_type_display", read_only=True)
    round = RoundRefSerializer(read_only=True)
    product = ProductRefSerializer(read_only=True)
    producer = ProducerRefSerializer(source="product.producer", read_only=True)
    criteria_set = CriteriaSetRefSerializer(read_only=True)
    unit = UnitSerializer(read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Dossier
        fields = ["id", "state", "state_display", "registration_type",
                  "registration_type_display", "round", "product", "producer",
                  "criteria_set", "unit", "submitted_at", "accepted_at", "due_date",
                  "overdue", "created_at", "updated_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_state_display(self, dossier):
        return rules.state_label(dossier)

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_overdue(self, dossier):
        """Past its processing deadline (``dossiers.deadlines``)."""
        value = getattr(dossier, "is_overdue", None)
        return is_overdue(dossier) if value is None else value


class FileSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = DocumentFile
        fields = ["id", "original_name", "content_type", "size", "uploaded_at",
                  "download_url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, file):
        """The page that serves the file (same permission checks as the pages), or
        ``null`` while it does not exist."""
        try:
            url = reverse("dossiers:file-download", kwargs={"pk": file.pk})
        except NoReverseMatch:
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


def _values(choices):
    return " | ".join(choices.values)


# Document and transition states are plain strings in the schema (values in the help text):
# as enums they would collide with the dossier's ``state`` enum, and resolving that needs
# ``SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]``.


class DocumentSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="item.code", read_only=True)
    title = serializers.CharField(source="item.title", read_only=True)
    required = serializers.BooleanField(source="item.required", read_only=True)
    state = serializers.CharField(read_only=True, help_text=_values(DocumentState))
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    files = FileSerializer(many=True, read_only=True)

    class Meta:
        model = DossierDocument
        fields = ["id", "code", "title", "required", "state", "state_display", "reason",
                  "reviewed_at", "files"]
        read_only_fields = fields


class TransitionSerializer(serializers.ModelSerializer):
    from_state = serializers.CharField(
        read_only=True, help_text="Empty for the creation; else " + _values(DossierState))
    to_state = serializers.CharField(read_only=True, help_text=_values(DossierState))
    from_state_display = serializers.CharField(source="get_from_state_display",
                                               read_only=True)
    to_state_display = serializers.CharField(source="get_to_state_display", read_only=True)
    actor = serializers.SerializerMethodField()

    class Meta:
        model = Transition
        fields = ["from_state", "from_state_display", "to_state", "to_state_display",
                  "actor", "at", "reason", "details"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor(self, transition):
        """Display name of who made the change (``null`` for the system)."""
        return transition.actor.display_name if transition.actor_id else None


class DossierDetailSerializer(DossierSerializer):
    documents = DocumentSerializer(many=True, read_only=True)
    transitions = TransitionSerializer(many=True, read_only=True)

    class Meta(DossierSerializer.Meta):
        fields = DossierSerializer.Meta.fields + [
            "current_rating", "registration", "samples_count", "samples_received_on",
            "documents", "transitions"]
        read_only_fields = fields


# --- dossiers: write -------------------------------------------------------------------------


class DossierCreateSerializer(StrictSerializer):
    round = ScopedPrimaryKeyField(rounds_visible_to, queryset=EvaluationRound.objects.all())
    product = ScopedPrimaryKeyField(products_visible_to, queryset=Product.objects.all())
    registration_type = serializers.ChoiceField(choices=RegistrationType.choices,
                                                default=RegistrationType.FIRST)
    current_rating = ScopedPrimaryKeyField(
        lambda user: Rating.objects.filter(product__in=products_visible_to(user)),
        queryset=Rating.objects.all(), required=False, allow_null=True, default=None,
        help_text="For an upgrade or a re-evaluation: the rating it builds on.")
    registration = serializers.JSONField(required=False, default=None,
                                         help_text="The registration form (Mẫu 01).")


class DossierUpdateSerializer(StrictSerializer):
    registration = serializers.JSONField(required=False,
                                         help_text="The registration form (Mẫu 01).")
    samples_count = serializers.IntegerField(required=False,
                                             validators=SAMPLES_COUNT_VALIDATORS)
    samples_received_on = serializers.DateField(required=False)


class TransitionRequestSerializer(StrictSerializer):
    action = serializers.ChoiceField(
        choices=sorted([*services.TRANSITIONS, *rules.COUNCIL_ONLY]),
        help_text="start_evaluation and record_result are the council's: always refused "
                  "here (403 council_only).")
    reason = serializers.CharField(
        required=False, allow_blank=True, default="",
        help_text="Why (withdraw), or the covering note (return_for_completion).")
    reasons = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, default=dict,
        help_text="return_for_completion: {\"<document id>\": \"what is wrong\"}.")
    data = serializers.DictField(required=False, default=dict,
                                 help_text="record_pre_assessment: the assessment (Mẫu 03).")

    def validate_reasons(self, value):
        result = {}
        for key, text in value.items():
            if not id_in_range(key):
                raise serializers.ValidationError(
                    _("“%(key)s” is not a document id.") % {"key": key})
            result[int(key)] = text
        return result


def run_transition(function, user, dossier, payload):
    """Call a workflow service with the keyword arguments its signature asks for."""
    params = inspect.signature(function).parameters
    supplied = {
        "reasons": payload["reasons"], "note": payload["reason"],
        "reason": payload["reason"], "data": payload["data"],
        "outcome": payload["data"].get("outcome"), "result": payload["data"].get("result"),
    }
    kwargs = {name: supplied[name] for name in params if name in supplied}
    return function(user, dossier, **kwargs)


class UploadSerializer(StrictSerializer):
    file = serializers.FileField()


DOSSIER_FILTERS = [
    OpenApiParameter("round", int),
    OpenApiParameter("state", str, enum=DossierState.values),
    OpenApiParameter("criteria_set", int),
    OpenApiParameter("registration_type", str, enum=RegistrationType.values),
    OpenApiParameter("overdue", int, enum=[0, 1], description="1: only dossiers past "
                     "their processing deadline; 0: only those that are not."),
    OpenApiParameter("q", str, description="Product or producer name, accents and case "
                     "ignored."),
]


@extend_schema_view(
    list=extend_schema(parameters=DOSSIER_FILTERS),
    retrieve=extend_schema(responses={200: DossierDetailSerializer, **NOT_FOUND}),
    create=extend_schema(request=DossierCreateSerializer,
                         responses={201: DossierDetailSerializer, **ERRORS, **CONFLICT}),
    partial_update=extend_schema(request=DossierUpdateSerializer,
                                 responses={200: DossierDetailSerializer, **ERRORS,
                                            **CONFLICT}),
)
class DossierViewSet(ScopedObjectMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     mixins.CreateModelMixin, mixins.UpdateModelMixin,
                     viewsets.GenericViewSet):
    """Dossiers of your areas, their checklist, files and timeline."""

    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_serializer_class(self):
        return DossierSerializer if self.action == "list" else DossierDetailSerializer

    def _visible(self):
        return rules.with_first_level_kind(annotate_overdue(
            dossiers_visible_to(self.request.user).select_related(
                "round__unit", "round__level", "product__producer", "criteria_set", "unit")))

    @staticmethod
    def _with_detail(queryset):
        """Checklist lines with their files and the timeline, in a fixed number of queries."""
        return queryset.prefetch_related(
            Prefetch("documents", queryset=DossierDocument.objects.select_related(
                "item").prefetch_related("files")),
            Prefetch("transitions", queryset=Transition.objects.select_related("actor")),
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # OpenAPI schema generation
            return Dossier.objects.none()
        # the write actions load the dossier bare and answer a fresh detail (``_detail``)
        queryset = self._visible()
        return self._with_detail(queryset) if self.action == "retrieve" else queryset

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        params = self.request.query_params
        filters = {"q": search_param(params), "overdue": flag_param(params, "overdue")}
        for name in ("round", "criteria_set"):
            filters[name] = id_param(params, name)
        for name, choices in (("state", DossierState), ("registration_type",
                                                         RegistrationType)):
            value = params.get(name, "").strip()
            if value and value not in choices.values:
                raise bad_filter(name, _("Unknown value “%(value)s”. Use one of: "
                                          "%(known)s.") % {"value": value,
                                                           "known": ", ".join(choices.values)})
            filters[name] = value
        queryset = filter_dossiers(queryset, filters)
        return queryset

    def _detail(self, pk):
        """The dossier as it is now, read through the detail queryset."""
        dossier = self._with_detail(self._visible()).get(pk=pk)
        return DossierDetailSerializer(dossier, context=self.get_serializer_context()).data

    def create(self, request, *args, **kwargs):
        data = DossierCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        with service_call():
            dossier = services.create_dossier(request.user, **data.validated_data)
        return Response(self._detail(dossier.pk), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        if not kwargs.get("partial"):
            raise exceptions.MethodNotAllowed(request.method)
        dossier = self.get_object()
        data = DossierUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        with service_call():
            services.update_dossier(request.user, dossier, **data.validated_data)
        return Response(self._detail(dossier.pk))

    @extend_schema(request=TransitionRequestSerializer,
                   responses={200: DossierDetailSerializer, **ERRORS, **CONFLICT})
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Run a workflow action (``GET …/actions/`` lists those you may run now)."""
        dossier = self.get_object()
        data = TransitionRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payload = data.validated_data
        with service_call():
            refusal = rules.council_only_refusal(payload["action"])
            if refusal is not None:
                raise services.DossierError(refusal.message, code=refusal.code)
            run_transition(services.TRANSITIONS[payload["action"]], request.user, dossier,
                           payload)
        return Response(self._detail(dossier.pk))

    @extend_schema(responses={200: inline_serializer("DossierActions", {
        "actions": serializers.ListField(
            child=serializers.CharField(),
            help_text="Everything you may do now, e.g. upload_file, submit."),
        "transitions": serializers.ListField(
            child=serializers.CharField(),
            help_text="The subset to POST to …/transition/ as ``action``."),
    }), **NOT_FOUND})
    @action(detail=True, methods=["get"])
    def actions(self, request, pk=None):
        """What you may do to the dossier now (``services.available_actions``)."""
        dossier = self.get_object()
        actions = list(services.available_actions(request.user, dossier))
        return Response({"actions": actions,
                         "transitions": [a for a in actions if a in services.TRANSITIONS]})

    @extend_schema(
        request={"multipart/form-data": UploadSerializer},
        responses={201: FileSerializer, **ERRORS, **CONFLICT},
        parameters=[OpenApiParameter("document_id", int, OpenApiParameter.PATH,
                                     description="Id of the checklist line (documents[].id).")],
    )
    @action(detail=True, methods=["post"], url_path=r"documents/(?P<document_id>\d+)/files",
            url_name="upload", parser_classes=[MultiPartParser, FormParser])
    def upload(self, request, pk=None, document_id=None):
        """Upload a file to a checklist line (PDF, images, office documents)."""
        dossier = self.get_object()
        document = DossierDocument.objects.filter(pk=document_id, dossier=dossier).first()
        if document is None:
            raise exceptions.NotFound()
        payload = request.data  # parsed here; a too-large file stopped the reading
        refused = uploads.refused_in(request)
        with service_call():
            if refused is not None:
                raise services.DossierError(refused.message, code=refused.code,
                                            fields={"file": [refused.message]})
        data = UploadSerializer(data=payload)
        data.is_valid(raise_exception=True)
        with service_call():
            stored = services.upload_file(request.user, dossier, data.validated_data["file"],
                                          document=document)
        return Response(FileSerializer(stored, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)


router = DefaultRouter()
router.include_root_view = False
router.register("producers", ProducerViewSet, basename="producer")
router.register("products", ProductViewSet, basename="product")
router.register("rounds", RoundViewSet, basename="round")
router.register("dossiers", DossierViewSet, basename="dossier")
api_recognition.register(router)  # decisions/, ratings/ (read-only)
api_oversight.register(router)  # inspections/, revocations/ (read-only)
#: Included by ``ocop/urls.py`` under ``api/v1/`` (``include("dossiers.api")``).
urlpatterns = router.urls
