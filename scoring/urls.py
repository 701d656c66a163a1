from django.urls import path

from . import views

app_name = "scoring"

urlpatterns = [
    path("", views.criteria_index, name="criteria-index"),
    path("<int:pk>/", views.criteria_set_detail, name="criteria-set"),
    path("<int:pk>/scoresheet.pdf", views.blank_scoresheet_pdf, name="blank-scoresheet"),
]
