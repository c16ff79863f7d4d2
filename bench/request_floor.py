"""What the layers under one authenticated read cost, in this process: the floor under issue 15's ratios.

bench/request_cost.py says what each route costs next to the bare Flask hello. This one takes
`GET /api/v1/auth/me` apart: the hooks every request passes (a request without a token), and the
parts of the token check that no change to our own code takes away — the token's row read by the
database driver alone, by SQLAlchemy Core, and by the ORM statement the app runs (the session, the
user and the college as objects), and a session's life around it (check out a connection, begin,
commit, close). Each is the CPU time of one operation (thread time, best of `--rounds`), on a
database seeded as bench/http_throughput.py seeds it, and a multiple of the hello.

    python bench/request_floor.py [--database-url postgresql+psycopg://...] [--operations 2000] [--rounds 5]

The database named by --database-url is emptied (alembic downgrade base, upgrade head).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import request_cost  # noqa: E402

import argparse  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from typing import Callable  # noqa: E402

ht = request_cost.ht
AUTH_ME, NO_TOKEN = (next(route for route in request_cost.ROUTES if route[0] == label)
                     for label in ("GET /api/v1/auth/me", "GET /api/v1/auth/me, no token (401)"))


def best_cpu(operation: Callable[[], object], count: int, rounds: int) -> float:
    """CPU µs of one `operation` (thread time, best of `rounds` runs of `count`, after a warm-up),
    as `request_cost.cpu_per_request` measures a route."""
    for _ in range(min(count, 200)):
        operation()
    best = float("inf")
    for _ in range(rounds):
        started = time.thread_time()
        for _ in range(count):
            operation()
        best = min(best, (time.thread_time() - started) / count)
    return best * 1e6


def token_layers(app, token: str) -> list[tuple[str, Callable[[], object]]]:
    """The token check's parts as operations, each reading the row of `token`'s login session."""
    from sqlalchemy import select

    from studysync.auth.current import _token_statement
    from studysync.auth.tokens import decode_token
    from studysync.models import AuthSession, College, User
    from studysync.tenancy import all_tenants

    database = app.extensions["studysync.db"]
    engine = database.engine
    parameters = {"session_id": decode_token(token, app.config["SETTINGS"].jwt_secret_key).session_id}
    sessions, users, colleges = AuthSession.__table__, User.__table__, College.__table__
    core = (select(*sessions.c, *users.c, *colleges.c)
            .select_from(sessions.join(users, users.c.id == sessions.c.user_id)
                         .outerjoin(colleges, colleges.c.id == users.c.college_id))
            .where(sessions.c.id == parameters["session_id"]))
    compiled = core.compile(dialect=engine.dialect)
    values = compiled.construct_params()
    arguments = tuple(values[name] for name in compiled.positiontup) if compiled.positiontup else values
    sql = str(compiled)

    raw = engine.raw_connection()  # held for the run: the driver's own connection, as the pool set it up
    connection = engine.connect()
    session = database.session_factory()  # not the thread's scoped session, which `life` closes

    def driver():
        cursor = raw.cursor()
        cursor.execute(sql, arguments)
        cursor.fetchall()
        cursor.close()

    def orm():
        with all_tenants(session):
            session.execute(_token_statement(), parameters).first()
        session.expunge_all()  # the next read builds its objects again, as every request does

    def life(statement: bool) -> Callable[[], None]:
        def operation():
            fresh = database.Session()
            if statement:
                with all_tenants(fresh):
                    fresh.execute(_token_statement(), parameters).first()
            else:
                fresh.connection()  # check out, BEGIN (SQLite; PostgreSQL begins at a first write)
            fresh.commit()
            database.Session.remove()
        return operation

    return [
        ("  its token's row: the driver alone", driver),
        ("  ... SQLAlchemy Core, columns", lambda: connection.execute(core).first()),
        ("  ... the app's ORM statement (3 objects)", orm),
        ("  a session's life, no statement", life(False)),
        ("  ... with the app's token statement", life(True)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL (emptied first); default: SQLite in a temp folder")
    parser.add_argument("--operations", type=int, default=2000, help="operations per round")
    parser.add_argument("--rounds", type=int, default=5)
    args, _ = parser.parse_known_args()
    sys.stdout, out = open(os.devnull, "w"), sys.stdout  # the app's log lines go to stdout

    folder = Path(tempfile.mkdtemp(prefix="bench-request-floor-"))
    url = args.database_url or f"sqlite:///{folder}/bench.db"
    ht.migrate(url, fresh=bool(args.database_url))
    students = ht.seed(url, 20)
    runner = request_cost.Runner(url, students)
    app = runner.app.app

    print(f"{url.split(':')[0]}; CPU per operation (thread time), best of {args.rounds} rounds of "
          f"{args.operations}", file=out)
    print(f"{'operation':<52}{'CPU us':>9}{'x hello':>10}", file=out, flush=True)
    hello = None

    def report(label: str, cpu: float) -> None:
        nonlocal hello
        hello = hello or cpu
        print(f"{label:<52}{cpu:>9.1f}{cpu / hello:>10.2f}", file=out, flush=True)

    for label, route in (("bare Flask hello, through the worker's bridge", request_cost.HELLO),
                         ("GET /api/v1/auth/me, no token: the hooks alone", NO_TOKEN),
                         ("GET /api/v1/auth/me", AUTH_ME)):
        report(label, request_cost.cpu_per_request(runner, route, args.operations, args.rounds))
    with app.test_request_context():  # what a request's code runs in (SQLite begins DEFERRED there)
        for label, operation in token_layers(app, students[0].token):
            report(label, best_cpu(operation, args.operations, args.rounds))
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
