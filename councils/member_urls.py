"""Council member pages (included by ``councils/urls.py`` under the ``councils`` namespace,
at ``/councils/``)."""

from django.urls import path

from . import member_views as views

urlpatterns = [
    path("sessions/mine/", views.my_sessions, name="my-sessions"),
    path("sessions/<int:session_id>/agenda/", views.member_agenda, name="member-agenda"),
    path("sessions/<int:session_id>/dossiers/<int:dossier_id>/sheet/", views.sheet_page,
         name="sheet"),
    path("sessions/<int:session_id>/dossiers/<int:dossier_id>/sheet/autosave/",
         views.sheet_autosave, name="sheet-autosave"),
    path("sessions/<int:session_id>/dossiers/<int:dossier_id>/recusal/", views.recusal,
         name="recusal"),
]
