"""The API base: pagination, error bodies, scoped object lookup, token login and ``/me``."""

from collections.abc import Mapping

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
from ocop.accounts.throttle import AccountLocked
from ocop.audit.context import client_ip


def flatten_errors(data, prefix=""):
    """Field errors as ``{"name": ["message", …]}``, one level: a nested error (a dict
    field's key, an item of a list of objects) is named by its path, ``reasons.12`` or
    ``entries.0.option`` — the error schema has no deeper levels."""
    flat = {}
    if isinstance(data, dict):
        for key, value in data.items():
            if prefix and key == "non_field_errors":  # about the nested value as a whole
                name = prefix
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            for field, messages in flatten_errors(value, name).items():
                flat.setdefault(field, []).extend(messages)
    elif isinstance(data, list | tuple) and any(isinstance(v, dict | list) for v in data):
        for index, value in enumerate(data):
            if value:
                flat.update(flatten_errors(value, f"{prefix}.{index}" if prefix
                                           else str(index)))
    else:
        messages = data if isinstance(data, list | tuple) else [data]
        flat[prefix or "non_field_errors"] = [str(m) for m in messages]
    return flat


def exception_handler(exc, context):
    """Every error body has the same shape: ``{"error": {"code", "message", "fields"}}``,
    ``fields`` being ``null`` or ``{"name": ["message", …]}`` (nested names flattened by
    :func:`flatten_errors`)."""
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
            fields = flatten_errors(data)
            if non_field:
                message = " ".join(str(m) for m in non_field)
        else:
            message = " ".join(str(m) for m in data)
    else:
        code = getattr(exc, "default_code", "error")
        message = data.get("detail", str(exc)) if isinstance(data, dict) else str(data)
        fields = getattr(exc, "fields", None)  # ocop.input.InputRefused names its field
    response.data = {"error": {"code": code, "message": str(message), "fields": fields}}
    return response


class StrictFieldsMixin:
    """For every serializer that receives a write: a field it does not accept (unknown, or
    read-only) is refused with 400 naming the field — ``{"state": "recognised"}`` sent to a
    dossier must not look accepted while it is silently ignored."""

    #: Names a client may send without meaning them as data.
    ignored_fields = frozenset({"csrfmiddlewaretoken"})

    def to_internal_value(self, data):
        errors = {}
        if isinstance(data, Mapping):
            writable = {field.field_name for field in self._writable_fields}
            for name in data:
                if name in writable or name in self.ignored_fields:
                    continue
                errors[name] = [_("This field is read-only.") if name in self.fields else
                                _("Unknown field “%(name)s”: it is not accepted here.")
                                % {"name": name}]
        try:
            value = super().to_internal_value(data)
        except exceptions.ValidationError as invalid:
            if not errors or not isinstance(invalid.detail, dict):
                raise
            raise exceptions.ValidationError({**invalid.detail, **errors}) from invalid
        if errors:
            raise exceptions.ValidationError(errors)
        return value


class StrictSerializer(StrictFieldsMixin, serializers.Serializer):
    """A plain request serializer that refuses unknown fields."""


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

    def get_ident(self, request):
        # the client's address as axes and the audit log see it (TRUSTED_PROXY_COUNT)
        return client_ip(request) or super().get_ident(request)


class TokenRequestSerializer(StrictSerializer):
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
        if user is None and getattr(request, "axes_locked_out", False):
            raise AccountLocked(request, {"username": data.validated_data["username"]})
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed(_("Wrong username or password."))
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key}, status=status.HTTP_200_OK)


class NotFoundView(APIView):
    """Any other address under ``/api/v1/`` (e.g. ``dossiers/1.5/``, which no route
    matches): the API's 404 body in JSON, not the 404 page."""

    permission_classes = [AllowAny]
    authentication_classes = []
    schema = None  # not an operation of the API

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise exceptions.NotFound(_("Not found."))

    get = post = put = patch = delete = head = options = http_method_not_allowed


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
