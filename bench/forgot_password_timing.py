"""Does the forgot-password answer take as long for an unknown email as for a known one?

    .venv/bin/python bench/forgot_password_timing.py                 # 200 requests of each, interleaved
    .venv/bin/python bench/forgot_password_timing.py --requests 50 --smtp-port 5830

A throwaway SQLite database (alembic upgrade head), one college with one student, a real local SMTP
server (aiosmtpd) receiving the mails. Requests for the known and for an unknown email alternate, so
a busy machine slows both alike; this prints the median and 90th percentile of each and the ratio
known / unknown of the medians (1.0 = indistinguishable). The lookup, the token row and the mail
happen on the app's reset thread after the answer, so a request does the same work either way.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bulk_register import migrate  # noqa: E402

from studysync.app import create_app  # noqa: E402
from studysync.access import SYSTEM, SystemActor  # noqa: E402
from studysync.db import db  # noqa: E402
from studysync.services import colleges, students  # noqa: E402
from studysync.tenancy import tenant_context  # noqa: E402
from tests.support.smtp import smtp_server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--smtp-port", type=int, default=0, help="0: any free port")
    args = parser.parse_args()
    if args.smtp_port:
        import os

        os.environ["TEST_SMTP_PORT"] = str(args.smtp_port)
    workdir = tempfile.mkdtemp(prefix="studysync-forgot-")
    try:
        url = f"sqlite:///{workdir}/bench.db"
        migrate(url)
        with smtp_server() as (smtp_url, inbox):
            app = create_app(database_url=url, jwt_secret_key="x" * 40, bcrypt_rounds=4, embedding_model="hashing",
                             ratelimit_enabled=False, smtp_url=smtp_url, app_env="testing")
            with app.app_context():
                created = colleges.create_college(SYSTEM, "Bench", "bench", "Admin", "admin@bench.edu", "Admin@1234")
                with tenant_context(created.college.id):
                    students.create_student(SystemActor(role="admin", college_id=created.college.id),
                                            {"name": "Known Student", "email": "known@bench.edu"}, "Known@1234")
                db.session.commit()
            client = app.test_client()
            timings: dict[str, list[float]] = {"known": [], "unknown": []}
            for i in range(args.requests):
                for kind, email in (("known", "known@bench.edu"), ("unknown", f"nobody{i}@bench.edu")):
                    start = time.perf_counter()
                    response = client.post("/api/v1/auth/forgot-password", json={"email": email})
                    timings[kind].append(time.perf_counter() - start)
                    assert response.status_code == 200, response.json
            inbox.wait_for(args.requests, timeout=60)
            print(f"{args.requests} requests each, SQLite, mails received: {len(inbox.messages)}")
            for kind, values in timings.items():
                values.sort()
                print(f"  {kind:8s} median {statistics.median(values) * 1000:7.2f} ms   "
                      f"p90 {values[int(len(values) * 0.9)] * 1000:7.2f} ms")
            ratio = statistics.median(timings["known"]) / statistics.median(timings["unknown"])
            print(f"  ratio known / unknown (medians): {ratio:.2f}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
