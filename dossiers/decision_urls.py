from django.urls import path

from . import decision_views as views

app_name = "decisions"

urlpatterns = [
    path("", views.decision_list, name="list"),
]
