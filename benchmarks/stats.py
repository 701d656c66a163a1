#!/usr/bin/env python3
"""Benchmark: the statistics dashboard (/stats/) with 20,000 products, 50,000 dossiers and
100,000 ratings in PostgreSQL, against the /healthz floor measured in the same run.

    .venv/bin/python benchmarks/stats.py                  # 127.0.0.1:5432
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ocop REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python benchmarks/stats.py [--keep] [-n 30]

Runs in its own database ``ocop_bench_stats`` on the server of ``DATABASE_URL`` (the
database the URL names is never touched unless its name starts with ``ocop_bench``):
dropped if it exists, created, migrated, then the demo's reference data (``seed_demo``
with ``base=True``: Cần Thơ in both structures, the criteria sets, the demo accounts) and,
with ``INSERT … SELECT generate_series`` in SQL:

* 20,000 producers (all four types) in the current communes of Cần Thơ and, one in four,
  in its pre-2025 communes, each with one product (criteria sets spread over the sets);
* 50,000 dossiers of those products in six rounds (two open), over all states;
* 100,000 ratings, five per product, decided from 2019 to 2026: the four older ones
  replaced (some expired), the newest valid (60 %), due (10 %), expired (20 %) or revoked
  (10 %, with an issued revocation and its decision) — at most one active rating per
  product, as the database requires;

then ``VACUUM ANALYZE``. It requests the dashboard in-process through Django's test
``Client`` with production settings (``DEBUG=0``) as ``sonn.cantho`` (the whole province:
every row) and ``canbo.ninhkieu`` (a pre-2025 district), interleaved with ``/healthz``
(database and Redis ping: the floor of a request), after a warm-up, N times each (default
30), and prints the median and p95 of each and the ratio of the medians, then the line

    stats: 100000 ratings, dashboard p50 12.3 ms = 3.1× /healthz (limit 5×)

Exit status 1 when a user's ratio is above 5 (2 when the database is not PostgreSQL). The
first request of each user (no cached figures) is printed too: the figures are cached for
``STATS_CACHE_SECONDS`` (docs/statistics.md, "Cache").
"""

import argparse
import datetime
import os
import statistics
import sys
import time

import _common
from _common import log

sys.path.insert(0, str(_common.ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocop.settings")
PRODUCTS = 20_000
DOSSIERS = 50_000
RATINGS_PER_PRODUCT = 5
RATIO_MAX = 5.0
WARMUP = 3


def production_env(url):
    """Production settings (DEBUG=0) for the in-process requests; nothing leaves the
    machine."""
    os.environ.update({
        "DATABASE_URL": url, "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-" + "x" * 50,
        "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "CSRF_TRUSTED_ORIGINS": "http://127.0.0.1", "DEFAULT_FROM_EMAIL": "bench@localhost",
        "SECURE_SSL_REDIRECT": "0", "CELERY_TASK_ALWAYS_EAGER": "1",
    })


# --- seeding -----------------------------------------------------------------------------------


def _ids(values):
    return "ARRAY[" + ",".join(str(v) for v in values) + "]::int[]"


def seed(connection):
    from django.core.management import call_command
    from django.utils import timezone

    from dossiers.models import (
        Decision,
        DecisionKind,
        DecisionState,
        Dossier,
        EvaluationRound,
        Rating,
        Revocation,
        RevocationState,
    )
    from ocop.demo import seed_demo
    from ocop.regions.models import AdministrativeUnit, Level
    from scoring.models import CriteriaSet, ProcessLevel, Regime

    call_command("migrate", verbosity=0)
    seed_demo(base=True)
    province = AdministrativeUnit.objects.current().get(level=Level.PROVINCE, code="92")
    old_province = AdministrativeUnit.objects.legacy().get(level=Level.PROVINCE, code="92")
    current = list(AdministrativeUnit.objects.current().filter(
        province=province, level=Level.COMMUNE).values_list("pk", flat=True))
    legacy = list(AdministrativeUnit.objects.legacy().filter(
        province=old_province, level=Level.COMMUNE).values_list("pk", flat=True))
    sets_26 = list(CriteriaSet.objects.published().filter(regime__slug="26/2026")
                   .values_list("pk", flat=True))
    regime = Regime.objects.get(slug="26/2026")
    level = ProcessLevel.objects.get(regime=regime, admin_level="province")
    rounds = [EvaluationRound.objects.create(
        regime=regime, level=level, unit=province, year=year, number=number,
        intake_deadline=datetime.date(year, 4 if number == 1 else 10, 30),
        is_open=is_open)
        for year, number, is_open in ((2024, 1, False), (2024, 2, False), (2025, 1, False),
                                      (2025, 2, False), (2026, 2, True), (2027, 1, True))]
    now = timezone.now()
    with connection.cursor() as cur:
        log(f"  {PRODUCTS:,} producers and products …")
        cur.execute(f"""
            INSERT INTO dossiers_producer (type, name, registration_no, representative_name,
                representative_gender, representative_ethnicity, address, unit_id, phone,
                email, created_at)
            SELECT (ARRAY['cooperative','cooperative_group','enterprise','household'])[1 + i %% 4],
                   'Chủ thể ' || i, '19' || lpad(i::text, 8, '0'), 'Nguyễn Văn ' || i,
                   'male', 'Kinh', 'Ấp ' || (1 + i %% 9),
                   CASE WHEN i %% 4 = 0
                        THEN ({_ids(legacy)})[1 + i %% {len(legacy)}]
                        ELSE ({_ids(current)})[1 + i %% {len(current)}] END,
                   '', '', %s
            FROM generate_series(1, {PRODUCTS}) AS i""", [now])
        cur.execute("SELECT min(id) FROM dossiers_producer WHERE registration_no LIKE '19%%'")
        first_producer = cur.fetchone()[0]
        cur.execute(f"""
            INSERT INTO dossiers_product (producer_id, name, criteria_set_id, code, created_at)
            SELECT p.id, 'Sản phẩm ' || p.id,
                   ({_ids(sets_26)})[1 + p.id %% {len(sets_26)}], '', %s
            FROM dossiers_producer p WHERE p.id >= %s""", [now, first_producer])
        cur.execute("SELECT min(id), count(*) FROM dossiers_product WHERE name LIKE 'Sản phẩm %%'")
        first_product, products = cur.fetchone()
        assert products == PRODUCTS, products
        log(f"  {DOSSIERS:,} dossiers …")
        states = ("draft", "submitted", "returned", "resubmitted", "accepted", "pre_assessed",
                  "in_evaluation", "forwarded", "recognised", "not_recognised", "withdrawn",
                  "recognised")
        cur.execute(f"""
            INSERT INTO dossiers_dossier (round_id, product_id, criteria_set_id, unit_id,
                registration_type, state, registration, search_text, created_at,
                updated_at)
            SELECT ({_ids(r.pk for r in rounds)})[1 + i %% {len(rounds)}],
                   pr.id, pr.criteria_set_id, p.unit_id,
                   (ARRAY['first','first','reevaluation','upgrade'])[1 + i %% 4],
                   (ARRAY[{",".join(f"'{s}'" for s in states)}])[1 + (i / 7) %% {len(states)}],
                   '{{}}'::jsonb, 'san pham ' || pr.id, %s, %s
            FROM generate_series(0, {DOSSIERS - 1}) AS i
            JOIN dossiers_product pr ON pr.id = {first_product} + i %% {PRODUCTS}
            JOIN dossiers_producer p ON p.id = pr.producer_id""", [now, now])
        log(f"  {PRODUCTS * RATINGS_PER_PRODUCT:,} ratings …")
        # k = 0 … 4: the k-th rating of the product, decided ~18 months apart, the newest
        # (k = 4) between 2023 and 2026
        cur.execute(f"""
            INSERT INTO dossiers_rating (product_id, regime_id, stars, score, decision_number,
                decision_date, valid_from, valid_until, state, product_code, certificate,
                source_dossier_id, created_at)
            SELECT pr.id, {regime.pk}, 3 + (pr.id + k) %% 3, 60 + (pr.id + k) %% 40,
                   (1 + (pr.id + k) %% 400) || '/QĐ-UBND', d.day, d.day,
                   (d.day + interval '36 months' - interval '1 day')::date,
                   CASE WHEN k < 4 THEN (CASE WHEN k = 3 AND pr.id %% 5 = 0 THEN 'expired'
                                              ELSE 'replaced' END)
                        ELSE (ARRAY['valid','valid','valid','valid','valid','valid','due',
                                    'expired','expired','revoked'])[1 + pr.id %% 10] END,
                   '', '', CASE WHEN k = 4 THEN (SELECT min(id) FROM dossiers_dossier
                                                 WHERE product_id = pr.id) END, %s
            FROM dossiers_product pr
            CROSS JOIN generate_series(0, {RATINGS_PER_PRODUCT - 1}) AS k
            CROSS JOIN LATERAL (SELECT (DATE '2019-03-01' + (k * 540 + pr.id %% 365)
                                        * interval '1 day')::date AS day) d
            WHERE pr.id >= %s""", [now, first_product])
        cur.execute("UPDATE dossiers_rating SET valid_until = CURRENT_DATE + (id % 400)::int "
                    "WHERE state IN ('valid', 'due') AND valid_until < CURRENT_DATE + 400 "
                    "AND id % 3 = 0")
    revoked = list(Rating.objects.filter(state="revoked").values_list("pk", "decision_date"))
    log(f"  {len(revoked):,} revocations …")
    decisions = Decision.objects.bulk_create([Decision(
        kind=DecisionKind.REVOCATION, state=DecisionState.ISSUED, regime=regime, level=level,
        issuer_unit=province, issuer_name="Ủy ban nhân dân thành phố Cần Thơ",
        number=n + 1, symbol="QĐ-UBND-TH", reference=f"{n + 1}/QĐ-UBND",
        year=2026, date=datetime.date(2026, 1, 1) + datetime.timedelta(days=n % 300))
        for n in range(len(revoked))], batch_size=2000)
    Revocation.objects.bulk_create([Revocation(
        rating_id=pk, ground=("c", "d", "dd")[n % 3],
        conclusion_reference="Kết luận kiểm tra", conclusion_date=decision.date,
        state=RevocationState.ISSUED, decision=decision)
        for n, ((pk, _day), decision) in enumerate(zip(revoked, decisions, strict=True))],
        batch_size=2000)
    log(f"  seeded: {Rating.objects.count():,} ratings, {Dossier.objects.count():,} dossiers")
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")


# --- measuring ---------------------------------------------------------------------------------


def percentile(values, fraction):
    values = sorted(values)
    k = (len(values) - 1) * fraction
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def measure(n):
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    results = []
    cache.clear()
    for username in ("sonn.cantho", "canbo.ninhkieu"):
        client = Client()
        client.force_login(get_user_model().objects.get(username=username))
        started = time.perf_counter()
        response = client.get("/stats/")
        cold = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.status_code
        for _ in range(WARMUP):
            client.get("/stats/")
            client.get("/healthz")
        page, health = [], []
        for _ in range(n):
            started = time.perf_counter()
            response = client.get("/stats/")
            page.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
            started = time.perf_counter()
            response = client.get("/healthz")
            health.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.content
        with CaptureQueriesContext(connection) as queries:
            client.get("/stats/")
        ratio = statistics.median(page) / statistics.median(health)
        results.append((username, ratio))
        log(f"  {username:16} first request {cold:7.1f} ms · /stats/ p50 "
            f"{statistics.median(page):6.1f} ms p95 {percentile(page, .95):6.1f} ms · "
            f"/healthz p50 {statistics.median(health):5.1f} ms p95 "
            f"{percentile(health, .95):5.1f} ms · ratio {ratio:4.1f}× · "
            f"{len(queries.captured_queries)} queries")
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("-n", type=int, default=30, help="requests per user (default 30)")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the database kept by an earlier --keep run")
    args = parser.parse_args()
    url = _common.bench_url(os.environ.get("DATABASE_URL"), "ocop_bench_stats")
    if url is None:
        log("stats: needs PostgreSQL (DATABASE_URL)")
        return 2
    if not args.reuse:
        _common.recreate_database(url)
    production_env(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    try:
        if not args.reuse:
            started = time.perf_counter()
            seed(connection)
            log(f"  seeding took {time.perf_counter() - started:.0f} s")
        call_command("collectstatic", "--noinput", verbosity=0)  # production's manifest
        results = measure(args.n)
        worst = max(ratio for _user, ratio in results)
        from dossiers.models import Rating

        log(f"stats: {Rating.objects.count()} ratings, dashboard p50 = {worst:.1f}× /healthz "
            f"(worst user; limit {RATIO_MAX:.0f}×)")
        return 0 if worst <= RATIO_MAX else 1
    finally:
        connection.close()
        if not (args.keep or args.reuse):
            _common.drop_database(url)


if __name__ == "__main__":
    sys.exit(main())
