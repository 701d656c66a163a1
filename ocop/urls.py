from django.contrib import admin
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from ocop import api
from ocop.web import views as web

api_v1 = [
    path("auth/token/", api.TokenView.as_view(), name="api-token"),
    path("me/", api.MeView.as_view(), name="api-me"),
    path("", include("scoring.api")),  # regimes/, criteria-sets/ (scoring.api.router)
    # producers/, products/, rounds/, dossiers/, decisions/, ratings/
    path("", include("dossiers.api")),
    path("", include("councils.api")),  # councils/, sessions/, sessions/{id}/results/
    path("", include("councils.api_sheets")),  # scoresheets/
    path("", include("ocop.notices.api")),  # notifications/
    path("stats/", include("dossiers.api_stats")),  # stats/, stats/ratings/, stats/yearly/
    re_path(r"^", api.NotFoundView.as_view()),  # any other address: the API's JSON 404
]

urlpatterns = [
    path("", web.home, name="home"),
    path("login/", web.LoginView.as_view(), name="login"),
    path("logout/", web.auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", web.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("documents/", include("ocop.documents.urls")),
    path("criteria/", include("scoring.urls")),
    path("dossiers/", include("dossiers.urls")),
    path("councils/", include("councils.urls")),
    path("decisions/", include("dossiers.decision_urls")),
    path("ratings/", include("dossiers.rating_urls")),
    path("ratings/import/", include("dossiers.import_urls")),  # the existing register
    path("stats/", include("dossiers.stats_urls")),  # dashboard, registers, yearly report
    path("notifications/", include("ocop.notices.urls")),
    path("inspections/", include("dossiers.inspection_urls")),  # and revocations
    # the public verification of a certificate (QR code), no login
    path("xac-minh/", include("dossiers.public_urls")),
]

handler404 = "ocop.web.views.page_not_found"
handler500 = "ocop.web.views.server_error"
handler403 = "ocop.web.views.permission_denied"

