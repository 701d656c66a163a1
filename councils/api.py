"""REST API of the councils (read-only), under ``/api/v1/``:

* ``councils/`` — list / retrieve the councils the user may see
  (``councils.queries.councils_visible_to``: department staff and local officers of the
  area, administrators, the council's own members), with the establishing decision, the
  settings from the council's rules and the members.
* ``sessions/`` — list / retrieve the sessions of those councils: council, round, date,
  place, state, the agenda (dossier ids and product names) and ``my_membership`` (the
  requesting user's role in the council, or null).
* ``sessions/{id}/results/`` — per agenda item, what the results page shows, from the same
  read model (``councils.board.build_board``) and rule (``councils.rules.item_view``):

  - after the session is closed: the RECORDED result of every item (``recorded: true``)
    for the council's members and the trackers (chair, vice-chair, secretary, department
    staff of the area); ``member_totals`` lists the members' totals the rule lets the
    user see;
  - before the close: the tracker's view for those who may track the session: every
    scoring member's sheet status; the aggregates only for the chair (once their own sheet
    is submitted) and the secretary, once enough sheets are in (``result``, else
    ``visible: false`` and ``hidden_reason``); each member's total only once every present
    member has submitted (the council's summary table);
  - an ordinary member before the close: **403** ``{"error": {"code": "confidential"}}``
    (they can see the session, so it is not hidden from them, but its scores are
    confidential until the session ends); a session outside the user's councils: **404**.

Errors keep the project's body ``{"error": {"code", "message", "fields"}}``.
"""

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import exceptions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from ocop.api import ScopedObjectMixin, UnitSerializer

from . import queries, rules
from .board import build_board
from .models import AgendaItem, Council, CouncilMember, EvaluationSession

ErrorSerializer = inline_serializer("CouncilError", {"error": inline_serializer(
    "CouncilErrorBody", {
        "code": serializers.CharField(),
        "message": serializers.CharField(),
        "fields": serializers.DictField(child=serializers.ListField(
            child=serializers.CharField()), allow_null=True),
    })})
NOT_FOUND = {404: OpenApiResponse(ErrorSerializer,
                                  description="Not found or not one of your councils.")}


class Confidential(exceptions.PermissionDenied):
    default_code = "confidential"


# --- councils --------------------------------------------------------------------------------


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField(source="display_name")


class MemberSerializer(serializers.ModelSerializer):
    user = UserRefSerializer(read_only=True)
    role_display = serializers.CharField(source="get_role_display", read_only=True)
    scores = serializers.BooleanField(read_only=True,
                                      help_text="False for the secretary and the advisory team.")

    class Meta:
        model = CouncilMember
        fields = ["id", "user", "role", "role_display", "organisation", "advisory", "scores",
                  "order"]


class DecisionSerializer(serializers.Serializer):
    number = serializers.CharField(source="decision_number")
    date = serializers.DateField(source="decision_date")
    signer = serializers.CharField(source="decision_signer")


class CouncilSettingsSerializer(serializers.Serializer):
    quorum_ratio = serializers.DecimalField(max_digits=3, decimal_places=2)
    chair_required = serializers.BooleanField()
    divergence_threshold = serializers.DecimalField(max_digits=5, decimal_places=2)
    peer_visibility = serializers.CharField()


class CouncilSerializer(serializers.ModelSerializer):
    level_display = serializers.CharField(source="get_level_display", read_only=True)
    unit = UnitSerializer(read_only=True)
    decision = DecisionSerializer(source="*", read_only=True)
    settings = CouncilSettingsSerializer(source="*", read_only=True)
    members = MemberSerializer(many=True, read_only=True)

    class Meta:
        model = Council
        fields = ["id", "name", "level", "level_display", "unit", "decision", "term_start",
                  "term_end", "settings", "members"]


class CouncilViewSet(ScopedObjectMixin, viewsets.ReadOnlyModelViewSet):
    """Evaluation councils of your areas and those you belong to."""

    serializer_class = CouncilSerializer

    def get_queryset(self):
        return (queries.councils_visible_to(self.request.user).select_related("unit")
                .prefetch_related("members__user").order_by("-decision_date", "-id"))


# --- sessions --------------------------------------------------------------------------------


class CouncilRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    level = serializers.CharField()


class SessionRoundSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField(source="__str__")
    year = serializers.IntegerField()
    number = serializers.IntegerField()


class AgendaItemSerializer(serializers.ModelSerializer):
    dossier = serializers.IntegerField(source="dossier_id")
    product_name = serializers.CharField(source="dossier.product.name")
    closed = serializers.SerializerMethodField()

    class Meta:
        model = AgendaItem
        fields = ["order", "dossier", "product_name", "closed", "closed_at"]

    def get_closed(self, item) -> bool:
        return item.closed_at is not None


class MembershipSerializer(serializers.Serializer):
    member = serializers.IntegerField(source="pk")
    role = serializers.CharField()
    role_display = serializers.CharField(source="get_role_display")
    scores = serializers.BooleanField()
    advisory = serializers.BooleanField()


class SessionSerializer(serializers.ModelSerializer):
    council = CouncilRefSerializer(read_only=True)
    round = SessionRoundSerializer(read_only=True)
    state = serializers.CharField(read_only=True,
                                  help_text="preparing, open (for scoring), meeting, closed.")
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    mode = serializers.CharField(read_only=True, help_text="meeting, or written (members' "
                                 "written opinions without a meeting, by opinions_due).")
    opinions_due = serializers.DateField(read_only=True, allow_null=True)
    agenda = AgendaItemSerializer(many=True, read_only=True)
    my_membership = serializers.SerializerMethodField()

    class Meta:
        model = EvaluationSession
        fields = ["id", "council", "round", "date", "place", "mode", "opinions_due", "state",
                  "state_display", "closed_at", "agenda", "my_membership"]

    @extend_schema_field(MembershipSerializer(allow_null=True))
    def get_my_membership(self, session):
        member = self.context["memberships"]().get(session.council_id)
        return MembershipSerializer(member).data if member is not None else None


# --- results ---------------------------------------------------------------------------------


class PartsSerializer(serializers.Serializer):
    A = serializers.DecimalField(max_digits=6, decimal_places=2)
    B = serializers.DecimalField(max_digits=6, decimal_places=2)
    C = serializers.DecimalField(max_digits=6, decimal_places=2)


class ResultCapReasonSerializer(serializers.Serializer):
    criterion = serializers.IntegerField(help_text="Criterion id.")
    code = serializers.CharField(help_text="The criterion's code as printed.")
    position = serializers.CharField()
    title = serializers.CharField()
    required_star = serializers.IntegerField()
    required_points = serializers.DecimalField(max_digits=6, decimal_places=2)
    median_points = serializers.DecimalField(max_digits=6, decimal_places=2)
    strict = serializers.BooleanField(help_text="True: the median must be MORE than "
                                                "required_points (a criterion-level mark).")


class DivergenceSerializer(serializers.Serializer):
    spread = serializers.DecimalField(max_digits=6, decimal_places=2,
                                      help_text="max − min of the counted members' totals.")
    threshold = serializers.DecimalField(max_digits=6, decimal_places=2)
    flagged = serializers.BooleanField(help_text="spread > threshold.")


class ResultSerializer(serializers.Serializer):
    recorded = serializers.BooleanField(
        help_text="True: the result recorded when the item was closed; false: computed now "
                  "from the submitted sheets (provisional).")
    members_counted = serializers.IntegerField()
    mean = PartsSerializer(help_text="Mean of the counted members' points per part.")
    total = serializers.DecimalField(max_digits=6, decimal_places=2,
                                     help_text="Mean of the members' totals (decides the band).")
    band_stars = serializers.IntegerField()
    stars = serializers.IntegerField(help_text="The star after the minimum-star marks.")
    cap_reasons = ResultCapReasonSerializer(many=True)
    divergence = DivergenceSerializer(source="*")
    outcome = serializers.ChoiceField(choices=["forward", "recognise", "not_recognise"])
    outcome_stars = serializers.IntegerField(allow_null=True)
    statement = serializers.CharField(
        help_text="The chair's statement that the council discussed a divergence above the "
                  "threshold and the members confirm their scores (empty otherwise).")


class MemberStatusSerializer(serializers.Serializer):
    member = serializers.IntegerField(source="member_id")
    name = serializers.CharField()
    role = serializers.CharField()
    status = serializers.CharField(
        help_text="The member's sheet of this dossier: not_started (no choice saved), draft, "
                  "submitted, reopened (for re-scoring) or recused (conflict of interest).")


class MemberTotalSerializer(serializers.Serializer):
    member = serializers.IntegerField()
    name = serializers.CharField()
    role = serializers.CharField()
    parts = PartsSerializer()
    total = serializers.DecimalField(max_digits=6, decimal_places=2)


class ItemResultSerializer(serializers.Serializer):
    order = serializers.IntegerField(source="item.order")
    dossier = serializers.IntegerField(source="dossier.pk")
    product_name = serializers.CharField(source="dossier.product.name")
    producer_name = serializers.CharField(source="dossier.product.producer.name")
    closed = serializers.BooleanField()
    closed_at = serializers.DateTimeField(source="item.closed_at", allow_null=True)
    visible = serializers.BooleanField(
        source="aggregates_visible",
        help_text="False while the independence rule hides this item's scores from you.")
    hidden_reason = serializers.CharField(help_text="Why the scores are hidden (or empty).")
    submitted = serializers.IntegerField(help_text="Submitted sheets (trackers only, else 0).")
    statuses = MemberStatusSerializer(
        many=True, help_text="Every scoring member's sheet status (trackers only).")
    result = ResultSerializer(source="summary", allow_null=True)
    member_totals = MemberTotalSerializer(
        many=True, help_text="Each member's total, once every present member has submitted "
                             "(chair, secretary) or after the close (per the council's "
                             "rules).")


class QuorumSerializer(serializers.Serializer):
    scoring_members = serializers.IntegerField()
    needed = serializers.IntegerField()
    present = serializers.IntegerField()
    chair_required = serializers.BooleanField()
    chair_present = serializers.BooleanField()
    by_meeting = serializers.BooleanField(
        help_text="True: present at the meeting; false: members who submitted a sheet.")
    met = serializers.BooleanField()


class SessionResultsSerializer(serializers.Serializer):
    session = serializers.IntegerField(source="session.pk")
    state = serializers.CharField(source="session.state")
    final = serializers.BooleanField(source="closed",
                                     help_text="True once the session is closed.")
    quorum = serializers.SerializerMethodField()
    items = ItemResultSerializer(source="rows", many=True)

    @extend_schema_field(QuorumSerializer(allow_null=True))
    def get_quorum(self, board):
        return QuorumSerializer(board.quorum).data if board.can_track else None


class SessionViewSet(ScopedObjectMixin, viewsets.ReadOnlyModelViewSet):
    """Sessions of the councils you may see, with their agenda and your membership."""

    serializer_class = SessionSerializer

    def get_queryset(self):
        return (queries.sessions_visible_to(self.request.user)
                .select_related("council", "round__unit")
                .prefetch_related(Prefetch("agenda", queryset=AgendaItem.objects
                                           .select_related("dossier__product")))
                .order_by("-date", "-id"))

    def get_serializer_context(self):
        context = super().get_serializer_context()
        cache = {}

        def memberships():
            if "map" not in cache:
                user = self.request.user
                cache["map"] = {m.council_id: m for m in CouncilMember.objects.filter(
                    user=user)} if user.is_authenticated else {}
            return cache["map"]

        context["memberships"] = memberships
        return context

    @extend_schema(responses={
        200: SessionResultsSerializer,
        403: OpenApiResponse(ErrorSerializer, description=(
            "Code “confidential”: you are a member of the council but the scores are "
            "confidential until the session is closed.")),
        **NOT_FOUND})
    @action(detail=True, methods=["get"])
    def results(self, request, pk=None):
        """Per agenda item: the recorded result after the close; before it, the tracker's
        aggregate view for the chair, the secretary and department staff."""
        session = self.get_object()
        session = EvaluationSession.objects.select_related(
            "council__unit", "round__unit", "round__level", "round__regime").get(pk=session.pk)
        if not rules.may_see_results(request.user, session):
            raise Confidential(_("The results are confidential until the session is "
                                 "closed."))
        board = build_board(request.user, session)
        return Response(SessionResultsSerializer(board).data)


router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("councils", CouncilViewSet, basename="council")
router.register("sessions", SessionViewSet, basename="session")

urlpatterns = router.urls
