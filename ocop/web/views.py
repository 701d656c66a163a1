from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from ocop.accounts.models import Role
from ocop.accounts.queries import is_admin, role_units

from .forms import LoginForm
from .menu import refresh_facts
from .panels import panel_context


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True


@login_required
def home(request):
    """One home page, with a panel for each role the user holds; the apps add their
    figures through :mod:`ocop.web.panels`."""
    user = request.user
    context = {
        "department_units": role_units(user, Role.DEPARTMENT_STAFF),
        "officer_units": role_units(user, Role.LOCAL_OFFICER),
        "show_admin": is_admin(user),
    }
    context = panel_context(user, context)
    # a panel may say what it learnt about the menu (e.g. a council seat): ocop.web.menu
    refresh_facts(request, context.pop("menu_facts", {}))
    return render(request, "web/home.html", context)


def _database_status():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return "ok"
    except Exception:  # noqa: BLE001 - any failure means "down" for a health check
        return "down"


def _redis_status():
    from django.conf import settings

    if not settings.REDIS_URL:
        return "not configured"
    try:
        cache.set("healthz", "1", timeout=5)
        return "ok" if cache.get("healthz") == "1" else "down"
    except Exception:  # noqa: BLE001
        return "down"


@never_cache
def healthz(request):
    """Database and Redis status. Always HTTP 200 while the web process answers, so that a
    Redis outage is reported without taking pages down; 503 only when the database is down."""
    database = _database_status()
    redis = _redis_status()
    status = "ok" if database == "ok" and redis in ("ok", "not configured") else "degraded"
    return JsonResponse(
        {"status": status, "database": database, "redis": redis},
        status=200 if database == "ok" else 503,
    )


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    return render(request, "500.html", status=500)


def permission_denied(request, exception=None):
    """403 with the reason the refusing code gave (``PermissionDenied(message)``), if any."""
    reason = str(exception) if exception is not None else ""
    return render(request, "403.html", {"reason": reason}, status=403)
