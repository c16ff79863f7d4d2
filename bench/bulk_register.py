"""Bulk registration throughput against its ceiling, bcrypt.

    .venv/bin/python bench/bulk_register.py                        # 1,000 rows at bcrypt rounds 12
    .venv/bin/python bench/bulk_register.py --rows 100 --rounds 8  # a quick run

A bulk import is bcrypt-bound: one hash at rounds 12 costs about a fifth of a second, everything
else per row (validation, one INSERT of the student, one of its outcome, the progress UPDATE, the
commit) a few milliseconds. With W cores hashing at once the best possible rate is therefore
W / (time of one hash) students per second. This prints

  (1) the time of one hash (median of --samples) and that ceiling;
  (2) the rate of a real import of --rows students through `services.bulk_import.import_rows`,
      i.e. `run_job`, the same pipeline the API's background job runs, into a throwaway SQLite
      database built by `alembic upgrade head`;

and the ratio of the two. Both are wall-clock figures, so other busy processes on the machine
lower them; the last lines say how much CPU the import actually got and how much of that went
into bcrypt, which does not depend on them.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402

from studysync.app import create_app  # noqa: E402
from studysync.auth.passwords import hash_password  # noqa: E402
from studysync.access import SYSTEM  # noqa: E402
from studysync.db import db  # noqa: E402
from studysync.services import bulk_import, colleges  # noqa: E402
from studysync.tenancy import tenant_context  # noqa: E402

PASSWORD = "Student@1234"


def migrate(url: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")


def rows(n: int) -> list[dict]:
    return [{"student_name": f"Bench Student {i:05d}", "student_email": f"student{i:05d}@bench.edu",
             "student_password": PASSWORD, "student_department": "Computer Science", "student_year": 1 + i % 4}
            for i in range(n)]


def one_hash_seconds(rounds: int, samples: int) -> float:
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        hash_password(PASSWORD, rounds)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


def one_hash_cpu_seconds(rounds: int, samples: int) -> float:
    """CPU time of one hash: what other processes on the machine cannot inflate."""
    times = []
    for _ in range(samples):
        start = time.process_time()
        hash_password(PASSWORD, rounds)
        times.append(time.process_time() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1000, help="students to import (default 1000)")
    parser.add_argument("--rounds", type=int, default=12, help="bcrypt rounds (default 12)")
    parser.add_argument("--samples", type=int, default=5, help="single hashes to time (default 5)")
    parser.add_argument("--workers", type=int, default=None, help="hashing threads (default: the app's, = cores)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="studysync-bench-"))
    url = f"sqlite:///{workdir / 'bench.db'}"
    overrides = dict(database_url=url, jwt_secret_key="bench-" * 8, bcrypt_rounds=args.rounds, redis_url=None,
                     sysadmin_email=None, sysadmin_password=None, embedding_model="hashing")
    if args.workers:
        overrides["bulk_workers"] = args.workers
    try:
        migrate(url)
        app = create_app(**overrides)
        settings = app.config["SETTINGS"]
        cores = os.cpu_count() or 1
        with app.app_context():
            college = colleges.create_college(SYSTEM, "Bench College", "bench", "Bench Admin", "admin@bench.edu",
                                              "Admin@1234", temporary_admin_password=False).college
            db.session.commit()
            print(f"cores: {cores}   hashing workers: {settings.bulk_workers}   bcrypt rounds: {args.rounds}   "
                  f"database: SQLite (WAL) in {workdir}")

            print(f"load average before: {_load()}")
            hash_time = one_hash_seconds(args.rounds, args.samples)
            limit = cores / hash_time
            print(f"(1) one bcrypt hash, median of {args.samples}: {hash_time * 1e3:,.1f} ms"
                  f"  ->  limit = {cores} cores / {hash_time:.4f} s = {limit:,.2f} students/s")

            data = rows(args.rows)
            with tenant_context(college.id):
                start, start_cpu = time.perf_counter(), time.process_time()
                job = bulk_import.import_rows(data)
                elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
                outcome = bulk_import.results(job)
            registered = len(outcome["success"])
            if job.status != "finished" or registered != args.rows:
                raise SystemExit(f"import incomplete: status={job.status} registered={registered}/{args.rows} "
                                 f"first failure={outcome['failed'][:1]}")
            rate = registered / elapsed
            print(f"(2) bulk import of {args.rows:,} rows through the job pipeline: {elapsed:,.2f} s"
                  f"  ->  {rate:,.2f} students/s")
            print(f"ratio: {rate:,.2f} / {limit:,.2f} = {rate / limit:.1%} of the bcrypt limit")
            hash_cpu = one_hash_cpu_seconds(args.rounds, args.samples)
            print(f"CPU: the import got {cpu:,.1f} CPU-s in {elapsed:,.1f} s (= {cpu / elapsed:.2f} of {cores} cores); "
                  f"{args.rows:,} hashes x {hash_cpu * 1e3:,.1f} CPU-ms = {args.rows * hash_cpu / cpu:.1%} of it was bcrypt")
            print(f"load average after: {_load()}   (one hash again, median of {args.samples}: "
                  f"{one_hash_seconds(args.rounds, args.samples) * 1e3:,.1f} ms; other processes on the "
                  f"machine lower both figures)")
        app.extensions["studysync.db"].dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
