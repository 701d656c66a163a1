from django.urls import path

from . import rating_views as views
from . import reevaluation_views

app_name = "ratings"

urlpatterns = [
    path("", views.rating_list, name="list"),
    path("<int:pk>/", views.rating_detail, name="detail"),
    path("<int:pk>/certificate/", views.certificate, name="certificate"),
    path("<int:pk>/reevaluate/", reevaluation_views.reevaluate, name="reevaluate"),
]
