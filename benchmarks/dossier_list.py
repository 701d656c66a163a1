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
import datetime
import io
import os
import random
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

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ocop_bench_list"
TOTAL = 50_000
BUOI_NAM_ROI = 50
LIMIT_MS = 200.0
WARMUP = 3
TODAY = datetime.date(2026, 11, 20)  # the data's "today"; overdue is computed on the real day

#: (name, criteria set number) of Cần Thơ products; none of them contains "bưởi năm roi".
PRODUCTS = [
    ("Vú sữa Lò Rèn", 1), ("Dâu Hạ Châu", 1), ("Xoài cát Hòa Lộc", 1), ("Sầu riêng Ri6", 1),
    ("Chôm chôm Java", 1), ("Măng cụt", 1), ("Bưởi da xanh", 1), ("Khóm Cầu Đúc", 1),
    ("Cá lóc đồng", 2), ("Tôm càng xanh", 2), ("Gạo thơm ST25", 3), ("Gạo nàng thơm", 3),
    ("Mật ong hoa xoài", 4), ("Mật ong rừng tràm", 4), ("Bánh mì chà bông", 5),
    ("Bánh tét lá cẩm", 6), ("Bánh pía sầu riêng", 6), ("Hủ tiếu khô", 6), ("Bánh tráng", 6),
    ("Bánh hỏi mặt võng", 6), ("Khô cá lóc", 8), ("Chả cá thát lát", 8), ("Lạp xưởng tươi", 8),
    ("Chà bông cá lóc", 8), ("Nem chua", 8), ("Nước mắm cá cơm", 9), ("Mắm cá linh", 9),
    ("Muối ớt tôm", 10), ("Tiêu xanh", 10), ("Rượu nếp than", 14), ("Rượu đế", 14),
    ("Rượu vang khóm", 15), ("Nước ép khóm", 17), ("Nước cốt dừa", 17), ("Cao atiso", 18),
    ("Xà bông thảo dược", 19), ("Tinh dầu sả chanh", 20), ("Tinh dầu bưởi", 20),
    ("Túi xách lục bình", 21), ("Giỏ đan tre", 21), ("Áo bà ba", 22), ("Lan Dendrobium", 23),
    ("Mai vàng bonsai", 24), ("Cá chép Koi", 25), ("Du lịch sinh thái vườn trái cây", 26),
]
VARIANTS = ["", "loại 1", "hộp 500 g", "túi 1 kg", "chai 500 ml", "đặc biệt", "hữu cơ",
            "VietGAP", "quà tặng", "truyền thống"]
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Đặng", "Lâm", "Thạch", "Sơn",
            "Quách", "Lý", "Châu", "Danh", "Trương"]
GIVEN = ["Văn Tâm", "Thị Hồng", "Văn Phước", "Thị Thu", "Minh Khoa", "Thị Lài", "Quốc Huy",
         "Ngọc Minh", "Thị Kim Hoa", "Văn Sóc", "Thị Mai", "Văn Hậu", "Thị Ngọc Ánh"]
ETHNICITIES = ["Kinh"] * 8 + ["Khmer", "Hoa"]
TYPES = [("cooperative", "Hợp tác xã"), ("cooperative_group", "Tổ hợp tác"),
         ("enterprise", "Công ty TNHH"), ("household", "Hộ kinh doanh")]

#: State → weight, for dossiers of an open round and of a past round.
OPEN_STATES = {"draft": 12, "submitted": 16, "returned": 8, "resubmitted": 6, "accepted": 10,
               "pre_assessed": 8, "in_evaluation": 10, "forwarded": 6, "recognised": 10,
               "not_recognised": 6, "withdrawn": 8}
PAST_STATES = {"submitted": 2, "resubmitted": 1, "accepted": 2, "forwarded": 20,
               "recognised": 40, "not_recognised": 20, "withdrawn": 15}
PENDING = {"submitted", "resubmitted", "accepted"}


def log(message):
    print(message, flush=True)


# --- the database ----------------------------------------------------------------------------


def _admin_connection(url):
    import psycopg2

    parts = urlsplit(url)
    conn = psycopg2.connect(dbname="postgres", user=parts.username or None,
                            password=parts.password or None, host=parts.hostname or None,
                            port=parts.port or None)
    conn.autocommit = True
    return conn


def _db_name(url):
    return urlsplit(url).path.lstrip("/")


def bench_url(url):
    """The URL to run on: the server of ``url`` (default: the local server) with the
    benchmark's own database; None when ``url`` is not PostgreSQL."""
    parts = urlsplit(url or DEFAULT_URL)
    if not parts.scheme.startswith("postgres"):
        return None
    name = parts.path.lstrip("/")
    if not name.startswith("ocop_bench"):
        name = _db_name(DEFAULT_URL)
    return parts._replace(path=f"/{name}").geturl()


def recreate_database(url):
    name = _db_name(url)
    conn = _admin_connection(url)
    try:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0')
    finally:
        conn.close()


def drop_database(url):
    from django.db import connections

    connections.close_all()
    conn = _admin_connection(url)
    try:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{_db_name(url)}" WITH (FORCE)')
    finally:
        conn.close()


# --- seeding ---------------------------------------------------------------------------------


def _copy_value(value):
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    text = str(value)
    return (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def copy_rows(cursor, model, columns, rows):
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(_copy_value(v) for v in row))
        buffer.write("\n")
    buffer.seek(0)
    cols = ", ".join(f'"{c}"' for c in columns)
    cursor.copy_expert(f'COPY "{model._meta.db_table}" ({cols}) FROM STDIN', buffer)


def _weighted(rng, weights):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _working_days_after(day, n):
    while n:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def seed_reference():
    """Units of Cần Thơ, the criteria sets and the demo accounts (no demo dossiers)."""
    from ocop.demo import seed_demo

    seed_demo(base=True)


def _rounds():
    """Rounds: four 148 rounds per pre-2025 district, two 26/2026 rounds of the province."""
    from dossiers.models import EvaluationRound
    from ocop.regions.models import AdministrativeUnit, Level
    from scoring.models import ProcessLevel

    level_148 = ProcessLevel.objects.select_related("regime").get(regime__slug="148",
                                                                  admin_level="district")
    level_26 = ProcessLevel.objects.select_related("regime").get(regime__slug="26/2026",
                                                                 admin_level="province")
    old_province = AdministrativeUnit.objects.legacy().get(level=Level.PROVINCE, code="92")
    province = AdministrativeUnit.objects.current().get(level=Level.PROVINCE, code="92")
    districts = list(old_province.children.filter(level=Level.DISTRICT).order_by("code"))
    plan_148 = [(2024, 1, datetime.date(2024, 4, 30), False),
                (2024, 2, datetime.date(2024, 10, 31), False),
                (2025, 1, datetime.date(2025, 4, 30), False),
                (2026, 1, datetime.date(2026, 12, 15), True)]
    plan_26 = [(2026, 1, datetime.date(2026, 4, 30), False),
               (2026, 2, datetime.date(2026, 12, 15), True)]
    rounds = {}
    for district in districts:
        rounds[district.code] = [
            EvaluationRound.objects.create(
                regime=level_148.regime, level=level_148, unit=district, year=year,
                number=number, intake_deadline=deadline, is_open=is_open,
                planned_session_date=deadline + datetime.timedelta(days=30))
            for year, number, deadline, is_open in plan_148]
    rounds["26/2026"] = [
        EvaluationRound.objects.create(
            regime=level_26.regime, level=level_26, unit=province, year=year, number=number,
            intake_deadline=deadline, is_open=is_open,
            planned_session_date=deadline + datetime.timedelta(days=45))
        for year, number, deadline, is_open in plan_26]
    communes = {d.code: list(d.children.filter(level=Level.COMMUNE).order_by("code"))
                for d in districts}
    current = list(AdministrativeUnit.objects.current().filter(
        province=province, level=Level.COMMUNE).order_by("code"))
    return districts, rounds, communes, current


def seed_dossiers(total=TOTAL, seed=2026):
    """Producers, products and ``total`` dossiers, written with COPY."""
    from django.db import connection
    from django.db.models import Max
    from django.utils import timezone

    from dossiers.models import Dossier, Producer, Product
    from ocop.text import fold
    from scoring.models import CriteriaSet

    rng = random.Random(seed)
    districts, rounds, communes, current = _rounds()
    sets = {}
    for cs in CriteriaSet.objects.published().select_related("regime"):
        sets[(cs.regime.slug, cs.set_no)] = cs.pk

    # Where the dossiers are: (kind, district code or None), with weights.
    areas = [("148", "916", 20), ("148", "926", 20)]
    others = [d.code for d in districts if d.code not in ("916", "926")]
    areas += [("148", code, 35 / len(others)) for code in others]
    areas += [("26/2026", None, 25)]
    area_weights = [w for *_, w in areas]

    start_id = {model: (model.objects.aggregate(m=Max("id"))["m"] or 0) + 1
                for model in (Producer, Product, Dossier)}
    producers, products, dossiers = [], [], []
    tz = timezone.get_current_timezone()
    buoi_places = (["916"] * 10 + ["926"] * 30 + [None] * 10)
    for i in range(total):
        if i < BUOI_NAM_ROI:
            where = buoi_places[i]
            kind, district = ("26/2026", None) if where is None else ("148", where)
            base, set_no = "Bưởi Năm Roi", 1
        else:
            kind, district, _w = rng.choices(areas, weights=area_weights)[0]
            base, set_no = rng.choice(PRODUCTS)
        if kind == "148":
            unit = rng.choice(communes[district])
            round_options = rounds[district]
        else:
            unit = rng.choice(current)
            round_options = rounds["26/2026"]
        # Four in ten dossiers are in the open round.
        round_ = round_options[-1] if rng.random() < 0.4 else rng.choice(round_options[:-1])
        if (kind, set_no) == ("148", 7) or (kind, set_no) in (("148", 11), ("148", 12),
                                                            ("148", 13)):
            set_no = 1
        criteria_set = sets.get((kind, set_no)) or sets[(kind, 1)]
        place = unit.name.split(" ", 1)[-1]
        variant = rng.choice(VARIANTS)
        name = " ".join(part for part in (base, place, variant) if part)
        type_value, type_label = rng.choice(TYPES)
        person = f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}"
        producer_name = (f"{type_label} {person}" if type_value == "household"
                         else f"{type_label} {base} {place} {i % 997 + 1}")
        registration_no = f"18{30000000 + i:08d}"
        producer_id = start_id[Producer] + i
        product_id = start_id[Product] + i
        state = _weighted(rng, OPEN_STATES if round_.is_open else PAST_STATES)
        created = datetime.datetime.combine(
            min(round_.intake_deadline, TODAY) - datetime.timedelta(days=rng.randint(20, 150)),
            datetime.time(rng.randint(7, 16), rng.randint(0, 59)), tz)
        submitted = None if state == "draft" else created + datetime.timedelta(
            days=rng.randint(1, 10))
        accepted = (submitted + datetime.timedelta(days=rng.randint(3, 15))
                    if submitted and state not in ("submitted", "returned", "resubmitted",
                                                   "withdrawn") else None)
        if submitted is None:
            due = None
        elif kind == "148":
            due = max(round_.intake_deadline, submitted.date())
        else:
            due = _working_days_after(submitted.date(), 15)
        updated = max(t for t in (created, submitted, accepted) if t) + datetime.timedelta(
            days=rng.randint(0, 20), minutes=rng.randint(0, 600))
        updated = min(updated, datetime.datetime.combine(TODAY, datetime.time(17), tz))
        code = ""
        if kind == "26/2026" and accepted:
            code = f"92-{unit.code}-{i:03d}-{round_.year}"[:40]
        search_text = fold(" ".join(p for p in (name, producer_name, code, registration_no)
                                    if p))
        producers.append((
            producer_id, type_value, producer_name, registration_no, person,
            rng.choice(["female", "male"]), rng.choice(ETHNICITIES),
            f"Ấp {rng.randint(1, 12)}, {unit.name}", unit.pk, "", "", created, None))
        products.append((product_id, producer_id, name, criteria_set, code, created))
        dossiers.append((
            start_id[Dossier] + i, round_.pk, product_id, criteria_set, unit.pk,
            rng.choice(["first"] * 8 + ["upgrade", "reevaluation"]), None, state, "{}",
            5 if submitted and set_no != 26 else None,
            submitted.date() if submitted and set_no != 26 else None,
            submitted, accepted, due, search_text, created, updated, None))

    with connection.cursor() as cursor:
        copy_rows(cursor, Producer, [f.column for f in Producer._meta.concrete_fields],
                  producers)
        copy_rows(cursor, Product, [f.column for f in Product._meta.concrete_fields],
                  products)
        copy_rows(cursor, Dossier, [f.column for f in Dossier._meta.concrete_fields],
                  dossiers)
        from django.core.management.color import no_style

        for sql in connection.ops.sequence_reset_sql(no_style(), [Producer, Product,
                                                                  Dossier]):
            cursor.execute(sql)
    return rounds


def vacuum_analyze():
    """What autovacuum would have done on a database in use: statistics and the visibility
    map (index-only scans)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


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

    url = bench_url(os.environ.get("DATABASE_URL"))
    if url is None:
        print(f"dossier_list: needs PostgreSQL, DATABASE_URL is "
              f"{os.environ['DATABASE_URL']!r}", file=sys.stderr)
        return 2
    os.environ["DATABASE_URL"] = url
    log(f"dossier_list: database {_db_name(url)!r} on {urlsplit(url).netloc}")
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
