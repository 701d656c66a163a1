from django.urls import path

from . import decision_views as views

app_name = "decisions"

urlpatterns = [
    path("", views.decision_list, name="list"),
    path("pending/", views.pending, name="pending"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/preview.pdf", views.preview, name="preview"),
    path("<int:pk>/issue/", views.issue, name="issue"),
    path("<int:pk>/progress/", views.progress, name="progress"),
    path("<int:pk>/pdf/", views.pdf, name="pdf"),
    path("<int:pk>/bundle/", views.bundle, name="bundle"),
    path("<int:pk>/correct/", views.correct, name="correct"),
    path("<int:pk>/delete/", views.delete, name="delete"),
    path("<int:pk>/retry/", views.retry, name="retry"),
    # between levels (docs/decisions.md)
    path("forwarded/", views.forwarded, name="forwarded"),
    path("forwarded/<int:pk>/receive/", views.receive, name="receive"),
    path("central/<int:pk>/", views.central_result, name="central-result"),
]
