from django.urls import path

from . import rating_views as views

app_name = "ratings"

urlpatterns = [
    path("", views.rating_list, name="list"),
]
