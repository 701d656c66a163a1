#!/usr/bin/env python3
"""Benchmark: importing a province's existing register of 20,000 ratings (issue "Bring in
the province's existing register"; docs/register-import.md).

    .venv/bin/python benchmarks/register_import.py      # PostgreSQL at 127.0.0.1:5432
    BENCH_ROWS=20000 .venv/bin/python benchmarks/register_import.py [--keep]

Runs in its own database ``ocop_bench_import`` next to ``DATABASE_URL``'s (dropped at the
end unless --keep): the demo's units, criteria sets and accounts (``seed_demo(base=True)``).
Builds an .xlsx register of BENCH_ROWS rows (default 20,000) as a province would publish it:
one product a row, 1–3 products a producer, in the current wards of Cần Thơ (26/2026 and
148-as-amended decisions) and in the pre-2025 communes with their district (148
decisions), 100 products a decision, decision dates from 03/2023 to 11/2026. Then, as
``sonn.cantho``, through the same services as the page (the jobs run in this process):
the upload (header check), the dry run, the confirmed import; and the peak memory of the
process (RSS) after each step, and a second dry run of the same file, which must find every
row already present.

Target: the import after the dry run < 60 s; the second dry run creates nothing. Exit 1
otherwise. Memory: the reading is streamed (openpyxl read-only) and the rows written in
batches of 500, so the peak RSS barely grows with the file (printed for 1/4 of the rows
and for all of them).
"""

import argparse
import datetime
import os
import random
import resource
import sys
import tempfile
import time

import _common
from _common import log

TARGET_SECONDS = 60
ROWS = int(os.environ.get("BENCH_ROWS") or 20_000)


def build_file(rows, path, seed=2026):
    """The register file (.xlsx, the export's format) of ``rows`` ratings."""
    from openpyxl import Workbook

    from dossiers.register import REGISTER_COLUMNS
    from ocop.regions.models import AdministrativeUnit, Level

    rng = random.Random(seed)
    current = list(AdministrativeUnit.objects.filter(
        level=Level.COMMUNE, valid_to__isnull=True, province__code="92")
        .values_list("name", flat=True))
    legacy = list(AdministrativeUnit.objects.filter(
        level=Level.COMMUNE, valid_to__isnull=False, province__code="92")
        .values_list("name", "parent__name"))
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Sản phẩm OCOP")
    sheet.append(["Danh sách sản phẩm OCOP tỉnh (thử nghiệm)"])
    sheet.append([column.header for column in REGISTER_COLUMNS])
    keys = [column.key for column in REGISTER_COLUMNS]
    first, last = datetime.date(2023, 3, 1), datetime.date(2026, 11, 30)
    span = (last - first).days
    producer = 0
    for n in range(rows):
        if n % 2 == 0 or producer == 0:
            producer += 1
        decision_index = n // 100
        day = first + datetime.timedelta(days=(decision_index * 37) % span)
        if day < datetime.date(2025, 7, 1):
            commune, district = rng.choice(legacy)
        else:
            commune, district = rng.choice(current), ""
        set_no = 1 + n % 26 if day >= datetime.date(2026, 5, 22) else 9
        values = {
            "number": n + 1, "product": f"Sản phẩm thử {seed}-{n + 1}", "product_code": "",
            "producer": f"Hợp tác xã thử {seed}-{producer}", "producer_type": "Hợp tác xã",
            "address": "Ấp 1", "commune": commune, "district": district,
            "province": "Thành phố Cần Thơ", "product_group": "",
            "criteria_set": f"{set_no:02d}", "stars": 3 + n % 3, "score": 50 + n % 50,
            "decision_number": f"{decision_index + 1}/QĐ-UBND", "decision_date": day,
            "issuer": "", "valid_until": None, "state": ""}
        sheet.append([values[key] for key in keys])
    book.save(path)


def import_in_child(path, env, dry_run=False):
    """``manage.py import_register`` in a child process (its output, seconds of the dry
    run and of the import, and the child's peak RSS in MB)."""
    import re
    import subprocess

    command = [sys.executable, str(_common.ROOT / "manage.py"), "import_register", str(path),
               "--as", "sonn.cantho"] + (["--dry-run"] if dry_run else [])
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = done.stdout + done.stderr
    if done.returncode:
        log(out)
        raise SystemExit(f"import_register failed ({done.returncode})")
    numbers = re.findall(r"(\d+(?:\.\d+)?) (?:s|giây)\b", out)
    seconds = [float(n) for n in numbers]
    return out, seconds, (peak if peak > before else peak) / 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()
    url = _common.bench_url(os.environ.get("DATABASE_URL"), "ocop_bench_import")
    if url is None:
        log("This benchmark needs PostgreSQL (DATABASE_URL=postgres://…).")
        return 2
    _common.recreate_database(url)
    media = tempfile.mkdtemp(prefix="ocop-bench-import-")
    os.environ.update(DATABASE_URL=url, MEDIA_ROOT=media)
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocop.settings")
    import django

    django.setup()
    from django.core.management import call_command

    failed = False
    try:
        call_command("migrate", verbosity=0)
        _common.seed_reference()
        from dossiers.models import Rating, RegisterImport

        env = {**os.environ, "PYTHONPATH": str(_common.ROOT)}
        figures = {}
        for label, count in (("quarter", ROWS // 4), ("all", ROWS)):
            path = os.path.join(media, f"register-{count}.xlsx")
            started = time.perf_counter()
            build_file(count, path, seed=count)
            log(f"==> {count:,} rows written to an .xlsx in "
                f"{time.perf_counter() - started:.1f} s "
                f"({os.path.getsize(path) / 1e6:.1f} MB)")
            before = Rating.objects.count()
            out, seconds, peak = import_in_child(path, env)
            imported = Rating.objects.count() - before
            check_s, import_s = (seconds + [0, 0])[:2]
            figures[label] = (import_s, peak)
            log(f"    dry run {check_s:.1f} s, import {import_s:.1f} s: {imported:,} ratings; "
                f"peak RSS of the importing process {peak:.0f} MB")
            if imported != count:
                log(out)
                failed = True
            # the same file again: nothing new
            import_in_child(path, env, dry_run=True)
            again = RegisterImport.objects.latest("pk")
            log(f"    the same file again: {again.created_count:,} to create, "
                f"{again.matched_count:,} already present")
            failed = failed or again.created_count or again.matched_count != count
        seconds, peak = figures["all"]
        verdict = "OK" if seconds < TARGET_SECONDS else "MISSED"
        log(f"==> {ROWS:,}-row register imported in {seconds:.1f} s after its dry run "
            f"(target < {TARGET_SECONDS} s): {verdict}; peak RSS {figures['quarter'][1]:.0f} MB "
            f"for {ROWS // 4:,} rows, {peak:.0f} MB for {ROWS:,}")
        failed = failed or seconds >= TARGET_SECONDS
    finally:
        if not args.keep:
            _common.drop_database(url)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
