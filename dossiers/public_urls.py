"""``/xac-minh/``: the public verification of a certificate (dossiers/public_views.py).

Any ``<something>.json`` goes to the JSON view and anything else to the page, so that a
malformed code gets the answer of its kind (a JSON 404 or the 404 page) from the view's own
check of the code."""

from django.urls import path

from . import public_views

urlpatterns = [
    path("<str:code>.json", public_views.verification_json, name="verification-json"),
    path("<str:code>/", public_views.verification, name="verification"),
]
