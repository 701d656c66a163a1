"""Shared pieces of the benchmarks (not a benchmark itself: ``scripts/bench.sh`` runs it as
a no-op): a throwaway PostgreSQL database next to ``DATABASE_URL``'s, the bulk seeding of
50,000 dossiers with ``COPY`` (``benchmarks/dossier_list.py``, ``benchmarks/pages.py``), a
browser's session cookies written without the login form, and a real gunicorn server with
production settings (``benchmarks/autosave.py``, ``benchmarks/pages.py``).

Import it from a benchmark script as ``import _common`` (the script's directory is on
``sys.path`` when it runs as ``python benchmarks/<name>.py``).
"""

import datetime
import http.client
import io
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent

#: The PostgreSQL server used when ``DATABASE_URL`` names none.
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/"

TOTAL = 50_000
BUOI_NAM_ROI = 50
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


def admin_connection(url):
    """A connection to the ``postgres`` database of the server ``url`` names, in autocommit
    (CREATE and DROP DATABASE cannot run in a transaction)."""
    import psycopg2

    parts = urlsplit(url)
    conn = psycopg2.connect(dbname="postgres", user=parts.username or None,
                            password=parts.password or None, host=parts.hostname or None,
                            port=parts.port or None)
    conn.autocommit = True
    return conn


def admin_execute(url, *statements):
    """Run ``statements`` on the server's ``postgres`` database (:func:`admin_connection`)."""
    conn = admin_connection(url)
    try:
        with conn.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
    finally:
        conn.close()


def db_name(url):
    return urlsplit(url).path.lstrip("/")


def bench_url(url, name):
    """The URL to run on: the server of ``url`` (default: the local server) with the
    benchmark's own database ``name`` (kept when ``url`` already names an ``ocop_bench…``
    database); None when ``url`` is not PostgreSQL."""
    parts = urlsplit(url or DEFAULT_SERVER)
    if not parts.scheme.startswith("postgres"):
        return None
    named = parts.path.lstrip("/")
    if named.startswith("ocop_bench"):
        name = named
    return parts._replace(path=f"/{name}").geturl()


def recreate_database(url):
    name = db_name(url)
    admin_execute(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                  f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0')


def drop_database(url):
    from django.db import connections

    connections.close_all()
    admin_execute(url, f'DROP DATABASE IF EXISTS "{db_name(url)}" WITH (FORCE)')


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


#: The columns ``seed_dossiers`` writes, in the order of its rows.
PRODUCER_COLUMNS = ("id", "type", "name", "registration_no", "representative_name",
                    "representative_gender", "representative_ethnicity", "address", "unit_id",
                    "phone", "email", "created_at", "created_by_id")
PRODUCT_COLUMNS = ("id", "producer_id", "name", "criteria_set_id", "code", "created_at")
DOSSIER_COLUMNS = ("id", "round_id", "product_id", "criteria_set_id", "unit_id",
                   "registration_type", "current_rating_id", "state", "registration",
                   "samples_count", "samples_received_on", "submitted_at", "accepted_at",
                   "due_date", "search_text", "created_at", "updated_at", "created_by_id")


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
        # Columns named: a column added later keeps its default (or NULL).
        copy_rows(cursor, Producer, PRODUCER_COLUMNS, producers)
        copy_rows(cursor, Product, PRODUCT_COLUMNS, products)
        copy_rows(cursor, Dossier, DOSSIER_COLUMNS, dossiers)
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


# --- the throwaway database -------------------------------------------------------------------


class BenchDatabase:
    """A private database for the run: PostgreSQL (created and dropped) or SQLite (temp)."""

    def __init__(self, url, prefix="ocop_bench_autosave"):
        self.original = url or ""
        parsed = urllib.parse.urlsplit(self.original)
        self.postgres = parsed.scheme in ("postgres", "postgresql", "pgsql", "postgis")
        self.tmpdir = None
        if self.postgres:
            self.name = f"{prefix}_{os.getpid()}"
            self.url = urllib.parse.urlunsplit(parsed._replace(path="/" + self.name))
        else:
            self.tmpdir = tempfile.TemporaryDirectory(prefix="ocop-bench-")
            self.name = str(Path(self.tmpdir.name) / "bench.sqlite3")
            self.url = f"sqlite:///{self.name}"

    def create(self):
        if self.postgres:
            admin_execute(self.original,
                          f'CREATE DATABASE "{self.name}" ENCODING \'UTF8\' TEMPLATE template0')

    def drop(self):
        if self.postgres:
            admin_execute(self.original, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        elif self.tmpdir is not None:
            self.tmpdir.cleanup()



def browser_cookies(user):
    """A logged-in browser's cookies (the session row a login would have written, and a
    CSRF cookie whose value the client repeats in X-CSRFToken, as the page's script does)
    — without going through the login form, whose password hashing is not what is measured."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    SessionStore = import_module(settings.SESSION_ENGINE).SessionStore  # noqa: N806
    from django.utils.crypto import get_random_string

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "ocop.accounts.backends.UserWithRolesBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    csrf = get_random_string(32)
    return {"session": (settings.SESSION_COOKIE_NAME, store.session_key),
            "csrf": (settings.CSRF_COOKIE_NAME, csrf)}



# --- the server -------------------------------------------------------------------------------


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(db_url, workers=None):
    """The environment of a server process (or a management command run as production
    would): ``db_url``, production settings (``DEBUG=0``) when ``REDIS_URL`` is set,
    ``workers`` processes (default ``WEB_CONCURRENCY`` or cores + 1)."""
    env = dict(os.environ)
    if workers:
        env["WEB_CONCURRENCY"] = str(workers)
    env.update({
        "DATABASE_URL": db_url,
        "DJANGO_SETTINGS_MODULE": "ocop.settings",
        "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
        "AXES_ENABLED": env.get("AXES_ENABLED", "1"),
        # gthread workers: cores + 1 processes of 4 threads measured better here than the
        # production default (2 × cores + 1) on a 2-core machine; override from the env.
        "WEB_CONCURRENCY": env.get("WEB_CONCURRENCY") or str((os.cpu_count() or 1) + 1),
        "GUNICORN_THREADS": env.get("GUNICORN_THREADS") or "4",
    })
    if env.get("REDIS_URL"):
        # Production settings (DEBUG=0) need these; nothing here leaves the machine.
        env.update({
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost", "CSRF_TRUSTED_ORIGINS": "http://127.0.0.1",
            "DEFAULT_FROM_EMAIL": "bench@localhost", "SECURE_SSL_REDIRECT": "0",
        })
    return env


def collect_static(db_url):
    """``collectstatic`` as ``scripts/web-start.sh`` runs it: only when the manifest is
    missing or a static file is newer (production pages name hashed static files)."""
    manifest = ROOT / "staticfiles" / "staticfiles.json"
    sources = [f for d in (ROOT / "static",) for f in d.rglob("*") if f.is_file()]
    if manifest.exists() and all(f.stat().st_mtime <= manifest.stat().st_mtime
                                 for f in sources):
        return False
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
                   cwd=ROOT, env=server_env(db_url), check=True)
    return True


def start_gunicorn(db_url, port, log, workers=None):
    """gunicorn with the project's ``gunicorn.conf.py`` on 127.0.0.1:``port`` against
    ``db_url`` (environment: :func:`server_env`). Returns (process, environment) once
    ``/healthz`` answers."""
    env = server_env(db_url, workers)
    env["GUNICORN_BIND"] = f"127.0.0.1:{port}"
    app = env.get("BENCH_WSGI_APP") or "ocop.wsgi:application"
    command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), app]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            ok = conn.getresponse().status == 200
            conn.close()
            if ok:
                return proc, env
        except OSError:
            pass
        time.sleep(0.2)
    stop_gunicorn(proc)
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


def stop_gunicorn(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()



def percentile(values, fraction):
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


if __name__ == "__main__":
    print("benchmarks/_common.py: shared helpers of the benchmarks, nothing to measure")
