"""Staff and chair pages (included by ``councils/urls.py`` under the ``councils`` namespace,
at ``/councils/``). The member pages (``councils/member_urls.py``) use
``sessions/mine/``, ``sessions/<id>/agenda/`` and ``sessions/<id>/dossiers/<id>/sheet/…``."""

from django.urls import path

from . import chair_views as views

S = "sessions/<int:session_id>/"
ITEM = S + "dossiers/<int:dossier_id>/"

urlpatterns = [
    # councils
    path("", views.council_list, name="council-list"),
    path("new/", views.council_create, name="council-create"),
    path("<int:council_id>/", views.council_detail, name="council-detail"),
    path("<int:council_id>/sessions/new/", views.session_create, name="session-create"),
    # sessions
    path("sessions/", views.session_list, name="session-list"),
    path(S, views.session_detail, name="session-detail"),
    path(S + "agenda/edit/", views.session_agenda_edit, name="session-agenda-edit"),
    path(S + "open/", views.session_open, name="session-open"),
    path(S + "meeting/", views.session_meeting, name="session-meeting"),
    path(S + "close/", views.session_close, name="session-close"),
    # the chair's tracker
    path(S + "tracker/", views.tracker, name="tracker"),
    path(S + "tracker/live/", views.tracker_live, name="tracker-live"),
    path(ITEM + "close/", views.close_item, name="close-item"),
    path(ITEM + "members/<int:member_id>/reopen/", views.reopen, name="reopen-sheet"),
    # results and downloads
    path(S + "results/", views.session_results, name="session-results"),
    path(ITEM + "result/", views.dossier_result, name="dossier-result"),
    path(S + "minutes/", views.minutes_status, name="minutes-status"),
    path(S + "minutes/download/", views.minutes_download, name="minutes-download"),
    path(S + "minutes/regenerate/", views.minutes_regenerate, name="minutes-regenerate"),
    path(S + "export.xlsx", views.export_xlsx, name="session-export"),
]
