"""Dossier services: the only way producers, products, dossiers, their documents and files
are created or changed. Each function checks permission (``dossiers.rules``) and
preconditions, runs in one transaction, appends to the dossier's timeline (``Transition``)
for state changes and writes the audit event. A refused action raises :class:`DossierError`
with a Vietnamese message (gettext) and changes nothing.

CONTRACT (views, API, demo data and councils call exactly these):

    class DossierError(Exception): .message, .code, .fields (dict field → [messages])

    create_producer(user, *, data: dict) -> Producer
    create_product(user, *, producer, name, criteria_set) -> Product
    move_product_to_criteria_set(user, product, criteria_set, *, reason) -> Product
        # a re-evaluation under another regime's sets (docs/ratings-lifecycle.md)
    create_dossier(user, *, round, product, registration_type="first", current_rating=None,
                   registration=None) -> Dossier        # state draft, checklist lines created
    update_dossier(user, dossier, *, registration=None, samples_count=None,
                   samples_received_on=None) -> Dossier
    upload_file(user, dossier, uploaded_file, *, document=None) -> DocumentFile
    remove_file(user, file) -> None
    set_self_assessment(user, dossier, *, criterion, option, note="", evidence=None)
        -> SelfAssessmentEntry
    review_document(user, document, *, state, reason="") -> DossierDocument  # verified/rejected

    # workflow (each appends a Transition and an audit event):
    submit(user, dossier) -> Dossier                      # draft → submitted
    return_for_completion(user, dossier, *, reasons: dict[int, str], note="") -> Dossier
        # submitted/resubmitted → returned; reasons: {DossierDocument id: reason}
    resubmit(user, dossier) -> Dossier                    # returned → resubmitted
    accept(user, dossier) -> Dossier                      # submitted/resubmitted → accepted
    record_pre_assessment(user, dossier, *, data: dict) -> Dossier   # accepted → pre_assessed
    withdraw(user, dossier, *, reason) -> Dossier         # before evaluation → withdrawn

    # the council's alone (rules.COUNCIL_ONLY; refused unless via_council=True):
    start_evaluation(user, dossier, *, via_council) -> Dossier   # → in_evaluation
        # councils.services.set_agenda
    record_result(user, dossier, *, outcome, result: dict, via_council) -> Dossier
        # in_evaluation → result_recorded → forwarded / recognised / not_recognised
        # councils.services.close_session

    TRANSITIONS: dict action → function, for the API's transition endpoint (never the
    council-only actions)
    available_actions(user, dossier) -> list[str]          # buttons the user may press

Added beside the contract: ``update_producer``, ``update_product`` (both keep
``Dossier.search_text`` up to date), ``delete_product``, ``delete_producer`` (only while
unused: ``product_delete_refusal``, ``producer_delete_refusal``), ``product_set_lock``,
``search_text_for``, ``self_assessment_progress``, ``missing_documents``. Every function
that takes a dossier re-reads it under ``select_for_update`` and returns the fresh instance
(the caller's object is not changed).

Choices made where the issue was silent (the tables themselves are in ``dossiers.rules``):

* Intake deadline: a round takes new dossiers and first submissions only while
  ``is_open`` and on or before ``intake_deadline`` (the last day counts). Resubmission
  after a return is allowed after the deadline (the office asked for the completion).
* The law in force at the date (docs/regimes-and-levels.md): ``create_dossier`` and
  ``submit`` refuse (code ``in_force``, on ``round``) on a day the round's regime is not in
  force or the round's unit no longer exists (``rules.dossier_date_refusal``), e.g. a 148
  district round after 30/06/2025. ``resubmit`` does not check it: the dossier was filed
  (submitted) while its regime was in force, and a completion asked for by the office
  continues that filing, as it may after the intake deadline.
* A product has at most one open dossier at a time (any round).
* Producers and products (issue #13): a product's criteria set is corrected
  (``update_product(criteria_set=…)``) only while it has no dossier but withdrawn ones and
  no rating (``product_set_lock``): a draft's checklist and self-assessment follow its set,
  so the draft is withdrawn first. A product is deleted only while it has no dossier and no
  rating, a producer only while it has no product; both deletions are audited with the
  deleted row (``before``).
* Uploads and removals: only in ``draft`` and ``returned`` (from ``submitted`` on the
  dossier is read-only; a missing paper is obtained by returning the dossier).
* Samples (count, date received) may be recorded until the evaluation starts; recording at
  least ``checklists.SAMPLES_REQUIRED`` marks the samples line submitted. A dossier without
  a samples line (criteria set 26, tourism services) refuses sample data.
* Submit needs every required line submitted or verified. The Mẫu 02 self-assessment is
  not required to be complete: its completeness (answered / criteria) is stored in the
  submit transition's details and the audit event.
* ``due_date``: see ``dossiers.deadlines`` (working days from the submission under
  1489/26/2026, restarted on resubmission; the round's intake deadline under 148; a
  re-evaluation under a regime with ``processing_days``: that many calendar days).
* Re-evaluation filing window (``dossiers.reevaluation.filing_refusal``): checked by
  ``create_dossier`` and again by ``submit``, on the day itself, under the procedure of
  the regime in force that day; refused with both dates.
* Return for completion: ``reasons`` may name lines already rejected via
  ``review_document``; at least one line must end up rejected. The reason of a line is
  cleared when a new file is uploaded to it (the return's transition keeps it).
* Accept marks every still-``submitted`` line ``verified`` (accepting means checked).
* Product code (26/2026 and 1489, i.e. regimes whose first level is a commune
  pre-assessment), assigned on accept if the product has none:
  ``<province code>-<commune code>-<NNN>-<year>``, e.g. ``92-31117-001-2026``. The codes
  are the current (post-2025, QĐ 19/2025) codes of the producer's commune and its province
  (a legacy commune maps to its single current successor; otherwise accept is refused).
  The sequence is numbered per commune and year — the sheet's own wording is "STT: số thứ
  tự sản phẩm do xã lập thống kê" — zero-padded to 3 (a 1000th product gets 4 digits);
  the year is the round's year ("năm đánh giá"). Numbering is serialised by locking the
  commune's row, and ``unique_product_code`` guards the result.
* Pre-assessment: under a regime with a commune pre-assessment level, the four Mẫu 03 items
  (text + verdict each) and a conclusion are all required; under 148 only the district's
  conclusion is taken. A "does not meet" verdict does not block: the council decides.
* ``record_result`` appends two transitions (in_evaluation → result_recorded with the
  result, then result_recorded → outcome).
"""

import json
import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ocop.audit.services import record, snapshot
from ocop.regions.models import AdministrativeUnit, Level
from ocop.text import fold
from scoring.models import Criterion, Option

from . import deadlines, rules, uploads
from .checklists import SAMPLES_CODE, SAMPLES_REQUIRED
from .models import (
    ACTIVE_RATING_STATES,
    CLOSED_STATES,
    AssessmentVerdict,
    ChecklistItem,
    DocumentFile,
    DocumentState,
    Dossier,
    DossierDocument,
    DossierState,
    PreAssessment,
    Producer,
    Product,
    RegistrationType,
    SelfAssessmentEntry,
    Transition,
)
from .queries import rounds_visible_to
from .validators import normalise_registration_no


class DossierError(Exception):
    """A refused dossier action; ``message`` is for the user, ``fields`` maps a field name
    to its messages, ``details`` carries data for the caller (e.g. missing line ids)."""

    def __init__(self, message, *, code="refused", fields=None, details=None):
        super().__init__(str(message))
        self.message = str(message)
        self.code = code
        self.fields = fields or {}
        self.details = details or {}

    def __str__(self):
        return self.message


def _raise(refusal):
    if refusal is not None:
        raise DossierError(refusal.message, code=refusal.code)


def _invalid(fields, message=None):
    raise DossierError(message or _("Please correct the errors below."), code="invalid",
                       fields={key: [str(m) for m in value] for key, value in fields.items()})


def _jsonable(value):
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _lock(dossier):
    return (Dossier.objects.select_for_update(of=("self",))
            .select_related("round__regime", "round__unit", "product__producer__unit",
                            "criteria_set", "unit")
            .get(pk=dossier.pk))


def _transition(user, dossier, action, to_state, *, reason="", details=None, fields=(),
                after=None):
    """Move the locked ``dossier`` to ``to_state``: save it (with ``fields``), append the
    Transition and the audit event."""
    from_state = dossier.state
    dossier.state = to_state
    dossier.save(update_fields=["state", "updated_at", *fields])
    details = _jsonable(details or {})
    Transition.objects.create(dossier=dossier, from_state=from_state, to_state=to_state,
                              actor=user, reason=reason, details=details)
    record(f"dossier.{action}", dossier, actor=user, before={"state": from_state},
           after={"state": to_state, **(after or details)}, reason=reason)
    return dossier


# --- search text -------------------------------------------------------------------------------


def search_text_for(product):
    producer = product.producer
    return fold(" ".join(part for part in (product.name, producer.name, product.code,
                                           producer.registration_no) if part))


def _refresh_search_text(products):
    for product in products:
        Dossier.objects.filter(product=product).update(search_text=search_text_for(product))


# --- producers and products ------------------------------------------------------------------

PRODUCER_FIELDS = ("type", "name", "registration_no", "representative_name",
                   "representative_gender", "representative_ethnicity", "address", "unit",
                   "phone", "email")


def _apply_producer_data(producer, data):
    unknown = sorted(set(data) - set(PRODUCER_FIELDS))
    if unknown:
        _invalid({key: [_("Unknown field.")] for key in unknown})
    errors = {}
    for field, value in data.items():
        if field == "unit":
            if value is not None and not isinstance(value, AdministrativeUnit):
                unit = AdministrativeUnit.objects.filter(pk=value).first() if str(
                    value).isdigit() else None
                if unit is None:
                    errors["unit"] = [_("Unknown administrative unit.")]
                    continue
                value = unit
            producer.unit = value
        elif field == "registration_no":
            producer.registration_no = normalise_registration_no(value)
        else:
            setattr(producer, field, (value or "").strip() if isinstance(value, str)
                    or value is None else value)
    try:
        producer.full_clean(exclude=list(errors))
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        _invalid(errors)


def _save_producer(producer):
    try:
        with transaction.atomic():
            producer.save()
    except IntegrityError:
        _invalid({"registration_no": [
            _("A producer with this registration or tax number already exists.")]})


def create_producer(user, *, data):
    """Register a producer (chủ thể) in the user's area; the registration number is
    normalised (spaces and dots removed, upper case) and must be unique."""
    producer = Producer(created_by=user if user.pk else None)
    _raise(rules.check_role(user, "create_producer"))
    _apply_producer_data(producer, data)
    _raise(rules.check_unit(user, "create_producer", producer.unit))
    with transaction.atomic():
        _save_producer(producer)
        record("producer.created", producer, actor=user, after=snapshot(producer))
    return producer


def update_producer(user, producer, *, data):
    """Change a producer (in the user's area, before and after); the search text of its
    dossiers follows."""
    with transaction.atomic():
        producer = Producer.objects.select_for_update().select_related("unit").get(
            pk=producer.pk)
        _raise(rules.check_unit(user, "update_producer", producer.unit))
        before = snapshot(producer)
        _apply_producer_data(producer, data)
        _raise(rules.check_unit(user, "update_producer", producer.unit))
        _save_producer(producer)
        _refresh_search_text(producer.products.select_related("producer"))
        record("producer.updated", producer, actor=user, before=before,
               after=snapshot(producer))
    return producer


def _clean_name(name):
    name = " ".join((name or "").split())
    if not name:
        _invalid({"name": [_("Please enter the product name.")]})
    if len(name) > Product._meta.get_field("name").max_length:
        _invalid({"name": [_("The name is too long.")]})
    return name


def _check_criteria_set(criteria_set, regime):
    """A published set and, when ``regime`` is given (the round the product is filed
    into), a set of that regime's criteria regime (docs/regimes-and-levels.md)."""
    if criteria_set is None or not criteria_set.is_scorable:
        _invalid({"criteria_set": [
            _("Choose a published criteria set; a draft or retired set cannot be used.")]})
    if regime is not None and criteria_set.regime_id != regime.criteria_regime.pk:
        _invalid({"criteria_set": [
            _("This criteria set is not one of %(regime)s, the regime of the evaluation "
              "round: choose a set of %(regime)s.") % {"regime": regime.code}]})


def create_product(user, *, producer, name, criteria_set, regime=None):
    """Register a product of a producer of the user's area, with a published criteria
    set — of ``regime``'s criteria regime when given (refused at this step, not only when
    the dossier is created)."""
    _raise(rules.check_unit(user, "create_product", producer.unit))
    name = _clean_name(name)
    _check_criteria_set(criteria_set, regime)
    with transaction.atomic():
        product = Product.objects.create(producer=producer, name=name,
                                         criteria_set=criteria_set)
        record("product.created", product, actor=user, after=snapshot(product))
    return product


def update_product(user, product, *, name, criteria_set=None, regime=None):
    """Rename a product; the search text of its dossiers follows. ``criteria_set`` (to
    correct a wrong pick) changes only while the product has no dossier — withdrawn ones
    aside, which keep their own set — and no rating; afterwards the set of a re-evaluation
    is changed by :func:`move_product_to_criteria_set`. ``regime`` as in
    :func:`create_product`."""
    with transaction.atomic():
        product = (Product.objects.select_for_update(of=("self",))
                   .select_related("producer__unit").get(pk=product.pk))
        _raise(rules.check_unit(user, "update_product", product.producer.unit))
        before = {"name": product.name, "criteria_set": product.criteria_set_id}
        product.name = _clean_name(name)
        if criteria_set is not None and criteria_set.pk != product.criteria_set_id:
            _check_criteria_set(criteria_set, regime)
            blocking = product_set_lock(product)
            if blocking:
                raise DossierError(blocking, code="in_use",
                                   fields={"criteria_set": [blocking]})
            product.criteria_set = criteria_set
        product.save(update_fields=["name", "criteria_set"])
        _refresh_search_text([product])
        record("product.updated", product, actor=user, before=before,
               after={"name": product.name, "criteria_set": product.criteria_set_id})
    return product


def product_set_lock(product):
    """Why the criteria set of ``product`` can no longer be corrected (a message), or
    ``""``: it has a dossier other than a withdrawn one (even a draft: its checklist and
    self-assessment follow the set — withdraw the draft first), or a rating."""
    if product.dossiers.exclude(state=DossierState.WITHDRAWN).exists():
        return _("The criteria set cannot be changed: the product already has a dossier "
                 "(withdraw a draft dossier first, then correct the set).")
    if product.ratings.exists():
        return _("The criteria set cannot be changed: the product holds a rating.")
    return ""


def product_delete_refusal(product):
    """Why ``product`` cannot be deleted (a message), or ``""``: only an unused product —
    no dossier (of any state) and no rating — is deleted."""
    if product.dossiers.exists():
        return _("This product cannot be deleted: it has a dossier, which keeps it on "
                 "record.")
    if product.ratings.exists():
        return _("This product cannot be deleted: it holds a rating.")
    return ""


def producer_delete_refusal(producer):
    """Why ``producer`` cannot be deleted (a message), or ``""``: only a producer without
    products is deleted (delete its unused products first)."""
    if producer.products.exists():
        return _("This producer cannot be deleted: it has products (delete those that are "
                 "unused first).")
    return ""


def delete_product(user, product):
    """Delete an unused product (:func:`product_delete_refusal`) of the user's area;
    audited with what it was."""
    with transaction.atomic():
        product = (Product.objects.select_for_update(of=("self",))
                   .select_related("producer__unit").get(pk=product.pk))
        _raise(rules.check_unit(user, "delete_product", product.producer.unit))
        refusal = product_delete_refusal(product)
        if refusal:
            raise DossierError(refusal, code="in_use")
        record("product.deleted", product, actor=user, before=snapshot(product))
        product.delete()


def delete_producer(user, producer):
    """Delete a producer without products (:func:`producer_delete_refusal`) of the user's
    area; audited with what it was."""
    with transaction.atomic():
        producer = Producer.objects.select_for_update().select_related("unit").get(
            pk=producer.pk)
        _raise(rules.check_unit(user, "delete_producer", producer.unit))
        refusal = producer_delete_refusal(producer)
        if refusal:
            raise DossierError(refusal, code="in_use")
        record("producer.deleted", producer, actor=user, before=snapshot(producer))
        producer.delete()


def _set_facts(criteria_set):
    return {"criteria_set": criteria_set.pk, "regime": criteria_set.regime.slug,
            "set_no": criteria_set.set_no, "version": criteria_set.version}


def move_product_to_criteria_set(user, product, criteria_set, *, reason):
    """Score ``product`` with another published ``criteria_set`` from now on — for a
    re-evaluation under a regime with its own sets, the set of the same number
    (``dossiers.reevaluation.reevaluation_criteria_set``, docs/ratings-lifecycle.md).
    Permission as ``update_product``; a reason is required (kept in the audit event with
    the set before and after). Dossiers keep the set they were made with; refused while
    the product has an open dossier on another set (close or withdraw it first). The same
    set again changes nothing."""
    reason = " ".join((reason or "").split())
    with transaction.atomic():
        product = (Product.objects.select_for_update(of=("self",))
                   .select_related("producer__unit", "criteria_set__regime").get(pk=product.pk))
        _raise(rules.check_unit(user, "update_product", product.producer.unit))
        if criteria_set is None or not criteria_set.is_scorable:
            _invalid({"criteria_set": [
                _("Choose a published criteria set; a draft or retired set cannot be used.")]})
        if not reason:
            _invalid({"reason": [_("Please give the reason for changing the criteria set.")]})
        if criteria_set.pk == product.criteria_set_id:
            return product
        open_dossier = (product.dossiers.exclude(state__in=CLOSED_STATES)
                        .exclude(criteria_set=criteria_set).order_by("pk").first())
        if open_dossier is not None:
            raise DossierError(
                _("This product has an open dossier (#%(id)s) on its current criteria set; "
                  "its criteria set changes only once that dossier is closed.")
                % {"id": open_dossier.pk}, code="open_dossier",
                details={"dossier": open_dossier.pk})
        before = _set_facts(product.criteria_set)
        product.criteria_set = criteria_set
        product.save(update_fields=["criteria_set"])
        record("product.criteria_set_changed", product, actor=user, before=before,
               after=_set_facts(criteria_set), reason=reason)
    return product


# --- dossiers ----------------------------------------------------------------------------------


def _check_round_open(round_, today):
    if not round_.is_open:
        raise DossierError(_("This evaluation round is closed for intake."),
                           code="round_closed", fields={"round": [_("Closed for intake.")]})
    if round_.intake_deadline < today:
        message = _("The intake of this evaluation round closed on %(date)s.") % {
            "date": round_.intake_deadline.strftime("%d/%m/%Y")}
        raise DossierError(message, code="intake_closed", fields={"round": [message]})


def _check_in_force(round_, day):
    """The law in force at the date (docs/regimes-and-levels.md): a dossier is created and
    submitted only on a day its round's regime is in force and its round's unit exists."""
    refusal = rules.dossier_date_refusal(round_, day)
    if refusal:
        raise DossierError(refusal.message, code="in_force",
                           fields={"round": [refusal.message]})


def _check_filing_window(rating, day):
    """A re-evaluation is filed only in its rating's window under the procedure of the
    regime in force on ``day`` (``dossiers.reevaluation``, docs/ratings-lifecycle.md):
    checked on the day of creation and of submission."""
    from .reevaluation import filing_refusal

    message = filing_refusal(rating, day)
    if message:
        raise DossierError(message, code="filing_window",
                           fields={"current_rating": [message]})


def create_dossier(user, *, round, product, registration_type="first",
                   current_rating=None, registration=None):
    """A draft dossier of ``product`` in ``round``, with one checklist line per applicable
    item of the round's regime and a first transition "" → draft."""
    round_ = round
    producer = product.producer
    _raise(rules.check_unit(user, "create_dossier", producer.unit))
    if not rounds_visible_to(user).filter(pk=round_.pk).exists():
        raise DossierError(_("This evaluation round is not one of your area."), code="area",
                           fields={"round": [_("Not a round of your area.")]})
    if not AdministrativeUnit.objects.within([round_.unit]).filter(
            pk=producer.unit_id).exists():
        _invalid({"round": [_("The producer is not in the area of this round (%(unit)s).")
                            % {"unit": round_.unit.name}]})
    _check_round_open(round_, timezone.localdate())
    _check_in_force(round_, timezone.localdate())
    criteria_set = product.criteria_set
    regime = round_.regime
    if not criteria_set.is_scorable or criteria_set.regime_id != regime.criteria_regime.pk:
        _invalid({"product": [
            _("The product's criteria set is not a published set of %(regime)s.")
            % {"regime": regime.code}]})
    if registration_type not in RegistrationType.values:
        _invalid({"registration_type": [_("Unknown registration type.")]})
    if registration_type == RegistrationType.FIRST:
        if current_rating is not None:
            _invalid({"current_rating": [
                _("A first evaluation does not build on a rating.")]})
        # one active rating per product (``one_active_rating_per_product``): a rated
        # product is upgraded or re-evaluated, which replaces its rating on the decision
        active = product.ratings.filter(state__in=ACTIVE_RATING_STATES).first()
        if active is not None:
            _invalid({"registration_type": [
                _("This product already holds an active rating (%(stars)s★, decision "
                  "%(decision)s, valid until %(until)s): file an upgrade or a re-evaluation "
                  "of that rating, not a first evaluation.") % {
                    "stars": active.stars, "decision": active.decision_number,
                    "until": active.valid_until.strftime("%d/%m/%Y")}]})
    elif (current_rating is None or current_rating.product_id != product.pk
          or current_rating.state not in ACTIVE_RATING_STATES):
        _invalid({"current_rating": [
            _("An upgrade or a re-evaluation needs the product's current rating (valid or "
              "due for re-evaluation).")]})
    if registration_type == RegistrationType.REEVALUATION:
        _check_filing_window(current_rating, timezone.localdate())
    if registration is not None and not isinstance(registration, dict):
        _invalid({"registration": [_("The registration form must be a set of fields.")]})
    with transaction.atomic():
        # One open dossier per product: the product row is locked while checking.
        list(Product.objects.select_for_update().filter(pk=product.pk))
        open_dossier = product.dossiers.exclude(state__in=CLOSED_STATES).first()
        if open_dossier is not None:
            raise DossierError(
                _("This product already has an open dossier (#%(id)s).")
                % {"id": open_dossier.pk}, code="duplicate",
                details={"dossier": open_dossier.pk})
        dossier = Dossier.objects.create(
            round=round_, product=product, criteria_set=criteria_set, unit=producer.unit,
            registration_type=registration_type, current_rating=current_rating,
            registration=_jsonable(registration or {}), search_text=search_text_for(product),
            created_by=user if user.pk else None,
        )
        items = [item for item in ChecklistItem.objects.filter(regime=regime).order_by("order")
                 if item.applies_to(criteria_set.set_no)]
        DossierDocument.objects.bulk_create(
            DossierDocument(dossier=dossier, item=item) for item in items)
        Transition.objects.create(dossier=dossier, from_state="", to_state=DossierState.DRAFT,
                                  actor=user if user.pk else None)
        record("dossier.created", dossier, actor=user, after={
            "state": dossier.state, "round": round_.pk, "product": product.pk,
            "registration_type": registration_type,
            "current_rating": current_rating.pk if current_rating else None,
            "checklist": [item.code for item in items]})
    return dossier


def _samples_line(dossier):
    return dossier.documents.filter(item__code=SAMPLES_CODE).first()


def _samples_ok(dossier):
    return (dossier.samples_count or 0) >= SAMPLES_REQUIRED


def update_dossier(user, dossier, *, registration=None, samples_count=None,
                   samples_received_on=None):
    """Change the registration form (Mẫu 01 data; draft/returned only) and/or record the
    product samples (until the evaluation starts). ``None`` leaves a value unchanged."""
    with transaction.atomic():
        dossier = _lock(dossier)
        changed, before, after = [], {}, {}
        if registration is not None:
            _raise(rules.check(user, "update_registration", dossier))
            if not isinstance(registration, dict):
                _invalid({"registration": [
                    _("The registration form must be a set of fields.")]})
            before["registration"] = dossier.registration
            dossier.registration = after["registration"] = _jsonable(registration)
            changed.append("registration")
        if samples_count is not None or samples_received_on is not None:
            _raise(rules.check(user, "record_samples", dossier))
            line = _samples_line(dossier)
            if line is None:
                _invalid({"samples_count": [
                    _("No product samples are required for this criteria set.")]})
            errors = {}
            if samples_count is not None and (not isinstance(samples_count, int)
                                              or samples_count < 0):
                errors["samples_count"] = [_("Enter a number of samples (0 or more).")]
            if samples_received_on is not None and samples_received_on > timezone.localdate():
                errors["samples_received_on"] = [_("The date cannot be in the future.")]
            if errors:
                _invalid(errors)
            before.update(samples_count=dossier.samples_count,
                          samples_received_on=dossier.samples_received_on)
            if samples_count is not None:
                dossier.samples_count = samples_count
            if samples_received_on is not None:
                dossier.samples_received_on = samples_received_on
            after.update(samples_count=dossier.samples_count,
                         samples_received_on=dossier.samples_received_on)
            changed += ["samples_count", "samples_received_on"]
            if line.state != DocumentState.VERIFIED:
                if _samples_ok(dossier):
                    line.state, line.reason = DocumentState.SUBMITTED, ""
                    line.save(update_fields=["state", "reason"])
                elif line.state == DocumentState.SUBMITTED and not line.files.exists():
                    line.state = DocumentState.MISSING
                    line.save(update_fields=["state"])
        if not changed:
            _raise(rules.check_access(user, "update_registration", dossier))
        else:
            dossier.save(update_fields=[*changed, "updated_at"])
            record("dossier.updated", dossier, actor=user, before=_jsonable(before),
                   after=_jsonable(after))
    return dossier


# --- files ---------------------------------------------------------------------------------


def checked_upload(uploaded_file):
    """The upload checked (docs/uploads.md), or ``DossierError`` on the ``file`` field with
    the check's message: every service that stores a file starts here."""
    try:
        return uploads.check_upload(uploaded_file)
    except uploads.UploadRefused as refused:
        raise DossierError(refused.message, code=refused.code,
                           fields={"file": [refused.message]}) from refused


def upload_file(user, dossier, uploaded_file, *, document=None):
    """Store one checked file of the dossier (draft/returned), on a checklist line
    (which becomes ``submitted``) or, without ``document``, as self-assessment evidence."""
    _raise(rules.check(user, "upload_file", dossier))
    if document is not None and document.dossier_id != dossier.pk:
        _invalid({"document": [_("This checklist line belongs to another dossier.")]})
    checked = checked_upload(uploaded_file)
    stored = None
    try:
        with transaction.atomic():
            dossier = _lock(dossier)
            _raise(rules.check(user, "upload_file", dossier))
            item = DocumentFile(
                dossier=dossier, document=document,
                stored_name=uploads.stored_name_for(checked.type),
                original_name=checked.original_name, content_type=checked.content_type,
                size=checked.size, sha256=checked.sha256, uploaded_by=user,
            )
            checked.file.seek(0)
            item.file.save(item.stored_name, checked.file, save=False)
            stored = item.file.name
            item.save()
            if document is not None:
                line = DossierDocument.objects.select_for_update().get(pk=document.pk)
                line.state, line.reason = DocumentState.SUBMITTED, ""
                line.reviewed_by, line.reviewed_at = None, None
                line.save(update_fields=["state", "reason", "reviewed_by", "reviewed_at"])
            dossier.save(update_fields=["updated_at"])
            record("dossier.file_uploaded", item, actor=user, after={
                "dossier": dossier.pk, "document": document.pk if document else None,
                "original_name": item.original_name, "stored_name": item.file.name,
                "content_type": item.content_type, "size": item.size, "sha256": item.sha256})
    except BaseException:
        if stored:
            DocumentFile._meta.get_field("file").storage.delete(stored)
        raise
    return item


def remove_file(user, file):
    """Delete an uploaded file (draft/returned). A line left without files goes back to
    ``missing`` (a rejected line stays rejected)."""
    with transaction.atomic():
        dossier = _lock(file.dossier)
        _raise(rules.check(user, "remove_file", dossier))
        file = DocumentFile.objects.select_for_update().get(pk=file.pk)
        line = file.document
        name, storage = file.file.name, file.file.storage
        before = {"dossier": dossier.pk, "document": file.document_id,
                  "original_name": file.original_name, "stored_name": name,
                  "sha256": file.sha256}
        record("dossier.file_removed", file, actor=user, before=before)
        file.delete()
        if line is not None and not line.files.exists() and line.state in (
                DocumentState.SUBMITTED, DocumentState.VERIFIED):
            if not (line.item.code == SAMPLES_CODE and _samples_ok(dossier)):
                line.state = DocumentState.MISSING
                line.save(update_fields=["state"])
        dossier.save(update_fields=["updated_at"])
        transaction.on_commit(lambda: storage.delete(name))


# --- self-assessment (Mẫu 02) ----------------------------------------------------------------


def set_self_assessment(user, dossier, *, criterion, option, note="", evidence=None):
    """The producer's chosen option (may be None) on one criterion, with a note and an
    uploaded evidence file of the same dossier."""
    with transaction.atomic():
        dossier = _lock(dossier)
        _raise(rules.check(user, "set_self_assessment", dossier))
        errors = {}
        criterion_id = getattr(criterion, "pk", criterion)
        option_id = getattr(option, "pk", option)
        if not Criterion.objects.filter(pk=criterion_id,
                                        criteria_set_id=dossier.criteria_set_id).exists():
            errors["criterion"] = [_("This criterion is not part of the dossier's criteria "
                                     "set.")]
        elif option_id is not None and not Option.objects.filter(
                pk=option_id, criterion_id=criterion_id).exists():
            errors["option"] = [_("The chosen option does not belong to this criterion.")]
        evidence_id = getattr(evidence, "pk", evidence)
        if evidence_id is not None and not DocumentFile.objects.filter(
                pk=evidence_id, dossier=dossier).exists():
            errors["evidence"] = [_("The evidence must be a file of this dossier.")]
        if errors:
            _invalid(errors)
        entry, _created = SelfAssessmentEntry.objects.update_or_create(
            dossier=dossier, criterion_id=criterion_id,
            defaults={"option_id": option_id, "note": (note or "").strip(),
                      "evidence_id": evidence_id})
        dossier.save(update_fields=["updated_at"])
        record("dossier.self_assessment_set", entry, actor=user, after={
            "dossier": dossier.pk, "criterion": criterion_id, "option": option_id,
            "evidence": evidence_id})
    return entry


def self_assessment_progress(dossier):
    """(answered criteria, criteria of the set) of the dossier's Mẫu 02."""
    total = Criterion.objects.filter(criteria_set_id=dossier.criteria_set_id).count()
    answered = dossier.self_assessment.filter(option__isnull=False).count()
    return answered, total


# --- checking documents ----------------------------------------------------------------------


def review_document(user, document, *, state, reason=""):
    """Verify or reject one checklist line while the dossier is under review; a rejection
    needs a reason."""
    reason = (reason or "").strip()
    with transaction.atomic():
        dossier = _lock(document.dossier)
        _raise(rules.check(user, "review_document", dossier))
        line = DossierDocument.objects.select_for_update().select_related("item").get(
            pk=document.pk)
        if state not in (DocumentState.VERIFIED, DocumentState.REJECTED):
            _invalid({"state": [_("Choose “verified” or “rejected”.")]})
        if state == DocumentState.REJECTED and not reason:
            _invalid({"reason": [_("Please give the reason for rejecting this document.")]})
        if state == DocumentState.VERIFIED and line.state == DocumentState.MISSING:
            raise DossierError(_("“%(item)s” has not been submitted; it cannot be verified.")
                               % {"item": line.item.title}, code="missing")
        before = {"state": line.state, "reason": line.reason}
        line.state = state
        line.reason = reason if state == DocumentState.REJECTED else ""
        line.reviewed_by, line.reviewed_at = user, timezone.now()
        line.save(update_fields=["state", "reason", "reviewed_by", "reviewed_at"])
        record("dossier.document_reviewed", line, actor=user, before=before,
               after={"state": line.state, "reason": line.reason, "dossier": dossier.pk})
    return line


def missing_documents(dossier):
    """Lines that stop a submission: required and not (yet, or again) submitted —
    missing or rejected. A missing Mẫu 01/02 line whose form is complete online is not
    missing (``documents.provided_online``, docs/documents.md); a rejected one is."""
    from .documents import provided_online

    lines = list(dossier.documents.select_related("item").filter(
        Q(state=DocumentState.REJECTED)
        | Q(state=DocumentState.MISSING, item__required=True)).order_by("item__order"))
    online = {line.item.code for line in lines if line.state == DocumentState.MISSING}
    given = provided_online(dossier, online) if online else set()
    return [line for line in lines
            if not (line.state == DocumentState.MISSING and line.item.code in given)]


def _refuse_missing(lines, message):
    if lines:
        titles = "; ".join(line.item.title for line in lines)
        raise DossierError(message % {"list": titles}, code="incomplete",
                           details={"documents": [line.pk for line in lines]})


# --- workflow ----------------------------------------------------------------------------------


def submit(user, dossier):
    """draft → submitted, on behalf of the producer: every required line submitted, the
    round still open for intake; sets ``submitted_at`` and ``due_date``. A Mẫu 01/02 line
    given online keeps the generated PDF as its file (``documents.keep_submitted_copies``)."""
    from .documents import keep_submitted_copies

    with transaction.atomic():
        dossier = _lock(dossier)
        _raise(rules.check(user, "submit", dossier))
        _check_round_open(dossier.round, timezone.localdate())
        _check_in_force(dossier.round, timezone.localdate())
        if (dossier.registration_type == RegistrationType.REEVALUATION
                and dossier.current_rating_id):
            _check_filing_window(dossier.current_rating, timezone.localdate())
        _refuse_missing(missing_documents(dossier),
                        _("The dossier cannot be submitted; these documents are missing: "
                          "%(list)s."))
        now = timezone.now()
        dossier.submitted_at = now
        dossier.due_date = deadlines.due_date_for(dossier, timezone.localdate(now))
        answered, total = self_assessment_progress(dossier)
        # The Mẫu 01/02 given online get their generated PDF as a fixed copy (never
        # refuses: a render failure is logged and the line stays "filled in online").
        keep_submitted_copies(user, dossier)
        return _transition(user, dossier, "submit", DossierState.SUBMITTED,
                           fields=["submitted_at", "due_date"],
                           details={"due_date": dossier.due_date,
                                    "self_assessment": {"answered": answered,
                                                        "criteria": total}})


def return_for_completion(user, dossier, *, reasons, note=""):
    """submitted/resubmitted → returned; ``reasons`` = {DossierDocument id: reason}: those
    lines become ``rejected`` with their reason."""
    note = (note or "").strip()
    with transaction.atomic():
        dossier = _lock(dossier)
        _raise(rules.check(user, "return_for_completion", dossier))
        lines = {line.pk: line for line in
                 dossier.documents.select_for_update().select_related("item")}
        cleaned, errors = {}, []
        for key, reason in (reasons or {}).items():
            try:
                line = lines[int(key)]
            except (KeyError, TypeError, ValueError):
                errors.append(_("Line %(id)s is not a document of this dossier.")
                              % {"id": key})
                continue
            reason = (reason or "").strip()
            if not reason:
                errors.append(_("Please give the reason for “%(item)s”.")
                              % {"item": line.item.title})
                continue
            cleaned[line.pk] = reason
        if errors:
            _invalid({"reasons": errors})
        now = timezone.now()
        for pk, reason in cleaned.items():
            line = lines[pk]
            line.state, line.reason = DocumentState.REJECTED, reason
            line.reviewed_by, line.reviewed_at = user, now
            line.save(update_fields=["state", "reason", "reviewed_by", "reviewed_at"])
        rejected = sorted((line for line in lines.values()
                           if line.state == DocumentState.REJECTED),
                          key=lambda line: line.item.order)
        if not rejected:
            raise DossierError(_("Please give at least one document to complete, with the "
                                 "reason."), code="reason_required",
                               fields={"reasons": [_("At least one reason is required.")]})
        details = {"note": note, "reasons": [
            {"document": line.pk, "item": line.item.code, "title": line.item.title,
             "reason": line.reason} for line in rejected]}
        return _transition(user, dossier, "return_for_completion", DossierState.RETURNED,
                           reason=note, details=details)


def resubmit(user, dossier):
    """returned → resubmitted: every rejected line re-uploaded and every required line
    submitted; the deadline restarts (working-day regimes). A Mẫu 01/02 line given online
    and still without a file keeps the generated PDF (``documents.keep_submitted_copies``)."""
    from .documents import keep_submitted_copies

    with transaction.atomic():
        dossier = _lock(dossier)
        _raise(rules.check(user, "resubmit", dossier))
        _refuse_missing(missing_documents(dossier),
                        _("The dossier cannot be resubmitted; these documents are still "
                          "missing or rejected: %(list)s."))
        dossier.due_date = deadlines.due_date_for(dossier, timezone.localdate())
        keep_submitted_copies(user, dossier)
        return _transition(user, dossier, "resubmit", DossierState.RESUBMITTED,
                           fields=["due_date"], details={"due_date": dossier.due_date})


def _current_commune(unit):
    if unit.level == Level.COMMUNE and unit.valid_to is None:
        return unit
    if unit.level == Level.COMMUNE:
        successors = list(unit.successors.filter(level=Level.COMMUNE, valid_to__isnull=True)
                          .select_related("province")[:2])
        if len(successors) == 1:
            return successors[0]
    return None


def assign_product_code(dossier):
    """Give the dossier's product its 26/2026 code if it has none (see the module
    docstring); call inside the accepting transaction."""
    product = Product.objects.select_for_update().select_related("producer__unit").get(
        pk=dossier.product_id)
    if product.code:
        return product
    commune = _current_commune(product.producer.unit)
    if commune is None or commune.province_id is None:
        raise DossierError(
            _("A product code needs the producer's commune: “%(unit)s” is not a current "
              "commune. Correct the producer's administrative unit first.")
            % {"unit": product.producer.unit.name}, code="no_commune")
    list(AdministrativeUnit.objects.select_for_update().filter(pk=commune.pk))
    prefix = f"{commune.province.code}-{commune.code}-"
    suffix = f"-{dossier.round.year}"
    pattern = re.compile(rf"{re.escape(prefix)}(\d+){re.escape(suffix)}")
    taken = [int(match.group(1)) for code in Product.objects.filter(
        code__startswith=prefix, code__endswith=suffix).values_list("code", flat=True)
        if (match := pattern.fullmatch(code))]
    product.code = f"{prefix}{max(taken, default=0) + 1:03d}{suffix}"
    product.save(update_fields=["code"])
    _refresh_search_text([product])
    return product


def unchecked_documents(dossier):
    """The checklist lines still ``submitted`` (nobody verified or rejected them), in
    checklist order; one query."""
    return list(dossier.documents.filter(state=DocumentState.SUBMITTED)
                .select_related("item").order_by("item__order", "pk"))


def accept(user, dossier):
    """submitted/resubmitted → accepted: no rejected (or missing required) line; remaining
    submitted lines become verified (listed as ``unchecked`` in the transition's details);
    the product code is assigned where the regime has a commune pre-assessment."""
    with transaction.atomic():
        dossier = _lock(dossier)
        _raise(rules.check(user, "accept", dossier))
        _refuse_missing(missing_documents(dossier),
                        _("The dossier cannot be accepted; these documents are rejected or "
                          "missing: %(list)s. Return it for completion."))
        now = timezone.now()
        # Lines nobody checked are verified by the acceptance itself; the transition says
        # which (the page asks for a confirmation first, dossiers.views.dossier_action).
        unchecked = unchecked_documents(dossier)
        dossier.documents.filter(state=DocumentState.SUBMITTED).update(
            state=DocumentState.VERIFIED, reviewed_by=user, reviewed_at=now)
        details = {}
        if unchecked:
            details["unchecked"] = [{"document": line.pk, "item": line.item.code,
                                     "title": line.item.title} for line in unchecked]
        if rules.has_pre_assessment(dossier.round.regime):
            product = assign_product_code(dossier)
            details["product_code"] = product.code
            dossier.product = product
            dossier.search_text = search_text_for(product)
        dossier.accepted_at = now
        return _transition(user, dossier, "accept", DossierState.ACCEPTED,
                           fields=["accepted_at", "search_text"], details=details)


PRE_ASSESSMENT_ITEMS = ("raw_materials", "labour", "idea_origin", "local_identity")
#: Optional fields of the printed report (Decree 30): its number, who signs it.
PRE_ASSESSMENT_REPORT_FIELDS = ("report_number", "signer_name", "signer_title")


def record_pre_assessment(user, dossier, *, data):
    """accepted → pre_assessed: the commune's Mẫu 03 (four items with a verdict each and a
    conclusion) or, under 148, the district's acceptance conclusion; optionally the
    printed report's number and its signer (name, title)."""
    with transaction.atomic():
        dossier = _lock(dossier)
        _raise(rules.check(user, "record_pre_assessment", dossier))
        data = dict(data or {})
        commune = rules.has_pre_assessment(dossier.round.regime)
        allowed = {"conclusion"}
        if commune:
            allowed |= set(PRE_ASSESSMENT_ITEMS) | {f"{i}_verdict" for i in
                                                     PRE_ASSESSMENT_ITEMS}
        optional = set(PRE_ASSESSMENT_REPORT_FIELDS)
        errors = {key: [_("Not part of this pre-assessment.")]
                  for key in sorted(set(data) - allowed - optional)}
        values = {}
        for key in sorted(allowed | optional):
            value = data.get(key)
            if key in optional and isinstance(value, int) and not isinstance(value, bool):
                value = str(value)  # a report number sent as a number
            if value is not None and not isinstance(value, str):
                errors[key] = [_("Enter a text.")]
                value = ""
            values[key] = (value or "").strip()
        for key, value in values.items():
            if key in errors:
                continue
            if key in optional:
                limit = PreAssessment._meta.get_field(key).max_length
                if len(value) > limit:
                    errors[key] = [_("At most %(n)s characters.") % {"n": limit}]
            elif key.endswith("_verdict"):
                if value not in AssessmentVerdict.values:
                    errors[key] = [_("Choose whether the requirement is met.")]
            elif not value:
                errors[key] = [_("This field is required.")]
        if errors:
            _invalid(errors)
        PreAssessment.objects.update_or_create(
            dossier=dossier, defaults={**values, "assessed_by": user})
        details = {key: value for key, value in values.items()
                   if key.endswith("_verdict") or key == "conclusion"}
        details["form"] = "03" if commune else "district_acceptance"
        return _transition(user, dossier, "record_pre_assessment",
                           DossierState.PRE_ASSESSED, details=details)


def start_evaluation(user, dossier, *, via_council=False):
    """accepted/pre_assessed → in_evaluation (under 1489/26/2026 only once pre-assessed).
    Council-only (``rules.COUNCIL_ONLY``): ``councils.services.set_agenda`` is the caller."""
    with transaction.atomic():
        dossier = _lock(dossier)
        _raise(rules.check(user, "start_evaluation", dossier, via_council=via_council))
        return _transition(user, dossier, "start_evaluation", DossierState.IN_EVALUATION)


def record_result(user, dossier, *, outcome, result, via_council=False):
    """in_evaluation → result_recorded (with ``result`` in the transition's details) →
    forwarded / recognised / not_recognised for ``outcome`` forward / recognise /
    not_recognise. Council-only (``rules.COUNCIL_ONLY``): ``councils.services.close_session``
    is the caller; ``result`` is the council's aggregate, never a member's score."""
    with transaction.atomic():
        dossier = _lock(dossier)
        _raise(rules.check(user, "record_result", dossier, via_council=via_council))
        errors = {}
        if outcome not in rules.OUTCOME_STATES:
            errors["outcome"] = [_("Unknown outcome.")]
        if not isinstance(result, dict):
            errors["result"] = [_("The result must be a set of values.")]
        if errors:
            _invalid(errors)
        score, stars = _result_values(result)
        dossier.result_score, dossier.result_stars = score, stars
        dossier = _transition(user, dossier, "record_result", DossierState.RESULT_RECORDED,
                              details=result, fields=["result_score", "result_stars"])
        dossier = _transition(user, dossier, "record_outcome", rules.OUTCOME_STATES[outcome],
                              details={"outcome": outcome})
        if outcome == "forward":
            from .forwarding import forward

            forward(user, dossier)
        return dossier


def _result_values(result):
    """The score and (capped) stars of a council's result (``councils.services
    .public_result``), or None each when absent."""
    try:
        score = Decimal(str(result["total"])) if result.get("total") is not None else None
    except (InvalidOperation, ValueError):
        score = None
    stars = result.get("stars")
    return score, stars if isinstance(stars, int) and 1 <= stars <= 5 else None


def withdraw(user, dossier, *, reason):
    """Any open state → withdrawn, with the reason."""
    reason = (reason or "").strip()
    with transaction.atomic():
        dossier = _lock(dossier)
        _raise(rules.check(user, "withdraw", dossier))
        if not reason:
            _invalid({"reason": [_("Please give the reason for withdrawing the dossier.")]})
        return _transition(user, dossier, "withdraw", DossierState.WITHDRAWN, reason=reason)


TRANSITIONS = {
    "submit": submit,
    "return_for_completion": return_for_completion,
    "resubmit": resubmit,
    "accept": accept,
    "record_pre_assessment": record_pre_assessment,
    "withdraw": withdraw,
}

available_actions = rules.available_actions
