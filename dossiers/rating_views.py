"""The ratings register (kết quả công nhận) and a rating's page (docs/decisions.md)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def rating_list(request):
    return render(request, "dossiers/ratings/list.html", {})
