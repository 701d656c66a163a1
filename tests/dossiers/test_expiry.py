"""Ratings by the calendar (dossiers.expiry): due at the start of the window of the regime
in force on the day (whichever regime recognised the rating; before every regime, the
rating's own), expired after their validity, the 26/2026 grace while a re-evaluation filed
by the expiry waits; idempotent; the command takes any day; the notices to the producer's
contact and the responsible officers, once. Dates are computed by hand.

Every behaviour test runs twice: the set-based SQL (PostgreSQL) and the ORM path (SQLite's
in ``make run``), which must agree."""

import datetime
import threading
from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from dossiers.expiry import check_rating_expiry, responsible_users
from dossiers.models import Decision, DossierState, Product, Rating, RatingState
from ocop.accounts.models import Role
from ocop.audit.models import AuditEvent
from ocop.notices.models import Notification
from ocop.regions.models import AdministrativeUnit, Level
from scoring.models import ProcessLevel, Regime
from tests import factories

D = datetime.date


@pytest.fixture(params=["sql", "orm"])
def check(request):
    set_based = request.param == "sql"

    def run(day):
        return check_rating_expiry(day, set_based=set_based)
    run.set_based = set_based
    return run


def moves(result):
    return {"due": result["due"], "expired": result["expired"]}


@pytest.fixture
def units(cantho):
    current = AdministrativeUnit.objects.current()
    legacy = AdministrativeUnit.objects.legacy()
    return {
        # Phường Cái Khế (current, 31120) took over the pre-2025 Phường Cái Khế (31117)
        "commune": current.get(level=Level.COMMUNE, code="31120"),
        # the pre-2025 Phường Thới Bình (31123) of Ninh Kiều → Phường Ninh Kiều (31135)
        "old_thoibinh": legacy.get(level=Level.COMMUNE, code="31123"),
        "ninhkieu_ward": current.get(level=Level.COMMUNE, code="31135"),
        **cantho,
    }


@pytest.fixture
def make_rating(cantho, criteria):
    def make(regime_slug, valid_until, state=RatingState.VALID, unit=None, email=""):
        regime = Regime.objects.get(slug=regime_slug)
        owner = factories.producer(unit or cantho["province"], email=email)
        # 1048 has no criteria sets loaded: its (legacy) products take 148's
        slug, set_no = (("26/2026", 1) if regime.criteria_regime.slug == "26/2026"
                        else ("148", 9))
        product = Product.objects.create(
            producer=owner, name=f"Sản phẩm {owner.pk}",
            criteria_set=factories.criteria_set(slug, set_no))
        decision = Decision.objects.create(
            state="issued", regime=regime, issuer_name="THÀNH PHỐ CẦN THƠ",
            level=ProcessLevel.objects.get(regime=regime, admin_level="province"),
            reference="01/QĐ-UBND", date=D(2023, 6, 1))
        return Rating.objects.create(
            product=product, regime=regime, decision=decision, stars=4,
            score=Decimal("80"), decision_number="01/QĐ-UBND", decision_date=D(2023, 6, 1),
            valid_until=valid_until, state=state, verification_code=f"c{product.pk:015d}")
    return make


def states(*ratings):
    return [Rating.objects.get(pk=r.pk).state for r in ratings]


# --- the calendar -----------------------------------------------------------------------------

def test_26_2026_becomes_due_180_days_before_expiry(make_rating, check):
    rating = make_rating("26/2026", D(2027, 6, 30))
    # 30/06/2027 − 180 days = 01/01/2027
    assert moves(check(D(2026, 12, 31))) == {"due": [], "expired": []}
    assert states(rating) == ["valid"]
    assert moves(check(D(2027, 1, 1))) == {"due": [rating.pk], "expired": []}
    assert states(rating) == ["due"]


def test_148_becomes_due_30_days_before_expiry(make_rating, check):
    # checked while 148 as amended by 1489 is in force (the same 30 days' notice)
    rating = make_rating("148", D(2026, 3, 31))
    check(D(2026, 2, 28))       # 31 days before
    assert states(rating) == ["valid"]
    check(D(2026, 3, 1))        # 30 days before
    assert states(rating) == ["due"]


# --- which regime's rules: the one in force on the day ---------------------------------------

def test_a_148_rating_checked_under_26_2026_is_due_180_days_before(make_rating, check):
    rating = make_rating("148", D(2027, 6, 1))
    # 26/2026 in force: 01/06/2027 − 180 days = 03/12/2026 (148's own 30 days: 02/05/2027)
    check(D(2026, 12, 2))
    assert states(rating) == ["valid"]
    assert moves(check(D(2026, 12, 3))) == {"due": [rating.pk], "expired": []}
    assert states(rating) == ["due"]
    event = AuditEvent.objects.get(action="ratings.expiry_checked")
    assert (event.after["day"], event.after["regime"], event.after["due"]) == (
        "2026-12-03", "26/2026", [rating.pk])


def test_a_day_when_148_was_in_force_keeps_its_30_days(make_rating, check):
    rating = make_rating("148", D(2024, 6, 30))
    # 148 in force: 30/06/2024 − 30 days = 31/05/2024
    check(D(2024, 5, 30))
    assert states(rating) == ["valid"]
    check(D(2024, 5, 31))
    assert states(rating) == ["due"]


def test_in_the_overlap_the_later_regime_rules(make_rating, check):
    # 22/05–21/07/2026 both 26/2026 and 148-as-amended are in force: 26/2026's 180 days.
    # 31/12/2026 − 180 days = 04/07/2026 (the amended 148's 30 days: 01/12/2026)
    rating = make_rating("148", D(2026, 12, 31))
    check(D(2026, 7, 3))
    assert states(rating) == ["valid"]
    check(D(2026, 7, 4))
    assert states(rating) == ["due"]


def test_26_2026_grace_keeps_a_148_rating_whose_reevaluation_waits(make_rating, cantho,
                                                                    check):
    kept, lapsed = make_rating("148", D(2026, 9, 30)), make_rating("148", D(2026, 9, 30))
    round_ = factories.evaluation_round(cantho["province"], "26/2026", "province")
    factories.dossier(round_, set_no=1, registration_type="reevaluation", current_rating=kept,
                      state=DossierState.SUBMITTED,
                      submitted_at=datetime.datetime(2026, 9, 29, 9, tzinfo=datetime.UTC))
    check(D(2026, 10, 1))
    assert states(kept, lapsed) == ["due", "expired"]
    # 30/09/2026 + 180 days = 29/03/2027: the last day of 26/2026's grace
    check(D(2027, 3, 29))
    assert states(kept) == ["due"]
    check(D(2027, 3, 30))
    assert states(kept) == ["expired"]


def test_no_grace_on_a_day_whose_regime_has_none(make_rating, cantho, check):
    # 31/03/2026: 148 as amended by 1489 is in force, and it has no grace for a late filer
    rating = make_rating("148", D(2026, 3, 31))
    round_ = factories.evaluation_round(cantho["province"], "148-1489", "province")
    factories.dossier(round_, set_no=9, registration_type="reevaluation",
                      current_rating=rating, state=DossierState.SUBMITTED,
                      submitted_at=datetime.datetime(2026, 3, 20, 9, tzinfo=datetime.UTC))
    check(D(2026, 4, 1))
    assert states(rating) == ["expired"]


def test_before_every_regime_each_rating_follows_its_own(make_rating, check):
    # 01/01/2019 is before 1048 (21/08/2019): no regime in force
    r148 = make_rating("148", D(2019, 1, 31))          # 30 days: due from 01/01/2019
    r26 = make_rating("26/2026", D(2019, 6, 29))       # 180 days: due from 31/12/2018
    r1048 = make_rating("1048", D(2019, 1, 2))         # no due state
    check(D(2018, 12, 30))
    assert states(r148, r26, r1048) == ["valid", "valid", "valid"]
    check(D(2018, 12, 31))
    assert states(r148, r26, r1048) == ["valid", "due", "valid"]
    result = check(D(2019, 1, 1))
    assert moves(result) == {"due": [r148.pk], "expired": []}
    assert states(r148, r26, r1048) == ["due", "due", "valid"]
    assert moves(check(D(2019, 1, 3))) == {"due": [], "expired": [r1048.pk]}
    event = AuditEvent.objects.filter(action="ratings.expiry_checked").order_by("pk").last()
    assert event.after["regime"] is None


def test_a_day_under_1048_has_no_due_state(make_rating, check):
    # 01/06/2020: 1048 in force, which sets neither a window nor a notice
    rating = make_rating("148", D(2020, 6, 2))
    check(D(2020, 6, 1))
    assert states(rating) == ["valid"]
    check(D(2020, 6, 3))
    assert states(rating) == ["expired"]


def test_expired_the_day_after_valid_until(make_rating, check):
    rating = make_rating("148", D(2026, 3, 31))
    check(D(2026, 3, 31))
    assert states(rating) == ["due"]          # its last day
    check(D(2026, 4, 1))
    assert states(rating) == ["expired"]


def test_a_valid_rating_long_past_its_date_goes_straight_to_expired(make_rating, check):
    rating = make_rating("148", D(2026, 3, 31))
    assert moves(check(D(2026, 6, 1))) == {"due": [], "expired": [rating.pk]}


def test_grace_of_26_2026_while_a_reevaluation_filed_in_time_waits(make_rating, cantho,
                                                                    check):
    kept, lapsed = make_rating("26/2026", D(2026, 9, 30)), make_rating("26/2026",
                                                                        D(2026, 9, 30))
    round_ = factories.evaluation_round(cantho["province"], "26/2026", "province")
    factories.dossier(round_, set_no=1, registration_type="reevaluation", current_rating=kept,
                      state=DossierState.SUBMITTED,
                      submitted_at=datetime.datetime(2026, 5, 4, 9, tzinfo=datetime.UTC))
    check(D(2026, 10, 1))
    assert states(kept, lapsed) == ["due", "expired"]
    # 30/09/2026 + 180 days = 29/03/2027: the last day of the grace
    check(D(2027, 3, 29))
    assert states(kept) == ["due"]
    check(D(2027, 3, 30))
    assert states(kept) == ["expired"]


def test_a_reevaluation_submitted_after_the_expiry_gives_no_grace(make_rating, cantho, check):
    # submitted 01/10/2026 00:30 in Việt Nam (30/09 17:30 UTC) — the day after the expiry
    late = make_rating("26/2026", D(2026, 9, 30))
    round_ = factories.evaluation_round(cantho["province"], "26/2026", "province")
    factories.dossier(round_, set_no=1, registration_type="reevaluation", current_rating=late,
                      state=DossierState.SUBMITTED,
                      submitted_at=datetime.datetime(2026, 9, 30, 17, 30, tzinfo=datetime.UTC))
    check(D(2026, 10, 1))
    assert states(late) == ["expired"]


def test_a_second_run_changes_and_records_nothing(make_rating, check):
    rating = make_rating("148", D(2026, 3, 31))
    first = check(D(2026, 4, 2))
    assert moves(first) == {"due": [], "expired": [rating.pk]}
    events = AuditEvent.objects.filter(action="ratings.expiry_checked").count()
    assert check(D(2026, 4, 2)) == {"due": [], "expired": [], "notified": 0}
    assert AuditEvent.objects.filter(action="ratings.expiry_checked").count() == events == 1


def test_a_run_that_moved_ratings_changes_the_statistics_version(make_rating, check):
    """The bulk UPDATE sends no signal: the dashboard's figures and the counts kept at the
    statistics' version are counted again after a run that moved a rating, not after one
    that moved nothing (docs/statistics.md, "Cache")."""
    from dossiers.stats import statistics

    make_rating("148", D(2026, 3, 31))
    with transaction.atomic():
        pass  # the ratings' own saves bumped it: start from here
    before = statistics.version()
    assert moves(check(D(2026, 4, 2)))["expired"]
    after = statistics.version()
    assert after != before
    check(D(2026, 4, 2))  # nothing left to move
    assert statistics.version() == after


def test_revoked_and_replaced_ratings_are_left_alone(make_rating, check):
    revoked = make_rating("148", D(2026, 3, 31), state=RatingState.REVOKED)
    replaced = make_rating("148", D(2026, 3, 31), state=RatingState.REPLACED)
    check(D(2026, 6, 1))
    assert states(revoked, replaced) == ["revoked", "replaced"]


def test_command_takes_a_date_and_refuses_a_bad_one(make_rating):
    rating = make_rating("148", D(2026, 3, 31))
    out = StringIO()
    call_command("check_rating_expiry", "--date", "2026-03-15", stdout=out)
    assert states(rating) == ["due"]
    assert "1" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("check_rating_expiry", "--date", "15/03/2026")


def test_the_celery_task_runs_the_check_for_a_day(make_rating):
    from dossiers.tasks import check_rating_expiry as task

    rating = make_rating("148", D(2026, 3, 31))
    task.delay("2026-04-01")
    assert states(rating) == ["expired"]


def test_the_daily_check_is_a_periodic_task_in_the_database(db):
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    from ocop.notices.schedule import DAILY_EXPIRY_CHECK, ensure_daily_expiry_check

    task = PeriodicTask.objects.select_related("crontab").get(name=DAILY_EXPIRY_CHECK)
    assert task.task == "dossiers.check_rating_expiry" and task.enabled
    assert (task.crontab.hour, task.crontab.minute, str(task.crontab.timezone)) == (
        "1", "30", "Asia/Ho_Chi_Minh")
    # an administrator's edit is kept: the step only creates a missing row
    task.crontab = CrontabSchedule.objects.create(hour="5", minute="0")
    task.enabled = False
    task.save()
    assert ensure_daily_expiry_check(PeriodicTask, CrontabSchedule) is None
    task.refresh_from_db()
    assert (task.crontab.hour, task.enabled) == ("5", False)


# --- the notices ------------------------------------------------------------------------------

@pytest.fixture
def people(units, make_user):
    return {
        "officer": make_user("canbo.caikhe", Role.LOCAL_OFFICER, units["commune"],
                             email="caikhe@example.vn", full_name="Trần Văn Khế"),
        "ward_officer": make_user("canbo.ninhkieu", Role.LOCAL_OFFICER,
                                  units["ninhkieu_ward"]),
        "staff": make_user("sonn", Role.DEPARTMENT_STAFF, units["province"],
                           email="sonn@example.vn"),
        "outsider": make_user("canbo.khac", Role.LOCAL_OFFICER, AdministrativeUnit.objects
                              .current().filter(level=Level.COMMUNE).exclude(
                                  pk__in=[units["commune"].pk, units["ninhkieu_ward"].pk])
                              .order_by("code").first()),
    }


def keys():
    return sorted(Notification.objects.values_list("key", flat=True))


def test_due_notifies_the_producer_and_the_commune_officer_once(make_rating, units, people,
                                                                check):
    rating = make_rating("26/2026", D(2027, 6, 30), unit=units["commune"],
                         email="htx@example.vn")
    result = check(D(2027, 1, 1))
    assert result["notified"] == 2
    officer = people["officer"]
    # the officer of the commune covers it: not the department staff, not the outsider
    assert keys() == [f"rating-due:{rating.pk}:producer",
                      f"rating-due:{rating.pk}:user:{officer.pk}"]
    producer_notice = Notification.objects.get(key=f"rating-due:{rating.pk}:producer")
    assert (producer_notice.user, producer_notice.email, producer_notice.email_status,
            producer_notice.unit, producer_notice.kind) == (
        None, "htx@example.vn", "pending", units["commune"], "rating_due")
    assert producer_notice.recipient_name == rating.product.producer.name
    # product, stars, decision number and date, valid until, the filing window:
    # 30/06/2027 − 180 days = 01/01/2027, − 120 days = 02/03/2027
    body = producer_notice.body
    for fact in (rating.product.name, "01/QĐ-UBND", "01/06/2023", "30/06/2027", "01/01/2027",
                 "02/03/2027"):
        assert fact in body
    assert rating.product.name in producer_notice.subject and "4" in producer_notice.subject
    assert producer_notice.link == f"/ratings/{rating.pk}/"
    mine = Notification.objects.get(user=officer)
    assert (mine.email, mine.email_status, mine.recipient_name, mine.body) == (
        "caikhe@example.vn", "pending", "Trần Văn Khế", body)
    # a second run: nobody notified twice
    assert check(D(2027, 1, 2))["notified"] == 0
    assert Notification.objects.count() == 2


def test_148_notice_says_the_issuer_notifies_30_days_before(make_rating, units, people, check):
    rating = make_rating("148", D(2026, 3, 31), unit=units["commune"], email="htx@example.vn")
    check(D(2026, 3, 1))
    notice = Notification.objects.get(key=f"rating-due:{rating.pk}:producer")
    assert "30" in notice.body and "31/03/2026" in notice.body
    # not a 26/2026 window (31/03/2026 − 180 days = 02/10/2025, − 120 days = 01/12/2025)
    assert "02/10/2025" not in notice.body and "01/12/2025" not in notice.body


def test_a_148_rating_due_under_26_2026_is_told_the_26_2026_window(make_rating, units,
                                                                    people, check):
    rating = make_rating("148", D(2027, 6, 1), unit=units["commune"], email="htx@example.vn")
    check(D(2026, 12, 3))
    notice = Notification.objects.get(key=f"rating-due:{rating.pk}:producer")
    # 01/06/2027 − 180 days = 03/12/2026, − 120 days = 01/02/2027
    assert notice.body.index("03/12/2026") < notice.body.index("01/02/2027")
    assert "01/06/2027" in notice.body and " 30 " not in notice.body
    assert Notification.objects.get(user=people["officer"]).body == notice.body


def test_expiry_is_notified_too(make_rating, units, people, check):
    rating = make_rating("148", D(2026, 3, 31), unit=units["commune"], email="htx@example.vn")
    check(D(2026, 3, 1))
    check(D(2026, 4, 1))
    assert keys() == sorted([
        f"rating-due:{rating.pk}:producer", f"rating-due:{rating.pk}:user:{people['officer'].pk}",
        f"rating-expired:{rating.pk}:producer",
        f"rating-expired:{rating.pk}:user:{people['officer'].pk}"])
    expired = Notification.objects.get(key=f"rating-expired:{rating.pk}:producer")
    assert expired.kind == "rating_expired" and "31/03/2026" in expired.body


def test_a_producer_without_email_gets_nothing_the_officer_still_does(make_rating, units,
                                                                       people, check):
    rating = make_rating("148", D(2026, 3, 31), unit=units["commune"])
    assert check(D(2026, 3, 1))["notified"] == 1
    assert keys() == [f"rating-due:{rating.pk}:user:{people['officer'].pk}"]


def test_a_pre_2025_commune_is_followed_by_its_successor(make_rating, units, people, check):
    # Thới Bình (pre-2025, Ninh Kiều district) → Phường Ninh Kiều: its officer is told
    make_rating("148", D(2026, 3, 31), unit=units["old_thoibinh"])
    check(D(2026, 3, 1))
    notice = Notification.objects.get()
    assert (notice.user, notice.unit) == (people["ward_officer"], units["ninhkieu_ward"])


def test_without_an_officer_the_department_staff_are_told(make_rating, units, people, check):
    people["ward_officer"].delete()
    rating = make_rating("148", D(2026, 3, 31), unit=units["old_thoibinh"],
                         email="htx@example.vn")
    check(D(2026, 3, 1))
    assert keys() == [f"rating-due:{rating.pk}:producer",
                      f"rating-due:{rating.pk}:user:{people['staff'].pk}"]


def test_responsible_users_in_a_constant_number_of_queries(units, people,
                                                           django_assert_num_queries):
    asked = [units["commune"].pk, units["old_thoibinh"].pk, units["province"].pk]
    with django_assert_num_queries(3):
        found = responsible_users(asked)
    assert found == {
        units["commune"].pk: (units["commune"].pk, [people["officer"].pk]),
        units["old_thoibinh"].pk: (units["ninhkieu_ward"].pk, [people["ward_officer"].pk]),
        units["province"].pk: (units["province"].pk, [people["staff"].pk]),
    }


@pytest.mark.parametrize("day, made", [
    # 26/2026 in force: a 26/2026 and a 148 rating due by its window, a 148 rating expired
    (D(2027, 1, 1), (("26/2026", D(2027, 6, 30)), ("148", D(2027, 6, 29)),
                     ("148", D(2026, 3, 31)))),
    # 148 as amended in force: its 30 days' notice
    (D(2026, 3, 1), (("148", D(2026, 3, 31)), ("148", D(2025, 12, 31)))),
    # before every regime: each its own (a window, a notice)
    (D(2019, 1, 1), (("26/2026", D(2019, 6, 29)), ("148", D(2019, 1, 31)))),
])
def test_both_paths_write_the_same_notifications(make_rating, units, people, day, made):
    def run(set_based):
        ratings = [make_rating(slug, valid_until, unit=unit, email=email)
                   for (slug, valid_until), (unit, email) in zip(made, (
                       (units["commune"], "htx@example.vn"), (units["old_thoibinh"], ""),
                       (units["commune"], "khac@example.vn")), strict=False)]
        check_rating_expiry(day, set_based=set_based)
        rows = Notification.objects.filter(object_id__in=[str(r.pk) for r in ratings])
        return sorted((n.key.split(":", 2)[2], n.kind, n.user_id, n.email,
                       n.recipient_name.replace(r.product.producer.name, "O"), n.unit_id,
                       n.subject.replace(r.product.name, "P"),
                       n.body.replace(r.product.name, "P").replace(
                           r.product.producer.name, "O"),
                       n.link.replace(str(r.pk), "N"), n.object_type, n.email_status)
                      for r in ratings for n in rows if n.object_id == str(r.pk))
    sql = run(True)
    assert len(sql) == 2 * len(made) - 1 and sql == run(False)


def test_the_emails_go_out_after_the_commit(make_rating, units, people,
                                            django_capture_on_commit_callbacks):
    rating = make_rating("148", D(2026, 3, 31), unit=units["commune"], email="htx@example.vn")
    with django_capture_on_commit_callbacks(execute=True):
        check_rating_expiry(D(2026, 3, 1))
    assert sorted(m.to[0] for m in mail.outbox) == ["caikhe@example.vn", "htx@example.vn"]
    officer_mail = next(m for m in mail.outbox if m.to == ["caikhe@example.vn"])
    assert f"/ratings/{rating.pk}/" in officer_mail.body  # the officer gets the link
    producer_mail = next(m for m in mail.outbox if m.to == ["htx@example.vn"])
    assert "/ratings/" not in producer_mail.body           # an outside address does not
    assert set(Notification.objects.values_list("email_status", flat=True)) == {"sent"}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_overlapping_runs_notify_once(make_rating, units, people):
    """The second run waits on the rows the first has moved, then finds them moved."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    ratings = [make_rating("148", D(2026, 3, 31), unit=units["commune"],
                           email="htx@example.vn") for _ in range(3)]
    second = {}

    def run_second():
        try:
            second["result"] = check_rating_expiry(D(2026, 3, 1))
        finally:
            connection.close()

    with transaction.atomic():
        first = check_rating_expiry(D(2026, 3, 1))
        thread = threading.Thread(target=run_second)
        thread.start()
        thread.join(1.0)
        assert thread.is_alive()        # blocked on the first run's rows
    thread.join(10)
    assert sorted(first["due"]) == sorted(r.pk for r in ratings)
    assert second["result"] == {"due": [], "expired": [], "notified": 0}
    assert Notification.objects.count() == 6  # 3 producers + 3 × the officer


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_crashed_run_is_finished_by_the_next(make_rating, units, people, monkeypatch):
    """The moves and the notices are one transaction: a crash in the notices rolls the
    moves back, and the next run does both."""
    import dossiers.expiry as expiry

    rating = make_rating("148", D(2026, 3, 31), unit=units["commune"], email="htx@example.vn")
    real = expiry._notify_sql

    def crash(*args, **kwargs):
        raise RuntimeError("killed")

    monkeypatch.setattr(expiry, "_notify_sql", crash)
    with pytest.raises(RuntimeError):
        check_rating_expiry(D(2026, 3, 1))
    assert states(rating) == ["valid"] and Notification.objects.count() == 0
    monkeypatch.setattr(expiry, "_notify_sql", real)
    assert check_rating_expiry(D(2026, 3, 1))["notified"] == 2
    assert states(rating) == ["due"]
