"""Does login timing tell which emails exist? Unknown email vs known email with a wrong password.

Both should cost one bcrypt check of the configured cost. Logs in through the real app (SQLite in
a temp folder, throttle and limits off) and prints the median time of each kind, interleaved so
that machine load affects both alike, plus the old dummy check (hash, then check) measured in
the same run as the baseline of what unknown emails used to cost.

    python bench/login_timing.py [--rounds 10] [--repeat 9]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bcrypt  # noqa: E402
from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402

from studysync.app import create_app  # noqa: E402
from studysync.access import SYSTEM  # noqa: E402
from studysync.db import db  # noqa: E402
from studysync.services import colleges  # noqa: E402

PASSWORD = "Admin@1234"


def migrate(url: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="BCRYPT_ROUNDS (production default 12)")
    parser.add_argument("--repeat", type=int, default=9)
    args, _ = parser.parse_known_args()

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        migrate(url)
        app = create_app(database_url=url, jwt_secret_key="bench-login-timing-" * 3, bcrypt_rounds=args.rounds,
                         redis_url=None, ratelimit_enabled=False, sysadmin_email=None, sysadmin_password=None,
                         embedding_model="hashing")
        with app.app_context():
            colleges.create_college(SYSTEM, "Bench College", "bench", "Bench Admin", "admin@bench.edu", PASSWORD,
                                    ["core"], temporary_admin_password=False)
            db.session.commit()
        client = app.test_client()

        def login(email: str) -> None:
            r = client.post("/api/v1/auth/login", json={"email": email, "password": "Wrong-pass1"})
            assert r.status_code == 401, r.json

        login("warm-up@nowhere.edu")  # the dummy hash is made once per process
        old_salt = bcrypt.gensalt(rounds=args.rounds)
        unknown, known, old = [], [], []
        for _ in range(args.repeat):
            unknown.append(timed(lambda: login("nobody@nowhere.edu")))
            known.append(timed(lambda: login("admin@bench.edu")))
            old.append(timed(lambda: bcrypt.checkpw(b"x", bcrypt.hashpw(b"timing-equaliser", old_salt))))

    u, k, o = (statistics.median(x) for x in (unknown, known, old))
    print(f"bcrypt rounds {args.rounds}, {args.repeat} logins of each kind (median ms)")
    print(f"  unknown email                 {u:8.1f}")
    print(f"  known email, wrong password   {k:8.1f}")
    print(f"  unknown / known               {u / k:8.2f}")
    print(f"  old dummy check alone         {o:8.1f}  ({o / k:.2f} x a known-email login)")


if __name__ == "__main__":
    main()
