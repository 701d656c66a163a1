"""Recognition documents: the three numbers of the recognition issue, measured in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ocop REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python benchmarks/recognition.py

Needs PostgreSQL (the certificates are shared with ``SELECT … FOR UPDATE SKIP LOCKED`` and
the job lock is PostgreSQL's) and Redis (the Celery broker); ``make bench`` runs it with the
services of ``scripts/services.sh``. Creates a throwaway database next to the one
DATABASE_URL names (``ocop_bench_recognition_<pid>``, dropped at the end), a temporary
media folder, and its own Celery queue in the Redis database of REDIS_URL (its keys are
removed at the end). Production settings (``DEBUG=0``) everywhere. Seeds current Cần Thơ,
the 26/2026 criteria set 01, a department staff member of the province and BENCH_PRODUCTS
(default 500) recognised results (3–5★) of one provincial round, in bulk, and drafts one
decision with all of them (``dossiers.decisions.draft_decision``). Then:

3. **Issuing with two workers** (run first, it creates the ratings the other two use):
   starts two REAL Celery workers (``celery -A ocop worker --concurrency 1`` each, prefork,
   on this run's queue), issues the decision with ``issue_decision`` (eager Celery off,
   ``DECISION_RENDER_PARALLELISM`` = 2), polls ``Decision.job_status`` until ``done`` and
   checks that every rating has exactly one certificate file and that the zip holds the
   decision and one certificate per rating. Target: < 120 s from the call of
   ``issue_decision`` to ``done`` (the issue's words; the floor printed next to it is
   (decision + N × static certificate) / 2 workers, from the other two measurements).
   The workers are stopped before the next two measurements (also on failure).
1. **One certificate**: ``render_certificate(rating)`` (the rating freshly read from the
   database each time, as the worker has it) against WeasyPrint alone on the *same* HTML
   (the certificate template rendered once with ``certificate_context``), with the
   project's base URL, URL fetcher and a new ``FontConfiguration`` each time, as
   ``ocop.documents.pdf.render_pdf`` does; interleaved A, B, A, B… after BENCH_WARMUP
   (default 3) warm-up pairs, BENCH_ROUNDS (default 25, at least 20) pairs. Target:
   median(A) / median(B) ≤ 1.5 (p95 printed too).
2. **The decision with its N-line annex**: ``render_decision(decision, draft=False)`` of
   the issued decision in a fresh Python process (Django set up, WeasyPrint imported, then
   the render timed); peak RSS is the child's ``VmHWM`` counted afresh when the render
   starts (``/proc/self/clear_refs``): the process's resident memory at its highest during
   the render, Django and WeasyPrint included (``ru_maxrss`` would report the benchmark's
   own size, see :func:`peak_kb`). Targets: < 15 s and < 300 MB
   (the issue's words: absolute, on a noisy machine they vary 2–5×).

Prints a table, exits 1 when a target is missed or a check fails. BENCH_ISSUE_TIMEOUT
(default 300 s) bounds the wait for ``done``. BENCH_PROFILE=n prints where the time goes
(cProfile of n certificates and of the decision, after the measurements); with a small
BENCH_PRODUCTS (e.g. 20) that is a quick look. BENCH_KEEP=1 keeps the temporary folder
(the workers' logs, the PDFs and the zip) and prints where it is.
"""

import json
import logging
import os
import re
import resource
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import zipfile
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocop.settings")

PRODUCTS = int(os.environ.get("BENCH_PRODUCTS") or 500)
ROUNDS = max(20, int(os.environ.get("BENCH_ROUNDS") or 25))
WARMUP = int(os.environ.get("BENCH_WARMUP") or 3)
PROFILE = int(os.environ.get("BENCH_PROFILE") or 0)
ISSUE_TIMEOUT = float(os.environ.get("BENCH_ISSUE_TIMEOUT") or 300)
WORKERS = 2
QUEUE = f"bench-recognition-{os.getpid()}"
CRITERIA_FILE = ("26-2026", "01-rau-cu-qua-hat-tuoi.yaml")

CERT_RATIO_MAX = 1.5
DECISION_SECONDS_MAX = 15.0
DECISION_MB_MAX = 300.0
ISSUE_SECONDS_MAX = 120.0


def log(message):
    print(f"==> {message}", flush=True)


def percentile(values, q):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def profile(label, call):
    """BENCH_PROFILE=n: where the time of ``call`` goes (cProfile, on stderr)."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(call)
    print(f"--- cProfile: {label}", file=sys.stderr)
    stats = pstats.Stats(profiler, stream=sys.stderr).strip_dirs()
    stats.sort_stats("cumulative").print_stats(60)
    stats.sort_stats("tottime").print_stats(15)


def quiet_weasyprint():
    """WeasyPrint warns once per document when it subsets fonts with fontTools (no
    libharfbuzz-subset on the machine): said once here, not 500 times."""
    logging.getLogger("weasyprint").setLevel(logging.ERROR)


# --- child mode: render the decision in a fresh process ----------------------------------------


def memory_kb(field):
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process in kB (Linux), or None."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    match = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) if match else None


def reset_peak_rss():
    """Start the peak-RSS count afresh (Linux ≥ 4.0: ``clear_refs`` 5 resets VmHWM), so
    that the peak is the render's and not a transient one of the set-up."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_kb():
    """The peak RSS of this process: ``VmHWM``. Not ``ru_maxrss``: for a process started by
    fork + exec, Linux reports there the larger of its own peak and the RSS of the process
    it was forked from (here the benchmark, bigger than the render)."""
    return memory_kb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def render_decision_child(decision_id, out_path):
    """Set Django up and import WeasyPrint (a warm worker's state), then time one
    ``render_decision``; report JSON on stdout, the PDF in ``out_path``."""
    import gc

    import django

    django.setup()
    quiet_weasyprint()
    import weasyprint  # noqa: F401 - imported before the clock starts, as in a warm worker

    from dossiers.certificates import render_decision
    from dossiers.models import Decision

    gc.collect()
    setup_peak = peak_kb()
    before = memory_kb("VmRSS")
    reset = reset_peak_rss()
    started = time.perf_counter()
    decision = Decision.objects.get(pk=decision_id)
    pdf = render_decision(decision, draft=False)
    seconds = time.perf_counter() - started
    peak = peak_kb()
    if PROFILE:
        profile("render_decision", lambda: render_decision(
            Decision.objects.get(pk=decision_id), draft=False))
    Path(out_path).write_bytes(pdf)
    print(json.dumps({"seconds": seconds, "peak_kb": peak, "before_kb": before,
                      "setup_peak_kb": setup_peak, "peak_is_render": reset,
                      "bytes": len(pdf)}))


# --- the run -----------------------------------------------------------------------------------


class Run:
    def __init__(self):
        url = os.environ.get("DATABASE_URL", "")
        if urllib.parse.urlsplit(url).scheme not in ("postgres", "postgresql") or \
                not os.environ.get("REDIS_URL"):
            sys.exit("recognition.py needs DATABASE_URL (PostgreSQL) and REDIS_URL "
                     "(make bench sets both)")
        from autosave import BenchDatabase  # benchmarks/ is on sys.path

        self.db = BenchDatabase(url, prefix="ocop_bench_recognition")
        self.tmp = tempfile.TemporaryDirectory(prefix="ocop-bench-recognition-",
                                               delete=not os.environ.get("BENCH_KEEP"))
        self.media = Path(self.tmp.name) / "media"
        self.procs, self.logs = [], []
        self.rows = []       # (measure, figure, target, ok)
        self.failures = []
        self.notes = []
        self.figures = {}

    def env(self, **extra):
        env = dict(os.environ)
        env.update({
            "DATABASE_URL": self.db.url, "MEDIA_ROOT": str(self.media),
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "OCOP_DECISION_RENDER_PARALLELISM": str(WORKERS),
            "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "DJANGO_SETTINGS_MODULE": "ocop.settings",
            # production settings (DEBUG=0) need these; nothing here leaves the machine
            "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "CSRF_TRUSTED_ORIGINS": "http://127.0.0.1", "DEFAULT_FROM_EMAIL": "bench@localhost",
            "SECURE_SSL_REDIRECT": "0",
        })
        env.update(extra)
        return env

    def result(self, measure, figure, target, ok):
        self.rows.append((measure, figure, target, ok))
        if not ok:
            self.failures.append(measure)

    def check(self, label, ok, detail=""):
        print(f"    [{'ok' if ok else 'FAILED'}] {label}{f': {detail}' if detail else ''}",
              flush=True)
        if not ok:
            self.failures.append(label)

    # -- set-up -------------------------------------------------------------------------------

    def setup(self):
        os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
        self.db.create()
        os.environ.update(self.env())
        import django

        django.setup()
        quiet_weasyprint()
        from django.core.management import call_command

        from ocop.celery import app

        app.conf.task_default_queue = QUEUE
        started = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        log(f"migrated {self.db.name} ({time.perf_counter() - started:.1f} s)")
        started = time.perf_counter()
        staff, draft = self.seed()
        log(f"seeded {PRODUCTS} recognised results and drafted decision {draft.pk} "
            f"({time.perf_counter() - started:.1f} s)")
        return staff, draft

    def seed(self):
        import datetime

        from dossiers import decisions
        from dossiers.models import (
            Dossier,
            DossierState,
            EvaluationRound,
            Gender,
            Producer,
            ProducerType,
            Product,
            Transition,
        )
        from ocop.accounts.models import Role, RoleAssignment, User
        from ocop.regions.loader import load_units
        from ocop.regions.models import AdministrativeUnit, Level
        from ocop.text import fold
        from scoring.loader import DATA_DIR, load_criteria_files
        from scoring.models import CriteriaSet, ProcessLevel, Regime

        load_units([92])
        load_criteria_files([DATA_DIR.joinpath(*CRITERIA_FILE)])
        units = AdministrativeUnit.objects
        province = units.get(level=Level.PROVINCE, code="92", valid_to__isnull=True)
        communes = list(units.current().filter(province=province, level=Level.COMMUNE)
                        .order_by("code"))
        regime = Regime.objects.get(slug="26/2026")
        criteria_set = CriteriaSet.objects.scorable_for(regime).get(set_no=1)
        staff = User.objects.create_user(username="bench.sonn", password=None,
                                         full_name="Cán bộ Sở thử tải")
        RoleAssignment.objects.create(user=staff, role=Role.DEPARTMENT_STAFF, unit=province)
        year = datetime.date.today().year
        round_ = EvaluationRound.objects.create(
            regime=regime, level=ProcessLevel.objects.get(regime=regime,
                                                          admin_level="province"),
            unit=province, year=year, number=1, intake_deadline=datetime.date(year, 1, 1),
            is_open=False)

        kinds = ["Bưởi Năm Roi", "Mật ong hoa tràm", "Khô cá lóc", "Bánh pía sầu riêng",
                 "Trà mãng cầu", "Nước mắm cá linh", "Gạo thơm ST25", "Chuối sấy dẻo",
                 "Rượu nếp than", "Hạt điều rang muối", "Tinh dầu sả chanh", "Cà phê rang xay"]
        producer_kinds = [(ProducerType.COOPERATIVE, "Hợp tác xã Nông nghiệp"),
                          (ProducerType.ENTERPRISE, "Công ty TNHH Thực phẩm"),
                          (ProducerType.HOUSEHOLD, "Hộ kinh doanh")]
        producers, products, dossiers = [], [], []
        for i in range(PRODUCTS):
            kind, prefix = producer_kinds[i % len(producer_kinds)]
            commune = communes[i % len(communes)]
            producers.append(Producer(
                type=kind, name=f"{prefix} {commune.name} số {i + 1}",
                registration_no=f"18{i + 1:08d}", representative_name="Nguyễn Thị Ánh Hồng",
                representative_gender=Gender.FEMALE, address=f"Số {i + 1}, ấp Thạnh Lợi",
                unit=commune))
        producers = Producer.objects.bulk_create(producers)
        for i, producer in enumerate(producers):
            name = f"{kinds[i % len(kinds)]} loại {i + 1}"
            products.append(Product(
                producer=producer, name=name, criteria_set=criteria_set,
                code=f"92-{producer.unit.code}-{i + 1:03d}-{year}"))
        products = Product.objects.bulk_create(products)
        for i, product in enumerate(products):
            stars = (3, 4, 4, 5)[i % 4]
            score = {3: Decimal("62.50"), 4: Decimal("78.25"), 5: Decimal("91.00")}[stars]
            dossiers.append(Dossier(
                round=round_, product=product, criteria_set=criteria_set,
                unit=product.producer.unit, state=DossierState.RECOGNISED,
                result_stars=stars, result_score=score,
                search_text=fold(f"{product.name} {product.producer.name}")))
        dossiers = Dossier.objects.bulk_create(dossiers)
        Transition.objects.bulk_create(
            Transition(dossier=d, from_state=DossierState.RESULT_RECORDED,
                       to_state=DossierState.RECOGNISED, details={"outcome": "recognise"})
            for d in dossiers)
        draft = decisions.draft_decision(staff, dossiers)
        return staff, draft

    # -- workers ------------------------------------------------------------------------------

    def start_workers(self):
        for n in range(1, WORKERS + 1):
            path = Path(self.tmp.name) / f"worker{n}.log"
            handle = open(path, "w")  # noqa: SIM115 - closed with the temporary folder
            command = [sys.executable, "-m", "celery", "-A", "ocop", "worker", "-Q", QUEUE,
                       "--concurrency", "1", "-P", "prefork", "-l", "info",
                       "-n", f"bench-recognition-{n}-{os.getpid()}@%h",
                       "--without-gossip", "--without-mingle", "--without-heartbeat"]
            proc = subprocess.Popen(command, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT,
                                    env=self.env(), start_new_session=True)
            self.procs.append(proc)
            self.logs.append(path)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            for proc, path in zip(self.procs, self.logs, strict=True):
                if proc.poll() is not None:
                    raise RuntimeError(f"worker {path.stem} exited with {proc.returncode}")
            if all(re.search(r" ready\.", p.read_text(errors="replace")) for p in self.logs):
                log(f"{WORKERS} workers ready on queue {QUEUE} "
                    f"(pids {', '.join(str(p.pid) for p in self.procs)})")
                return
            time.sleep(0.2)
        raise RuntimeError("the workers were not ready within 90 s")

    def stop_workers(self):
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def worker_runs(self):
        """Per worker: the run times of its deliveries of the task (from its log)."""
        pattern = re.compile(r"dossiers\.render_decision_documents\[[^\]]+\] succeeded in "
                             r"([0-9.]+)s")
        return {path.stem: [float(x) for x in pattern.findall(path.read_text(
            errors="replace"))] for path in self.logs}

    def tail_logs(self):
        for path in self.logs:
            print(f"--- {path.name} (last lines)")
            print("\n".join(path.read_text(errors="replace").splitlines()[-40:]))

    # -- 3. issuing with two workers ----------------------------------------------------------

    def issue(self, staff, draft):
        from django.conf import settings
        from django.utils import timezone

        from dossiers import decisions
        from dossiers.models import Decision, JobStatus

        log(f"3. issuing the {PRODUCTS}-line decision with {WORKERS} workers "
            f"(DECISION_RENDER_PARALLELISM={settings.DECISION_RENDER_PARALLELISM}, "
            f"eager={settings.CELERY_TASK_ALWAYS_EAGER})")
        self.start_workers()
        started = time.perf_counter()
        decision = decisions.issue_decision(staff, draft, number=1,
                                            date=timezone.localdate(),
                                            signer_name="Trần Văn Ký")
        committed = time.perf_counter()
        row = None
        last_report = committed
        while time.perf_counter() - started < ISSUE_TIMEOUT:
            row = Decision.objects.get(pk=decision.pk)
            if row.job_status in (JobStatus.DONE, JobStatus.FAILED):
                break
            if any(p.poll() is not None for p in self.procs):
                break
            if time.perf_counter() - last_report > 15:
                last_report = time.perf_counter()
                log(f"   {row.job_status}: {row.job_done}/{row.job_total} documents after "
                    f"{last_report - started:.0f} s")
            time.sleep(0.25)
        elapsed = time.perf_counter() - started
        status = row.job_status if row else "?"
        self.figures["issue_total"] = elapsed
        self.figures["issue_call"] = committed - started
        self.figures["issue_status"] = status
        runs = self.worker_runs()
        log(f"   {status} after {elapsed:.1f} s (issue_decision itself "
            f"{committed - started:.1f} s); task runs per worker: "
            + "; ".join(f"{name}: {', '.join(f'{s:.1f} s' for s in secs) or 'none'}"
                        for name, secs in runs.items()))
        self.stop_workers()
        idle = [name for name, secs in runs.items() if not secs]
        if idle:
            self.notes.append(f"{', '.join(idle)} ran no delivery of the task: the "
                              f"certificates were not shared by {WORKERS} workers")
        ok = status == JobStatus.DONE and elapsed < ISSUE_SECONDS_MAX
        if status != JobStatus.DONE:
            reason = f" ({row.job_reason[:200]})" if row is not None and row.job_reason else ""
            self.notes.append(f"issuing ended {status!r}{reason}")
            self.tail_logs()
        self.issue_row = (f"3. issuing {PRODUCTS} certificates, {WORKERS} workers",
                          f"{elapsed:.1f} s ({status})", f"< {ISSUE_SECONDS_MAX:.0f} s", ok)
        if status == JobStatus.DONE:
            self.verify_issue(decision.pk)
        return decision.pk

    def verify_issue(self, decision_id):
        from dossiers.models import Decision

        decision = Decision.objects.get(pk=decision_id)
        ratings = list(decision.ratings.order_by("pk"))
        folder = self.media / "certificates"
        files = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
        per_rating = {r.pk: 0 for r in ratings}
        stray = []
        for name in files:
            match = re.match(r"giay-chung-nhan-(\d+)(?:_[A-Za-z0-9]+)?\.pdf$", name)
            if match and int(match.group(1)) in per_rating:
                per_rating[int(match.group(1))] += 1
            else:
                stray.append(name)
        self.check(f"{PRODUCTS} ratings", len(ratings) == PRODUCTS, str(len(ratings)))
        wrong = {pk: n for pk, n in per_rating.items() if n != 1}
        self.check("each rating has exactly one certificate file",
                   not wrong and not stray and all(r.certificate for r in ratings),
                   f"{len(files)} files in certificates/"
                   + (f"; not one: {dict(list(wrong.items())[:5])}" if wrong else "")
                   + (f"; stray: {stray[:5]}" if stray else ""))
        recorded = {r.certificate.name.rsplit("/", 1)[-1] for r in ratings}
        self.check("each rating points to its file", recorded == set(files) - set(stray))
        decisions_folder = self.media / "decisions"
        pdfs = sorted(p.name for p in decisions_folder.glob("*.pdf"))
        self.check("one decision PDF", len(pdfs) == 1 and bool(decision.file), ", ".join(pdfs))
        with decision.bundle.open("rb") as handle, zipfile.ZipFile(handle) as archive:
            names = archive.namelist()
        certificates = [n for n in names if n.startswith("giay-chung-nhan/")]
        self.check(f"the zip holds {PRODUCTS + 1} files (decision + one certificate each)",
                   len(names) == PRODUCTS + 1 == len(set(names))
                   and len(certificates) == PRODUCTS
                   and {n.rsplit("/", 1)[-1] for n in certificates} == recorded,
                   f"{len(names)} files, {len(certificates)} certificates")
        self.check("job_done counts every document",
                   decision.job_done == decision.job_total == PRODUCTS + 1,
                   f"{decision.job_done}/{decision.job_total}, "
                   f"attempts {decision.job_attempts}")

    # -- 1. one certificate -------------------------------------------------------------------

    def certificate(self, decision_id):
        from django.template.loader import render_to_string
        from weasyprint import HTML
        from weasyprint.text.fonts import FontConfiguration

        from dossiers.certificates import (
            CERTIFICATE_TEMPLATE,
            certificate_context,
            render_certificate,
        )
        from dossiers.models import Rating
        from ocop.documents.pdf import FONTS_BASE_URL, _make_url_fetcher

        log(f"1. one certificate: render_certificate vs. WeasyPrint on the same HTML, "
            f"{WARMUP} warm-up + {ROUNDS} interleaved rounds")
        rating_id = Rating.objects.filter(decision_id=decision_id).order_by("pk").values_list(
            "pk", flat=True)[PRODUCTS // 2]
        html = render_to_string(CERTIFICATE_TEMPLATE,
                                certificate_context(Rating.objects.get(pk=rating_id)))

        def full():
            rating = Rating.objects.get(pk=rating_id)  # as the worker has it: nothing cached
            started = time.perf_counter()
            pdf = render_certificate(rating)
            return time.perf_counter() - started, pdf

        def static():
            started = time.perf_counter()
            pdf = HTML(string=html, base_url=FONTS_BASE_URL,
                       url_fetcher=_make_url_fetcher()).write_pdf(
                font_config=FontConfiguration())
            return time.perf_counter() - started, pdf

        a, b = [], []
        sizes = set()
        for n in range(WARMUP + ROUNDS):
            ta, pdf_a = full()
            tb, pdf_b = static()
            sizes.add((len(pdf_a), len(pdf_b)))
            if n >= WARMUP:
                a.append(ta)
                b.append(tb)
        ma, mb = statistics.median(a), statistics.median(b)
        ratio = ma / mb
        self.figures["cert_static"] = mb
        if PROFILE:
            profile(f"render_certificate × {PROFILE}",
                    lambda: [render_certificate(Rating.objects.get(pk=rating_id))
                             for _ in range(PROFILE)])
        size_a, size_b = sorted(sizes)[-1]
        log(f"   render_certificate p50 {ma * 1000:.0f} ms p95 {percentile(a, .95) * 1000:.0f} "
            f"ms; static p50 {mb * 1000:.0f} ms p95 {percentile(b, .95) * 1000:.0f} ms; PDF "
            f"{size_a / 1024:.0f} KB / {size_b / 1024:.0f} KB; HTML {len(html) / 1024:.0f} KB")
        self.cert_row = (
            "1. one certificate: render_certificate / WeasyPrint on the same HTML",
            f"p50 {ma * 1000:.0f} / {mb * 1000:.0f} ms, p95 {percentile(a, .95) * 1000:.0f} / "
            f"{percentile(b, .95) * 1000:.0f} ms; ratio {ratio:.2f}",
            f"ratio ≤ {CERT_RATIO_MAX}", ratio <= CERT_RATIO_MAX)

    # -- 2. the decision with its annex -------------------------------------------------------

    def decision(self, decision_id):
        from pypdf import PdfReader

        log(f"2. the decision with its {PRODUCTS}-line annex, rendered in a fresh process")
        out = Path(self.tmp.name) / "decision.pdf"
        done = subprocess.run(
            [sys.executable, __file__, "--render-decision", str(decision_id), str(out)],
            cwd=ROOT, env=self.env(), capture_output=True, text=True, timeout=600)
        if PROFILE:
            print(done.stderr, file=sys.stderr)
        if done.returncode != 0:
            print(done.stdout[-3000:], done.stderr[-3000:])
            self.decision_row = (f"2. decision with a {PRODUCTS}-line annex",
                                 f"render failed (exit {done.returncode})",
                                 f"< {DECISION_SECONDS_MAX:.0f} s, < {DECISION_MB_MAX:.0f} MB",
                                 False)
            return
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        pages = len(PdfReader(out).pages)
        seconds, peak_mb = figures["seconds"], figures["peak_kb"] / 1024
        self.figures["decision"] = seconds
        before = figures["before_kb"]
        log(f"   {seconds:.1f} s, peak RSS {peak_mb:.0f} MB "
            + ("during the render" if figures["peak_is_render"] else "of the process")
            + (f" (Django + WeasyPrint before it: {before / 1024:.0f} MB" if before else " (")
            + f"; set-up's own peak {figures['setup_peak_kb'] / 1024:.0f} MB), {pages} pages, "
            f"{figures['bytes'] / 1024:.0f} KB")
        self.decision_row = (
            f"2. decision with a {PRODUCTS}-line annex ({pages} pages), fresh process",
            f"{seconds:.1f} s, peak RSS {peak_mb:.0f} MB",
            f"< {DECISION_SECONDS_MAX:.0f} s, < {DECISION_MB_MAX:.0f} MB",
            seconds < DECISION_SECONDS_MAX and peak_mb < DECISION_MB_MAX)

    # -- tear-down ----------------------------------------------------------------------------

    def cleanup(self):
        self.stop_workers()
        try:
            self.clean_redis()
        except Exception as error:  # noqa: BLE001 - best effort
            log(f"could not clean the Redis keys of queue {QUEUE}: {error}")
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001, S110 - Django may not be set up
            pass
        self.db.drop()
        if os.environ.get("BENCH_KEEP"):
            log(f"kept the workers' logs and the media in {self.tmp.name}")
        else:
            self.tmp.cleanup()

    @staticmethod
    def clean_redis():
        from worker_kill import drop_queue  # benchmarks/ is on sys.path

        drop_queue(QUEUE)

    def table(self):
        rows = [("measure", "measured", "target", "")] + [
            (m, f, t, "ok" if ok else "MISSED") for m, f, t, ok in self.rows]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        print()
        for n, (m, f, t, ok) in enumerate(rows):
            print(f"{m:<{widths[0]}}  {f:<{widths[1]}}  {t:<{widths[2]}}  {ok}")
            if n == 0:
                print("-" * (sum(widths) + 12))
        for note in self.notes:
            print(f"note: {note}")


def subsetter():
    """Which library WeasyPrint subsets the embedded fonts with (most of a certificate's
    time without HarfBuzz-Subset)."""
    try:
        from weasyprint.text.ffi import harfbuzz, harfbuzz_subset
    except Exception as error:  # noqa: BLE001 - only a note
        return f"unknown ({error})"
    if harfbuzz_subset is not None and harfbuzz.hb_version_atleast(4, 1, 0):
        return "HarfBuzz-Subset"
    return ("fontTools — no libharfbuzz-subset ≥ 4.1 on this machine (Debian "
            "libharfbuzz-subset0): certificates take several times longer")


def main():
    # make's Ctrl-C or a CI timeout: stop the workers and drop the database all the same
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    run = Run()
    log(f"throwaway database {run.db.name}, queue {QUEUE}, {PRODUCTS} products; machine: "
        f"{os.cpu_count()} cores, load average "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    started = time.perf_counter()
    try:
        staff, draft = run.setup()
        decision_id = run.issue(staff, draft)
        run.certificate(decision_id)
        run.decision(decision_id)
    except Exception as error:  # noqa: BLE001 - reported, then the logs
        run.failures.append(f"{type(error).__name__}: {error}")
        run.tail_logs()
        import traceback

        traceback.print_exc()
    finally:
        run.cleanup()
    for name in ("cert_row", "decision_row", "issue_row"):
        if hasattr(run, name):
            run.result(*getattr(run, name))
    if {"cert_static", "decision", "issue_total"} <= set(run.figures):
        floor = (run.figures["decision"] + PRODUCTS * run.figures["cert_static"]) / WORKERS
        run.notes.append(
            f"issuing floor (decision + {PRODUCTS} × static certificate p50) / {WORKERS} "
            f"workers = {floor:.1f} s (information, not a target); measured / floor = "
            f"{run.figures['issue_total'] / floor:.2f} (issue_decision's own transaction: "
            f"{run.figures['issue_call']:.1f} s)")
    run.notes.append(f"font subsetting: {subsetter()}")
    run.table()
    print(f"(whole run {time.perf_counter() - started:.0f} s)")
    if run.failures:
        print("recognition: FAILED — " + "; ".join(dict.fromkeys(run.failures)))
        return 1
    print("recognition: OK")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--render-decision":
        render_decision_child(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit(main())
