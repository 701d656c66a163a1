"""Demo of the life after recognition (docs/ratings-lifecycle.md): ``seed_oversight``
(order 75, after the dossiers and the councils), registered in ``DossiersConfig.ready``.

In today's Cần Thơ, as ``sonn.cantho`` (department staff):

* the yearly inspection plan of the current year;
* a periodic inspection of one rated product, concluded "no longer meets the criteria"
  five days ago (findings on its first criteria), and its revocation on ground b decided
  two days after the conclusion — well within the 15 days of 26/2026 Điều 8 — so that the
  public verification page of that rating says "Đã thu hồi";
* a second product's inspection, planned in two weeks.

The ratings are picked by a stable query (the province's active 3★/4★ ratings, 26/2026
first, then the oldest), so the step works whatever ratings the other steps made; without
any, it does nothing. Every date obeys the services' rules (a conclusion not in the future
nor before the rating's decision; the decision on or after the conclusion, within the
deadline). Idempotent: a second run changes nothing.
"""

import datetime

from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from ocop.accounts.models import User
from ocop.regions.models import AdministrativeUnit, Level

from . import inspections, revocations
from .models import (
    ACTIVE_RATING_STATES,
    Inspection,
    InspectionConclusion,
    InspectionKind,
    InspectionPlan,
    Rating,
    RevocationGround,
)

CAN_THO = "92"
STAFF = "sonn.cantho"
CONCLUDED_TITLE = "Kiểm tra định kỳ sản phẩm OCOP (demo)"
PLANNED_TITLE = "Kiểm tra sản phẩm OCOP theo kế hoạch (demo)"
SIGNER = "Trần Văn Ký"


def _candidates(province):
    first = Case(When(regime__slug="26/2026", then=Value(0)), default=Value(1),
                 output_field=IntegerField())
    return (Rating.objects.filter(
        state__in=ACTIVE_RATING_STATES, stars__in=(3, 4),
        product__producer__unit__in=AdministrativeUnit.objects.within([province]))
        .annotate(first=first).select_related("product__producer__unit", "source_dossier")
        .order_by("first", "decision_date", "pk"))


def seed_oversight(ctx):
    """The plan, the concluded inspection with its revocation, the planned inspection."""
    if Inspection.objects.filter(title=CONCLUDED_TITLE).exists():
        return ctx
    user = User.objects.filter(username=STAFF).first()
    province = AdministrativeUnit.objects.current().filter(
        level=Level.PROVINCE, code=CAN_THO).first()
    if user is None or province is None:
        return ctx
    today = timezone.localdate()
    plan = InspectionPlan.objects.filter(unit=province, year=today.year).first()
    if plan is None:
        plan = inspections.create_plan(
            user, unit=province, year=today.year,
            title=f"Kế hoạch kiểm tra, giám sát sản phẩm OCOP năm {today.year} — "
                  f"{province.name}")
    ratings = list(_candidates(province)[:2])
    if not ratings:
        ctx["oversight"] = {"plan": plan}
        return ctx
    rating = ratings[0]
    year_start = datetime.date(plan.year, 1, 1)
    conclusion = max(today - datetime.timedelta(days=5), rating.decision_date, year_start)
    decided = min(today, conclusion + datetime.timedelta(days=2))
    inspection = inspections.create_inspection(
        user, kind=InspectionKind.PERIODIC, rating=rating, plan=plan,
        planned_on=max(conclusion - datetime.timedelta(days=3), year_start),
        title=CONCLUDED_TITLE,
        inspectors="Sở Nông nghiệp và Môi trường thành phố Cần Thơ (tổ kiểm tra OCOP)")
    item = inspection.items.get()
    criteria = inspections.criteria_of(item)[:3]
    if criteria:
        inspections.record_findings(user, item, findings=[
            {"criterion": c.pk, "meets": i != 0,
             "note": "Không duy trì được hồ sơ chứng nhận theo tiêu chí" if i == 0 else ""}
            for i, c in enumerate(criteria)])
    inspections.conclude(
        user, inspection, date=conclusion, inspected_on=conclusion,
        reference=f"01/BB-KT ngày {conclusion:%d/%m/%Y}",
        note="Sản phẩm không còn đáp ứng tiêu chí đã được công nhận.",
        conclusions={item.pk: (InspectionConclusion.NOT_MEETS,
                               "Không còn đáp ứng tiêu chí của bộ tiêu chí")})
    revocation = revocations.open_revocation(
        user, rating, ground=RevocationGround.NOT_MEETING, inspection_item=item,
        reason="Kết luận kiểm tra định kỳ: sản phẩm không còn đáp ứng tiêu chí.")
    revocations.issue_revocation(user, revocation, date=decided, signer_name=SIGNER)
    planned = None
    if len(ratings) > 1:
        day = today + datetime.timedelta(days=14)
        same_year = day.year == plan.year
        planned = inspections.create_inspection(
            user, kind=InspectionKind.PERIODIC if same_year else InspectionKind.AD_HOC,
            rating=ratings[1], plan=plan if same_year else None, planned_on=day,
            title=PLANNED_TITLE)
    ctx["oversight"] = {"plan": plan, "inspection": inspection, "revocation": revocation,
                        "planned": planned}
    return ctx
