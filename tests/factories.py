"""Small builders for test data; each returns saved objects with sensible defaults."""

import datetime
import itertools
from zoneinfo import ZoneInfo

from scoring.models import CriteriaSet, ProcessLevel, Regime

_seq = itertools.count(1)

#: A day 148 was in force and the districts existed: the tests that file into 148 district
#: rounds run on it (the ``era_148`` fixture, tests/conftest.py); the 148 rounds below are of
#: its year.
DAY_148 = datetime.datetime(2024, 6, 10, 10, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))

def era_148():
    """A context manager: the clock on ``DAY_148`` inside the block (time-machine, ticking),
    to file into 148 district rounds from a test or fixture that otherwise runs today.
    A whole test or fixture: the ``era_148`` fixture (tests/conftest.py)."""
    import time_machine

    return time_machine.travel(DAY_148, tick=True)


#: The default round of a regime: 148 rounds are of 2024 (148 ended on 05/07/2025, the
#: districts on 30/06/2025), the others of 2026.
_ROUND_DATES = {
    "148": {"year": 2024, "intake_deadline": datetime.date(2024, 12, 31),
            "planned_session_date": datetime.date(2025, 1, 15)},
}
_ROUND_DATES_LATER = {"year": 2026, "intake_deadline": datetime.date(2026, 12, 31),
                      "planned_session_date": datetime.date(2027, 1, 15)}


def criteria_set(regime_slug="148", set_no=9):
    regime = Regime.objects.get(slug=regime_slug)
    return CriteriaSet.objects.scorable_for(regime).get(set_no=set_no)


def evaluation_round(unit, regime_slug="148", admin_level="district", **extra):
    from dossiers.models import EvaluationRound

    regime = Regime.objects.get(slug=regime_slug)
    level = ProcessLevel.objects.get(regime=regime, admin_level=admin_level)
    values = {"number": next(_seq), "is_open": True,
              **_ROUND_DATES.get(regime_slug, _ROUND_DATES_LATER)}
    values.update(extra)
    return EvaluationRound.objects.create(regime=regime, level=level, unit=unit, **values)


def producer(unit, **extra):
    from dossiers.models import Gender, Producer, ProducerType

    n = next(_seq)
    values = {
        "type": ProducerType.COOPERATIVE, "name": f"Hợp tác xã thử nghiệm {n}",
        "registration_no": f"18{n:08d}", "representative_name": "Nguyễn Thị Mai",
        "representative_gender": Gender.FEMALE, "address": "Ấp 1", "unit": unit,
    }
    values.update(extra)
    return Producer.objects.create(**values)


def dossier(round_, unit=None, *, set_no=9, state="draft", product_name=None, **extra):
    from dossiers.models import Dossier, Product
    from ocop.text import fold

    unit = unit or round_.unit
    cs = criteria_set(round_.regime.criteria_regime.slug, set_no)
    owner = producer(unit)
    name = product_name or f"Sản phẩm {next(_seq)}"
    product = Product.objects.create(producer=owner, name=name, criteria_set=cs)
    return Dossier.objects.create(
        round=round_, product=product, criteria_set=cs, unit=unit, state=state,
        search_text=fold(f"{name} {owner.name}"), **extra)


def council(unit, users, *, level="district", chair_index=0, **extra):
    """A council whose members are ``users`` (the first is the chair by default)."""
    from councils.models import Council, CouncilMember, MemberRole

    values = {
        "name": f"Hội đồng đánh giá, phân hạng sản phẩm OCOP {unit.name}",
        "decision_number": f"{next(_seq)}/QĐ-UBND", "decision_date": datetime.date(2026, 3, 1),
        "decision_signer": "Nguyễn Văn Ký",
    }
    values.update(extra)
    body = Council.objects.create(level=level, unit=unit, **values)
    for i, user in enumerate(users):
        CouncilMember.objects.create(
            council=body, user=user, order=i,
            role=MemberRole.CHAIR if i == chair_index else MemberRole.MEMBER)
    return body


def session(council_, round_, dossiers=(), *, state="open", **extra):
    from councils.models import AgendaItem, EvaluationSession

    values = {"date": datetime.date(2026, 12, 1), "place": "Hội trường UBND"}
    values.update(extra)
    meeting = EvaluationSession.objects.create(council=council_, round=round_, state=state,
                                               **values)
    for i, item in enumerate(dossiers):
        AgendaItem.objects.create(session=meeting, dossier=item, order=i)
    return meeting
