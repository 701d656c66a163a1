"""The notifications pages (docs/notifications.md): the list of what the user may read
(own notifications, and the producer-contact notices of their area), newest first, 30 a
page; mark one or all as read (POST); the unread count the header link shows.

The header's count is fetched by the link itself after the page has loaded
(``templates/notices/_nav_link.html``), so no page of the application pays a query for it.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import services
from .queries import notifications_visible_to, unread_count

PAGE_SIZE = 30


def _back(request):
    """Where to go after a POST: ``next`` when it is a local address, else the list."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return redirect("notices:list")


@login_required
@require_GET
def notification_list(request):
    unread_only = request.GET.get("unread") == "1"
    rows = notifications_visible_to(request.user).select_related("unit").order_by(
        "-created_at", "-pk")
    if unread_only:
        rows = rows.filter(user=request.user, read_at__isnull=True)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    notifications = list(page.object_list)
    own_unread = unread_count(request.user)
    return render(request, "notices/list.html", {
        "page": page, "notifications": notifications, "unread_only": unread_only,
        "own_unread": own_unread, "query": "unread=1" if unread_only else "",
    })


@login_required
@require_POST
def mark_read(request, pk):
    notification = get_object_or_404(notifications_visible_to(request.user), pk=pk)
    try:
        services.mark_read(request.user, notification)
    except services.NoticeError as error:
        raise PermissionDenied(error.message) from error
    return _back(request)


@login_required
@require_POST
def mark_all_read(request):
    count = services.mark_all_read(request.user)
    if count:
        messages.success(request, _("%(count)s notification(s) marked as read.")
                         % {"count": count})
    else:
        messages.info(request, _("You have no unread notifications."))
    return redirect(reverse("notices:list"))


@login_required
@require_GET
def unread(request):
    """``{"unread": n}``: the header link's counter."""
    response = JsonResponse({"unread": unread_count(request.user)})
    response["Cache-Control"] = "no-store"
    return response
