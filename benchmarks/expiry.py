#!/usr/bin/env python3
"""Benchmark: the expiry job over 1,000,000 ratings (PostgreSQL), against one equivalent raw
SQL UPDATE of the same rows, measured in the same run; each notification created once.

    .venv/bin/python benchmarks/expiry.py                 # 127.0.0.1:5432
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ocop \\
        BENCH_RATINGS=1000000 BENCH_ROUNDS=11 .venv/bin/python benchmarks/expiry.py [--keep]

Runs in its own database ``ocop_bench_expiry`` on the server of ``DATABASE_URL`` (the
database the URL names is never touched unless its name starts with ``ocop_bench``):
dropped if it exists, created, migrated; current and pre-2025 Cần Thơ, one local officer
(with an e-mail address) for every other current commune, two department staff of the
province. Then, with ``generate_series`` INSERTs, BENCH_RATINGS (default 1,000,000)
producers (two in three with an e-mail address), products and ratings: decision dates
spread evenly from 01/07/2023 to 30/11/2026, valid 36 months, the regime in force at the
decision date (148, 148 as amended by 1489, 26/2026); producers in the current communes
and, for the 148 ratings, a quarter in the pre-2025 communes. ``VACUUM ANALYZE``.

Two scenarios, each from the states the data had the day before (set by the raw UPDATE):

* **daily** — the job ran yesterday (16/12/2026): today's run moves a day's worth;
* **catch-up** — the job last ran 30 days ago (the beat was stopped for a month).

Each round times, in its own transaction that is then rolled back (and the tables
vacuumed, outside the timing), A: ``check_rating_expiry(day)`` (the set-based UPDATE, the
officers' resolution, the notifications INSERT, the audit event) and B: one raw UPDATE
moving the same rows with the same CASE, by the window of the regime in force on the day
as the job does (no grace, no notifications, no RETURNING); interleaved A, B, B, A …
BENCH_ROUNDS times (default 11) after one warm-up pair that is not counted (cold caches,
first plans); the ratio is median(A) / median(B), medians of many interleaved rounds so
that a neighbour's load on a shared machine weighs on both. Target: ≤ 1.5 for the daily
run (printed for the catch-up, whose notifications are most of its work). Then the daily
run is committed: it must have moved exactly the raw UPDATE's rows and created one
notification per recipient; the e-mails are sent (locmem backend) — as many as the
notifications with an address — and a second run of the job and of the mailer create and
send nothing. Exit 1 when a target or a check fails.
"""

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from _common import admin_execute as admin  # benchmarks/ is on sys.path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocop.settings")

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ocop_bench_expiry"
RATINGS = int(os.environ.get("BENCH_RATINGS") or 1_000_000)
ROUNDS = max(3, int(os.environ.get("BENCH_ROUNDS") or 11))
RATIO_MAX = 1.5
TODAY = datetime.date(2026, 12, 17)
FIRST_DECISION = datetime.date(2023, 7, 1)
LAST_DECISION = datetime.date(2026, 11, 30)

#: The moves by the rules of the regime in force on the day (docs/deadlines.md, "Which
#: regime's rules"): due from ``due_until`` (the day + its window), see :func:`raw_params`.
RAW_UPDATE = """
    UPDATE dossiers_rating r
    SET state = CASE WHEN r.valid_until < %(day)s::date THEN 'expired' ELSE 'due' END
    WHERE r.state IN ('valid', 'due')
      AND (r.valid_until < %(day)s::date
           OR (r.state = 'valid' AND r.valid_until <= %(due_until)s::date))"""


def raw_params(day):
    """The raw UPDATE's parameters for ``day``: the window of the regime in force."""
    from dossiers.expiry import due_from_days
    from scoring.queries import regime_in_force

    return {"day": day, "due_until": day + datetime.timedelta(
        days=due_from_days(regime_in_force(day)))}


def log(message):
    print(message, flush=True)


def bench_url(url):
    parts = urlsplit(url or DEFAULT_URL)
    if not parts.scheme.startswith("postgres"):
        return None
    name = parts.path.lstrip("/")
    if not name.startswith("ocop_bench"):
        name = urlsplit(DEFAULT_URL).path.lstrip("/")
    return parts._replace(path=f"/{name}").geturl()


def seed(connection):
    from django.core.management import call_command

    from ocop.accounts.models import Role, RoleAssignment, User
    from ocop.regions.loader import load_units
    from ocop.regions.models import AdministrativeUnit, Level
    from scoring.loader import DATA_DIR, load_criteria_files
    from scoring.models import CriteriaSet, Regime

    call_command("migrate", verbosity=0)
    load_units([92])
    load_criteria_files([DATA_DIR / "148" / "09-tuong-nuoc-mam-gia-vi-dang-long-khac.yaml",
                         DATA_DIR / "26-2026" / "01-rau-cu-qua-hat-tuoi.yaml"])
    province = AdministrativeUnit.objects.get(level=Level.PROVINCE, code="92",
                                              valid_to__isnull=True)
    current = list(AdministrativeUnit.objects.current().filter(
        province=province, level=Level.COMMUNE).order_by("code").values_list("pk", flat=True))
    legacy = list(AdministrativeUnit.objects.legacy().filter(
        level=Level.COMMUNE, province__code="92").order_by("code").values_list("pk", flat=True))
    for n, unit_id in enumerate(current[::2]):
        user = User.objects.create_user(f"canbo{n}", email=f"canbo{n}@example.vn")
        RoleAssignment.objects.create(user=user, role=Role.LOCAL_OFFICER, unit_id=unit_id)
    for n in range(2):
        user = User.objects.create_user(f"sonn{n}", email=f"sonn{n}@example.vn")
        RoleAssignment.objects.create(user=user, role=Role.DEPARTMENT_STAFF, unit=province)
    regimes = {r.slug: r for r in Regime.objects.all()}
    sets = {slug: CriteriaSet.objects.scorable_for(regimes[slug]).get(set_no=no).pk
            for slug, no in (("148", 9), ("26/2026", 1))}
    span = (LAST_DECISION - FIRST_DECISION).days
    params = {"n": RATINGS, "first": FIRST_DECISION, "span": span,
              "current": current, "legacy": legacy,
              "r148": regimes["148"].pk, "r1489": regimes["148-1489"].pk,
              "r26": regimes["26/2026"].pk, "cs148": sets["148"], "cs26": sets["26/2026"],
              "end148": regimes["148"].effective_to, "end1489": regimes["148-1489"].effective_to}
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("""
            CREATE TEMP TABLE g AS
            SELECT i, %(first)s::date + (i * %(span)s / %(n)s) AS decided
            FROM generate_series(1, %(n)s) i""", params)
        cur.execute("""
            INSERT INTO dossiers_producer (type, name, registration_no, representative_name,
                representative_gender, representative_ethnicity, address, unit_id, phone,
                email, created_at)
            SELECT 'cooperative', 'Hợp tác xã ' || i, lpad(i::text, 10, '0'), 'Nguyễn Thị Mai',
                'female', 'Kinh', 'Ấp ' || (i %% 9 + 1),
                CASE WHEN decided <= %(end1489)s AND i %% 4 = 0
                     THEN (%(legacy)s::bigint[])[1 + i %% cardinality(%(legacy)s::bigint[])]
                     ELSE (%(current)s::bigint[])[1 + i %% cardinality(%(current)s::bigint[])]
                END,
                '', CASE WHEN i %% 3 = 0 THEN '' ELSE 'htx' || i || '@example.vn' END, now()
            FROM g ORDER BY i""", params)
        cur.execute("""
            INSERT INTO dossiers_product (producer_id, name, criteria_set_id, code, created_at)
            SELECT i, 'Sản phẩm ' || i,
                   CASE WHEN decided > %(end1489)s THEN %(cs26)s ELSE %(cs148)s END, '', now()
            FROM g ORDER BY i""", params)
        cur.execute("""
            INSERT INTO dossiers_rating (product_id, regime_id, stars, score, decision_number,
                decision_date, valid_from, valid_until, state, product_code, certificate,
                created_at)
            SELECT i, CASE WHEN decided <= %(end148)s THEN %(r148)s
                           WHEN decided <= %(end1489)s THEN %(r1489)s ELSE %(r26)s END,
                   3 + i %% 3, 75, (i %% 900 + 1) || '/QĐ-UBND', decided, decided,
                   (decided + interval '36 months' - interval '1 day')::date, 'valid', '', '',
                   now()
            FROM g ORDER BY i""", params)
        cur.execute("DROP TABLE g")
    log(f"seeded {RATINGS:,} producers, products and ratings in "
        f"{time.perf_counter() - started:.1f} s")


def vacuum(connection):
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE dossiers_rating")
        cur.execute("VACUUM ANALYZE notices_notification")


def set_states(connection, day):
    """The states as of ``day``, with the raw UPDATE (no notifications): the data as the
    job left it when it last ran."""
    with connection.cursor() as cur:
        cur.execute("UPDATE dossiers_rating SET state = 'valid'")
        cur.execute(RAW_UPDATE, raw_params(day))
    vacuum(connection)


class Rollback(Exception):
    pass


def timed(connection, call):
    """Seconds ``call()`` takes inside a transaction that is then rolled back."""
    from django.db import transaction

    elapsed = None
    try:
        with transaction.atomic():
            started = time.perf_counter()
            result = call()
            elapsed = time.perf_counter() - started
            raise Rollback(result)
    except Rollback as done:
        vacuum(connection)
        return elapsed, done.args[0]


def scenario(connection, name, last_run):
    from dossiers.expiry import check_rating_expiry

    set_states(connection, last_run)

    def job():
        return check_rating_expiry(TODAY)

    params = raw_params(TODAY)

    def raw():
        with connection.cursor() as cur:
            cur.execute(RAW_UPDATE, params)
            return cur.rowcount

    a_times, b_times = [], []
    for n in range(-1, ROUNDS):  # -1: the warm-up pair, not counted
        order = (job, raw) if n % 2 == 0 else (raw, job)
        for call in order:
            seconds, result = timed(connection, call)
            if n >= 0:
                (a_times if call is job else b_times).append(seconds)
            if call is job:
                moved, notified = len(result["due"]) + len(result["expired"]), \
                    result["notified"]
            else:
                raw_rows = result
    ratio = statistics.median(a_times) / statistics.median(b_times)
    log(f"{name:9} moved {moved:>7,} (raw UPDATE {raw_rows:,}), {notified:>7,} notifications;"
        f" job median {statistics.median(a_times) * 1000:7.0f} ms, raw UPDATE median "
        f"{statistics.median(b_times) * 1000:7.0f} ms, ratio {ratio:.2f} ({len(a_times)} "
        f"rounds)")
    return ratio, moved == raw_rows


def once(connection):
    """The daily run committed, then again: notifications and e-mails exactly once."""
    from django.conf import settings
    from django.core import mail

    from dossiers.expiry import check_rating_expiry
    from ocop.notices.mailer import send_pending
    from ocop.notices.models import Notification

    checks = []
    set_states(connection, TODAY - datetime.timedelta(days=1))
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    # the commit wakes the e-mail job up (in-process here): the e-mails go out at once
    first = check_rating_expiry(TODAY)
    moved = set(first["due"]) | set(first["expired"])
    rows = Notification.objects.count()
    producers = Notification.objects.filter(user__isnull=True).count()
    with_email = Notification.objects.exclude(email="").count()
    checks.append(("one notification per row created", rows == first["notified"] > 0))
    checks.append(("producer notices: the moved ratings whose producer has an address",
                   producers == Notification.objects.filter(
                       user__isnull=True, object_id__in=[str(pk) for pk in moved]).count()
                   and producers <= len(moved)))
    checks.append(("every moved rating has an officer's notice", len(moved) == len(set(
        Notification.objects.filter(user__isnull=False).values_list("object_id",
                                                                    flat=True)))))
    second = check_rating_expiry(TODAY)
    checks.append(("a second run moves and notifies nothing",
                   second == {"due": [], "expired": [], "notified": 0}
                   and Notification.objects.count() == rows))
    sent = {"sent": len(mail.outbox)}
    again = send_pending(limit=10 ** 9)
    checks.append(("each e-mail sent once", len(mail.outbox) == with_email
                   == len({(m.to[0], m.subject) for m in mail.outbox})
                   == Notification.objects.filter(email_status="sent").count()
                   and again == {"sent": 0, "failed": 0}))
    log(f"committed daily run: {len(moved):,} ratings moved, {rows:,} notifications "
        f"({producers:,} to producers), {sent['sent']:,} e-mails; second run: "
        f"{second['notified']} notifications, {again['sent']} e-mails")
    return checks


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    url = bench_url(os.environ.get("DATABASE_URL"))
    if url is None:
        log("expiry: needs PostgreSQL (DATABASE_URL)")
        return 2
    name = urlsplit(url).path.lstrip("/")
    admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(url, f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0')
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)  # the e-mail job runs in-process, the cache in memory
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
    import django

    django.setup()
    from django.db import connection

    try:
        seed(connection)
        vacuum(connection)
        daily, same_daily = scenario(connection, "daily", TODAY - datetime.timedelta(days=1))
        catchup, same_catchup = scenario(connection, "catch-up",
                                         TODAY - datetime.timedelta(days=30))
        checks = [("daily: the job moves the raw UPDATE's rows", same_daily),
                  ("catch-up: the job moves the raw UPDATE's rows", same_catchup),
                  (f"daily ratio {daily:.2f} ≤ {RATIO_MAX}", daily <= RATIO_MAX)]
        checks += once(connection)
        for label, ok in checks:
            log(f"  [{'ok' if ok else 'FAIL'}] {label}")
        log(f"expiry: {RATINGS:,} ratings, daily run {daily:.2f}× one raw UPDATE (limit "
            f"{RATIO_MAX}), catch-up of 30 days {catchup:.2f}×")
        return 0 if all(ok for _label, ok in checks) else 1
    finally:
        connection.close()
        if not args.keep:
            admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())
