"""Staff pages: browse regimes and criteria sets, print a blank scoresheet.

Any logged-in user may browse (the criteria are public law); anonymous users are sent to
the login page. Every page runs a fixed number of queries whatever the size of the data.
"""

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.utils.translation import gettext as _

from ocop.accounts.queries import is_admin
from ocop.documents.pdf import pdf_response, render_pdf

from .models import CriteriaSet, CriteriaSetStatus
from .queries import criteria_sets, criteria_tree, grouped_by_product_group, regimes_with_rules

BLANK_SCORESHEET_TEMPLATE = "scoring/blank_scoresheet.html"
#: Bump when the scoresheet layout changes, so that cached PDFs are not served any more.
BLANK_SCORESHEET_LAYOUT = 1
BLANK_SCORESHEET_CACHE_SECONDS = 24 * 3600


@login_required
def criteria_index(request):
    """Regimes with their rules and, per regime, its criteria sets by product group.

    ``?regime=<short code or code>`` shows one regime; a regime that scores with another
    one's sets (148 as amended by 1489) lists those sets.
    """
    all_regimes = list(regimes_with_rules().order_by("-effective_from"))
    regimes = all_regimes
    wanted = (request.GET.get("regime") or "").strip()
    unknown = ""
    if wanted:
        chosen = [r for r in regimes
                  if wanted.lower() in (r.slug.lower(), r.code.lower())]
        if chosen:
            regimes = chosen
        else:
            unknown = wanted
    criteria_regime_ids = {r.criteria_regime.pk for r in regimes}
    sets_by_regime = {}
    for cs in criteria_sets().filter(regime_id__in=criteria_regime_ids):
        sets_by_regime.setdefault(cs.regime_id, []).append(cs)
    sections = []
    for regime in regimes:
        own = regime.criteria_from_id is None
        sets = sets_by_regime.get(regime.criteria_regime.pk, [])
        sections.append({
            "regime": regime,
            "levels": list(regime.levels.all()),
            "bands": list(regime.bands.all()),
            "shares_sets": not own,
            # A regime using another's sets lists them only when it is shown alone.
            "blocks": grouped_by_product_group(sets) if own or len(regimes) == 1 else [],
            "set_count": len(sets),
            "published_count": sum(cs.status == CriteriaSetStatus.PUBLISHED for cs in sets),
            "draft_count": sum(cs.status == CriteriaSetStatus.DRAFT for cs in sets),
        })
    context = {
        "sections": sections,
        "all_regimes": all_regimes,
        "selected": wanted if not unknown else "",
        "unknown_regime": unknown,
    }
    return render(request, "scoring/criteria_index.html", context)


def _criteria_set(pk):
    return get_object_or_404(CriteriaSet.objects.select_related("regime", "group", "subgroup"),
                             pk=pk)


@login_required
def criteria_set_detail(request, pk):
    """One set's full tree; errata shown where they apply, to administrators."""
    cs = _criteria_set(pk)
    tree = criteria_tree(cs)
    versions = list(CriteriaSet.objects.filter(regime_id=cs.regime_id, set_no=cs.set_no)
                    .exclude(pk=cs.pk).order_by("-version").values("pk", "version", "status"))
    status_labels = dict(CriteriaSetStatus.choices)
    for v in versions:
        v["status_label"] = status_labels.get(v["status"], v["status"])
    context = {"cs": cs, "tree": tree, "other_versions": versions,
               # errata, data warnings, source file: administrators only; everyone else
               # reads the official text (councils.sheets.shows_provenance, the same rule)
               "provenance": request.user.is_staff or is_admin(request.user)}
    return render(request, "scoring/criteria_set_detail.html", context)


def blank_scoresheet_bytes(cs, *, request=None):
    """The blank scoresheet of ``cs`` as PDF bytes.

    A published or retired set never changes, so its sheet is rendered once per version
    and layout and then served from the cache; a draft is rendered every time.
    """
    key = None
    if cs.status != CriteriaSetStatus.DRAFT:
        stamp = cs.updated_at.timestamp() if cs.updated_at else 0
        key = (f"scoring:blank-scoresheet:{BLANK_SCORESHEET_LAYOUT}:{cs.pk}:{cs.version}:"
               f"{cs.content_hash}:{stamp}:{translation.get_language()}")
        pdf = cache.get(key)
        if pdf is not None:
            return pdf
    context = {"cs": cs, "tree": criteria_tree(cs)}
    pdf = render_pdf(BLANK_SCORESHEET_TEMPLATE, context, request=request)
    if key:
        cache.set(key, pdf, BLANK_SCORESHEET_CACHE_SECONDS)
    return pdf


@login_required
def blank_scoresheet_pdf(request, pk):
    """The printable, blank scoresheet of one set (opens in the browser)."""
    cs = _criteria_set(pk)
    pdf = blank_scoresheet_bytes(cs, request=request)
    # Translators: file name of a blank scoresheet PDF; %(regime)s is e.g. "26-2026".
    filename = _("scoresheet-%(regime)s-set-%(set_no)02d-v%(version)d") % {
        "regime": cs.regime.slug.replace("/", "-"), "set_no": cs.set_no,
        "version": cs.version,
    }
    return pdf_response(pdf, filename + ".pdf", inline=True)
