"""Revocation of a rating (thu hồi Quyết định công nhận / Giấy chứng nhận sản phẩm OCOP) on
one of the six grounds of 26/2026 Điều 8 — the only way a rating becomes "revoked"
(docs/ratings-lifecycle.md, "Revocation").

CONTRACT (pages, API and demo call exactly these; refusals raise
``services.DossierError`` with a message and change nothing):

    open_revocation(user, rating, *, ground, inspection_item=None, conclusion_reference="",
                    conclusion_date=None, reason="") -> Revocation      # a draft
    withdraw_revocation(user, revocation) -> None                       # a draft only
    revocation_issuer(rating, day) -> (province, regime, level)
    proposed_number(revocation, day) -> int     # the issuer's next decision number
    issue_revocation(user, revocation, *, date, signer_name, number=None,
                     signature_authority=None, signature_title=None) -> Revocation
        # the revocation decision (numbered in the recognition decisions' sequence),
        # the rating revoked, the public page forgotten, notices sent, the PDF queued
    record_ministry_revocation(user, revocation, *, reference, date) -> Revocation
        # a 5★ rating: the Minister's decision, recorded from its number and date
    is_late(revocation) -> bool                  # decided (or still open) after the deadline
    render_revocation_decision(decision, *, draft=False) -> bytes   # the Decree-30 PDF

Choices (docs/ratings-lifecycle.md): the deadline is the conclusion date plus the
``revocation_deadline_days`` of the regime in force on that date (15 calendar days under
26/2026); issuing after it is allowed and shown as late; the issuer of the revocation is the
People's Committee of the current province of the producer (the chairman decides 3★ and 4★),
a 5★ rating is revoked by the Minister — recorded here, never drafted.
"""

import datetime

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ocop.audit.services import record
from ocop.documents.formatting import in_sentence, place_name
from ocop.documents.pdf import render_pdf
from ocop.notices.services import notify
from scoring.queries import regime_in_force

from . import rules
from .decisions import (
    MINISTRY,
    SIGNATURE_FORMS,
    next_number,
    printed_address,
    reference,
    signing_errors,
)
from .inspections import current_province, revocation_deadline
from .models import (
    ACTIVE_RATING_STATES,
    Decision,
    DecisionKind,
    DecisionOrigin,
    DecisionState,
    InspectionConclusion,
    InspectionItem,
    InspectionState,
    JobStatus,
    Rating,
    RatingState,
    Revocation,
    RevocationGround,
    RevocationState,
)
from .services import DossierError, _invalid, _raise

REVOCATION_TEMPLATE = "dossiers/revocation_decision.html"
#: The grounds as the decision prints them (26/2026 Điều 8; not translated).
GROUND_TEXTS = {
    RevocationGround.UNTRUTHFUL: "hồ sơ đánh giá, phân hạng sản phẩm không trung thực hoặc "
                                 "giả mạo",
    RevocationGround.NOT_MEETING: "sản phẩm không còn đáp ứng tiêu chí theo kết luận kiểm tra",
    RevocationGround.VIOLATION: "chủ thể vi phạm pháp luật về chất lượng, an toàn thực phẩm, "
                                "môi trường, sở hữu trí tuệ, nhãn hàng hóa hoặc quy định "
                                "khác của pháp luật",
    RevocationGround.MISUSE: "sử dụng biểu trưng (logo) OCOP không đúng quy định",
    RevocationGround.STOPPED: "chủ thể ngừng sản xuất sản phẩm",
    RevocationGround.OTHER: "các trường hợp khác theo kết luận của cơ quan có thẩm quyền",
}
GROUND_POINTS = {
    RevocationGround.UNTRUTHFUL: "a", RevocationGround.NOT_MEETING: "b",
    RevocationGround.VIOLATION: "c", RevocationGround.MISUSE: "d",
    RevocationGround.STOPPED: "đ", RevocationGround.OTHER: "e",
}
#: The legal basis of every revocation decision (its Điều 8).
ARTICLE_8_BASIS = ("Căn cứ Điều 8 Quyết định số 26/2026/QĐ-TTg ngày 22 tháng 5 năm 2026 của "
                   "Thủ tướng Chính phủ ban hành Bộ tiêu chí, quy trình đánh giá, phân hạng "
                   "sản phẩm Chương trình mỗi xã một sản phẩm;")


def _check(user, rating):
    _raise(rules.oversight_refusal(user, "revoke", rating.product.producer.unit))


def _lock_rating(rating):
    return (Rating.objects.select_for_update(of=("self",))
            .select_related("product__producer__unit", "decision", "regime")
            .get(pk=rating.pk))


def _refuse_inactive(rating):
    if rating.state not in ACTIVE_RATING_STATES:
        raise DossierError(_("Only a valid rating (or one due for re-evaluation) can be "
                             "revoked; this one is “%(state)s”.") % {
            "state": rating.get_state_display()}, code="state")


# --- opening ---------------------------------------------------------------------------------


def open_revocation(user, rating, *, ground, inspection_item=None, conclusion_reference="",
                    conclusion_date=None, reason=""):
    """A draft revocation of ``rating`` on ``ground``, citing the conclusion it rests on:
    an inspection item of this rating (its conclusion date is the inspection's), or another
    body's conclusion (``conclusion_reference`` and ``conclusion_date``). Ground b needs an
    inspection that concluded "no longer meets the criteria". The deadline is computed
    here."""
    _check(user, rating)
    conclusion_reference = str(conclusion_reference or "").strip()
    errors = {}
    if ground in (None, ""):
        errors["ground"] = [_("Choose the ground of the revocation (26/2026 Điều 8, a to e).")]
    elif ground not in RevocationGround.values:
        errors["ground"] = [_("This is not one of the six grounds of 26/2026 Điều 8.")]
    if len(conclusion_reference) > 300:
        errors["conclusion_reference"] = [_("At most %(n)s characters.") % {"n": 300}]
    if errors:
        _invalid(errors)
    today = timezone.localdate()
    with transaction.atomic():
        rating = _lock_rating(rating)
        _refuse_inactive(rating)
        if Revocation.objects.filter(rating=rating).exists():
            raise DossierError(_("A revocation of this rating is already open; continue it "
                                 "instead of opening another."), code="duplicate")
        if inspection_item is not None:
            item = (InspectionItem.objects.select_related("inspection")
                    .filter(pk=getattr(inspection_item, "pk", inspection_item)).first())
            if item is None or item.rating_id != rating.pk:
                _invalid({"inspection_item": [_("The inspection cited did not check this "
                                                "rated product.")]})
            if item.inspection.state != InspectionState.CONCLUDED:
                _invalid({"inspection_item": [_("The inspection cited is not concluded yet; "
                                                "record its conclusion first.")]})
            if ground == RevocationGround.NOT_MEETING and (
                    item.conclusion != InspectionConclusion.NOT_MEETS):
                _invalid({"inspection_item": [_(
                    "Ground b needs an inspection that concluded the product no longer meets "
                    "the criteria; this one concluded “%(conclusion)s”.") % {
                    "conclusion": item.get_conclusion_display()}]})
            if item.conclusion == InspectionConclusion.MEETS:
                _invalid({"inspection_item": [_("The inspection cited concluded that the "
                                                "product still meets the criteria; it cannot "
                                                "ground a revocation.")]})
            if conclusion_date is not None and conclusion_date != item.inspection.conclusion_date:
                _invalid({"conclusion_date": [_("The date of the conclusion is the inspection's "
                                                "(%(day)s).") % {
                    "day": item.inspection.conclusion_date.strftime("%d/%m/%Y")}]})
            conclusion_date = item.inspection.conclusion_date
        else:
            item = None
            if ground == RevocationGround.NOT_MEETING:
                _invalid({"inspection_item": [_(
                    "Ground b needs the inspection that concluded the product no longer meets "
                    "the criteria: record the inspection and cite it.")]})
            if not conclusion_reference:
                _invalid({"conclusion_reference": [_(
                    "Cite the conclusion the revocation rests on: an inspection recorded here, "
                    "or the body, number and date of another competent conclusion.")]})
            if not isinstance(conclusion_date, datetime.date):
                _invalid({"conclusion_date": [_("Enter the date of the conclusion.")]})
            if conclusion_date > today:
                _invalid({"conclusion_date": [_("The conclusion cannot be dated in the "
                                                "future.")]})
            if conclusion_date < rating.decision_date:
                _invalid({"conclusion_date": [_("The conclusion cannot be dated before the "
                                                "rating's decision (%(day)s).") % {
                    "day": rating.decision_date.strftime("%d/%m/%Y")}]})
        revocation = Revocation.objects.create(
            rating=rating, ground=ground, inspection_item=item,
            conclusion_reference=conclusion_reference, conclusion_date=conclusion_date,
            deadline=revocation_deadline(conclusion_date), reason=str(reason or "").strip(),
            created_by=user)
        record("revocation.opened", revocation, actor=user, after={
            "rating": rating.pk, "ground": ground,
            "inspection_item": item.pk if item else None,
            "conclusion_reference": conclusion_reference,
            "conclusion_date": conclusion_date.isoformat(),
            "deadline": revocation.deadline.isoformat() if revocation.deadline else None})
    return revocation


def withdraw_revocation(user, revocation):
    """Delete a draft revocation (opened by mistake); an issued one is never undone."""
    with transaction.atomic():
        revocation = Revocation.objects.select_for_update().select_related(
            "rating__product__producer__unit").get(pk=revocation.pk)
        _check(user, revocation.rating)
        if revocation.state != RevocationState.DRAFT:
            raise DossierError(_("An issued revocation is never undone."), code="issued")
        record("revocation.withdrawn", revocation, actor=user, before={
            "rating": revocation.rating_id, "ground": revocation.ground})
        revocation.delete()


# --- the decision ----------------------------------------------------------------------------


def revocation_issuer(rating, day):
    """``(province, regime, level)``: the People's Committee that decides (the current
    province of the producer), the regime in force on ``day`` and its provincial level
    (whose decision symbol numbers the decision)."""
    province = current_province(rating.product.producer.unit)
    regime = regime_in_force(day)
    level = regime.levels.filter(admin_level="province").first() if regime else None
    return province, regime, level


def is_late(revocation, today=None):
    """Decided after its deadline — or, while a draft, already past it."""
    if revocation.deadline is None:
        return False
    if revocation.decision_id and revocation.decision.date:
        return revocation.decision.date > revocation.deadline
    return (today or timezone.localdate()) > revocation.deadline


def proposed_number(revocation, day):
    """The issuer's next number for the year of ``day``, in the sequence of its
    recognition decisions (``decisions.next_number``)."""
    province, _regime, level = revocation_issuer(revocation.rating, day)
    if province is None or level is None:
        return 1
    return next_number(Decision(issuer_unit=province, symbol=level.decision_symbol), day.year)


def _recognition_text(rating):
    decision = rating.decision
    text = f"Quyết định số {rating.decision_number} ngày {rating.decision_date:%d/%m/%Y}"
    if decision is not None:
        from .certificates import issuing_authority

        text += f" của {issuing_authority(decision)}"
    return text


def _conclusion_text(revocation):
    item = revocation.inspection_item
    if item is not None:
        inspection = item.inspection
        number = (f" số {inspection.conclusion_reference}"
                  if inspection.conclusion_reference else "")
        return (f"Kết luận kiểm tra{number} ngày {inspection.conclusion_date:%d/%m/%Y} "
                f"của đoàn kiểm tra, giám sát sản phẩm OCOP")
    return f"{revocation.conclusion_reference} (ngày {revocation.conclusion_date:%d/%m/%Y})"


def article_1(revocation):
    """"Thu hồi Quyết định công nhận … và Giấy chứng nhận sản phẩm OCOP … của sản phẩm …
    (mã …) của chủ thể …", with the ground cited."""
    rating = revocation.rating
    product = rating.product
    code = rating.product_code or product.code
    code_text = f" (mã số sản phẩm: {code})" if code else ""
    point = GROUND_POINTS[revocation.ground]
    return (f"Thu hồi {_recognition_text(rating)} về việc công nhận kết quả đánh giá, phân "
            f"hạng sản phẩm OCOP đối với sản phẩm và Giấy chứng nhận sản phẩm OCOP hạng "
            f"{rating.stars} sao đã cấp cho sản phẩm {product.name}{code_text} của chủ thể "
            f"{product.producer.name}, địa chỉ: {printed_address(product)}. Lý do thu hồi: "
            f"{GROUND_TEXTS[revocation.ground]} (điểm {point} Điều 8 Quyết định số "
            f"26/2026/QĐ-TTg), theo {_conclusion_text(revocation)}.")


def compose(decision, revocation, province):
    """The texts of a revocation decision (Decree 30 formulas, in Vietnamese)."""
    where = in_sentence(province.name)
    decision.issuer_parent = "ỦY BAN NHÂN DÂN"
    decision.issuer_name = province.name.upper()
    decision.place = place_name(province.name)
    decision.authority = f"CHỦ TỊCH ỦY BAN NHÂN DÂN {province.name.upper()}"
    decision.subject = ("Về việc thu hồi Quyết định công nhận và Giấy chứng nhận sản phẩm "
                        "OCOP")
    bases = ["Căn cứ Luật Tổ chức chính quyền địa phương;"]
    if decision.regime.legal_basis and "26/2026" not in decision.regime.legal_basis:
        bases.append(decision.regime.legal_basis)
    bases.append(ARTICLE_8_BASIS)
    bases.append(f"Căn cứ {_conclusion_text(revocation)};")
    bases.append("Theo đề nghị của cơ quan thường trực Chương trình OCOP.")
    decision.legal_bases = "\n".join(bases)
    decision.article_2 = (
        "Chủ thể có tên tại Điều 1 có trách nhiệm nộp lại Giấy chứng nhận sản phẩm OCOP cho "
        "cơ quan thường trực Chương trình OCOP và chấm dứt việc sử dụng biểu trưng (logo) "
        "OCOP, hạng sao trên sản phẩm, bao bì, nhãn hàng hóa và tài liệu quảng bá kể từ ngày "
        "Quyết định này có hiệu lực.")
    decision.article_3 = (
        f"Quyết định này có hiệu lực kể từ ngày ký. Chánh Văn phòng Ủy ban nhân dân {where}, "
        f"Thủ trưởng các cơ quan, đơn vị có liên quan và chủ thể có tên tại Điều 1 chịu trách "
        f"nhiệm thi hành Quyết định này./.")
    decision.recipients = "\n".join([
        "Như Điều 3", "Sở Nông nghiệp và Môi trường", "Lưu: VT"])
    decision.signature_authority, decision.signature_title = SIGNATURE_FORMS["kt"]


def _date_errors(revocation, date, province):
    if not isinstance(date, datetime.date):
        return [_("Enter the decision's date.")]
    if date > timezone.localdate():
        return [_("The decision date cannot be in the future.")]
    if date < revocation.conclusion_date:
        return [_("The revocation cannot be decided before the conclusion it rests on "
                  "(%(day)s).") % {"day": revocation.conclusion_date.strftime("%d/%m/%Y")}]
    if province is not None and ((province.valid_from and date < province.valid_from) or (
            province.valid_to and date > province.valid_to)):
        return [_("%(unit)s did not exist as an administrative unit on that day; its "
                  "decisions must be dated while it existed.") % {"unit": province.name}]
    return []


def _lock_draft(user, revocation):
    revocation = (Revocation.objects.select_for_update(of=("self",))
                  .select_related("inspection_item__inspection").get(pk=revocation.pk))
    rating = _lock_rating(revocation.rating)
    revocation.rating = rating
    _check(user, rating)
    if revocation.state != RevocationState.DRAFT:
        raise DossierError(_("This revocation was already decided (%(decision)s).") % {
            "decision": revocation.decision}, code="issued")
    _refuse_inactive(rating)
    return revocation, rating


def _finish(user, revocation, rating, decision):
    """What every way of deciding a revocation does once its decision exists."""
    from .public_views import forget

    before = rating.state
    rating.state = RatingState.REVOKED
    rating.save(update_fields=["state"])
    revocation.state, revocation.decision = RevocationState.ISSUED, decision
    revocation.save(update_fields=["state", "decision"])
    late = is_late(revocation)
    record("revocation.issued", revocation, actor=user, after={
        "decision": decision.pk, "reference": decision.reference,
        "date": decision.date.isoformat(),
        "deadline": revocation.deadline.isoformat() if revocation.deadline else None,
        "late": late})
    record("rating.revoked", rating, actor=user, before={"state": before},
           after={"state": rating.state, "revocation": revocation.pk,
                  "decision": decision.reference})
    code = rating.verification_code
    transaction.on_commit(lambda: forget(code))
    _notify(revocation, rating, decision)


def _notify(revocation, rating, decision):
    product = rating.product
    producer = product.producer
    subject = _("OCOP rating revoked: %(product)s (%(stars)s★)") % {
        "product": product.name, "stars": rating.stars}
    body = _("Decision %(decision)s of %(date)s revokes the OCOP recognition and certificate "
             "of %(product)s of %(producer)s (%(ground)s).") % {
        "decision": decision.reference, "date": decision.date.strftime("%d/%m/%Y"),
        "product": product.name, "producer": producer.name,
        "ground": revocation.get_ground_display()}
    if producer.email:
        link = (reverse("verification", args=[rating.verification_code])
                if rating.verification_code else "")
        notify(key=f"revocation:{revocation.pk}:producer", kind="rating.revoked",
               subject=subject, email=producer.email, recipient_name=producer.name,
               unit=producer.unit, body=body, link=link, about=rating)
    # the same responsible officers as the expiry notices (docs/notifications.md)
    from ocop.accounts.models import User
    from ocop.regions.models import AdministrativeUnit

    from .expiry import responsible_users

    link = reverse("inspections:revocation", args=[revocation.pk])
    area_id, user_ids = responsible_users([producer.unit_id]).get(
        producer.unit_id, (producer.unit_id, []))
    area = AdministrativeUnit.objects.filter(pk=area_id).first()
    for officer in User.objects.filter(pk__in=user_ids).order_by("pk"):
        notify(key=f"revocation:{revocation.pk}:user:{officer.pk}", kind="rating.revoked",
               subject=subject, user=officer, unit=area, body=body, link=link,
               about=rating)


def issue_revocation(user, revocation, *, date, signer_name, number=None,
                     signature_authority=None, signature_title=None):
    """Decide the revocation: its decision (kind "revocation"), numbered in the issuer's
    sequence of decisions for the year; the rating becomes revoked; the public page shows
    it at once; the producer's contact and the area's officers are notified; the PDF is
    rendered in the background (``dossiers.issuing``). After the deadline it is still
    issued, and shown late."""
    from .issuing import queue_documents

    with transaction.atomic():
        revocation, rating = _lock_draft(user, revocation)
        if rating.stars == 5:
            raise DossierError(_("A 5★ rating is revoked by the Minister of Agriculture and "
                                 "Environment (26/2026 Điều 8), not by the province: record "
                                 "the Minister's decision instead."), code="ministry")
        day = date if isinstance(date, datetime.date) else timezone.localdate()
        province, regime, level = revocation_issuer(rating, day)
        errors = {}
        date_errors = _date_errors(revocation, date, province)
        if date_errors:
            errors["date"] = date_errors
        if number is None and not date_errors:
            number = proposed_number(revocation, date)
        errors.update(signing_errors(number, signer_name, number_required=False))
        signer_name = str(signer_name or "").strip()
        if errors:
            _invalid(errors)
        if province is None or level is None:
            raise DossierError(_("No provincial People's Committee can decide this "
                                 "revocation on that date (no regime or province in force)."),
                               code="issuer")
        _raise(rules.oversight_refusal(user, "revoke", province))
        decision = Decision(
            kind=DecisionKind.REVOCATION, origin=DecisionOrigin.DRAFTED,
            state=DecisionState.ISSUED, regime=regime, level=level, issuer_unit=province,
            symbol=level.decision_symbol, created_by=user)
        compose(decision, revocation, province)
        clash = _("Number %(ref)s is already used by another decision of this issuer in "
                  "%(year)s.") % {"ref": reference(number, decision.symbol), "year": date.year}
        if Decision.objects.filter(origin=DecisionOrigin.DRAFTED, issuer_unit=province,
                                   symbol=decision.symbol, year=date.year,
                                   number=number).exists():
            _invalid({"number": [clash]})
        decision.number, decision.year, decision.date = number, date.year, date
        decision.reference = reference(number, decision.symbol)
        decision.signer_name = signer_name
        if signature_authority is not None:
            decision.signature_authority = str(signature_authority).strip()[:80]
        if signature_title is not None:
            decision.signature_title = str(signature_title).strip()[:80]
        decision.issued_by, decision.issued_at = user, timezone.now()
        try:
            with transaction.atomic():
                decision.save()
        except IntegrityError:
            _invalid({"number": [clash]})
        _finish(user, revocation, rating, decision)
        queue_documents(decision)
    return revocation


def record_ministry_revocation(user, revocation, *, reference, date):
    """A 5★ rating: the Minister's revocation decision, recorded from its number and date
    (no PDF of ours, like a recorded recognition)."""
    with transaction.atomic():
        revocation, rating = _lock_draft(user, revocation)
        reference = str(reference or "").strip()
        errors = {}
        if not reference or len(reference) > 60:
            errors["reference"] = [_("Enter the Ministry's decision number as printed, e.g. "
                                     "“1234/QĐ-BNNMT” (at most 60 characters).")]
        date_errors = _date_errors(revocation, date, None)
        if date_errors:
            errors["date"] = date_errors
        if errors:
            _invalid(errors)
        regime = regime_in_force(date)
        level = regime.levels.filter(admin_level="central").first() if regime else None
        if level is None:
            raise DossierError(_("No regime in force on that date has a Ministry level."),
                               code="issuer")
        decision = Decision.objects.create(
            kind=DecisionKind.REVOCATION, origin=DecisionOrigin.RECORDED,
            state=DecisionState.ISSUED, regime=regime, level=level, issuer_unit=None,
            issuer_name=MINISTRY, reference=reference, date=date, year=date.year,
            symbol=level.decision_symbol, subject="Về việc thu hồi Giấy chứng nhận sản phẩm "
            "OCOP", issued_by=user, issued_at=timezone.now(), created_by=user,
            job_status=JobStatus.DONE)
        _finish(user, revocation, rating, decision)
    return revocation


# --- the PDF ---------------------------------------------------------------------------------


def revocation_decision_context(decision, *, draft=False):
    """What ``dossiers/revocation_decision.html`` prints (the layout of the recognition
    decision, ``certificates.decision_context``, without the annex)."""
    from .certificates import _date_line, _lines, _number_line

    revocation = (Revocation.objects.select_related(
        "rating__product__producer__unit", "rating__decision__issuer_unit",
        "inspection_item__inspection").get(decision=decision))
    return {
        "decision": decision, "draft": draft,
        "issuer_parent": decision.issuer_parent, "issuer": decision.issuer_name,
        "number_line": _number_line(decision, draft),
        "date_line": _date_line(decision, draft),
        "subject": decision.subject.strip(),
        "authority": decision.authority.strip(),
        "bases": [b.strip() for b in decision.legal_bases.splitlines() if b.strip()],
        "article_1": article_1(revocation),
        "article_2": decision.article_2.strip(),
        "article_3": decision.article_3.strip(),
        "recipients": _lines(decision.recipients),
        "signature_authority": decision.signature_authority.strip(),
        "signature_title": decision.signature_title.strip(),
        "signer_name": decision.signer_name.strip(),
        "doc_title": "Quyết định thu hồi Quyết định công nhận và Giấy chứng nhận sản phẩm OCOP",
    }


def render_revocation_decision(decision, *, draft=False):
    return render_pdf(REVOCATION_TEMPLATE, revocation_decision_context(decision, draft=draft))

