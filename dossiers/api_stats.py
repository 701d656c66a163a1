"""Statistics API (docs/statistics.md), under ``/api/v1/stats/`` (``ocop/urls.py``):

* ``stats/`` — every figure of the dashboard (``dossiers.stats.FIGURES``), with the
  dashboard's filters ``date_from``, ``date_to`` (YYYY-MM-DD, decision dates) and ``area``
  (a unit id among the user's areas);
* ``stats/{figure}/`` — one figure (``stars``, ``area``, ``district``, ``group``,
  ``criteria_set``, ``producer_type``, ``year``, ``dossier_state``, ``expiring``,
  ``revocations``), same filters;
* ``stats/yearly/?year=&province=`` — the yearly report's figures of a province (department
  staff of the province, or an administrator).

The same scoping as the pages (``dossiers.rules.stats_refusal``, ``dossiers.queries``): an
officer counts only their area; a user with no officer or staff role gets 403; a bad
filter 400 naming it; an unknown figure, or a province outside the user's area, 404.
"""

from django.http import Http404
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from . import rules, stats, yearly_report
from .api_params import bounded_param, id_param
from .queries import ratings_visible_to


class TableSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(
        child=serializers.ListField(child=serializers.JSONField()),
        help_text="One row per line of the figure: its label, then the numbers of the other "
                  "columns.")
    note = serializers.CharField()


class FiltersSerializer(serializers.Serializer):
    date_from = serializers.DateField(allow_null=True)
    date_to = serializers.DateField(allow_null=True)
    area = serializers.IntegerField(allow_null=True)


STATS_RESPONSE = inline_serializer("StatsResponse", {
    "filters": FiltersSerializer(),
    "figures": TableSerializer(many=True),
})
FIGURE_RESPONSE = inline_serializer("StatsFigureResponse", {
    "filters": FiltersSerializer(),
    "figure": TableSerializer(),
})
YEARLY_RESPONSE = inline_serializer("StatsYearlyResponse", {
    "province": serializers.IntegerField(),
    "province_name": serializers.CharField(),
    "year": serializers.IntegerField(),
    "day": serializers.DateField(help_text="The day the products in force are counted on."),
    "in_force": serializers.DictField(child=serializers.IntegerField(),
                                      help_text="Products in force by stars (\"3\", \"4\", "
                                                "\"5\")."),
    "totals": serializers.DictField(child=serializers.IntegerField(),
                                    help_text="recognised, new, reevaluated, upgraded, s3, "
                                              "s4, s5, expired, revoked"),
    "tables": TableSerializer(many=True),
})

FILTER_PARAMETERS = [
    OpenApiParameter("date_from", OpenApiTypes.DATE,
                     description="Ratings and revocations decided on or after this day."),
    OpenApiParameter("date_to", OpenApiTypes.DATE,
                     description="Ratings and revocations decided on or before this day."),
    OpenApiParameter("area", int, description="A unit of your area (province, pre-2025 "
                     "district, commune); the figures count what lies inside it."),
]


def _check(request, action="view_stats"):
    refusal = rules.stats_refusal(request.user, action)
    if refusal is not None:
        raise exceptions.PermissionDenied(refusal.message)


def _filters(request):
    """The dashboard's filters from the query string; 400 naming a bad one."""
    params = request.query_params
    id_param(params, "area")  # a number a table can hold, before the form reads it
    visible = ratings_visible_to(request.user)
    form = stats.StatsFilterForm(
        {name: params.get(name, "") for name in ("date_from", "date_to", "area")},
        ratings=visible)
    if not form.is_valid():
        raise exceptions.ValidationError(
            {name: [str(m) for m in messages] for name, messages in form.errors.items()})
    return form.filters(), visible


def _filters_data(filters):
    area = filters.get("area")
    return {"date_from": filters.get("date_from"), "date_to": filters.get("date_to"),
            "area": area.pk if area is not None else None}


class StatsView(APIView):
    """Every figure of the statistics dashboard for your area."""

    @extend_schema(parameters=FILTER_PARAMETERS, responses={200: STATS_RESPONSE},
                   operation_id="stats_list")
    def get(self, request):
        _check(request)
        filters, visible = _filters(request)
        tables = stats.dashboard(stats.scope_for(request.user, filters, ratings=visible))
        return Response({"filters": FiltersSerializer(_filters_data(filters)).data,
                         "figures": [stats.table_as_dict(t) for t in tables]})


class StatsFigureView(APIView):
    """One figure of the statistics dashboard for your area."""

    @extend_schema(parameters=[
        OpenApiParameter("figure", str, OpenApiParameter.PATH, enum=list(stats.FIGURES)),
        *FILTER_PARAMETERS], responses={200: FIGURE_RESPONSE}, operation_id="stats_figure")
    def get(self, request, figure):
        _check(request)
        found = stats.FIGURES.get(figure)
        if found is None:
            raise Http404
        filters, visible = _filters(request)
        table = found.compute(stats.scope_for(request.user, filters, ratings=visible))
        return Response({"filters": FiltersSerializer(_filters_data(filters)).data,
                         "figure": stats.table_as_dict(table)})


class StatsYearlyView(APIView):
    """The yearly report's figures of a province (department staff of the province)."""

    @extend_schema(parameters=[
        OpenApiParameter("year", int, description="The year reported (default: this year)."),
        OpenApiParameter("province", int, description="A current province of your area "
                         "(default: the first)."),
    ], responses={200: YEARLY_RESPONSE}, operation_id="stats_yearly")
    def get(self, request):
        _check(request, "yearly_report")
        today = timezone.localdate()
        params = request.query_params
        year = bounded_param(params, "year", 2000, today.year,
                             _("Enter a year from %(first)s to %(last)s.") % {
                                 "first": 2000, "last": today.year}) or today.year
        provinces = list(yearly_report.report_provinces(request.user))
        wanted = id_param(params, "province")
        if wanted is not None:
            provinces = [p for p in provinces if p.pk == wanted]
        if not provinces:
            raise Http404
        report = yearly_report.yearly_figures(request.user, provinces[0], year, today)
        return Response({
            "province": report.province.pk, "province_name": report.province.name,
            "year": report.year, "day": report.day,
            "in_force": {str(k): v for k, v in report.in_force.items()},
            "totals": report.totals,
            "tables": [stats.table_as_dict(t) for t in report.tables],
        })


#: Included by ``ocop/urls.py`` under ``api/v1/stats/``.
urlpatterns = [
    path("", StatsView.as_view(), name="api-stats"),
    path("yearly/", StatsYearlyView.as_view(), name="api-stats-yearly"),
    path("<slug:figure>/", StatsFigureView.as_view(), name="api-stats-figure"),
]
