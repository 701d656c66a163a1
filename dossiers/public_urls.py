from django.urls import path

from . import public_views

urlpatterns = [
    path("<slug:code>.json", public_views.verification_json, name="verification-json"),
    path("<slug:code>/", public_views.verification, name="verification"),
]
