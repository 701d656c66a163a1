"""Recognition decisions and ratings: the only way they are created or changed
(docs/decisions.md).

CONTRACT (pages, API, demo and tasks call exactly these; refusals raise
``services.DossierError`` with a Vietnamese message and change nothing):

    pending_results(user) -> QuerySet[Dossier]     # recognised, 3–5★, no decision yet
    issuer_key(dossier) -> (unit id, level id, regime id)
    draft_decision(user, dossiers, *, replaces=None) -> Decision        # a draft
    update_draft(user, decision, *, data: dict) -> Decision
    delete_draft(user, decision) -> None
    next_number(decision, year) -> int              # proposal: the issuer's next number
    issue_decision(user, decision, *, number, date, signer_name, signature_authority=None,
                   signature_title=None) -> Decision
        # numbered, dated, signed; ratings created; documents rendered in the background
    record_central_decision(user, dossier, *, level, number, date) -> Rating
        # forwarding.record_central_result: a Ministry decision recorded, its rating

Choices (docs/decisions.md): the issuer of a result is the People's Committee of its
round's unit at its round's level; a decision holds results of one issuer, one level and
one regime; a result is on at most one decision that has not been replaced (drafts
included, so two drafts never compete); the number is proposed as the issuer's highest
number of the year + 1 for the symbol, the user may change it, and the database refuses a
number used twice; the decision date may not be in the future, before the latest result
it covers, or outside the period of the issuing unit; a rating is valid from the decision
date for the regime's ``validity_months`` (36), until the day before the same date 36
months later; issuing a decision that replaces another marks the old decision and its
ratings "replaced"; a new rating of a product replaces its active one.
"""

import base64
import datetime
import secrets

from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ocop.audit.services import record
from ocop.documents.formatting import in_sentence, place_name

from . import rules
from .models import (
    ACTIVE_RATING_STATES,
    RECOGNISED_STARS,
    Decision,
    DecisionItem,
    DecisionOrigin,
    DecisionState,
    Dossier,
    DossierState,
    JobStatus,
    Rating,
    RatingState,
)
from .queries import dossiers_visible_to
from .services import DossierError, _invalid, _raise

MINISTRY = "BỘ NÔNG NGHIỆP VÀ MÔI TRƯỜNG"
#: Fields of a draft the user may edit (everything else is composed or recorded).
DRAFT_FIELDS = ("subject", "authority", "legal_bases", "article_2", "article_3",
                "recipients", "signature_authority", "signature_title", "signer_name",
                "place")
SIGNATURE_FORMS = {
    # Decree 30: signing on behalf of the chairman (a vice-chairman signs) or of the
    # collective People's Committee (the chairman signs).
    "kt": ("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"),
    "tm": ("TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"),
}


# --- helpers -----------------------------------------------------------------------------


def add_months(day, months):
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def valid_until(decision_date, months):
    """The last day of validity: ``months`` after the decision date, minus one day
    (26/02/2026 + 36 months → 25/02/2029)."""
    return add_months(decision_date, months) - datetime.timedelta(days=1)


def new_verification_code():
    """16 characters of base32 (80 random bits): unguessable, easy to read aloud."""
    return base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()


def _covered():
    """Dossiers already on a decision that is not replaced (a draft counts)."""
    return DecisionItem.objects.filter(dossier=OuterRef("pk")).exclude(
        decision__state=DecisionState.REPLACED)


def awaiting_decision(queryset):
    """The dossiers of ``queryset`` with a recognised result (3–5★) that no decision covers
    yet. The stars' lower bound, implied by the list, is what PostgreSQL can look up in
    the index ``dossier_unit_state_ids`` after the area's units and the state (a second
    ``IN`` list it reads as a filter on every recognised dossier)."""
    return (queryset.filter(state=DossierState.RECOGNISED, result_stars__in=RECOGNISED_STARS,
                            result_stars__gte=min(RECOGNISED_STARS))
            .exclude(Exists(_covered())))


def pending_results(user):
    """Recognised results (3–5★) the user may see that no decision covers yet."""
    return (awaiting_decision(dossiers_visible_to(user))
            .select_related("product__producer__unit", "round__unit", "round__level",
                            "round__regime", "criteria_set", "unit"))


def issuer_key(dossier):
    return (dossier.round.unit_id, dossier.round.level_id, dossier.round.regime_id)


def printed_address(product):
    """The producer's address as the decision's annex, the certificate and the public
    verification page print it: the street part, then its unit unless already named."""
    producer = product.producer
    parts = [producer.address.strip()] if producer.address.strip() else []
    unit = producer.unit
    if unit.name not in producer.address:
        parts.append(unit.name)
    return ", ".join(parts)


def _item_for(dossier, order):
    product = dossier.product
    return DecisionItem(
        dossier=dossier, order=order, product_name=product.name,
        product_code=product.code, producer_name=product.producer.name,
        producer_address=printed_address(product)[:400],
        criteria_set=f"{dossier.criteria_set.set_no:02d}. {dossier.criteria_set.name}"[:300],
        score=dossier.result_score, stars=dossier.result_stars)


def _stars_summary(items):
    counts = {}
    for item in items:
        counts[item.stars] = counts.get(item.stars, 0) + 1
    return ", ".join(f"{counts[s]:02d} sản phẩm đạt {s} sao" for s in sorted(counts,
                                                                            reverse=True))


def compose(decision, items, unit, round_):
    """The default texts of a draft (Decree 30 formulas, in Vietnamese, not translated)."""
    where = in_sentence(unit.name)
    decision.issuer_parent = "ỦY BAN NHÂN DÂN"
    decision.issuer_name = unit.name.upper()
    decision.place = place_name(unit.name)
    decision.symbol = decision.level.decision_symbol
    decision.authority = f"CHỦ TỊCH ỦY BAN NHÂN DÂN {unit.name.upper()}"
    decision.subject = (f"Về việc công nhận kết quả đánh giá, phân hạng sản phẩm OCOP "
                        f"{where} năm {round_.year} (đợt {round_.number})")
    bases = ["Căn cứ Luật Tổ chức chính quyền địa phương;"]
    if decision.regime.legal_basis:
        bases.append(decision.regime.legal_basis)
    bases.append("Theo đề nghị của cơ quan thường trực Chương trình OCOP và kết quả đánh giá, "
                 "phân hạng của Hội đồng đánh giá, phân hạng sản phẩm OCOP.")
    decision.legal_bases = "\n".join(bases)
    months = decision.regime.validity_months
    decision.article_2 = (
        f"Kết quả đánh giá, phân hạng sản phẩm tại Điều 1 có giá trị trong thời hạn "
        f"{months} tháng kể từ ngày ký Quyết định này. Giao cơ quan thường trực Chương trình "
        f"OCOP cấp Giấy chứng nhận cho các sản phẩm được công nhận; theo dõi, kiểm tra việc "
        f"duy trì chất lượng sản phẩm của các chủ thể.")
    decision.article_3 = (
        f"Chánh Văn phòng Ủy ban nhân dân {where}, Thủ trưởng các cơ quan, đơn vị có liên "
        f"quan và các chủ thể có tên tại Điều 1 chịu trách nhiệm thi hành Quyết định này./.")
    decision.recipients = "\n".join([
        "Như Điều 3", "Sở Nông nghiệp và Môi trường", "Lưu: VT"])
    decision.signature_authority, decision.signature_title = SIGNATURE_FORMS["kt"]


def article_1(decision, items):
    """"Công nhận 03 sản phẩm của 02 chủ thể …" from the annex."""
    producers = {item.producer_name for item in items}
    return (f"Công nhận {len(items):02d} sản phẩm của {len(producers):02d} chủ thể đạt sản "
            f"phẩm OCOP, gồm: {_stars_summary(items)} (có danh sách kèm theo).")


# --- drafts -----------------------------------------------------------------------------


def _check_issuer(user, action, unit):
    _raise(rules.issuer_refusal(user, action, unit))


def _lock_dossiers(ids):
    return list(Dossier.objects.select_for_update(of=("self",))
                .filter(pk__in=ids)
                .select_related("product__producer__unit", "round__unit", "round__level",
                                "round__regime", "criteria_set")
                .order_by("product__name", "pk"))


def _result_refusals(dossiers, *, allowed=()):
    """Why these dossiers cannot be recognised together by one decision, or None."""
    if not dossiers:
        return _("Select at least one recognised result.")
    for dossier in dossiers:
        if dossier.state != DossierState.RECOGNISED:
            return _("%(product)s: only a recognised result can be put on a decision (this "
                     "dossier is “%(state)s”).") % {
                "product": dossier.product.name,
                "state": DossierState(dossier.state).label}
        if dossier.result_stars not in RECOGNISED_STARS:
            return _("%(product)s: a %(stars)s★ result gets no decision and no certificate; "
                     "only 3 to 5 stars are recognised.") % {
                "product": dossier.product.name, "stars": dossier.result_stars or "?"}
    keys = {issuer_key(d) for d in dossiers}
    if len({k[2] for k in keys}) > 1:
        return _("These results were evaluated under different regimes; a decision covers "
                 "one regime: draft one decision per regime.")
    if len(keys) > 1:
        return _("These results belong to different issuers (People's Committees or "
                 "levels); a decision has one issuer: draft one decision per issuer.")
    covered = (DecisionItem.objects.filter(dossier__in=dossiers)
               .exclude(decision__state=DecisionState.REPLACED)
               .select_related("decision", "dossier__product"))
    allowed = [d.pk for d in allowed if d is not None]
    if allowed:
        covered = covered.exclude(decision__in=allowed)
    clash = covered.first()
    if clash is not None:
        return _("%(product)s is already on %(decision)s; a result is recognised by one "
                 "decision only (issue a correction that replaces it instead).") % {
            "product": clash.dossier.product.name, "decision": clash.decision}
    return None


def draft_decision(user, dossiers, *, replaces=None):
    """A draft decision recognising ``dossiers`` (recognised results of one issuer, level
    and regime). With ``replaces`` (an issued decision), a correction: its results are
    taken over and ``dossiers`` may be among them."""
    ids = [d.pk for d in dossiers]
    with transaction.atomic():
        if replaces is not None:
            replaces = Decision.objects.select_for_update().get(pk=replaces.pk)
            if (replaces.state != DecisionState.ISSUED
                    or replaces.origin != DecisionOrigin.DRAFTED):
                raise DossierError(_("Only an issued decision of this system can be corrected "
                                     "by a new one."), code="state")
            _check_issuer(user, "draft_decision", replaces.issuer_unit)
            if Decision.objects.filter(replaces=replaces).exists():
                raise DossierError(_("A correction of this decision already exists."),
                                   code="duplicate")
            ids = ids or list(replaces.items.values_list("dossier_id", flat=True))
        locked = _lock_dossiers(ids)
        visible = set(dossiers_visible_to(user).filter(pk__in=ids).values_list("pk",
                                                                              flat=True))
        if len(visible) != len(set(ids)) or len(locked) != len(set(ids)):
            raise DossierError(_("One of the selected results does not exist or is not in "
                                 "your area."), code="not_found")
        refusal = _result_refusals(locked, allowed=[replaces])
        if refusal:
            raise DossierError(refusal, code="invalid_selection")
        first = locked[0]
        unit = first.round.unit
        _check_issuer(user, "draft_decision", unit)
        decision = Decision(origin=DecisionOrigin.DRAFTED, state=DecisionState.DRAFT,
                            regime=first.round.regime, level=first.round.level,
                            issuer_unit=unit, replaces=replaces, created_by=user)
        items = [_item_for(d, i) for i, d in enumerate(locked, start=1)]
        compose(decision, items, unit, first.round)
        if replaces is not None:
            for name in DRAFT_FIELDS:
                setattr(decision, name, getattr(replaces, name))
            decision.subject = (f"Về việc công nhận kết quả đánh giá, phân hạng sản phẩm OCOP "
                                f"(thay thế Quyết định số {replaces.reference} ngày "
                                f"{replaces.date:%d/%m/%Y})")
        decision.save()
        for item in items:
            item.decision = decision
        DecisionItem.objects.bulk_create(items)
        record("decision.drafted", decision, actor=user, after={
            "issuer_unit": unit.pk, "level": decision.level_id, "regime": decision.regime_id,
            "dossiers": [d.pk for d in locked],
            "replaces": replaces.pk if replaces else None})
    return decision


def _lock_draft(user, decision, action="draft_decision"):
    decision = (Decision.objects.select_for_update(of=("self",))
                .select_related("issuer_unit", "regime", "level").get(pk=decision.pk))
    _check_issuer(user, action, decision.issuer_unit)
    if decision.state != DecisionState.DRAFT:
        raise DossierError(_("An issued decision is never changed; to correct it, draft a new "
                             "decision that replaces it."), code="issued")
    return decision


def update_draft(user, decision, *, data):
    unknown = sorted(set(data) - set(DRAFT_FIELDS))
    if unknown:
        _invalid({key: [_("Unknown field.")] for key in unknown})
    with transaction.atomic():
        decision = _lock_draft(user, decision)
        errors, before = {}, {}
        for name, value in data.items():
            value = str(value or "").strip()
            limit = Decision._meta.get_field(name).max_length
            if limit and len(value) > limit:
                errors[name] = [_("At most %(n)s characters.") % {"n": limit}]
            before[name] = getattr(decision, name)
            setattr(decision, name, value)
        for required in ("subject", "authority", "recipients"):
            if not getattr(decision, required).strip():
                errors[required] = [_("This field cannot be empty.")]
        if errors:
            _invalid(errors)
        decision.save()
        record("decision.draft_changed", decision, actor=user, before=before,
               after={k: getattr(decision, k) for k in data})
    return decision


def delete_draft(user, decision):
    with transaction.atomic():
        decision = _lock_draft(user, decision)
        record("decision.draft_deleted", decision, actor=user, before={
            "dossiers": list(decision.items.values_list("dossier_id", flat=True))})
        decision.delete()


# --- issuing -----------------------------------------------------------------------------


def next_number(decision, year):
    """The issuer's next number for ``year`` (numbers restart at 1 each 1 January)."""
    top = (Decision.objects.filter(origin=DecisionOrigin.DRAFTED,
                                   issuer_unit=decision.issuer_unit, symbol=decision.symbol,
                                   year=year)
           .aggregate(top=Max("number"))["top"])
    return (top or 0) + 1


def reference(number, symbol):
    return f"{number:02d}/{symbol}"


def _results_date(dossiers):
    """The day the latest of these results was recorded."""
    latest = (Dossier.objects.filter(pk__in=[d.pk for d in dossiers])
              .aggregate(at=Max("transitions__at", filter=Q(
                  transitions__to_state=DossierState.RECOGNISED)))["at"])
    return timezone.localdate(latest) if latest else None


def signing_errors(number, signer_name, *, number_required=True):
    """The field errors of a decision's number and signer, as every issuing service checks
    them (recognition and revocation decisions): ``{field: [message]}``, empty when both
    are fine. Without ``number_required`` a None number passes (the caller proposes the
    next free one)."""
    errors = {}
    if (number is not None or number_required) and (
            not isinstance(number, int) or isinstance(number, bool)
            or not 1 <= number <= 999_999):
        errors["number"] = [_("Enter the decision's number (a whole number from 1).")]
    signer_name = str(signer_name or "").strip()
    if not signer_name:
        errors["signer_name"] = [_("Enter the name of the person who signs.")]
    elif len(signer_name) > 150:
        errors["signer_name"] = [_("At most %(n)s characters.") % {"n": 150}]
    return errors


def issue_decision(user, decision, *, number, date, signer_name, signature_authority=None,
                   signature_title=None):
    """Number, date and sign a draft; create its ratings; render the decision and the
    certificates in the background (``Decision.job_status``)."""
    from .issuing import queue_documents

    with transaction.atomic():
        decision = _lock_draft(user, decision, "issue_decision")
        items = list(decision.items.order_by("order", "id"))
        dossiers = _lock_dossiers([item.dossier_id for item in items])
        errors = signing_errors(number, signer_name)
        today = timezone.localdate()
        if not isinstance(date, datetime.date):
            errors["date"] = [_("Enter the decision's date.")]
        elif date > today:
            errors["date"] = [_("The decision date cannot be in the future.")]
        else:
            recorded = _results_date(dossiers)
            if recorded and date < recorded:
                errors["date"] = [_("The decision cannot be dated before the results it "
                                    "recognises (recorded on %(day)s).") % {
                    "day": recorded.strftime("%d/%m/%Y")}]
            unit = decision.issuer_unit
            if (unit.valid_from and date < unit.valid_from) or (unit.valid_to
                                                                and date > unit.valid_to):
                errors["date"] = [_("%(unit)s did not exist as an administrative unit on that "
                                    "day; its decisions must be dated while it existed.")
                                  % {"unit": unit.name}]
        signer_name = str(signer_name or "").strip()
        if errors:
            _invalid(errors)
        refusal = _result_refusals(dossiers, allowed=[decision, decision.replaces])
        if not refusal and decision.replaces_id:
            refusal = _result_refusals_for_correction(dossiers, decision)
        if refusal:
            raise DossierError(refusal, code="invalid_selection")
        if Decision.objects.filter(
                origin=DecisionOrigin.DRAFTED, issuer_unit=decision.issuer_unit,
                symbol=decision.symbol, year=date.year, number=number).exists():
            _invalid({"number": [_("Number %(ref)s is already used by another decision of "
                                   "this issuer in %(year)s.") % {
                "ref": reference(number, decision.symbol), "year": date.year}]})
        decision.number, decision.year, decision.date = number, date.year, date
        decision.reference = reference(number, decision.symbol)
        decision.signer_name = signer_name
        if signature_authority is not None:
            decision.signature_authority = str(signature_authority).strip()[:80]
        if signature_title is not None:
            decision.signature_title = str(signature_title).strip()[:80]
        decision.state = DecisionState.ISSUED
        decision.issued_by, decision.issued_at = user, timezone.now()
        try:
            with transaction.atomic():
                decision.save()
        except IntegrityError:
            _invalid({"number": [_("Number %(ref)s is already used by another decision of "
                                   "this issuer in %(year)s.") % {
                "ref": reference(number, decision.symbol), "year": date.year}]})
        replaced = []
        if decision.replaces_id:
            old = Decision.objects.select_for_update().get(pk=decision.replaces_id)
            old.state = DecisionState.REPLACED
            old.save(update_fields=["state"])
            replaced = list(old.ratings.select_for_update())
        by_dossier = {d.pk: d for d in dossiers}
        ratings = [_create_rating(decision, item, by_dossier[item.dossier_id], replaced)
                   for item in items]
        record("decision.issued", decision, actor=user, after={
            "reference": decision.reference, "date": date.isoformat(),
            "signer": signer_name, "ratings": [r.pk for r in ratings],
            "replaces": decision.replaces_id})
        queue_documents(decision)
    return decision


def _result_refusals_for_correction(dossiers, decision):
    old_ids = set(Decision.objects.get(pk=decision.replaces_id).items
                  .values_list("dossier_id", flat=True))
    for dossier in dossiers:
        if dossier.pk not in old_ids:
            return _("%(product)s is not on the decision being corrected.") % {
                "product": dossier.product.name}
    return None


def _create_rating(decision, item, dossier, replaced=()):
    """The rating of one decision line; the product's active rating (or the one the
    replaced decision gave it) becomes "replaced"."""
    product = dossier.product
    previous = [r for r in replaced if r.product_id == product.pk and r.is_active]
    previous += list(Rating.objects.select_for_update().filter(
        product=product, state__in=ACTIVE_RATING_STATES).exclude(
        pk__in=[r.pk for r in previous]))
    for old in previous:
        old.state = RatingState.REPLACED
        old.save(update_fields=["state"])
    rating = Rating.objects.create(
        product=product, regime=decision.regime, decision=decision, stars=item.stars,
        score=item.score, decision_number=decision.reference, decision_date=decision.date,
        valid_from=decision.date,
        valid_until=valid_until(decision.date, decision.regime.validity_months),
        state=RatingState.VALID, product_code=item.product_code or product.code,
        verification_code=new_verification_code(), source_dossier=dossier)
    for old in previous:
        old.replaced_by = rating
        old.save(update_fields=["replaced_by"])
        record("rating.replaced", old, after={"state": old.state, "by": rating.pk})
    record("rating.created", rating, after={
        "product": product.pk, "stars": rating.stars, "decision": decision.pk,
        "valid_until": rating.valid_until.isoformat()})
    return rating


def record_central_decision(user, dossier, *, level, number, date):
    """The Ministry's decision (recorded, not drafted here) and the rating it gives."""
    decision, _created = Decision.objects.get_or_create(
        origin=DecisionOrigin.RECORDED, issuer_unit=None, reference=number, date=date,
        defaults={"state": DecisionState.ISSUED, "regime": dossier.round.regime,
                  "level": level, "issuer_name": MINISTRY, "year": date.year,
                  "symbol": level.decision_symbol, "issued_by": user,
                  "issued_at": timezone.now(), "job_status": JobStatus.DONE})
    item = _item_for(dossier, decision.items.count() + 1)
    item.decision = decision
    item.save()
    rating = _create_rating(decision, item, dossier)
    record("decision.recorded", decision, actor=user, after={
        "reference": number, "date": date.isoformat(), "dossier": dossier.pk,
        "rating": rating.pk})
    return rating
