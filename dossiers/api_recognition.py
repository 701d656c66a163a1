"""Read-only REST API of recognition: decisions and ratings (docs/decisions.md).

Under ``/api/v1/`` (registered on ``dossiers.api.router`` by :func:`register`):

* ``decisions/`` — list (``?state=draft|issued|replaced``, ``?year=``, ``?q=`` part of the
  number as printed, accents and case ignored: ``qd-ubnd`` finds ``05/QĐ-UBND``) and
  retrieve: the decision with its annex lines (``items``), the links to its files and the
  progress of their background rendering (``documents``). Scoped by
  ``dossiers.queries.recognition_decisions_visible_to`` (revocation decisions are under
  ``revocations/``): drafts only for the issuer's area; an officer of a commune reads the
  issued decisions that recognise a product of the commune.
* ``decisions/{id}/pdf/`` — the decision's PDF; ``decisions/{id}/bundle/`` — the zip of
  the decision and its certificates. **404** while they are not made, with
  ``error.code`` ``not_ready`` (being made, or the making failed: retry later) or
  ``no_file`` (a draft, or a Ministry decision recorded from its number and date: no file
  is kept here).
* ``ratings/`` — list (``?stars=&state=&criteria_set=&unit=&expiring_within=
  &expires_month=&q=``) and retrieve. Scoped by ``dossiers.queries.ratings_visible_to``
  (products of the user's areas). ``verification_url`` is the public page the
  certificate's QR code opens.
* ``ratings/{id}/certificate/`` — the certificate's PDF (404 ``not_ready`` until made).

* ``ratings/{id}/reevaluate/`` (POST, ``{"round": id}`` optional) — starts the
  re-evaluation through ``dossiers.reevaluation.start_reevaluation`` (the page's button):
  201 with the new dossier; refused outside the filing window with both dates.

Nothing else here writes: drafting and issuing go through ``dossiers.decisions`` from the
pages; every other method answers 405. Objects outside the user's areas answer 404 (never "not
yours"); a bad filter answers 400 with the project's error body
``{"error": {"code", "message", "fields"}}`` naming the parameter.
"""


from django.conf import settings
from django.db import connection
from django.db.models import Prefetch, Q
from django.http import FileResponse
from django.urls import reverse
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
from rest_framework import exceptions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from ocop.api import ScopedObjectMixin, StrictSerializer, UnitSerializer
from ocop.documents.pdf import content_disposition
from ocop.text import fold

from .api_params import bounded_param, choice_param, id_param, month_param, search_param
from .models import (
    RECOGNISED_STARS,
    Decision,
    DecisionItem,
    DecisionOrigin,
    DecisionState,
    JobStatus,
    Rating,
    RatingState,
)
from .queries import ratings_visible_to, recognition_decisions_visible_to
from .ratings import EXPIRING_MAX_DAYS, filter_ratings

# --- errors and filters ----------------------------------------------------------------------

ErrorSerializer = inline_serializer("RecognitionError", {"error": inline_serializer(
    "RecognitionErrorBody", {
        "code": serializers.CharField(),
        "message": serializers.CharField(),
        "fields": serializers.DictField(child=serializers.ListField(
            child=serializers.CharField()), allow_null=True),
    })})
NOT_FOUND = {404: OpenApiResponse(ErrorSerializer, description="Not found or outside "
                                                               "your areas.")}
LIST_ERRORS = {400: OpenApiResponse(ErrorSerializer, description="A filter is not valid "
                                                                 "(named in fields)."),
               **NOT_FOUND}
FILE_MISSING = {404: OpenApiResponse(ErrorSerializer, description=(
    "Not found or outside your areas (code not_found); the file is being made or its "
    "making failed (not_ready: try again later); no file is kept for a draft or a "
    "decision of the Ministry (no_file)."))}


class FileNotReady(exceptions.NotFound):
    """The object exists and is yours, its file does not (yet)."""

    default_code = "not_ready"

    def __init__(self, message, code="not_ready"):
        super().__init__(detail=message, code=code)
        self.default_code = code  # ocop.api.exception_handler reads ``default_code``


def _search(queryset, q, *names):
    """Rows where every folded word of ``q`` occurs in one of the text columns ``names``,
    accents and case ignored (PostgreSQL: ``unaccent``, installed by dossiers 0002; other
    databases: folded in Python over the user's own rows)."""
    words = fold(q).split()
    if not words:
        return queryset
    if connection.vendor == "postgresql":
        for word in words:
            match = Q()
            for name in names:
                match |= Q(**{f"{name}__unaccent__icontains": word})
            queryset = queryset.filter(match)
        return queryset
    ids = [pk for pk, *texts in queryset.values_list("pk", *names)
           if all(any(word in fold(text) for text in texts) for word in words)]
    return queryset.filter(pk__in=ids)


def _absolute(request, url):
    return request.build_absolute_uri(url) if request is not None else url


# --- decisions -------------------------------------------------------------------------------


def _values(choices):
    return " | ".join(choices.values)


class DecisionLevelSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    kind = serializers.CharField()
    admin_level = serializers.CharField()


class RecognitionDecisionItemSerializer(serializers.ModelSerializer):
    dossier = serializers.IntegerField(source="dossier_id", read_only=True,
                                       help_text="Id of the dossier the line recognises.")

    class Meta:
        model = DecisionItem
        fields = ["product_name", "product_code", "producer_name", "producer_address",
                  "criteria_set", "score", "stars", "dossier"]
        read_only_fields = fields


class DecisionDocumentsSerializer(serializers.Serializer):
    status = serializers.CharField(
        source="job_status",
        help_text="Background rendering of the PDF, the certificates and the zip: '' (not "
                  "started: a draft, or a decision recorded from its number) | queued | "
                  "running | done | failed.")
    done = serializers.IntegerField(source="job_done", help_text="Files made so far.")
    total = serializers.IntegerField(source="job_total", help_text="Files to make.")


class RecognitionDecisionSerializer(serializers.ModelSerializer):
    # States and origins are plain strings in the schema (values in the help text): as
    # enums they would collide with the dossier's ``state`` enum (see dossiers.api).
    state = serializers.CharField(read_only=True, help_text=_values(DecisionState))
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    origin = serializers.CharField(
        read_only=True, help_text="drafted: drafted and issued here; recorded: a decision "
                                  "of the Ministry recorded from its number and date.")
    regime = serializers.CharField(source="regime.slug", read_only=True,
                                   help_text="Short code of the regime, e.g. “26/2026”.")
    regime_code = serializers.CharField(source="regime.code", read_only=True)
    level = DecisionLevelSerializer(read_only=True)
    issuer_unit = UnitSerializer(read_only=True, allow_null=True,
                                 help_text="The issuing People's Committee's unit; null for "
                                           "the Ministry.")
    replaces = serializers.IntegerField(source="replaces_id", read_only=True, allow_null=True,
                                        help_text="Id of the decision this one corrects.")
    replaced_by = serializers.SerializerMethodField()
    items = RecognitionDecisionItemSerializer(many=True, read_only=True)
    pdf = serializers.SerializerMethodField()
    bundle = serializers.SerializerMethodField()
    documents = DecisionDocumentsSerializer(source="*", read_only=True)

    class Meta:
        model = Decision
        fields = ["id", "state", "state_display", "origin", "reference", "number", "symbol",
                  "year", "date", "issuer_name", "issuer_unit", "regime", "regime_code",
                  "level", "subject", "signer_name", "replaces", "replaced_by", "items",
                  "pdf", "bundle", "documents"]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_replaced_by(self, decision):
        """Id of the issued decision that corrects this one (a correction still in draft
        is not reported)."""
        try:
            correction = decision.replaced_by
        except Decision.DoesNotExist:
            return None
        return None if correction.state == DecisionState.DRAFT else correction.pk

    def _link(self, decision, field, name):
        if not getattr(decision, field):
            return None
        return _absolute(self.context.get("request"), reverse(name, args=[decision.pk]))

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_pdf(self, decision):
        """The decision's PDF (``…/pdf/``); null until it is made (never for a draft)."""
        return self._link(decision, "file", "decision-pdf")

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_bundle(self, decision):
        """A zip of the decision and its certificates (``…/bundle/``); null until made."""
        return self._link(decision, "bundle", "decision-bundle")


def _missing_file(decision):
    """Why a file of ``decision`` (its PDF, zip, or the certificate of one of its ratings)
    cannot be served (yet)."""
    if decision is None or decision.origin == DecisionOrigin.RECORDED:
        return FileNotReady(_("No file is kept here: the decision was issued elsewhere and "
                              "recorded here from its number and date."), code="no_file")
    if decision.state == DecisionState.DRAFT:
        return FileNotReady(_("A draft has no files: the decision and its certificates "
                              "are made once it is issued."), code="no_file")
    if decision.job_status == JobStatus.FAILED:
        return FileNotReady(_("The documents of this decision could not be made; they can "
                              "be made again from the decision's page."))
    return FileNotReady(_("The documents of this decision are being made (%(done)s of "
                          "%(total)s); try again in a moment.") % {
        "done": decision.job_done, "total": decision.job_total})


def _stream(field_file, filename, content_type, *, inline, missing):
    """The stored file, streamed, under ``filename`` (RFC 6266); ``missing`` is raised
    when there is none (not made yet, or lost from the storage)."""
    if not field_file:
        raise missing
    try:
        handle = field_file.open("rb")
    except OSError as lost:
        raise missing from lost
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = content_disposition(filename, inline=inline)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _reference_name(decision):
    return (decision.reference or str(decision.pk)).replace("/", "-")


PDF_RESPONSE = {(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY,
                                                          description="The PDF.")}
ZIP_RESPONSE = {(200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY,
                                                          description="The zip.")}

DECISION_FILTERS = [
    OpenApiParameter("state", str, enum=DecisionState.values),
    OpenApiParameter("year", int, description="Year of the decision's date."),
    OpenApiParameter("q", str, description="Part of the number as printed (“05/QĐ-UBND”), "
                     "accents and case ignored."),
]


@extend_schema_view(
    list=extend_schema(parameters=DECISION_FILTERS, responses={
        200: RecognitionDecisionSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: RecognitionDecisionSerializer, **NOT_FOUND}),
)
class DecisionViewSet(ScopedObjectMixin, viewsets.ReadOnlyModelViewSet):
    """Recognition decisions of your areas (drafts only for the issuer's area), with their
    annex lines and files."""

    serializer_class = RecognitionDecisionSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # OpenAPI schema generation
            return Decision.objects.none()
        queryset = recognition_decisions_visible_to(self.request.user)
        if self.action in ("pdf", "bundle"):
            return queryset
        return queryset.select_related(
            "regime", "level", "issuer_unit", "replaced_by").prefetch_related(
            Prefetch("items", queryset=DecisionItem.objects.order_by("order", "id")))

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        params = self.request.query_params
        state = choice_param(params, "state", DecisionState.values)
        if state:
            queryset = queryset.filter(state=state)
        year = bounded_param(params, "year", 1, 9999,
                              _("Enter a year of four digits, e.g. %(year)s.") % {
                                  "year": timezone.localdate().year})
        if year is not None:
            queryset = queryset.filter(year=year)
        q = search_param(params)
        if q:
            queryset = _search(queryset, q, "reference")
        return queryset

    @extend_schema(responses={**PDF_RESPONSE, **FILE_MISSING})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        """The decision as issued (PDF), once the background rendering made it."""
        decision = self.get_object()
        return _stream(decision.file, f"Quyết định {_reference_name(decision)}.pdf",
                       "application/pdf", inline=True,
                       missing=_missing_file(decision))

    @extend_schema(responses={**ZIP_RESPONSE, **FILE_MISSING})
    @action(detail=True, methods=["get"])
    def bundle(self, request, pk=None):
        """The decision and all its certificates in one zip, once they are all made."""
        decision = self.get_object()
        return _stream(decision.bundle,
                       f"Quyết định {_reference_name(decision)} và giấy chứng nhận.zip",
                       "application/zip", inline=False,
                       missing=_missing_file(decision))


# --- ratings ---------------------------------------------------------------------------------


class RatingProductSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class RatingProducerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class RatingDecisionSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="decision_id", allow_null=True,
                                  help_text="Null when no decision row is kept here.")
    reference = serializers.CharField(source="decision_number",
                                      help_text="The number as printed, e.g. “05/QĐ-UBND”.")
    date = serializers.DateField(source="decision_date")


class RatingSerializer(serializers.ModelSerializer):
    product = RatingProductSerializer(read_only=True)
    producer = RatingProducerSerializer(source="product.producer", read_only=True)
    regime = serializers.CharField(source="regime.slug", read_only=True,
                                   help_text="Short code of the regime, e.g. “26/2026”.")
    regime_code = serializers.CharField(source="regime.code", read_only=True)
    decision = RatingDecisionSerializer(source="*", read_only=True)
    state = serializers.CharField(read_only=True, help_text=_values(RatingState))
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    replaced_by = serializers.IntegerField(source="replaced_by_id", read_only=True,
                                           allow_null=True,
                                           help_text="Id of the rating that replaced this one.")
    verification_url = serializers.SerializerMethodField()
    certificate = serializers.SerializerMethodField()

    class Meta:
        model = Rating
        fields = ["id", "product", "product_code", "producer", "stars", "score", "regime",
                  "regime_code", "decision", "valid_from", "valid_until", "state",
                  "state_display", "replaced_by", "verification_code", "verification_url",
                  "certificate"]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_verification_url(self, rating):
        """The public verification page (no login) the certificate's QR code opens; on
        ``PUBLIC_BASE_URL`` when it is set, as printed on the certificate."""
        if not rating.verification_code:
            return None
        path = reverse("verification", args=[rating.verification_code])
        base = (getattr(settings, "PUBLIC_BASE_URL", "") or "").rstrip("/")
        return base + path if base else _absolute(self.context.get("request"), path)

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_certificate(self, rating):
        """The certificate (``…/certificate/``); null until it is made."""
        if not rating.certificate:
            return None
        return _absolute(self.context.get("request"),
                         reverse("rating-certificate", args=[rating.pk]))


class ReevaluateSerializer(StrictSerializer):
    round = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**63 - 1,
        help_text="Id of the round; needed only when several open rounds fit (the error "
                  "lists them in details).")


RATING_FILTERS = [
    OpenApiParameter("stars", int, enum=list(RECOGNISED_STARS)),
    OpenApiParameter("state", str, enum=RatingState.values),
    OpenApiParameter("criteria_set", int, description="Id of the criteria set the product "
                     "was evaluated with."),
    OpenApiParameter("unit", int, description="Id of an administrative unit: ratings of "
                     "producers inside it (a province also covers the provinces it "
                     "absorbed)."),
    OpenApiParameter("expiring_within", int, description="Days (0 to "
                     f"{EXPIRING_MAX_DAYS}): valid or due ratings whose validity ends by "
                     "today plus that many days (those already past included)."),
    OpenApiParameter("expires_month", str, description="A month as YYYY-MM: ratings whose "
                     "validity ends in that month."),
    OpenApiParameter("q", str, description="Product or producer name, accents and case "
                     "ignored."),
]


@extend_schema_view(
    list=extend_schema(parameters=RATING_FILTERS, responses={
        200: RatingSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: RatingSerializer, **NOT_FOUND}),
)
class RatingViewSet(ScopedObjectMixin, viewsets.ReadOnlyModelViewSet):
    """Recognised ratings (kết quả công nhận) of the products of your areas."""

    serializer_class = RatingSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # OpenAPI schema generation
            return Rating.objects.none()
        queryset = ratings_visible_to(self.request.user)
        if self.action == "certificate":
            return queryset.select_related("decision")
        return queryset.select_related("product__producer", "regime")

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        params = self.request.query_params
        # the shape of each parameter is checked here (400 naming it); what they mean is
        # ``dossiers.ratings.filter_ratings``, the register page's own filter
        stars = choice_param(params, "stars", [str(s) for s in RECOGNISED_STARS])
        filters = {
            "stars": int(stars) if stars else None,
            "state": choice_param(params, "state", RatingState.values),
            "criteria_set": id_param(params, "criteria_set"),
            "area": id_param(params, "unit"),
            "expiring_within": bounded_param(
                params, "expiring_within", 0, EXPIRING_MAX_DAYS,
                _("Enter a number of days from 0 to %(max)s.") % {"max": EXPIRING_MAX_DAYS}),
            "expires_month": month_param(params, "expires_month"),
            "q": search_param(params),
        }
        return filter_ratings(queryset, filters)

    @extend_schema(
        request=ReevaluateSerializer,
        responses={201: OpenApiTypes.OBJECT, 400: OpenApiResponse(ErrorSerializer),
                   **NOT_FOUND})
    @action(detail=True, methods=["post"])
    def reevaluate(self, request, pk=None):
        """Start the re-evaluation of this rating (``dossiers.reevaluation
        .start_reevaluation``, as the page's "Re-evaluate" button): a draft dossier
        prefilled from the last one, inside the filing window of the procedure in force
        today only (400 ``filing_window`` with both dates otherwise); the product moved to
        the round regime's criteria set of the same number (400 ``criteria_set`` naming
        the set when there is none)."""
        from .api import DossierViewSet, service_call
        from .reevaluation import candidate_rounds, start_reevaluation

        rating = self.get_object()
        data = ReevaluateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        round_ = None
        if data.validated_data.get("round") is not None:
            rounds = {r.pk: r for r in candidate_rounds(request.user, rating)}
            round_ = rounds.get(data.validated_data["round"])
            if round_ is None:
                raise exceptions.ValidationError({"round": [
                    _("This round cannot take the re-evaluation; choose one from the "
                      "list.")]})
        with service_call():
            dossier = start_reevaluation(request.user, rating, round=round_)
        view = DossierViewSet(request=request, format_kwarg=None, action="retrieve",
                              kwargs={"pk": dossier.pk})
        return Response(view._detail(dossier.pk), status=201)

    @extend_schema(responses={**PDF_RESPONSE, **FILE_MISSING})
    @action(detail=True, methods=["get"])
    def certificate(self, request, pk=None):
        """The certificate (Giấy chứng nhận) with its QR code, once it is made."""
        rating = self.get_object()
        name = rating.product_code or str(rating.pk)
        return _stream(rating.certificate, f"Giấy chứng nhận {name}.pdf", "application/pdf",
                       inline=True, missing=_missing_file(rating.decision))


def register(router):
    """Add ``decisions/`` and ``ratings/`` to ``dossiers.api.router``."""
    router.register("decisions", DecisionViewSet, basename="decision")
    router.register("ratings", RatingViewSet, basename="rating")
