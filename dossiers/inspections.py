"""Inspections after recognition (kiểm tra, giám sát sau công nhận) — the only way plans,
inspections, findings, conclusions and inspection files are created or changed
(docs/ratings-lifecycle.md, "Inspections").

CONTRACT (pages, API and demo call exactly these; refusals raise
``services.DossierError`` with a message and change nothing):

    create_plan(user, *, unit, year, title="", note="") -> InspectionPlan
    products_due(plan) -> QuerySet[Rating]          # the plan's "products due" listing
    create_inspection(user, *, kind, rating=None, unit=None, plan=None, planned_on=None,
                      title="", inspectors="") -> Inspection
        # one product (``rating``) or every active rating of an area (``unit``)
    criteria_of(item) -> list[Criterion]            # the criteria a finding may be about
    record_findings(user, item, *, findings) -> list[InspectionFinding]
        # findings: [{"criterion": Criterion | id, "meets": bool, "note": str}]
    conclude(user, inspection, *, date, conclusions, reference="", note="",
             inspected_on=None) -> Inspection
        # conclusions: {item id: "meets" | "not_meets" | "violation"} or
        #              {item id: (conclusion, note)}
    upload_file(user, inspection, uploaded_file) -> InspectionFile
    pending_revocations(user) -> list[InspectionItem]
        # concluded "no longer meets"/"violation", no revocation yet, ``deadline`` set
    revocation_deadline(conclusion_date) -> date | None

Who (``dossiers.rules.oversight_refusal``): department staff whose area covers the plan's
province / the inspection's area; an administrator everywhere. Local officers read
(``dossiers.queries.inspections_visible_to``).
"""

import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from ocop.audit.services import record
from ocop.regions.models import AdministrativeUnit, Level
from scoring.models import Criterion, Regime
from scoring.queries import regime_in_force

from . import rules, uploads
from .models import (
    ACTIVE_RATING_STATES,
    Inspection,
    InspectionConclusion,
    InspectionFile,
    InspectionFinding,
    InspectionItem,
    InspectionKind,
    InspectionPlan,
    InspectionState,
    Rating,
    Revocation,
)
from .queries import inspections_visible_to
from .services import DossierError, _invalid, _raise, checked_upload

#: Conclusions that ground a revocation (26/2026 Điều 8 b and c).
FAILING = (InspectionConclusion.NOT_MEETS, InspectionConclusion.VIOLATION)
#: The earliest plan year accepted (the first OCOP ratings date from 2019).
FIRST_YEAR = 2018


# --- helpers ---------------------------------------------------------------------------------


def current_province(unit):
    """The current province a unit lies in (a pre-2025 province's successor), or None."""
    if unit is None:
        return None
    province = unit if unit.level == Level.PROVINCE else unit.province
    if province is not None and province.valid_to is not None:
        successor = (province.successors.filter(level=Level.PROVINCE,
                                                valid_to__isnull=True).first())
        province = successor or province
    return province


def revocation_deadline(conclusion_date, regimes=None):
    """The last day to decide a revocation grounded on a conclusion of ``conclusion_date``:
    the date plus the ``revocation_deadline_days`` (calendar days) of the regime in force
    on that date (26/2026 Điều 8: 15 days); None when that regime sets none."""
    regime = regime_in_force(conclusion_date, regimes)
    if regime is None or regime.revocation_deadline_days is None:
        return None
    return conclusion_date + datetime.timedelta(days=regime.revocation_deadline_days)


def _check(user, action, unit):
    _raise(rules.oversight_refusal(user, action, unit))


def _clean_text(value, limit=None):
    value = str(value or "").strip()
    return value[:limit] if limit else value


def _ratings_in(unit):
    """Active ratings of products whose producer lies in ``unit`` (or a unit under it)."""
    return Rating.objects.filter(
        state__in=ACTIVE_RATING_STATES,
        product__producer__unit__in=AdministrativeUnit.objects.within([unit]))


# --- plans -----------------------------------------------------------------------------------


def create_plan(user, *, unit, year, title="", note=""):
    """The yearly inspection plan of a province (one a year)."""
    today = timezone.localdate()
    errors = {}
    if unit is None or unit.level != Level.PROVINCE or unit.valid_to is not None:
        errors["unit"] = [_("An inspection plan is made for a province as it exists today.")]
    if not isinstance(year, int) or isinstance(year, bool) or not (
            FIRST_YEAR <= year <= today.year + 1):
        errors["year"] = [_("Enter a year from %(first)s to %(last)s.") % {
            "first": FIRST_YEAR, "last": today.year + 1}]
    if errors:
        _invalid(errors)
    _check(user, "plan_inspections", unit)
    title = _clean_text(title, 300) or _("Inspection plan %(year)s — %(unit)s") % {
        "year": year, "unit": unit.name}
    with transaction.atomic():
        if InspectionPlan.objects.filter(unit=unit, year=year).exists():
            _invalid({"year": [_("%(unit)s already has an inspection plan for %(year)s.") % {
                "unit": unit.name, "year": year}]})
        plan = InspectionPlan.objects.create(unit=unit, year=year, title=title,
                                             note=_clean_text(note), created_by=user)
        record("inspection_plan.created", plan, actor=user,
               after={"unit": unit.pk, "year": year, "title": title})
    return plan


def products_due(plan):
    """The plan's listing: the active (valid or due) ratings of the province's products
    that no inspection of the plan's year has checked yet (docs/ratings-lifecycle.md).
    Soonest end of validity first."""
    inspected = InspectionItem.objects.filter(
        rating_id=OuterRef("pk"), inspection__plan__year=plan.year)
    inspected_ad_hoc = InspectionItem.objects.filter(
        rating_id=OuterRef("pk"), inspection__plan__isnull=True,
        inspection__planned_on__year=plan.year)
    return (_ratings_in(plan.unit).exclude(Exists(inspected)).exclude(Exists(inspected_ad_hoc))
            .select_related("product__producer__unit")
            .order_by("valid_until", "product__name", "pk"))


# --- inspections -----------------------------------------------------------------------------


def create_inspection(user, *, kind, rating=None, unit=None, plan=None, planned_on=None,
                      title="", inspectors=""):
    """A planned inspection of one product (``rating``) or of every active rating of an
    area (``unit``). Periodic inspections belong to a plan (of the province and the year of
    ``planned_on``); ad hoc ones to none."""
    errors = {}
    if kind not in InspectionKind.values:
        errors["kind"] = [_("Choose periodic or ad hoc.")]
    if (rating is None) == (unit is None):
        errors["rating"] = [_("Choose either one rated product or an area to inspect.")]
    if planned_on is not None and not isinstance(planned_on, datetime.date):
        errors["planned_on"] = [_("Enter a date.")]
    if kind == InspectionKind.PERIODIC and plan is None:
        errors["plan"] = [_("A periodic inspection belongs to the yearly inspection plan; "
                            "choose the plan (or record an ad hoc inspection).")]
    if kind == InspectionKind.AD_HOC and plan is not None:
        errors["plan"] = [_("An ad hoc inspection is not part of the yearly plan.")]
    if errors:
        _invalid(errors)
    area = unit if rating is None else rating.product.producer.unit
    _check(user, "inspect", area)
    if plan is not None:
        _check(user, "plan_inspections", plan.unit)
        if not AdministrativeUnit.objects.within([plan.unit]).filter(pk=area.pk).exists():
            _invalid({"plan": [_("The area inspected is not in the plan's province.")]})
        if planned_on is not None and planned_on.year != plan.year:
            _invalid({"planned_on": [_("The plan is for %(year)s; plan the inspection in "
                                       "that year.") % {"year": plan.year}]})
    with transaction.atomic():
        if rating is not None:
            rating = Rating.objects.select_for_update().get(pk=rating.pk)
            if rating.state not in ACTIVE_RATING_STATES:
                _invalid({"rating": [_("Only a valid rating (or one due for re-evaluation) is "
                                       "inspected; this one is “%(state)s”.") % {
                    "state": rating.get_state_display()}]})
            ratings = [rating]
        else:
            ratings = list(_ratings_in(unit).order_by("pk"))
            if not ratings:
                _invalid({"unit": [_("No product of %(unit)s holds a valid rating; there is "
                                     "nothing to inspect.") % {"unit": unit.name}]})
        inspection = Inspection.objects.create(
            plan=plan, kind=kind, unit=area, title=_clean_text(title, 300),
            planned_on=planned_on, inspectors=_clean_text(inspectors), created_by=user)
        InspectionItem.objects.bulk_create(
            [InspectionItem(inspection=inspection, rating=r) for r in ratings])
        record("inspection.created", inspection, actor=user, after={
            "kind": kind, "unit": area.pk, "plan": plan.pk if plan else None,
            "planned_on": planned_on.isoformat() if planned_on else None,
            "ratings": [r.pk for r in ratings]})
    return inspection


def _lock(inspection):
    return (Inspection.objects.select_for_update(of=("self",)).select_related("unit", "plan")
            .get(pk=inspection.pk))


def _refuse_concluded(inspection):
    if inspection.state == InspectionState.CONCLUDED:
        raise DossierError(_("This inspection is concluded; its findings and conclusions are "
                             "no longer changed."), code="state")


def criteria_of(item):
    """The criteria of the inspected rating's criteria set (the dossier's, else the
    product's), in their order."""
    rating = item.rating
    set_id = (rating.source_dossier.criteria_set_id if rating.source_dossier_id
              else rating.product.criteria_set_id)
    return list(Criterion.objects.filter(criteria_set_id=set_id).order_by("order"))


def record_findings(user, item, *, findings):
    """Record (or change) what the inspection found on criteria of the product's
    scoresheet; a criterion of another set is refused."""
    with transaction.atomic():
        inspection = _lock(item.inspection)
        _check(user, "inspect", inspection.unit)
        _refuse_concluded(inspection)
        item = (InspectionItem.objects.select_related(
            "rating__source_dossier", "rating__product").get(pk=item.pk))
        allowed = {c.pk: c for c in criteria_of(item)}
        cleaned, errors = [], []
        for entry in findings:
            criterion = entry.get("criterion")
            criterion_id = getattr(criterion, "pk", criterion)
            if criterion_id not in allowed:
                errors.append(_("A finding is about a criterion that is not on this "
                                "product's scoresheet."))
                continue
            meets = entry.get("meets")
            if not isinstance(meets, bool):
                errors.append(_("Say for criterion %(code)s whether the product still meets "
                                "it.") % {"code": allowed[criterion_id].code})
                continue
            cleaned.append((allowed[criterion_id], meets, _clean_text(entry.get("note"))))
        if errors:
            _invalid({"findings": errors})
        if not cleaned:
            _invalid({"findings": [_("Record at least one finding.")]})
        saved = []
        for criterion, meets, note in cleaned:
            finding, _created = InspectionFinding.objects.update_or_create(
                item=item, criterion=criterion, defaults={"meets": meets, "note": note})
            saved.append(finding)
        record("inspection.findings_recorded", inspection, actor=user, after={
            "item": item.pk, "findings": [
                {"criterion": c.pk, "meets": m, "note": n} for c, m, n in cleaned]})
    return saved


def conclude(user, inspection, *, date, conclusions, reference="", note="",
             inspected_on=None):
    """Conclude the inspection: a conclusion for every product inspected, the date of the
    written conclusion (not in the future) and its number."""
    with transaction.atomic():
        inspection = _lock(inspection)
        _check(user, "inspect", inspection.unit)
        _refuse_concluded(inspection)
        items = list(inspection.items.select_related("rating__product").order_by("pk"))
        today = timezone.localdate()
        errors = {}
        if not isinstance(date, datetime.date):
            errors["conclusion_date"] = [_("Enter the date of the conclusion.")]
        elif date > today:
            errors["conclusion_date"] = [_("The conclusion cannot be dated in the future.")]
        if inspected_on is not None and isinstance(date, datetime.date) and (
                not isinstance(inspected_on, datetime.date) or inspected_on > date):
            errors["inspected_on"] = [_("The inspection cannot take place after its "
                                        "conclusion.")]
        chosen = {}
        missing = []
        for item in items:
            value = conclusions.get(item.pk, conclusions.get(str(item.pk)))
            item_note = ""
            if isinstance(value, (tuple, list)):
                value, item_note = (list(value) + [""])[:2]
            if value not in InspectionConclusion.values:
                missing.append(item.rating.product.name)
                continue
            chosen[item.pk] = (value, _clean_text(item_note))
        unknown = {str(k) for k in conclusions} - {str(i.pk) for i in items}
        if unknown:
            errors["conclusions"] = [_("A conclusion is about a product this inspection did "
                                       "not check.")]
        elif missing:
            errors["conclusions"] = [_("Give a conclusion for every product inspected "
                                       "(missing: %(products)s).") % {
                "products": ", ".join(missing)}]
        for item in items:
            if isinstance(date, datetime.date) and date < item.rating.decision_date:
                errors["conclusion_date"] = [_("The conclusion cannot be dated before the "
                                               "recognition of %(product)s (%(day)s).") % {
                    "product": item.rating.product.name,
                    "day": item.rating.decision_date.strftime("%d/%m/%Y")}]
                break
        if errors:
            _invalid(errors)
        for item in items:
            item.conclusion, item.note = chosen[item.pk]
            item.save(update_fields=["conclusion", "note"])
        inspection.state = InspectionState.CONCLUDED
        inspection.conclusion_date = date
        inspection.conclusion_reference = _clean_text(reference, 120)
        inspection.note = _clean_text(note) or inspection.note
        inspection.inspected_on = inspected_on or inspection.inspected_on or date
        inspection.concluded_by = user
        inspection.save()
        record("inspection.concluded", inspection, actor=user, after={
            "conclusion_date": date.isoformat(), "reference": inspection.conclusion_reference,
            "items": {str(pk): value for pk, (value, _n) in chosen.items()}})
    return inspection


def upload_file(user, inspection, uploaded_file):
    """Store one checked file (minutes, photos, test reports) of the inspection, before or
    after its conclusion (docs/uploads.md: the same checks as a dossier's files)."""
    _check(user, "inspect", inspection.unit)
    checked = checked_upload(uploaded_file)
    stored = None
    try:
        with transaction.atomic():
            inspection = _lock(inspection)
            _check(user, "inspect", inspection.unit)
            item = InspectionFile(
                inspection=inspection, stored_name=uploads.stored_name_for(checked.type),
                original_name=checked.original_name, content_type=checked.content_type,
                size=checked.size, sha256=checked.sha256, uploaded_by=user)
            checked.file.seek(0)
            item.file.save(item.stored_name, checked.file, save=False)
            stored = item.file.name
            item.save()
            record("inspection.file_uploaded", item, actor=user, after={
                "inspection": inspection.pk, "original_name": item.original_name,
                "stored_name": item.file.name, "content_type": item.content_type,
                "size": item.size, "sha256": item.sha256})
    except BaseException:
        if stored:
            InspectionFile._meta.get_field("file").storage.delete(stored)
        raise
    return item


# --- what waits for a revocation -------------------------------------------------------------


def pending_revocation_items(user):
    """The inspection lines of :func:`pending_revocations`, as a queryset (the home page
    counts them)."""
    revoked = Revocation.objects.filter(rating_id=OuterRef("rating_id"))
    return (InspectionItem.objects
            .filter(inspection__in=inspections_visible_to(user),
                    inspection__state=InspectionState.CONCLUDED, conclusion__in=FAILING,
                    rating__state__in=ACTIVE_RATING_STATES)
            .exclude(Exists(revoked)))


def pending_revocations(user):
    """Products an inspection concluded "no longer meets" or "violation" whose rating is
    still active and has no revocation yet, each with its ``deadline`` (None: the regime
    sets none) and ``overdue``; soonest deadline first. Two queries."""
    items = list(
        pending_revocation_items(user)
        .select_related("inspection", "rating__product__producer__unit")
        .order_by("inspection__conclusion_date", "pk")[:500])
    regimes = list(Regime.objects.order_by("effective_from"))
    today = timezone.localdate()
    for item in items:
        item.deadline = revocation_deadline(item.inspection.conclusion_date, regimes)
        item.overdue = item.deadline is not None and today > item.deadline
        item.days_left = (item.deadline - today).days if item.deadline else None
        item.days_overdue = -(item.days_left or 0)
    return items
