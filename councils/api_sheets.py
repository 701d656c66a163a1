"""Scoresheets API, ``/api/v1/scoresheets/``: a council member's own scoresheets.

- ``GET /scoresheets/`` (``?session=``, ``?dossier=``, ``?state=``) and
  ``GET /scoresheets/{id}/``: the member's own sheets with their entries (criterion id,
  position, code, option id, note), ``version``, ``state`` and ``totals`` (per part, total,
  band, capped star with its reasons, unanswered criteria). Nobody else's sheet is ever
  listed or shown here (independent scoring); someone else's sheet answers 404.
- ``POST /scoresheets/`` ``{"session": id, "dossier": id}`` opens the sheet
  (``scoring.services.open_sheet``): 201 when created, 200 when it already existed.
- ``PATCH /scoresheets/{id}/`` ``{"version": n, "entries": [{"criterion": id,
  "option": id|null, "note": "…"}]}``: all or nothing, through ``save_entry`` (the first
  change uses ``version``, each later one the version the previous change returned;
  unchanged entries are skipped). 200 → the sheet with its new ``version`` and totals;
  409 ``stale`` → the error body plus ``current`` (the sheet as stored now); 400 for an
  option of another criterion (``foreign_option``), a criterion not on the sheet, a
  submitted sheet or a closed item (the service's code and message).
- ``POST /scoresheets/{id}/submit/``: locks the sheet; 400 ``unanswered`` with the
  ``unanswered`` criteria listed.

Errors go through the project's handler (``ocop.api.exception_handler``):
``{"error": {"code", "message", "fields"}}``; 409 and 400-unanswered add one key beside
``error`` (``current`` / ``unanswered``).
"""

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from councils import queries as council_queries
from councils.models import AgendaItem
from ocop.api import StrictSerializer
from ocop.input import MAX_ID, id_in_range
from scoring.models import Scoresheet
from scoring.queries import star_bands, star_bands_many
from scoring.services import ScoringError, StaleSheet, open_sheet, submit_sheet

from .forms import NOTE_MAX_LENGTH
from .sheets import Entry, load_entries, save_changes, sheet_summary, sheet_tree

# Service refusal codes that are not "bad data" (400).
_STATUS = {
    "not_owner": status.HTTP_404_NOT_FOUND,
    "recused": status.HTTP_403_FORBIDDEN,
    "not_scoring_member": status.HTTP_403_FORBIDDEN,
    "not_member": status.HTTP_403_FORBIDDEN,
    "stale": status.HTTP_409_CONFLICT,
}


class SheetRefused(exceptions.APIException):
    """A refusal from ``scoring.services`` as a DRF error: its code and message, and extra
    keys for the body (``current``, ``unanswered``)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = gettext_lazy("The scoresheet could not be changed.")
    default_code = "refused"

    def __init__(self, error, *, extra=None):
        super().__init__(detail=error.message, code=error.code)
        self.default_code = error.code
        self.status_code = _STATUS.get(error.code, status.HTTP_400_BAD_REQUEST)
        self.extra = extra or {}


def _points(value):
    return None if value is None else f"{value:.2f}"


def sheet_payload(sheet, entries, tree, bands):
    """The API representation of one sheet (no query: ``entries`` and ``bands`` given)."""
    summary = sheet_summary(sheet, entries, tree, bands)
    by_criterion = {e.criterion_id: e for e in entries}
    rows = []
    for criterion in tree.criteria:
        entry = by_criterion.get(criterion["id"])
        rows.append({
            "criterion": criterion["id"], "position": criterion["position"],
            "code": criterion["code"], "part": criterion["part"],
            "option": entry.option_id if entry else None, "note": entry.note if entry else "",
        })
    return {
        "id": sheet.pk,
        "session": sheet.session_id,
        "dossier": sheet.dossier_id,
        "member": sheet.member_id,
        "criteria_set": sheet.criteria_set_id,
        "state": sheet.state,
        "version": sheet.version,
        "submitted_at": sheet.submitted_at.isoformat() if sheet.submitted_at else None,
        "totals": {
            "parts": {p["code"]: _points(p["points"]) for p in summary["parts"]},
            "total": _points(summary["total"]),
            "band_stars": summary["band_stars"],
            "stars": summary["stars"],
            "cap_reasons": [{
                "criterion": r["criterion"]["id"] if r["criterion"] else None,
                "position": r["criterion"]["position"] if r["criterion"] else None,
                "required_star": r["required_star"],
                "required_points": _points(r["required_points"]),
                "points": _points(r["points"]),
                "strict": r["strict"],
            } for r in summary["reasons"]],
            "answered": summary["answered_count"],
            "unanswered": [c["id"] for c in summary["unanswered"]],
        },
        "entries": rows,
    }


def payload_for(sheet, entries=None):
    entries = load_entries(sheet.pk) if entries is None else entries
    return sheet_payload(sheet, entries, sheet_tree(sheet.criteria_set),
                         star_bands(sheet.criteria_set.regime_id))


def _current(sheet_id):
    sheet = Scoresheet.objects.select_related("criteria_set").get(pk=sheet_id)
    return payload_for(sheet)


# --- Serializers (input, and output for the schema) -------------------------------------------


class EntryInputSerializer(StrictSerializer):
    criterion = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    option = serializers.IntegerField(min_value=1, max_value=MAX_ID, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=NOTE_MAX_LENGTH,
                                 help_text=gettext_lazy("Absent: the note is left unchanged."))


class SheetPatchSerializer(StrictSerializer):
    version = serializers.IntegerField(
        min_value=1, max_value=MAX_ID,
        help_text=gettext_lazy("The sheet version the client last saw."))
    entries = EntryInputSerializer(many=True, allow_empty=True)

    def validate_entries(self, value):
        seen = set()
        for entry in value:
            if entry["criterion"] in seen:
                raise serializers.ValidationError(
                    _("Criterion %(id)s appears twice.") % {"id": entry["criterion"]})
            seen.add(entry["criterion"])
        return value


class SheetCreateSerializer(StrictSerializer):
    session = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    dossier = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class EntryOutputSerializer(serializers.Serializer):
    criterion = serializers.IntegerField()
    position = serializers.CharField()
    code = serializers.CharField()
    part = serializers.CharField()
    option = serializers.IntegerField(allow_null=True)
    note = serializers.CharField()


class CapReasonSerializer(serializers.Serializer):
    criterion = serializers.IntegerField()
    position = serializers.CharField()
    required_star = serializers.IntegerField()
    required_points = serializers.DecimalField(max_digits=5, decimal_places=2)
    points = serializers.DecimalField(max_digits=5, decimal_places=2)
    strict = serializers.BooleanField()


class TotalsSerializer(serializers.Serializer):
    parts = serializers.DictField(child=serializers.DecimalField(max_digits=5,
                                                                decimal_places=2))
    total = serializers.DecimalField(max_digits=5, decimal_places=2)
    band_stars = serializers.IntegerField()
    stars = serializers.IntegerField()
    cap_reasons = CapReasonSerializer(many=True)
    answered = serializers.IntegerField()
    unanswered = serializers.ListField(child=serializers.IntegerField())


class ScoresheetOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    session = serializers.IntegerField()
    dossier = serializers.IntegerField()
    member = serializers.IntegerField()
    criteria_set = serializers.IntegerField()
    state = serializers.CharField()
    version = serializers.IntegerField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    totals = TotalsSerializer()
    entries = EntryOutputSerializer(many=True)


# --- The viewset ----------------------------------------------------------------------------


@extend_schema(tags=["scoresheets"])
class ScoresheetViewSet(viewsets.GenericViewSet):
    """A council member's own scoresheets (independent scoring: nobody else's)."""

    serializer_class = ScoresheetOutputSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # OpenAPI schema generation
            return Scoresheet.objects.none()
        qs = Scoresheet.objects.filter(member__user=self.request.user).select_related(
            "criteria_set")
        params = self.request.query_params
        for name in ("session", "dossier"):
            value = params.get(name)
            if value:
                if not value.isdigit():
                    raise exceptions.ValidationError({name: [_("A number is expected.")]})
                if not id_in_range(value):
                    raise exceptions.ValidationError({name: [
                        _("There is no such id (at most %(max)s).") % {"max": MAX_ID}]})
                qs = qs.filter(**{f"{name}_id": int(value)})
        if params.get("state"):
            qs = qs.filter(state=params["state"])
        return qs.order_by("session_id", "dossier_id")

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        extra = getattr(exc, "extra", None)
        if extra and response is not None and isinstance(response.data, dict):
            response.data.update(extra)
        return response

    @extend_schema(parameters=[
        OpenApiParameter("session", int), OpenApiParameter("dossier", int),
        OpenApiParameter("state", str, enum=["draft", "submitted", "reopened"])])
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        sheets = list(page if page is not None else self.get_queryset())
        entries = {}
        for sheet_id, *row in (load_entries_many([s.pk for s in sheets])):
            entries.setdefault(sheet_id, []).append(Entry(*row))
        bands = star_bands_many([s.criteria_set.regime_id for s in sheets])
        data = [sheet_payload(s, entries.get(s.pk, []), sheet_tree(s.criteria_set),
                              bands[s.criteria_set.regime_id]) for s in sheets]
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request, pk=None):
        return Response(payload_for(self.get_object()))

    @extend_schema(request=SheetCreateSerializer,
                   responses={200: ScoresheetOutputSerializer, 201: ScoresheetOutputSerializer})
    def create(self, request):
        data = SheetCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = (council_queries.sessions_visible_to(request.user)
                   .filter(pk=data.validated_data["session"]).first())
        if session is None:
            raise exceptions.ValidationError({"session": [_("No such session.")]})
        item = (AgendaItem.objects.select_related("dossier__criteria_set")
                .filter(session=session, dossier_id=data.validated_data["dossier"]).first())
        if item is None:
            raise exceptions.ValidationError(
                {"dossier": [_("This dossier is not on the session's agenda.")]})
        member = council_queries.membership(request.user, session)
        if member is None:
            raise SheetRefused(ScoringError(
                _("You are not a member of this session's council."), code="not_member"))
        existed = Scoresheet.objects.filter(session=session, dossier=item.dossier,
                                            member=member).exists()
        try:
            sheet = open_sheet(session, item.dossier, member, request.user)
        except ScoringError as error:
            raise SheetRefused(error) from error
        sheet = Scoresheet.objects.select_related("criteria_set").get(pk=sheet.pk)
        return Response(payload_for(sheet),
                        status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    @extend_schema(
        request=SheetPatchSerializer,
        responses={200: ScoresheetOutputSerializer,
                   409: inline_serializer("StaleScoresheet", {
                       "error": serializers.DictField(), "current": ScoresheetOutputSerializer()})})
    def partial_update(self, request, pk=None):
        sheet = self.get_object()
        data = SheetPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = [(e["criterion"], e["option"], e.get("note"))
                   for e in data.validated_data["entries"]]
        try:
            sheet, entries = save_changes(sheet, request.user, data.validated_data["version"],
                                          changes)
        except StaleSheet as error:
            raise SheetRefused(error, extra={"current": _current(sheet.pk)}) from error
        except ScoringError as error:
            raise SheetRefused(error) from error
        return Response(payload_for(sheet, entries))

    @extend_schema(request=None, responses={200: ScoresheetOutputSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        sheet = self.get_object()
        try:
            sheet = submit_sheet(sheet, request.user)
        except ScoringError as error:
            extra = None
            if error.code == "unanswered":
                tree = sheet_tree(sheet.criteria_set)
                extra = {"unanswered": [
                    {"criterion": pk, "position": tree.by_id[pk]["position"],
                     "code": tree.by_id[pk]["code"]}
                    for pk in error.details.get("criteria", []) if pk in tree.by_id]}
            raise SheetRefused(error, extra=extra) from error
        return Response(payload_for(sheet))


def load_entries_many(sheet_ids):
    """``(sheet id, criterion id, option id, note)`` rows of several sheets (one query)."""
    from scoring.models import ScoreEntry

    if not sheet_ids:
        return []
    return (ScoreEntry.objects.filter(Q(sheet_id__in=sheet_ids)).order_by()
            .values_list("sheet_id", "criterion_id", "option_id", "note"))


router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("scoresheets", ScoresheetViewSet, basename="scoresheet")

urlpatterns = router.urls
