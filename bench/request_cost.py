"""What one request costs the app, route by route, next to the bare Flask hello, in this process.

bench/http_throughput.py measures through the server and wrk, and its figures move with whatever
else the machine runs. This one runs each route of issue 15's table (and a request without a
token, which only passes the hooks every request passes, the DM thread as a client without
validators polls it, and the two routes of the app's polling mix as a revalidating client meets
them: a 304) through the same bridge the worker uses
(`studysync.asgi.BufferedWSGI`), one request at a time, on a database seeded as http_throughput
seeds it. It prints the CPU time per request (thread time, best of `--rounds`) and the hello's cost
as a share of the route's: the share of the hello's throughput the route would reach if the server
and the client cost nothing.

With `--rate-limits` every request is also counted in the API rate limit, as a college runs it
(never refused: `http_throughput.COUNTED_LIMIT`), in this process or, with `--redis-url`, in Redis.

With `--instructions` (needs valgrind) each route also runs in a child process under callgrind,
counting only the measured requests: instruction counts do not move with the machine's load, so
two trees (or a change and its parent) compare to within a fraction of a percent.

    python bench/request_cost.py [--database-url postgresql+psycopg://...] [--requests 400]
                                 [--rounds 5] [--instructions] [--rate-limits [--redis-url redis://...]]
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _hello  # noqa: E402
import http_throughput as ht  # noqa: E402

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

ROUTES = [("GET /api/v1/auth/me, no token (401)", "GET", "/api/v1/auth/me", None)] + ht.ROUTES + [
    # The app's polling mix (http_throughput.poll): the DM thread as a client without validators
    # gets it (the whole thread), then both polls as a caching client sends them: the client holds
    # the current ETag and the answer is a 304.
    ("GET /api/messages/{peer}", "GET", "/api/messages/{peer}", None),
    ("GET /api/messages/{peer} (304)", "GET", "/api/messages/{peer}", None),
    ("GET /api/notifications (304)", "GET", "/api/notifications", None),
]
HELLO = ("bare Flask hello", "GET", "/", None)


def environ(method: str, path: str, body: str | None, token: str | None, etag: str | None = None) -> dict:
    """The WSGI environ the worker builds for such a request (a2wsgi's, as studysync/asgi.py does)."""
    from a2wsgi.wsgi import build_environ

    headers = [(b"host", b"127.0.0.1:5000")]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    if etag:
        headers.append((b"if-none-match", etag.encode()))
    data = (body or "").encode()
    if body is not None:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    scope = {"type": "http", "http_version": "1.1", "method": method, "scheme": "http", "path": path,
             "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 5000)}
    built = build_environ(scope, io.BytesIO(data))
    built["wsgi.input_terminated"] = True
    return built


class Runner:
    """Serves one route's requests through a bridge, round robin over the seeded students."""

    def __init__(self, url: str, students: list[ht.Student], counted: bool = False, redis_url: str | None = None
                 ) -> None:
        os.environ.update(DATABASE_URL=url, JWT_SECRET_KEY=ht.JWT_SECRET, RATELIMIT_ENABLED="1" if counted else "0",
                          RATELIMIT_API=ht.COUNTED_LIMIT, EMBEDDING_MODEL="hashing", SYSADMIN_EMAIL="",
                          SYSADMIN_PASSWORD="", REDIS_URL=redis_url or "")
        from studysync.app import create_app
        from studysync.asgi import BufferedWSGI

        self.students = students
        self.app = BufferedWSGI(create_app(), 1)
        self.hello = _hello._http

    def requests(self, route: tuple, count: int) -> tuple[object, list[dict]]:
        label, method, path, body = route
        bridge = self.hello if route is HELLO else self.app
        envs, tags = [], {}
        for i in range(count):
            student = self.students[i % len(self.students)]
            url = path.replace("{peer}", student.peer)
            token = student.token if route is not HELLO and not label.endswith("(401)") else None
            if label.endswith("(304)") and student.id not in tags:
                tags[student.id] = self.etag(url, token)
            envs.append(environ(method, url, body, token, tags.get(student.id)))
        want = 401 if label.endswith("(401)") else 304 if label.endswith("(304)") else 200
        status = bridge._run(dict(envs[0]))[0]
        if status != want:
            raise SystemExit(f"{label}: {status}, expected {want}")
        return bridge, envs

    def etag(self, path: str, token: str) -> str:
        """The tag a caching client holds for `path`: the one its last 200 carried."""
        _, headers, _ = self.app._run(environ("GET", path, None, token))
        return dict(headers)[b"etag"].decode()

    def serve(self, bridge, envs: list[dict]) -> None:
        for env in envs:
            bridge._run(env)


def cpu_per_request(runner: Runner, route: tuple, count: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        bridge, envs = runner.requests(route, count)
        started = time.thread_time()
        runner.serve(bridge, envs)
        best = min(best, (time.thread_time() - started) / count)
    return best * 1e6


def instructions_per_request(folder: Path, url: str, route: tuple, count: int, limits: list[str]) -> float:
    """Runs the route in a child under callgrind, counting is switched on around the measured
    requests only (the child says when it is ready; `callgrind_control` switches)."""
    ready, go, done = folder / "ready", folder / "go", folder / "done"
    for marker in (ready, go, done):
        marker.unlink(missing_ok=True)
    out = folder / "callgrind.out"
    child = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}", sys.executable,
         __file__, "--child", str(folder), "--database-url", url, "--requests", str(count),
         "--route", str(([HELLO] + ROUTES).index(route)), *limits],
        stdout=subprocess.DEVNULL, stderr=(folder / "valgrind.log").open("w"))
    try:
        while not ready.exists():
            if child.poll() is not None:
                raise SystemExit(f"callgrind child exited; see {folder / 'valgrind.log'}")
            time.sleep(0.2)
        subprocess.run(["callgrind_control", "-i", "on", str(child.pid)], check=True, capture_output=True)
        go.touch()
        while not done.exists():
            time.sleep(0.2)
        subprocess.run(["callgrind_control", "-i", "off", str(child.pid)], check=True, capture_output=True)
        done.unlink()
        child.wait(timeout=300)
    finally:
        if child.poll() is None:
            child.kill()
    totals = re.search(r"^totals:\s+(\d+)", out.read_text(), re.MULTILINE)
    return int(totals.group(1)) / count


def child(folder: Path, url: str, route_index: int, count: int, counted: bool, redis_url: str | None) -> None:
    """Under callgrind: warm up, say so, wait for counting to be on, serve, say so, wait to end.

    A request counts as use of its login session at most once a minute (`auth/current.py`: an
    UPDATE at the commit). Every session is made due before the warm-up, so the warm-up writes them
    all and none falls due while counting (well under a minute): the count is the same run to run,
    whenever the minute since the last route's requests ends."""
    runner = Runner(url, [ht.Student(**fields) for fields in json.loads((folder / "students.json").read_text())],
                    counted, redis_url)
    route = ([HELLO] + ROUTES)[route_index]
    _make_sessions_due(url)
    runner.serve(*runner.requests(route, 50))
    bridge, envs = runner.requests(route, count)
    (folder / "ready").touch()
    while not (folder / "go").exists():
        time.sleep(0.05)
    runner.serve(bridge, envs)
    (folder / "done").touch()
    while (folder / "done").exists():
        time.sleep(0.05)


def _make_sessions_due(url: str) -> None:
    from sqlalchemy import create_engine, update

    from studysync.models import AuthSession

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(update(AuthSession.__table__).values(last_used_at=datetime(2000, 1, 1, tzinfo=timezone.utc)))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL (emptied first); default: SQLite in a temp folder")
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400, help="requests per round and route")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--instructions", action="store_true", help="also count instructions (valgrind)")
    parser.add_argument("--rate-limits", action="store_true", help="count every request in the API rate limit")
    parser.add_argument("--redis-url", help="with --rate-limits: count in this Redis instead of in this process")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--route", type=int, help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args()
    sys.stdout, out = open(os.devnull, "w"), sys.stdout  # the app's log lines go to stdout
    if args.child:
        return child(Path(args.child), args.database_url, args.route, args.requests, args.rate_limits, args.redis_url)
    if args.redis_url and not args.rate_limits:
        raise SystemExit("--redis-url is where --rate-limits counts: give both")
    if args.instructions and not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        raise SystemExit("--instructions needs valgrind (Debian: apt-get install -y valgrind)")

    folder = Path(tempfile.mkdtemp(prefix="bench-request-cost-"))
    url = args.database_url or f"sqlite:///{folder}/bench.db"
    ht.migrate(url, fresh=bool(args.database_url))
    students = ht.seed(url, args.students)
    (folder / "students.json").write_text(json.dumps([dataclasses.asdict(student) for student in students]))
    runner = Runner(url, students, args.rate_limits, args.redis_url)
    limits = (["--rate-limits"] + (["--redis-url", args.redis_url] if args.redis_url else [])) if args.rate_limits else []
    print(f"{url.split(':')[0]}, {args.students} students; one request at a time through BufferedWSGI; "
          f"CPU: best of {args.rounds} rounds of {args.requests}; rate limits "
          f"{('counted in ' + ('Redis' if args.redis_url else 'this process')) if args.rate_limits else 'off'}", file=out)
    header = f"{'route':<38}{'CPU us':>9}{'hello/route':>13}"
    print(header + (f"{'instructions':>15}{'hello/route':>13}" if args.instructions else ""), file=out, flush=True)
    hello_cpu = hello_ir = None
    for route in [HELLO] + ROUTES:
        cpu = cpu_per_request(runner, route, args.requests, args.rounds)
        hello_cpu = hello_cpu or cpu
        line = f"{route[0]:<38}{cpu:>9.0f}{hello_cpu / cpu:>13.1%}"
        if args.instructions:
            ir = instructions_per_request(folder, url, route, min(args.requests, 200), limits)
            hello_ir = hello_ir or ir
            line += f"{ir:>15,.0f}{hello_ir / ir:>13.1%}"
        print(line, file=out, flush=True)
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
