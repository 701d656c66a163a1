"""The API base: pagination, error bodies, scoped object lookup, token login and ``/me``."""

from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from ocop.accounts.queries import role_units


def exception_handler(exc, context):
    """Every error body has the same shape: ``{"error": {"code", "message", "fields"}}``."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    fields = None
    if isinstance(exc, exceptions.ValidationError):
        code = getattr(exc, "error_code", None) or "invalid"
        message = _("The data sent is not valid.")
        if isinstance(data, dict):
            non_field = data.pop("non_field_errors", None)
            fields = data
            if non_field:
                message = " ".join(str(m) for m in non_field)
        else:
            message = " ".join(str(m) for m in data)
    else:
        code = getattr(exc, "default_code", "error")
        message = data.get("detail", str(exc)) if isinstance(data, dict) else str(data)
    response.data = {"error": {"code": code, "message": str(message), "fields": fields}}
    return response


class ScopedObjectMixin:
    """For viewsets whose queryset is what the user may see (``visible_to(user)``): an
    object outside it answers DRF's ``NotFound`` (error code ``not_found``, "never not
    yours") rather than Django's ``Http404``, whose code the handler reports as ``error``."""

    def get_object(self):
        try:
            return super().get_object()
        except Http404 as missing:
            raise exceptions.NotFound() from missing


class TokenThrottle(AnonRateThrottle):
    scope = "token"


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenView(APIView):
    """Exchange a username and password for an API token."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [TokenThrottle]

    def get_authenticate_header(self, request):
        return "Token"

    @extend_schema(
        request=TokenRequestSerializer,
        responses=inline_serializer("TokenResponse", {"token": serializers.CharField()}),
    )
    def post(self, request):
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed(_("Wrong username or password."))
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key}, status=status.HTTP_200_OK)


class UnitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField()
    current = serializers.BooleanField(source="is_current")


class RoleSerializer(serializers.Serializer):
    role = serializers.CharField()
    role_display = serializers.CharField(source="get_role_display")
    unit = UnitSerializer()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField(source="display_name")
    is_superuser = serializers.BooleanField()
    roles = serializers.SerializerMethodField()
    areas = serializers.SerializerMethodField()

    @extend_schema_field(RoleSerializer(many=True))
    def get_roles(self, user):
        assignments = user.role_assignments.select_related("unit").order_by("role", "unit__code")
        return RoleSerializer(assignments, many=True).data

    @extend_schema_field(UnitSerializer(many=True))
    def get_areas(self, user):
        seen = {unit.pk: unit for unit in role_units(user)}
        return UnitSerializer(seen.values(), many=True).data


class MeView(APIView):
    """The logged-in user with their roles and the areas those roles cover."""

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)
