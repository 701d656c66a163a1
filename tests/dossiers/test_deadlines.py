"""Working days (weekends and public holidays skipped) and overdue dossiers."""

import datetime

import pytest

from dossiers import deadlines
from dossiers.models import DossierState, PublicHoliday
from tests import factories

D = datetime.date
S = DossierState

NATIONAL_DAY_2026 = {D(2026, 9, 1), D(2026, 9, 2)}           # Tue, Wed
TET_2027 = {D(2027, 2, day) for day in range(4, 11)}        # Thu 4 → Wed 10 February


@pytest.mark.parametrize(("start", "n", "holidays", "expected"), [
    (D(2026, 11, 30), 0, (), D(2026, 11, 30)),               # nothing to add
    (D(2026, 11, 27), 1, (), D(2026, 11, 30)),               # Friday + 1 → Monday
    (D(2026, 11, 28), 1, (), D(2026, 11, 30)),               # Saturday + 1 → Monday
    (D(2026, 11, 29), 1, (), D(2026, 11, 30)),               # Sunday + 1 → Monday
    (D(2026, 11, 30), 5, (), D(2026, 12, 7)),                # a full week
    (D(2026, 11, 30), 15, (), D(2026, 12, 21)),              # the commune's 15 days
    (D(2026, 8, 31), 1, NATIONAL_DAY_2026, D(2026, 9, 3)),   # two holidays skipped
    (D(2026, 8, 28), 3, NATIONAL_DAY_2026, D(2026, 9, 4)),   # weekend and holidays
    (D(2027, 2, 3), 1, TET_2027, D(2027, 2, 11)),            # Tết
    (D(2027, 1, 27), 15, TET_2027, D(2027, 2, 24)),          # 15 days across Tết
    (D(2026, 11, 30), 5, {D(2026, 12, 5)}, D(2026, 12, 7)),  # holiday on a Saturday
    (D(2026, 11, 30), 1, {D(2026, 11, 30)}, D(2026, 12, 1)),  # the start day never counts
])
def test_add_working_days_skips_weekends_and_holidays(start, n, holidays, expected):
    assert deadlines.add_working_days(start, n, holidays) == expected


def test_add_working_days_refuses_a_negative_count():
    with pytest.raises(ValueError):
        deadlines.add_working_days(D(2026, 11, 30), -1)


@pytest.mark.django_db
def test_working_days_after_reads_the_public_holidays():
    for day in TET_2027:
        PublicHoliday.objects.create(date=day, name="Tết Nguyên đán")
    PublicHoliday.objects.create(date=D(2026, 1, 1), name="Tết Dương lịch")  # out of range

    off = TET_2027 | deadlines.calendar_holidays(D(2027, 1, 27), D(2027, 3, 31))
    assert deadlines.working_days_after(D(2027, 1, 27), 15) == deadlines.add_working_days(
        D(2027, 1, 27), 15, off)


@pytest.mark.django_db
def test_working_days_after_widens_its_window_for_long_holidays():
    start = D(2027, 3, 1)
    closed = {start + datetime.timedelta(days=i) for i in range(1, 60)}
    PublicHoliday.objects.bulk_create(PublicHoliday(date=d, name="Nghỉ") for d in closed)

    off = closed | deadlines.calendar_holidays(start, start + datetime.timedelta(days=90))
    assert deadlines.working_days_after(start, 1) == deadlines.add_working_days(start, 1, off)


@pytest.mark.django_db
@pytest.mark.parametrize(("received", "due"), [
    # Giỗ Tổ Hùng Vương falls on Sunday 26/4 → compensated Monday 27/4; 30/4 and 1/5
    (D(2026, 4, 20), D(2026, 5, 14)),   # Monday → not 11/5
    # Quốc khánh: Tuesday 1/9 and Wednesday 2/9 (31/8 worked: docs/deadlines.md)
    (D(2026, 8, 25), D(2026, 9, 17)),   # Tuesday
    # Tết Dương lịch 2027: Friday 1/1
    (D(2026, 12, 17), D(2027, 1, 8)),   # Thursday
])
def test_fifteen_working_days_follow_vietnams_calendar(received, due):
    from dossiers.announced_days import sync_announced_days

    sync_announced_days(PublicHoliday)  # as migration 0008 leaves them
    assert deadlines.working_days_after(received, 15) == due


@pytest.mark.django_db
def test_announced_days_change_the_calendar_both_ways():
    start = D(2026, 8, 20)  # Thursday
    PublicHoliday.objects.create(date=D(2026, 8, 21), name="Nghỉ bù")          # a day off
    PublicHoliday.objects.create(date=D(2026, 8, 22), name="Làm bù thứ Bảy",   # a worked
                                 working_day=True)                             # Saturday
    assert deadlines.working_days_after(start, 1) == D(2026, 8, 22)
    assert deadlines.working_days_after(start, 2) == D(2026, 8, 24)


def test_the_package_knows_lunar_new_year():
    tet = deadlines.calendar_holidays(D(2027, 1, 31), D(2027, 2, 28))
    assert {D(2027, 2, 6), D(2027, 2, 7), D(2027, 2, 8)} <= tet  # mùng 1–3 Tết Đinh Mùi


# --- overdue ---------------------------------------------------------------------------------

TODAY = D(2026, 11, 30)
PAST, TODAY_DUE, FUTURE = D(2026, 11, 27), TODAY, D(2026, 12, 1)


@pytest.fixture
def rounds(cantho, criteria):
    return {
        "148": factories.evaluation_round(cantho["ninhkieu"], "148", "district"),
        "26/2026": factories.evaluation_round(cantho["province"], "26/2026", "province"),
    }


#: (regime, state, due date) → overdue?
OVERDUE_CASES = [
    ("148", S.SUBMITTED, PAST, True),
    ("148", S.RESUBMITTED, PAST, True),
    ("148", S.SUBMITTED, TODAY_DUE, False),     # due today is not late yet
    ("148", S.SUBMITTED, FUTURE, False),
    ("148", S.SUBMITTED, None, False),
    ("148", S.RETURNED, PAST, False),           # the producer holds it
    ("148", S.ACCEPTED, PAST, False),           # 148: intake done once accepted
    ("26/2026", S.ACCEPTED, PAST, True),        # 26/2026: Mẫu 03 still owed
    ("26/2026", S.PRE_ASSESSED, PAST, False),
    ("26/2026", S.IN_EVALUATION, PAST, False),
    ("26/2026", S.DRAFT, PAST, False),
    ("26/2026", S.WITHDRAWN, PAST, False),
]


@pytest.mark.django_db
def test_is_overdue_and_annotate_overdue_agree_on_every_case(rounds):
    dossiers = {}
    for i, (regime, state, due, _expected) in enumerate(OVERDUE_CASES):
        dossier = factories.dossier(rounds[regime], state=state, due_date=due,
                                    set_no=1 if regime == "26/2026" else 9)
        dossiers[dossier.pk] = OVERDUE_CASES[i]

    from dossiers.models import Dossier

    annotated = dict(deadlines.annotate_overdue(Dossier.objects.all(), TODAY)
                     .values_list("pk", "is_overdue"))
    in_sql = set(deadlines.annotate_overdue(Dossier.objects.all(), TODAY)
                 .filter(is_overdue=True).values_list("pk", flat=True))

    for pk, (regime, state, due, expected) in dossiers.items():
        case = f"{regime} {state} {due}"
        assert annotated[pk] is expected, case
        assert deadlines.is_overdue(Dossier.objects.get(pk=pk), TODAY) is expected, case
    assert in_sql == {pk for pk, case in dossiers.items() if case[3]}
