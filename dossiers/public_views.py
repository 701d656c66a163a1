"""The public verification of a certificate (no login): ``/xac-minh/<code>/`` and its JSON
twin ``/xac-minh/<code>.json`` (docs/decisions.md)."""

from django.http import Http404, JsonResponse
from django.shortcuts import render

from .models import Rating


def _rating(code):
    rating = (Rating.objects.select_related("product__producer", "decision")
              .filter(verification_code=code).first())
    if rating is None:
        raise Http404
    return rating


def verification(request, code):
    return render(request, "dossiers/verification.html", {"rating": _rating(code)})


def verification_json(request, code):
    rating = _rating(code)
    return JsonResponse({"code": rating.verification_code, "stars": rating.stars,
                         "state": rating.state})
