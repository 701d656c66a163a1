"""The ratings register (kết quả công nhận): its filters in one place — the page's form and
the query the API will reuse — and what a dossier's page shows after the council.

CONTRACT

    filter_ratings(queryset, filters, today=None) -> QuerySet[Rating]
        # ``filters`` holds plain values: q (text), stars (int), area (a unit or its id),
        # criteria_set (id), state (RatingState value), expiring_within (days, int ≥ 0)
    RatingFilterForm(data, ratings=ratings_visible_to(user)).filters() -> dict
        # the valid filters only; an unusable value is reported on the form and ignored
    register_rows(ratings) -> QuerySet[Rating]     # what a row of the register shows
    recognition_for(user, dossier) -> dict | None  # the dossier page's "after the council"
    certificate_status(rating) -> "made" | "making" | "failed" | "ministry" | "none"

Choices:

* **Search** (accent-insensitive, every folded word must occur): a rating has no search
  column of its own; it matches when one of its product's dossiers matches
  (``product_id IN (SELECT product_id FROM dossier WHERE search_text LIKE …)``).
  ``Dossier.search_text`` holds the folded product name, producer name, product code and
  registration number, is kept up to date by ``dossiers.services`` and served by a
  pg_trgm index on PostgreSQL; SQLite scans. No column is added.
* **Criteria set** of a rating: the one its dossier was scored with, or the product's for a
  rating without a dossier.
* **Area**: the producer's administrative unit. The choices are only the units (and the
  pre-2025 districts of those units) of the user's ratings — a few dozen options, never
  the thousands of communes; choosing a district (or a province) covers the units under
  it as scoping reads an area (``within``: a current province also covers the pre-2025
  provinces it absorbed). Past ``AREA_CHOICES_MAX`` units (an administrator sees the
  whole country) only the districts and provinces are offered.
* **Expiring within N days**: valid or due ratings whose ``valid_until`` ≤ today + N (a
  rating past its date that the expiry job has not marked yet is included); the list is
  then sorted by ``valid_until``, soonest first.
"""

import datetime

from django import forms
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ocop.regions.models import AdministrativeUnit, Level
from ocop.text import fold
from scoring.models import CriteriaSet

from . import rules
from .forms import _LazyChoices
from .forwarding import goes_to_central
from .models import (
    ACTIVE_RATING_STATES,
    RECOGNISED_STARS,
    DecisionItem,
    DecisionOrigin,
    DecisionState,
    Dossier,
    DossierState,
    JobStatus,
    Rating,
    RatingState,
)
from .queries import (
    SEARCH_MAX_LENGTH,
    decisions_visible_to,
    dossiers_visible_to,
    ratings_visible_to,
)

#: The longest "expiring within" accepted: ten years covers every validity.
EXPIRING_MAX_DAYS = 3650
#: The most areas the filter lists; past it, only districts and provinces.
AREA_CHOICES_MAX = 300

# --- the query --------------------------------------------------------------------------------


def with_criteria_set(queryset):
    """Annotate ``criteria_set_pk``: the dossier's criteria set, else the product's."""
    return queryset.annotate(criteria_set_pk=Coalesce("source_dossier__criteria_set_id",
                                                      "product__criteria_set_id"))


def _area_q(area):
    """The producer lies in the unit or in a unit under it, as scoping reads an area
    (``AdministrativeUnit.objects.within``: a district's communes, a current province's
    units and those of the provinces it absorbed). ``area`` is a unit, or its id (read
    once more)."""
    if not isinstance(area, AdministrativeUnit):
        area = AdministrativeUnit.objects.filter(pk=area).first()
        if area is None:
            return Q(pk__in=[])
    return Q(product__producer__unit__in=AdministrativeUnit.objects.within([area]))


def filter_ratings(queryset, filters, today=None):
    """The register's filters (pages and API), in one place; see the module docstring."""
    words = fold((filters.get("q") or "")[:SEARCH_MAX_LENGTH]).split()
    if words:
        matching = Dossier.objects.all()
        for word in words:
            matching = matching.filter(search_text__contains=word)
        queryset = queryset.filter(product_id__in=matching.values("product_id"))
    if filters.get("stars") not in (None, ""):
        queryset = queryset.filter(stars=filters["stars"])
    if filters.get("state") not in (None, ""):
        queryset = queryset.filter(state=filters["state"])
    if filters.get("area") not in (None, ""):
        queryset = queryset.filter(_area_q(filters["area"]))
    if filters.get("criteria_set") not in (None, ""):
        queryset = with_criteria_set(queryset).filter(criteria_set_pk=filters["criteria_set"])
    month = filters.get("expires_month")
    if month not in (None, ""):
        # "YYYY-MM" (checked by the form and the API parameters): its ratings' validity
        # ends in that month
        year, number = (int(part) for part in str(month).split("-"))
        queryset = queryset.filter(valid_until__year=year, valid_until__month=number)
    days = filters.get("expiring_within")
    if days not in (None, ""):
        # bounded here too, whoever calls: a date past year 9999 is an OverflowError
        days = max(0, min(int(days), EXPIRING_MAX_DAYS))
        limit = (today or timezone.localdate()) + datetime.timedelta(days=days)
        queryset = queryset.filter(state__in=ACTIVE_RATING_STATES, valid_until__lte=limit)
    return queryset


def register_order(queryset, filters):
    """Newest decisions first; soonest end of validity first when looking for expiries."""
    if filters.get("expiring_within") not in (None, "") or filters.get("expires_month"):
        return queryset.order_by("valid_until", "product__name", "pk")
    return queryset.order_by("-decision_date", "-pk")


def register_rows(queryset):
    """Everything a row of the register (and a rating's page) shows, in one query."""
    return queryset.select_related(
        "product__producer__unit", "product__criteria_set__regime",
        "source_dossier__criteria_set__regime", "regime")


def criteria_set_of(rating):
    """The criteria set of a rating loaded by :func:`register_rows`."""
    if rating.source_dossier_id:
        return rating.source_dossier.criteria_set
    return rating.product.criteria_set


def certificate_status(rating):
    """Where the rating's certificate stands: ``made`` (a file to download), ``making``
    (the decision's documents are being rendered), ``failed`` (the rendering failed; the
    decision's page says why), ``ministry`` (a recorded Ministry decision: the Ministry
    issues the certificate, no file here), ``none`` (a rating without a decision of this
    system). Reads ``rating.decision`` (select it with the rating)."""
    if rating.certificate:
        return "made"
    decision = rating.decision if rating.decision_id else None
    if decision is None:
        return "none"
    if decision.origin == DecisionOrigin.RECORDED:
        return "ministry"
    if decision.job_status == JobStatus.FAILED:
        return "failed"
    return "making"


# --- the filter form ------------------------------------------------------------------------

CHOICE_ERRORS = {"invalid_choice": _("This choice is not available here; choose one from "
                                     "the list.")}


def _unit_label(unit):
    label = unit.name
    if unit.parent_id and unit.parent.level == Level.DISTRICT and unit.level == Level.COMMUNE:
        label = f"{label}, {unit.parent.name}"
    if unit.valid_to is not None:
        label = _("%(name)s (before 2025)") % {"name": label}
    return label


def area_choices(ratings):
    """``(units, complete)``: the producers' units of ``ratings`` and the (pre-2025)
    districts above them, in one query — as many options as units that have ratings. Past
    :data:`AREA_CHOICES_MAX` (an administrator's whole country), only the districts and
    provinces (one more query), and ``complete`` is False."""
    unit_ids = ratings.order_by().values("product__producer__unit_id")
    districts = AdministrativeUnit.objects.filter(
        pk__in=unit_ids, parent__level=Level.DISTRICT).values("parent_id")
    rank = Case(When(level=Level.PROVINCE, then=Value(0)),
                When(level=Level.DISTRICT, then=Value(1)),
                default=Value(2), output_field=IntegerField())

    def units(where):
        return list(AdministrativeUnit.objects.filter(where).select_related("parent")
                    .annotate(rank=rank).order_by("rank", "name", "pk")[:AREA_CHOICES_MAX + 1])

    found = units(Q(pk__in=unit_ids) | Q(pk__in=districts))
    complete = len(found) <= AREA_CHOICES_MAX
    if not complete:
        provinces = AdministrativeUnit.objects.filter(pk__in=unit_ids).values("province_id")
        found = units(Q(pk__in=districts) | Q(pk__in=provinces))[:AREA_CHOICES_MAX]
    return found, complete


def criteria_set_choices(ratings):
    """The criteria sets that appear in ``ratings``: one query."""
    used = with_criteria_set(ratings.order_by()).values("criteria_set_pk")
    sets = (CriteriaSet.objects.filter(pk__in=used).select_related("regime")
            .order_by("-regime__effective_from", "set_no", "-version"))
    return [(cs.pk, str(cs)) for cs in sets]


def register_choices(ratings):
    """``(areas, complete, criteria sets)``: the choices of :class:`RatingFilterForm` for
    ``ratings`` (two queries; ``dossiers.rating_rows.filter_choices`` keeps them per
    process)."""
    areas, complete = area_choices(ratings)
    return areas, complete, criteria_set_choices(ratings)


class ValidFiltersMixin:
    """``filters()`` of a GET filter form whose ``area`` choice is one of ``self.areas``
    (the ratings register, the statistics)."""

    def filters(self):
        """The valid filters only (``{}`` for an unbound form); 0 days is a filter."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        filters = {name: value for name, value in data.items()
                   if name not in self.errors and value is not None and value != ""}
        if "area" in filters:
            filters["area"] = self.areas[filters["area"]]  # the unit: no second read
        return filters


class RatingFilterForm(ValidFiltersMixin, forms.Form):
    """GET filters of the register. The choices come from the user's ratings (one query
    each) and are checked against the same lists: a foreign or made-up id is an invalid
    choice, reported and ignored, and never reaches the database."""

    q = forms.CharField(label=_("Search"), required=False, max_length=SEARCH_MAX_LENGTH,
                        widget=forms.TextInput(attrs={
                            "type": "search",
                            "placeholder": _("Product, producer or product code")}))
    stars = forms.TypedChoiceField(
        label=_("stars"), required=False, coerce=int, empty_value=None,
        choices=[("", _("All stars")), *((n, f"{n}★") for n in RECOGNISED_STARS)],
        error_messages=CHOICE_ERRORS)
    area = forms.TypedChoiceField(label=_("area"), required=False, coerce=int,
                                  empty_value=None, error_messages=CHOICE_ERRORS)
    criteria_set = forms.TypedChoiceField(label=_("criteria set"), required=False,
                                          coerce=int, empty_value=None,
                                          error_messages=CHOICE_ERRORS)
    state = forms.ChoiceField(label=_("state"), required=False,
                              choices=[("", _("All states")), *RatingState.choices],
                              error_messages=CHOICE_ERRORS)
    expiring_within = forms.IntegerField(
        label=_("Expiring within (days)"), required=False, min_value=0,
        max_value=EXPIRING_MAX_DAYS,
        widget=forms.NumberInput(attrs={"placeholder": _("e.g. 90"), "inputmode": "numeric"}),
        error_messages={
            "invalid": _("Enter a number of days, e.g. 90."),
            "min_value": _("Enter a number of days from 0 to %(limit)s.") % {
                "limit": EXPIRING_MAX_DAYS},
            "max_value": _("Enter a number of days from 0 to %(limit)s.") % {
                "limit": EXPIRING_MAX_DAYS},
        })

    expires_month = forms.RegexField(
        label=_("Validity ends in (month)"), required=False, regex=r"^\d{4}-(0[1-9]|1[0-2])$",
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2027-01"}),
        error_messages={"invalid": _("Enter a month as YYYY-MM, e.g. 2027-01.")})

    def __init__(self, *args, ratings, choices=None, **kwargs):
        """``choices``: :func:`register_choices` of ``ratings``, when the caller keeps them
        (``dossiers.rating_rows.filter_choices``); ``ratings`` is then not read. The options
        are labelled when first iterated (rendering, or checking a value asked for): the
        register's kept fields need neither."""
        super().__init__(*args, **kwargs)
        areas, complete, sets = choices or register_choices(ratings)
        self.areas = {unit.pk: unit for unit in areas}
        self.fields["area"].choices = _LazyChoices(lambda: [
            ("", _("All areas")), *((unit.pk, _unit_label(unit)) for unit in areas)])
        if not complete:
            self.fields["area"].help_text = _(
                "Too many areas to list them all: choose a district or a province, or "
                "search for the producer.")
        self.fields["criteria_set"].choices = _LazyChoices(
            lambda: [("", _("All criteria sets")), *sets])



# --- the dossier page: after the council ----------------------------------------------------


def _visible(queryset, outer="pk"):
    return Exists(queryset.filter(pk=OuterRef(outer)))


def _decision_block(user, dossier, info):
    """The rating (with its decision) the dossier's result became, else the draft
    decision that covers it, else whether the user may go and draft one."""
    rating = (Rating.objects.filter(source_dossier=dossier)
              .select_related("decision", "replaced_by")
              .annotate(visible=_visible(ratings_visible_to(user)),
                        decision_visible=_visible(decisions_visible_to(user), "decision_id"))
              .order_by("-pk").first())
    info["rating"] = rating
    if rating is not None:
        rating.certificate_status = certificate_status(rating)
        return
    info["draft"] = (DecisionItem.objects.filter(dossier=dossier)
                     .exclude(decision__state=DecisionState.REPLACED)
                     .select_related("decision")
                     .annotate(visible=_visible(decisions_visible_to(user), "decision_id"))
                     .order_by("-decision_id").first())
    info["waiting"] = dossier.result_stars in RECOGNISED_STARS
    info["can_draft"] = info["waiting"] and rules.issuer_refusal(
        user, "draft_decision", dossier.round.unit) is None


def _forwarded_block(user, dossier, info):
    """Where a forwarded dossier went: the Ministry, the next level's dossier, or the
    province's list of dossiers waiting for a round."""
    if goes_to_central(dossier):
        info["central"] = True
        info["can_record_central"] = rules.check_access(
            user, "record_central_result", dossier) is None
        return
    info["next_dossier"] = (Dossier.objects.filter(forwarded_from=dossier)
                            .select_related("round__unit", "round__level")
                            .annotate(visible=_visible(dossiers_visible_to(user)))
                            .first())
    if info["next_dossier"] is None:
        info["can_receive"] = rules.check_access(user, "receive_forwarded", dossier) is None


def recognition_for(user, dossier):
    """What the dossier's page shows after the council (``_recognition.html``), or None
    when there is nothing to show. A fixed number of queries for each case (none for a
    dossier before its result that came from no lower level): the rating and decision,
    or the draft, or where a forwarded dossier went, and the lower level's dossier."""
    state = dossier.state
    info = {"state": state, "dossier": dossier}
    shown = False
    if state in (DossierState.RECOGNISED, DossierState.NOT_RECOGNISED,
                 DossierState.FORWARDED):
        shown = True
        info["has_result"] = dossier.result_score is not None or dossier.result_stars
    if state == DossierState.RECOGNISED:
        _decision_block(user, dossier, info)
    elif state == DossierState.FORWARDED:
        _forwarded_block(user, dossier, info)
    if dossier.forwarded_from_id:
        shown = True
        source = (Dossier.objects.filter(pk=dossier.forwarded_from_id)
                  .select_related("round__level", "round__unit")
                  .annotate(visible=_visible(dossiers_visible_to(user))).first())
        info["source"] = source
        if source is not None:
            info["source_level"] = source.round.level.admin_level
    return info if shown else None

