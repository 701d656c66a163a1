"""``/api/v1/notifications/`` (docs/notifications.md): what the user may read
(``queries.notifications_visible_to``; anything else answers 404), newest first.

* list, retrieve; ``?unread=1`` — only the user's own unread notifications (``0``: the
  read ones and the area's producer-contact notices); any other value is refused (400);
* ``POST notifications/{id}/read/`` — mark one of the user's own notifications as read
  (``services.mark_read``; someone else's that the user may see → 403);
* ``POST notifications/read-all/`` — mark all of them as read: ``{"marked": n}``.
"""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from ocop.api import ScopedObjectMixin

from . import services
from .models import Notification
from .queries import notifications_visible_to


class NotificationSerializer(serializers.ModelSerializer):
    unread = serializers.SerializerMethodField()
    mine = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "subject", "body", "link", "created_at", "read_at", "unread",
                  "mine", "recipient_name", "unit", "object_type", "object_id",
                  "email_status"]
        read_only_fields = fields

    def get_unread(self, notification) -> bool:
        return notification.read_at is None

    def get_mine(self, notification) -> bool:
        """Addressed to the requesting user (else: a producer contact's, of their area)."""
        return notification.user_id == self.context["request"].user.pk


UNREAD_VALUES = {"1": True, "true": True, "0": False, "false": False}


class NotificationViewSet(ScopedObjectMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = NotificationSerializer

    def get_queryset(self):
        rows = notifications_visible_to(self.request.user).order_by("-created_at", "-pk")
        if self.action != "list":
            return rows
        value = self.request.query_params.get("unread")
        if value is None or value == "":
            return rows
        if value.lower() not in UNREAD_VALUES:
            raise exceptions.ValidationError(
                {"unread": [_("Use unread=1 (unread only) or unread=0 (read only).")]})
        if UNREAD_VALUES[value.lower()]:
            return rows.filter(user=self.request.user, read_at__isnull=True)
        return rows.exclude(user=self.request.user, read_at__isnull=True)

    @extend_schema(parameters=[OpenApiParameter(
        "unread", OpenApiTypes.STR, enum=["1", "0"],
        description="1: only your unread notifications; 0: all the others.")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = self.get_object()
        try:
            notification = services.mark_read(request.user, notification)
        except services.NoticeError as error:
            raise exceptions.PermissionDenied(error.message) from error
        return Response(self.get_serializer(notification).data)

    @extend_schema(request=None, responses=inline_serializer(
        "NotificationsMarked", {"marked": serializers.IntegerField()}))
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"marked": services.mark_all_read(request.user)})


router = DefaultRouter()
router.include_root_view = False
router.register("notifications", NotificationViewSet, basename="notification")

urlpatterns = router.urls
