#!/usr/bin/env python3
"""Benchmark: the officer's dossier list with 50,000 dossiers in PostgreSQL.

    .venv/bin/python benchmarks/dossier_list.py            # 127.0.0.1:5432
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ocop \
        .venv/bin/python benchmarks/dossier_list.py [--keep] [--explain] [-n 30]

The benchmark runs on the PostgreSQL server of ``DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432``) in its own database ``ocop_bench_list`` — the
database named in the URL is never touched (``make bench`` passes the developer's
database), unless its name starts with ``ocop_bench``. That database is dropped if it
exists, created, migrated and filled: the Cần Thơ units, the criteria sets
and the demo accounts (``ocop.demo`` steps, without the demo dossiers), then 50,000
dossiers with their producers and products written with ``COPY`` — spread over the nine
pre-2025 districts of Cần Thơ (Ninh Kiều and Phong Điền a fifth each) under 148 and the
current communes under 26/2026, over all states and rounds from 2024 to 2026, with
``search_text`` computed by ``ocop.text.fold`` as the services do, due dates (some of them
overdue) and 50 products named "Bưởi Năm Roi …". Then ``VACUUM ANALYZE`` (what
autovacuum does on a database in use).

It then requests the real list view (``dossiers:list``) through Django's test ``Client``,
signed in as ``canbo.ninhkieu`` (a district: about 10,000 dossiers) and as
``sonn.cantho`` (the province: all 50,000), for five scenarios — plain list, state + round
filter, search ``q=buoi nam roi``, overdue only, search + filters — warms up, then times
N requests each and prints p50/p95 per scenario and the final line

    dossier_list: 50000 dossiers, worst p95 123 ms (limit 200 ms)

Exit status 1 when the worst p95 reaches the limit (2 when the database is not
PostgreSQL). ``--explain`` prints ``EXPLAIN ANALYZE`` of the SQL of the slowest request;
``--keep`` keeps the database (otherwise it is dropped at the end). Requests run with
``DEBUG`` off, as in production.
"""


import argparse
import os
import re
import statistics
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocop.settings")

from _common import (  # noqa: E402 - benchmarks/ is on sys.path when the script runs
    bench_url,
    db_name,
    drop_database,
    log,
    recreate_database,
    seed_dossiers,
    seed_reference,
    vacuum_analyze,
)

DATABASE = "ocop_bench_list"
LIMIT_MS = 200.0
WARMUP = 3


# --- measuring ---------------------------------------------------------------------------------


def scenarios(user, rounds):
    """(label, query parameters) of the five measured requests for ``user``."""
    from dossiers.models import EvaluationRound

    if user.username == "canbo.ninhkieu":
        round_ = rounds["916"][-1]
    else:
        round_ = EvaluationRound.objects.get(pk=rounds["26/2026"][-1].pk)
    return [
        ("plain list", {}),
        ("state + round", {"state": "submitted", "round": round_.pk}),
        ("search 'buoi nam roi'", {"q": "buoi nam roi"}),
        ("overdue only", {"overdue": "on"}),
        ("search + filters", {"q": "buoi nam roi", "state": "recognised",
                              "registration_type": "first"}),
    ]


def percentile(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def _result_count(response):
    """The number of dossiers the page reports (``<p class="result-count">``)."""
    match = re.search(r'class="result-count">\s*([\d.,\s]+)',
                      response.content.decode())
    return int(re.sub(r"\D", "", match.group(1))) if match else -1


def measure(n, rounds):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    url = reverse("dossiers:list")
    results = []
    for username in ("canbo.ninhkieu", "sonn.cantho"):
        user = get_user_model().objects.get(username=username)
        client = Client()
        client.force_login(user)
        for label, params in scenarios(user, rounds):
            path = f"{url}?{urlencode(params)}" if params else url
            for _ in range(WARMUP):
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)
            timings, cpu = [], []
            for _ in range(n):
                started, cpu_started = time.perf_counter(), time.process_time()
                response = client.get(path)
                timings.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - cpu_started) * 1000)
                assert response.status_code == 200
            count = _result_count(response)
            with CaptureQueriesContext(connection) as queries:
                client.get(path)
            results.append({
                "user": username, "label": label, "path": path, "count": count,
                "p50": statistics.median(timings), "p95": percentile(timings, 95),
                "cpu": statistics.median(cpu),
                "queries": [q["sql"] for q in queries.captured_queries],
            })
            r = results[-1]
            log(f"  {username:15} {label:22} {count:6} rows  p50 {r['p50']:6.1f} ms  "
                f"p95 {r['p95']:6.1f} ms  (Python CPU p50 {r['cpu']:5.1f} ms, "
                f"{len(queries)} queries)")
    return results


def explain(result):
    from django.db import connection

    log(f"\nEXPLAIN ANALYZE of {result['user']} {result['path']}:")
    with connection.cursor() as cursor:
        for sql in result["queries"]:
            if "dossiers_dossier" not in sql:
                continue
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            log("\n" + sql[:300] + ("…" if len(sql) > 300 else ""))
            for (line,) in cursor.fetchall():
                log("    " + line)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=30, help="timed requests per scenario")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--explain", action="store_true",
                        help="EXPLAIN ANALYZE the slowest request's queries")
    args = parser.parse_args(argv)

    url = bench_url(os.environ.get("DATABASE_URL"), DATABASE)
    if url is None:
        print(f"dossier_list: needs PostgreSQL, DATABASE_URL is "
              f"{os.environ['DATABASE_URL']!r}", file=sys.stderr)
        return 2
    os.environ["DATABASE_URL"] = url
    log(f"dossier_list: database {db_name(url)!r} on {urlsplit(url).netloc}")
    recreate_database(url)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction

    settings.DEBUG = False  # as in production: no query log, cached templates
    warnings.filterwarnings("ignore", message="No directory at")
    try:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        with transaction.atomic():
            seed_reference()
        log(f"dossier_list: migrated and loaded the reference data in "
            f"{time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        with transaction.atomic():
            rounds = seed_dossiers()
        vacuum_analyze()
        from dossiers.models import Dossier

        total = Dossier.objects.count()
        log(f"dossier_list: seeded {total} dossiers (COPY, VACUUM ANALYZE) in "
            f"{time.perf_counter() - started:.1f} s; measuring {args.n} requests per "
            "scenario")
        results = measure(args.n, rounds)
        worst = max(results, key=lambda r: r["p95"])
        if args.explain:
            explain(worst)
        log(f"dossier_list: slowest: {worst['user']}, {worst['label']}")
        print(f"dossier_list: {total} dossiers, worst p95 {worst['p95']:.0f} ms "
              f"(limit {LIMIT_MS:.0f} ms)")
        return 1 if worst["p95"] >= LIMIT_MS else 0
    finally:
        if not args.keep:
            drop_database(url)


if __name__ == "__main__":
    sys.exit(main())
