"""``/stats/``: the dashboard, its downloads, the registers and the yearly report."""

from django.urls import path

from . import rating_views, stats_views

app_name = "stats"

urlpatterns = [
    path("", stats_views.dashboard, name="dashboard"),
    path("figures/<slug:key>.<str:extension>", stats_views.table_download, name="table"),
    path("register.xlsx", rating_views.register_xlsx, name="register"),
    path("rounds/<int:pk>/results.xlsx", stats_views.round_results, name="round_results"),
    path("yearly/", stats_views.yearly, name="yearly"),
]
