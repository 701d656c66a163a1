from django.urls import include, path

app_name = "councils"

urlpatterns = [
    path("", include("councils.member_urls")),  # sessions, agenda, scoresheets, recusal
    path("", include("councils.chair_urls")),  # tracker, results, minutes, exports
]
