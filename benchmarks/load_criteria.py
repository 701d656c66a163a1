#!/usr/bin/env python3
"""Benchmark: load all 52 shipped criteria sets into an empty, freshly migrated database.

    .venv/bin/python benchmarks/load_criteria.py         # SQLite in a temporary file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ocop \
        .venv/bin/python benchmarks/load_criteria.py     # a temporary PostgreSQL database

With a PostgreSQL ``DATABASE_URL`` a temporary database ``ocop_bench_<pid>`` is created on
that server (the database named in the URL is not touched) and dropped afterwards; with
SQLite or no ``DATABASE_URL`` a temporary file is used and removed. Prints e.g.

    load_criteria: 52 sets, 1582 criteria, 5211 options in 1.73 s (limit 10 s)

and exits 1 when the load takes longer than the limit (or loads anything but 52 sets).
"""

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from _common import admin_connection  # benchmarks/ is on sys.path

LIMIT_SECONDS = 10.0
EXPECTED_SETS = 52

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocop.settings")


class TemporaryDatabase:
    """Points ``DATABASE_URL`` at a database that exists only for the benchmark."""

    def __init__(self, url):
        self.original = url
        self.scheme = urlsplit(url).scheme if url else "sqlite"
        self.postgres = self.scheme.startswith("postgres")
        self.name = f"ocop_bench_{os.getpid()}"
        self.tmpdir = None

    def __enter__(self):
        if self.postgres:
            # Not "with conn": psycopg2 would open a transaction, where CREATE DATABASE fails.
            conn = admin_connection(self.original)
            try:
                with conn.cursor() as cur:
                    cur.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
                    cur.execute(f'CREATE DATABASE "{self.name}"')
            finally:
                conn.close()
            parts = urlsplit(self.original)
            os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{self.name}"))
            self.label = f"PostgreSQL database {self.name} on {parts.hostname}"
        else:
            self.tmpdir = tempfile.mkdtemp(prefix="ocop_bench_")
            path = Path(self.tmpdir) / "bench.sqlite3"
            os.environ["DATABASE_URL"] = f"sqlite:///{path}"
            self.label = f"SQLite file {path}"
        return self

    def __exit__(self, *exc):
        from django.db import connections

        connections.close_all()
        if self.postgres:
            conn = admin_connection(self.original)
            try:
                with conn.cursor() as cur:
                    cur.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            finally:
                conn.close()
        elif self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
        return False


def main():
    url = os.environ.get("DATABASE_URL", "")
    with TemporaryDatabase(url) as db:
        import django

        django.setup()
        from django.core.management import call_command

        from scoring.loader import load_criteria_files
        from scoring.models import CriteriaSet, Criterion, Option

        print(f"==> migrating a fresh {db.label}", flush=True)
        call_command("migrate", verbosity=0, interactive=False)
        assert not CriteriaSet.objects.exists(), "the fresh database has criteria sets"

        started = time.perf_counter()
        report = load_criteria_files()
        seconds = time.perf_counter() - started

        sets, criteria, options = (CriteriaSet.objects.count(), Criterion.objects.count(),
                                   Option.objects.count())
        print(f"load_criteria: {sets} sets, {criteria} criteria, {options} options in "
              f"{seconds:.2f} s (limit {LIMIT_SECONDS:g} s)")
        if len(report.drafts):
            print(f"  ({len(report.drafts)} of them drafts, not scorable)")
    if seconds > LIMIT_SECONDS:
        print(f"FAIL: loading took {seconds:.2f} s, over the {LIMIT_SECONDS:g} s limit")
        return 1
    if sets != EXPECTED_SETS:
        print(f"FAIL: {sets} sets loaded, expected {EXPECTED_SETS}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
