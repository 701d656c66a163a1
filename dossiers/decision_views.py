"""Pages of recognition decisions (department staff, officers): drafts, issued decisions,
their documents, the results waiting for a decision (docs/decisions.md)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def decision_list(request):
    return render(request, "dossiers/decisions/list.html", {})
