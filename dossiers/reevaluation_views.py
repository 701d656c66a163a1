"""The re-evaluation page of a rating (docs/ratings-lifecycle.md, "Re-evaluation"): the
window's dates under the procedure in force today, the round and, when it changes, the
criteria set of the new dossier, confirmed by a POST that calls
``dossiers.reevaluation.start_reevaluation`` and leads to the new dossier.

The rating comes from ``ratings_visible_to(user)``: outside the user's area, 404. Only
officers and department staff (and admins) file dossiers: anyone else gets 404 too.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from . import reevaluation, services
from .forms import show_service_error
from .queries import ratings_visible_to
from .reevaluation_forms import ReevaluateForm
from .views import has_intake_role


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def reevaluate(request, pk):
    """GET: the confirmation (window, late filing, round); POST: the new dossier."""
    if not has_intake_role(request.user):
        raise Http404
    rating = get_object_or_404(
        ratings_visible_to(request.user).select_related(
            "regime", "product__producer__unit", "product__criteria_set__regime",
            "source_dossier"), pk=pk)
    today = timezone.localdate()
    rounds = reevaluation.candidate_rounds(request.user, rating, today)
    form = ReevaluateForm(request.POST if request.method == "POST" else None, rounds=rounds)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                dossier = reevaluation.start_reevaluation(
                    request.user, rating, round=form.chosen_round())
            except services.DossierError as error:
                show_service_error(request, form, error)
                status = 422
            else:
                messages.success(request, _(
                    "The re-evaluation dossier was created from the last dossier: check the "
                    "registration form and the documents carried over, then submit it."))
                return redirect("dossiers:detail", dossier.pk)
        else:
            status = 422
    regimes = reevaluation.all_regimes()
    new_set, set_refusal = reevaluation.criteria_set_change(rating, rounds)
    return render(request, "dossiers/ratings/reevaluate.html", {
        "rating": rating, "form": form, "rounds": rounds,
        "procedure": reevaluation.procedure_regime(rating, today, regimes=regimes),
        "window": reevaluation.filing_window(rating, today, regimes=regimes),
        "late_until": reevaluation.late_filing_until(rating, today, regimes=regimes),
        "refusal": reevaluation.filing_refusal(rating, today, regimes=regimes),
        "late": reevaluation.is_late(rating, today, regimes=regimes),
        "source": reevaluation.source_dossier(rating),
        "active": rating.is_active,
        "new_set": new_set, "set_refusal": set_refusal,
    }, status=status)

