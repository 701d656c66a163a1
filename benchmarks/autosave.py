"""Autosave under load: council members save their own scoresheets at the same time.

Starts a REAL gunicorn server (the project's ``gunicorn.conf.py``) on a free 127.0.0.1 port
against the database of ``DATABASE_URL`` (PostgreSQL in ``make bench``: a throwaway database
``ocop_bench_autosave_<pid>`` is created, migrated, seeded and dropped at the end; SQLite
or nothing set: a temporary SQLite file). The seed is one council with BENCH_MEMBERS
members (default 50), each with their own sheet on one dossier (26/2026 set 13, coffee and
cocoa, 34 criteria).

Each member is a thread with one keep-alive ``http.client`` connection that sends
BENCH_SAVES autosaves (default 40, stopping anyway after BENCH_SECONDS, default 60) with the
version protocol: the member keeps the version each answer returns. Two clients, run one
after the other against the same server (BENCH_CLIENTS, default "api,htmx"):

- ``api``: ``PATCH /api/v1/scoresheets/{id}/`` (JSON, token authentication);
- ``htmx``: what the scoresheet page's autosave sends from a browser — ``POST
  /councils/sessions/{s}/dossiers/{d}/sheet/autosave/`` (form data, session cookie, CSRF
  token, ``HX-Request``), answered with the status line, the new version and the totals
  rendered as HTML fragments; the version is read back from that HTML.

A 409 would be a lost update *detected* (each member owns their sheet, so there should be
none); any other non-200 answer is an error.
Between two saves a member pauses BENCH_THINK_MS milliseconds ("min-max", default
"500-1500": every member clicking a new option about once a second, all at the same time —
several times faster than anybody reads a criterion and its evidence; "0" for a
closed-loop stress run that measures the server's capacity).

After each client's run the database is checked: every member's last choices must be the
ones they sent, and the sheet's version the one they hold (a mismatch is a lost update).

Prints, per client, ``requests, errors, p50, p95 (ms), lost updates`` (and conflicts,
throughput); exits 1 if any client's p95 ≥ BENCH_P95_MS (default 150) or it had errors or
lost updates.

Tuning (environment, passed to gunicorn): WEB_CONCURRENCY (default here cores + 1, which
measured better than the production default 2 × cores + 1 on a 2-core machine),
GUNICORN_THREADS (default 4), CONN_MAX_AGE (default 60: persistent database
connections). BENCH_WSGI_APP (default ``ocop.wsgi:application``) serves another WSGI
module, to measure a change before it lands. Only loopback is used.
"""

import http.client
import json
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from _common import (  # benchmarks/ is on sys.path when the script runs
    ROOT,
    BenchDatabase,
    browser_cookies,
    free_port,
    percentile,
    start_gunicorn,
    stop_gunicorn,
)

CRITERIA_FILE = ("26-2026", "13-ca-phe-cacao.yaml")


def _int_env(name, default):
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _think_range():
    raw = os.environ.get("BENCH_THINK_MS", "500-1500").strip()
    low, _sep, high = raw.partition("-")
    low = float(low or 0)
    return low / 1000, float(high or low) / 1000


MEMBERS = _int_env("BENCH_MEMBERS", 50)
SAVES = _int_env("BENCH_SAVES", 40)
SECONDS = _int_env("BENCH_SECONDS", 60)
P95_LIMIT_MS = _int_env("BENCH_P95_MS", 150)
THINK = _think_range()
CLIENTS = [c.strip() for c in os.environ.get("BENCH_CLIENTS", "api,htmx").split(",")
           if c.strip()]
VERSION_IN_HTML = re.compile(rb'id="sheet-version" value="(\d+)"')


# --- seeding (in this process, through the project's own code) --------------------------------


def seed(members):
    """Migrate, then one council of ``members`` members, each with their own open sheet."""
    import datetime

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)

    from rest_framework.authtoken.models import Token

    from councils.models import AgendaItem, Council, CouncilMember, EvaluationSession, MemberRole
    from dossiers.models import Dossier, EvaluationRound, Producer, Product
    from ocop.accounts.models import User
    from ocop.regions.models import AdministrativeUnit
    from scoring.loader import DATA_DIR, load_criteria_files
    from scoring.models import CriteriaSet, Option, ProcessLevel, Regime
    from scoring.services import open_sheet

    load_criteria_files([DATA_DIR.joinpath(*CRITERIA_FILE)])
    regime = Regime.objects.get(slug="26/2026")
    criteria_set = CriteriaSet.objects.scorable_for(regime).get(set_no=13)
    province = AdministrativeUnit.objects.create(level="province", code="92",
                                                 name="Thành phố Cần Thơ")
    round_ = EvaluationRound.objects.create(
        regime=regime, level=ProcessLevel.objects.get(regime=regime, admin_level="province"),
        unit=province, year=2026, number=1, intake_deadline=datetime.date(2026, 10, 30),
        is_open=False)
    producer = Producer.objects.create(
        type="cooperative", name="Hợp tác xã Cà phê Thử tải", registration_no="1800000001",
        representative_name="Nguyễn Văn Tải", representative_gender="male",
        address="Ấp 1", unit=province)
    product = Product.objects.create(producer=producer, name="Cà phê rang xay",
                                     criteria_set=criteria_set)
    dossier = Dossier.objects.create(round=round_, product=product, criteria_set=criteria_set,
                                     unit=province, state="in_evaluation",
                                     search_text="ca phe rang xay")
    council = Council.objects.create(
        name="Hội đồng thử tải", level="province", unit=province, decision_number="1/QĐ-UBND",
        decision_date=datetime.date(2026, 1, 5), decision_signer="Trần Văn Ký")
    users = []
    for i in range(members):
        user = User(username=f"bench.member.{i:02d}", full_name=f"Thành viên {i:02d}")
        user.set_unusable_password()
        users.append(user)
    users = User.objects.bulk_create(users)
    CouncilMember.objects.bulk_create(
        CouncilMember(council=council, user=user, order=i,
                      role=MemberRole.CHAIR if i == 0 else MemberRole.MEMBER)
        for i, user in enumerate(users))
    tokens = Token.objects.bulk_create(Token(key=Token.generate_key(), user=user)
                                       for user in users)
    session = EvaluationSession.objects.create(council=council, round=round_,
                                               date=datetime.date(2026, 12, 1), state="open")
    AgendaItem.objects.create(session=session, dossier=dossier, order=1)
    token_of = {t.user_id: t.key for t in tokens}
    clients = []
    for member in council.members.select_related("user").order_by("order"):
        sheet = open_sheet(session, dossier, member, member.user)
        clients.append({"token": token_of[member.user_id], "sheet": sheet.pk,
                        "version": sheet.version, "cookies": browser_cookies(member.user),
                        "autosave": f"/councils/sessions/{session.pk}/dossiers/{dossier.pk}"
                                    f"/sheet/autosave/"})
    options = {}
    for criterion_id, option_id in (Option.objects.filter(criteria_set=criteria_set)
                                    .values_list("criterion_id", "id")):
        options.setdefault(criterion_id, []).append(option_id)
    return clients, options


def stored_state(sheet_ids):
    from scoring.models import ScoreEntry, Scoresheet

    versions = dict(Scoresheet.objects.filter(pk__in=sheet_ids).values_list("id", "version"))
    choices = {}
    for sheet_id, criterion_id, option_id in (ScoreEntry.objects.filter(sheet_id__in=sheet_ids)
                                              .values_list("sheet_id", "criterion_id",
                                                           "option_id")):
        choices[(sheet_id, criterion_id)] = option_id
    return versions, choices


# --- the members ------------------------------------------------------------------------------


class Member(threading.Thread):
    def __init__(self, kind, port, client, options, barrier, deadline, seed_value):
        super().__init__(daemon=True)
        self.kind = kind
        self.port = port
        self.client = client
        self.token = client["token"]
        self.sheet = client["sheet"]
        self.version = client["version"]
        self.options = options
        self.barrier = barrier
        self.deadline = deadline
        self.random = random.Random(seed_value)
        self.latencies = []
        self.errors = []
        self.conflicts = 0
        self.reconnects = 0
        self.last = {}  # criterion id → the option the server accepted last
        self.conn = None
        self.last_used = time.monotonic()

    def _connect(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)

    def _send(self, method, path, body, headers):
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        return response.status, response.read()

    def _call(self, method, path, body=None, form=None):
        if form is not None:
            (session_name, session), (csrf_name, csrf) = (self.client["cookies"]["session"],
                                                          self.client["cookies"]["csrf"])
            headers = {"Cookie": f"{session_name}={session}; {csrf_name}={csrf}",
                       "X-CSRFToken": csrf, "HX-Request": "true", "Accept-Language": "vi",
                       "Content-Type": "application/x-www-form-urlencoded"}
            body = urllib.parse.urlencode(form)
        else:
            headers = {"Authorization": f"Token {self.token}", "Accept": "application/json",
                       "Accept-Language": "en"}
            if body is not None:
                headers["Content-Type"] = "application/json"
                body = json.dumps(body)
        try:
            return self._send(method, path, body, headers)
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # The server closed this kept-alive connection (idle timeout, or a worker
            # recycled after GUNICORN_MAX_REQUESTS) before answering: send it once more on
            # a new connection, as browsers do. Safe with the version protocol: had the
            # first one been applied, the second would get 409, counted as a conflict.
            self.reconnects += 1
            self._connect()
            return self._send(method, path, body, headers)

    def warm_up(self):
        """Two untimed reads (per-process caches of the criteria tree in the workers)."""
        self._connect()
        for _ in range(2):
            status, data = self._call("GET", f"/api/v1/scoresheets/{self.sheet}/")
            if status == 200:
                self.version = json.loads(data)["version"]

    def save(self, path, criterion, option):
        """One autosave; returns the answer's status and the version it carries."""
        if self.kind == "htmx":
            status, data = self._call("POST", self.client["autosave"], form={
                "criterion": criterion, "option": option, "version": self.version})
            found = VERSION_IN_HTML.search(data)
            return status, (int(found.group(1)) if found else None), data
        body = {"version": self.version, "entries": [{"criterion": criterion, "option": option}]}
        status, data = self._call("PATCH", path, body)
        if status == 200:
            return status, json.loads(data)["version"], data
        if status == 409:
            return status, json.loads(data)["current"]["version"], data
        return status, None, data

    def run(self):
        criteria = sorted(self.options)
        path = f"/api/v1/scoresheets/{self.sheet}/"
        self._connect()  # a fresh keep-alive connection (the warm-up one may have idled out)
        self.barrier.wait()
        for _ in range(SAVES):
            if time.monotonic() > self.deadline:
                break
            criterion = self.random.choice(criteria)
            option = self.random.choice(self.options[criterion])
            started = time.perf_counter()
            idle = time.monotonic() - self.last_used
            try:
                status, version, data = self.save(path, criterion, option)
            except (OSError, http.client.HTTPException) as exc:
                self.latencies.append((time.perf_counter() - started) * 1000)
                self.errors.append(f"{type(exc).__name__}: {exc} (connection idle {idle:.1f} s, "
                                   f"after {time.perf_counter() - started:.2f} s)")
                self._connect()
                continue
            finally:
                self.last_used = time.monotonic()
            self.latencies.append((time.perf_counter() - started) * 1000)
            if status == 200 and version is not None:
                self.version = version
                self.last[criterion] = option
            elif status == 409 and version is not None:
                self.conflicts += 1
                self.version = version
            else:
                self.errors.append(f"HTTP {status}: {data[:200]!r}")
            if THINK[1] > 0:
                time.sleep(self.random.uniform(*THINK))
        self.conn.close()


def run_client(kind, port, clients, options):
    """All members save at once through one client; prints the figures, returns failure."""
    if kind not in ("api", "htmx"):
        raise SystemExit(f"BENCH_CLIENTS: unknown client {kind!r} (api, htmx)")
    barrier = threading.Barrier(len(clients) + 1)
    deadline = time.monotonic() + SECONDS + 30  # the timed part is bounded again below
    members = [Member(kind, port, client, options, barrier, deadline, i)
               for i, client in enumerate(clients)]
    for member in members:
        member.warm_up()
    for member in members:
        member.deadline = time.monotonic() + SECONDS
        member.start()
    barrier.wait()
    started = time.perf_counter()
    for member in members:
        member.join(SECONDS + 30)
    elapsed = time.perf_counter() - started

    latencies = [ms for m in members for ms in m.latencies]
    errors = [e for m in members for e in m.errors]
    conflicts = sum(m.conflicts for m in members)
    reconnects = sum(m.reconnects for m in members)
    versions, stored = stored_state([m.sheet for m in members])
    lost = 0
    for member, client in zip(members, clients, strict=True):
        lost += sum(1 for criterion, option in member.last.items()
                    if stored.get((member.sheet, criterion)) != option)
        lost += versions.get(member.sheet) != member.version
        client["version"] = member.version  # the next client goes on from here
    p50, p95 = percentile(latencies, 0.50), percentile(latencies, 0.95)
    print(f"[{kind}] members={len(members)} saves/member≤{SAVES} think={THINK[0] * 1000:.0f}-"
          f"{THINK[1] * 1000:.0f} ms elapsed={elapsed:.1f} s "
          f"throughput={len(latencies) / elapsed:.0f} req/s")
    print(f"[{kind}] requests={len(latencies)} errors={len(errors)} p50={p50:.1f} ms "
          f"p95={p95:.1f} ms max={max(latencies, default=float('nan')):.1f} ms "
          f"mean={statistics.fmean(latencies) if latencies else float('nan'):.1f} ms "
          f"conflicts(409)={conflicts} lost_updates={lost} reconnects={reconnects}")
    for error in errors[:5]:
        print(f"[{kind}]   error:", error)
    return bool(p95 >= P95_LIMIT_MS or errors or lost or not latencies)


def main():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocop.settings")
    # One key for the seeding and the server: the browser sessions written while seeding
    # carry a hash signed with it.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    database = BenchDatabase(os.environ.get("DATABASE_URL"))
    database.create()
    os.environ["DATABASE_URL"] = database.url
    proc = None
    log = tempfile.NamedTemporaryFile(prefix="ocop-bench-gunicorn-", suffix=".log", delete=False)
    try:
        t0 = time.perf_counter()
        clients, options = seed(MEMBERS)
        print(f"seeded {database.name}: {len(clients)} members, {len(options)} criteria "
              f"({time.perf_counter() - t0:.1f} s)")
        if not database.postgres:
            print("note: SQLite (the embedded default) is a smoke run only: its writers queue "
                  "behind one file lock. Production and make bench use PostgreSQL.")
        from django.db import connections

        connections.close_all()
        port = free_port()
        proc, server_env = start_gunicorn(database.url, port, log)
        print(f"gunicorn on 127.0.0.1:{port}: workers={server_env['WEB_CONCURRENCY']} "
              f"threads={server_env['GUNICORN_THREADS']} DEBUG={server_env.get('DEBUG', '1')} "
              f"CONN_MAX_AGE={server_env.get('CONN_MAX_AGE', '60 (default)')} "
              f"app={server_env.get('BENCH_WSGI_APP') or 'ocop.wsgi:application'}")

        print(f"machine: {os.cpu_count()} cores, load average "
              f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} before the run (other work on "
              f"the machine slows every request)")
        failed = False
        for kind in CLIENTS:
            failed |= run_client(kind, port, clients, options)
        if failed:
            print(f"FAIL (limits: p95 < {P95_LIMIT_MS} ms, no error, no lost update); "
                  f"gunicorn log: {log.name}")
        else:
            print("OK")
            Path(log.name).unlink(missing_ok=True)
        return 1 if failed else 0
    finally:
        if proc is not None:
            stop_gunicorn(proc)
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001 - Django may not be set up if seeding failed early
            pass
        database.drop()
        log.close()


if __name__ == "__main__":
    sys.exit(main())
