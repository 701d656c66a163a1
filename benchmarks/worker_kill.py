"""A Celery worker killed (SIGKILL) in the middle of rendering the minutes: the job is
taken over and completes exactly once, with one file (docs/background-jobs.md).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ocop REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python benchmarks/worker_kill.py

Needs PostgreSQL (the job lock is PostgreSQL's) and Redis; ``make bench`` runs it with the
services of ``scripts/services.sh``. Creates a throwaway database next to the one
DATABASE_URL names (``ocop_workerkill_<pid>``, dropped at the end), a temporary media
folder, and its own Celery queue in the Redis database of REDIS_URL (its keys are removed
at the end). It seeds one council whose session is closed, which queues the minutes, then:

1. starts a REAL worker (``celery worker``, prefork, one process) whose render sleeps
   WORKER_KILL_DELAY seconds (default 20; the slowdown exists in this script only),
   waits until the status row says ``running`` and SIGKILLs the pool process doing the
   render: the worker gets the message back (late acknowledgement, redelivery on worker
   loss), delivers it again and the new run takes the row over;
2. asks for the minutes again, and this time SIGKILLs the whole worker (every process)
   mid-render, then starts a new worker with its beat: the sweep (every
   OCOP_SWEEP_SECONDS, 5 here) sees ``running`` with nobody holding the job's lock and
   wakes it up again.

After each, it checks: status ``done``, one more attempt, exactly one render written (the
workers' logs), exactly one minutes file in storage, and the PDF opens. Prints the outcome
and exits 1 if any check fails.
"""

import io
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocop.settings")

DELAY = float(os.environ.get("WORKER_KILL_DELAY", "20"))
QUEUE = os.environ.get("WORKER_KILL_QUEUE") or f"worker-kill-{os.getpid()}"
WRITTEN = "Minutes of session"


def log(message):
    print(f"==> {message}", flush=True)


# --- worker mode: a real worker whose render is slowed down ---------------------------------


def run_worker(name, delay, beat_schedule=None):
    import django

    django.setup()
    from councils import minutes
    from ocop.celery import app

    original = minutes.render_minutes

    def slow_render(session):
        print(f"[demo] rendering the minutes of session {session.pk} "
              f"(slowed down by {delay:.0f} s)", flush=True)
        time.sleep(delay)
        return original(session)

    minutes.render_minutes = slow_render
    app.conf.task_default_queue = QUEUE
    argv = ["worker", "-Q", QUEUE, "-c", "1", "-P", "prefork", "-l", "info", "-n",
            f"{name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    if beat_schedule:
        argv += ["-B", "--schedule", beat_schedule]
    app.worker_main(argv)


# --- the run --------------------------------------------------------------------------------


class Run:
    def __init__(self):
        url = os.environ.get("DATABASE_URL", "")
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("postgres", "postgresql") or not os.environ.get("REDIS_URL"):
            sys.exit("worker_kill.py needs DATABASE_URL (PostgreSQL) and REDIS_URL "
                     "(make bench sets both)")
        # the throwaway database of the autosave benchmark (benchmarks/ is on sys.path)
        from autosave import BenchDatabase

        self.db = BenchDatabase(url, prefix="ocop_workerkill")
        self.db_name, self.db_url = self.db.name, self.db.url
        self.tmp = tempfile.TemporaryDirectory(prefix="ocop-worker-kill-")
        self.media = Path(self.tmp.name) / "media"
        self.logs = []
        self.procs = []
        self.failures = []

    def env(self, **extra):
        env = dict(os.environ)
        env.update({"DATABASE_URL": self.db_url, "MEDIA_ROOT": str(self.media),
                    "CELERY_TASK_ALWAYS_EAGER": "0", "WORKER_KILL_QUEUE": QUEUE,
                    "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "ocop.settings"})
        env.update(extra)
        return env

    def check(self, label, ok, detail=""):
        print(f"    [{'ok' if ok else 'FAILED'}] {label}{f': {detail}' if detail else ''}",
              flush=True)
        if not ok:
            self.failures.append(label)

    # -- set-up ---------------------------------------------------------------------------

    def setup(self):
        self.db.create()
        os.environ.update(self.env())
        import django

        django.setup()
        from django.core.management import call_command

        from ocop.celery import app

        app.conf.task_default_queue = QUEUE
        call_command("migrate", verbosity=0, interactive=False)
        return self.seed()

    def seed(self):
        """One closed session (three members, one product): closing it queues the minutes
        through Redis, as the chair's button does."""
        from councils import services
        from ocop.accounts.models import User
        from ocop.regions.loader import load_units
        from ocop.regions.models import AdministrativeUnit, Level
        from scoring.loader import DATA_DIR, load_criteria_files
        from tests.councils import build, meet, pick, quick_sheet

        load_units([92])
        load_criteria_files([DATA_DIR / "148" / "09-tuong-nuoc-mam-gia-vi-dang-long-khac.yaml"])
        units = AdministrativeUnit.objects
        cantho = {"province": units.get(level=Level.PROVINCE, code="92",
                                        valid_to__isnull=True),
                  "ninhkieu": units.get(level=Level.DISTRICT, code="916")}

        def make_user(username, role=None, unit=None, **extra):
            from ocop.accounts.models import RoleAssignment

            user = User.objects.create_user(username=username, password=None, **extra)
            if role:
                RoleAssignment.objects.create(user=user, role=role, unit=unit)
            return user

        world = build(cantho, make_user, n_members=3)
        cs = world.dossier.criteria_set
        for member, target in zip(world.members, (72, 75, 81), strict=True):
            quick_sheet(world.session, world.dossier, member, pick(cs, target, stars=4))
        meet(world)
        services.close_item(world.chair.user, world.session, world.dossier)
        services.close_session(world.chair.user, world.session)  # sends the message
        return world

    # -- workers --------------------------------------------------------------------------

    def start_worker(self, name, delay, beat=False):
        log_path = Path(self.tmp.name) / f"{name}.log"
        handle = open(log_path, "w")  # noqa: SIM115 - closed with the run
        command = [sys.executable, __file__, "--worker", name, str(delay)]
        if beat:
            command.append(str(Path(self.tmp.name) / "celerybeat-schedule"))
        proc = subprocess.Popen(command, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT,
                                env=self.env(OCOP_SWEEP_SECONDS="5"), start_new_session=True)
        self.logs.append(log_path)
        self.procs.append(proc)
        log(f"started worker {name} (pid {proc.pid}{', with beat' if beat else ''})")
        return proc

    @staticmethod
    def children(pid):
        try:
            text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

    def stop(self, proc, sig=signal.SIGTERM):
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    # -- observations ---------------------------------------------------------------------

    def row(self, session):
        from councils.models import GeneratedDocument

        return GeneratedDocument.objects.get(session=session)

    def wait_for(self, session, status, timeout, *, attempts=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            row = self.row(session)
            if row.status == status and (attempts is None or row.attempts >= attempts):
                return row
            time.sleep(0.2)
        raise RuntimeError(f"the minutes row did not become {status!r} in {timeout:.0f} s "
                           f"(it is {self.row(session).status!r})")

    def files(self):
        folder = self.media / "councils" / "minutes"
        return sorted(p.name for p in folder.iterdir()) if folder.exists() else []

    def renders_written(self, session):
        needle = f"{WRITTEN} {session.pk} written to"
        return sum(path.read_text(errors="replace").count(needle) for path in self.logs)

    def verify(self, session, attempts, written_before):
        from pypdf import PdfReader

        row = self.row(session)
        self.check("status done", row.status == "done", row.status)
        self.check("one more attempt (the killed run, then the one that finished)",
                   row.attempts == attempts, f"attempts = {row.attempts}")
        renders = self.renders_written(session) - written_before
        self.check("the render completed exactly once", renders == 1,
                   f"{renders} completed render(s) in the workers' logs")
        files = self.files()
        self.check("exactly one minutes file in storage", len(files) == 1, ", ".join(files))
        with row.file.open("rb") as handle:
            text = PdfReader(io.BytesIO(handle.read())).pages[0].extract_text()
        self.check("the file is the minutes PDF", "BIÊN BẢN" in text)
        return row

    # -- the two scenarios ----------------------------------------------------------------

    def kill_pool_process(self, session):
        log("1. SIGKILL the pool process rendering the minutes; the worker itself lives")
        worker = self.start_worker("first", DELAY)
        running = self.wait_for(session, "running", 90)
        time.sleep(min(2.0, DELAY / 4))
        pool = self.children(worker.pid)
        self.check("mid-render", self.row(session).status == "running" and bool(pool),
                   f"status running, attempt {running.attempts}, pool pid(s) {pool}")
        for pid in pool:
            os.kill(pid, signal.SIGKILL)
        log(f"killed pool process(es) {pool} mid-render; files now: {self.files() or 'none'}")
        started = time.monotonic()
        self.wait_for(session, "done", DELAY + 120, attempts=running.attempts + 1)
        log(f"done {time.monotonic() - started:.1f} s after the kill (the message came back "
            "to the worker, which took the abandoned row over)")
        time.sleep(3)  # would a duplicate delivery render again?
        self.verify(session, running.attempts + 1, 0)
        return worker

    def kill_whole_worker(self, world, worker):
        from councils import services

        log("2. Regenerate, then SIGKILL the whole worker (every process) mid-render")
        session = world.session
        services.queue_minutes(world.chair.user, session)
        before = self.row(session)
        written_before = self.renders_written(session)
        old_files = self.files()
        running = self.wait_for(session, "running", 90, attempts=before.attempts + 1)
        time.sleep(min(2.0, DELAY / 4))
        self.stop(worker, signal.SIGKILL)
        log(f"killed worker pid {worker.pid} and its pool; row: {self.row(session).status}, "
            f"files: {self.files()} (the previous minutes are kept)")
        self.check("the previous file stays while the job is interrupted",
                   self.files() == old_files, ", ".join(self.files()))
        started = time.monotonic()
        second = self.start_worker("second", 3, beat=True)
        self.wait_for(session, "done", 120, attempts=running.attempts + 1)
        log(f"done {time.monotonic() - started:.1f} s after the new worker started (its "
            "beat's sweep found the row running with no worker on it)")
        time.sleep(8)  # more sweeps pass: nothing runs again
        self.verify(session, running.attempts + 1, written_before)
        return second

    # -- tear-down ------------------------------------------------------------------------

    def cleanup(self):
        for proc in self.procs:
            self.stop(proc)
        try:
            self.clean_redis()
        except Exception as error:  # noqa: BLE001 - best effort
            log(f"could not clean the Redis keys of queue {QUEUE}: {error}")
        from django.db import connections

        connections.close_all()
        self.db.drop()
        self.tmp.cleanup()

    @staticmethod
    def clean_redis():
        """This run's queue and the unacknowledged messages it left (the killed worker's
        message stays in Redis until its visibility timeout: harmless, but not ours to
        keep)."""
        drop_queue(QUEUE)


def drop_queue(queue):
    """Delete a benchmark's Celery queue in Redis (``REDIS_URL``), its unacknowledged
    messages and its bindings (also used by benchmarks/recognition.py)."""
    import json

    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    client.delete(queue)
    for tag, raw in client.hgetall("unacked").items():
        try:
            routing_key = json.loads(raw)[2]
        except (ValueError, IndexError, TypeError):
            continue
        if routing_key == queue:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)
    for key in client.scan_iter(f"_kombu.binding*{queue}*"):
        client.delete(key)

def main():
    run = Run()
    log(f"throwaway database {run.db_name}, queue {QUEUE}, render slowed by {DELAY:.0f} s")
    try:
        world = run.setup()
        session = world.session
        log(f"session {session.pk} closed; the minutes are queued in Redis")
        worker = run.kill_pool_process(session)
        run.kill_whole_worker(world, worker)
    except Exception as error:  # noqa: BLE001 - reported, then the logs
        run.failures.append(f"{type(error).__name__}: {error}")
        for path in run.logs:
            print(f"--- {path.name} (last lines)")
            print("\n".join(path.read_text(errors="replace").splitlines()[-40:]))
    finally:
        run.cleanup()
    if run.failures:
        print("worker_kill: FAILED — " + "; ".join(run.failures))
        return 1
    print("worker_kill: OK — killed twice mid-render (pool process, whole worker); each "
          "time the job completed exactly once, with one file")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        run_worker(sys.argv[2], float(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else None)
    else:
        sys.exit(main())
