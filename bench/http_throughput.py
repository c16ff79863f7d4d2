"""HTTP throughput of the API next to a bare Flask "hello", and how many app users one server holds.

Starts the server the way `make run` does (the server command is read from the Makefile's `run`
recipe, so its worker class and settings come from deploy/gunicorn.conf.py), on a fresh database
seeded here: the demo college plus `--students` registered students with profiles, groups, join
requests, direct messages and notifications. A bare Flask hello (bench/_hello.py) is served by the
same command. Rate limits are off (issue 15), or with `--rate-limits` every request is counted as a
college runs, under a limit no bench client reaches. Then, with `wrk`:

1. each route of issue 15's table, each right after a run of the hello: req/s, p50, p99, and the
   ratio to that hello run (the machine is shared, so only ratios from the same run compare);
2. the mobile app's polling mix (contract §4: a DM thread every 3 s, notifications every 10 s —
   20 + 6 requests a minute per open app) at rising connection counts; the highest throughput
   with p99 under 200 ms, divided by 26/60 req/s per user, is the number of concurrent app users
   the server holds. Twice: clients that send no validators, and clients that revalidate with
   If-None-Match as the app's HTTP stack does once the answers carry ETags (OkHttp's cache in
   React Native on Android, NSURLCache on iOS), `--changed` of their polls finding something new.

    python bench/http_throughput.py [--database-url postgresql+psycopg://...] [--redis-url redis://...] [--rate-limits]
                         [--duration 5] [--students 120]

The database named by --database-url is emptied (alembic downgrade base, upgrade head). wrk runs on
the same machine as the server and takes CPU from it; the figures are for comparing, not absolute.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402

APP_PORT = 5901  # --port moves it; the hello listens on the next port
JWT_SECRET = "bench-http-secret-" * 4
PASSWORD = "Student@1234"
POLL_PER_MINUTE = {"messages": 20, "notifications": 6}  # contract §4: every 3 s and every 10 s
POLL_MIX = [("GET", "/api/messages/{peer}", None)] * POLL_PER_MINUTE["messages"] + \
           [("GET", "/api/notifications", None)] * POLL_PER_MINUTE["notifications"]
P99_BUDGET_MS = 200.0
COUNTED_LIMIT = "1000000 per minute"  # --rate-limits: each request counted, none refused
POLL_CONNECTIONS = (2, 4, 8, 16, 32, 64, 128, 256, 512)
ROUTES = [  # (label, method, path, body); {peer} is each user's DM partner
    ("GET /api/health", "GET", "/api/health", None),
    ("GET /api/v1/auth/me", "GET", "/api/v1/auth/me", None),
    ("GET /api/auth/profile", "GET", "/api/auth/profile", None),
    ("GET /api/notifications", "GET", "/api/notifications", None),
    ("POST /api/recommend", "POST", "/api/recommend", "{}"),
    ("GET /api/v1/groups/mine", "GET", "/api/v1/groups/mine", None),
]


# The server, as `make run` starts it --------------------------------------------------------------


def run_command() -> list[str]:
    """The server command of the Makefile's `run` recipe (its `exec ...` line), variables filled in."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^run:.*\n((?:\t.*\n?)+)", makefile, re.MULTILINE)
    if recipe is None:
        raise SystemExit("No `run:` recipe in the Makefile")
    lines = [line.strip() for line in recipe.group(1).splitlines() if line.strip().startswith("exec ")]
    if not lines:
        raise SystemExit("The Makefile's `run` recipe has no `exec <server>` line")
    line = lines[-1][len("exec "):].replace("$(VENV)", str(ROOT / ".venv")).replace("$(PY)", sys.executable)
    return shlex.split(line)


def hello_command(command_line: list[str]) -> list[str]:
    """The same command serving bench/_hello.py instead of the app (the `module:attribute` argument)."""
    apps = [i for i, arg in enumerate(command_line) if re.fullmatch(r"[\w.]+:\w+", arg)]
    if not apps:
        raise SystemExit(f"Cannot find the app argument in: {' '.join(command_line)}")
    hello = "bench._hello:asgi" if command_line[apps[-1]].startswith("asgi:") else "bench._hello:app"
    return command_line[:apps[-1]] + [hello] + command_line[apps[-1] + 1:]


def start(command_line: list[str], port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:  # another server would answer in our place
            raise SystemExit(f"Port {port} is in use (--port picks another)")
    process = subprocess.Popen(command_line, cwd=ROOT, env={**env, "PORT": str(port)},
                               stdout=subprocess.DEVNULL, stderr=log.open("w"), start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"The server exited ({process.returncode}); see {log}:\n{log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            return process
        except urllib.error.HTTPError:
            return process  # it answers (a 404 at / is an answer)
        except OSError:
            time.sleep(0.3)
    stop(process)
    raise SystemExit(f"The server did not answer on :{port} within 60 s; see {log}")


def server_env(url: str, redis_url: str | None = None, counted: bool = False) -> dict[str, str]:
    """This process's environment for the server, with the bench's database and settings: rate
    limits off (`counted`: every request counted, as a college runs, under a limit none reaches),
    the fast embedder, no sysadmin; two workers only with `redis_url`."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "WEB_CONCURRENCY")}
    env.update(DATABASE_URL=url, JWT_SECRET_KEY=JWT_SECRET, RATELIMIT_ENABLED="1" if counted else "0",
               RATELIMIT_API=COUNTED_LIMIT, EMBEDDING_MODEL="hashing", SYSADMIN_EMAIL="", SYSADMIN_PASSWORD="")
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


# Data -----------------------------------------------------------------------------------------------


@dataclass
class Student:
    id: str
    token: str
    peer: str = ""


def migrate(url: str, fresh: bool) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = url
    if fresh:
        command.downgrade(config, "base")
    command.upgrade(config, "head")


def seed(url: str, count: int) -> list[Student]:
    """The demo college and `count` students registered through the app's own routes."""
    from studysync.app import create_app
    from studysync.services import demo

    app = create_app(database_url=url, jwt_secret_key=JWT_SECRET, bcrypt_rounds=4, redis_url=None,
                     ratelimit_enabled=False, sysadmin_email=None, sysadmin_password=None,
                     embedding_model="hashing", app_env="testing")
    with app.app_context():
        demo.seed_demo()
    client = app.test_client()
    rng = random.Random(15)
    majors = ["Computer Science", "Mathematics", "Biology", "Physics", "Economics"]
    subjects = ["Calculus II", "Linear Algebra", "Databases", "Genetics", "Statistics", "Physics I", "Algorithms"]
    students: list[Student] = []
    for index in range(count):
        body = {"name": f"Bench Student {index}", "email": f"bench{index}@demo.edu", "password": PASSWORD,
                "major": rng.choice(majors), "year": str(rng.randint(1, 4)), "subjects": rng.sample(subjects, 3),
                "learning_style": rng.choice(["visual", "reading", "discussion"]),
                "availability": {"monday": ["evening"], "wednesday": ["afternoon"]}}
        response = client.post("/api/auth/register", json=body)
        if response.status_code != 201:
            raise SystemExit(f"register: {response.status_code} {response.get_data(as_text=True)[:300]}")
        payload = response.get_json()
        students.append(Student(id=str(payload["user"]["id"]), token=payload["token"]))
    for index, student in enumerate(students):
        student.peer = students[index ^ 1].id if index ^ 1 < len(students) else students[0].id
    auth = lambda s: {"Authorization": f"Bearer {s.token}"}  # noqa: E731
    group_ids = []
    for student in students[: max(1, count // 6)]:
        created = client.post("/api/groups/create", headers=auth(student),
                              json={"title": f"{rng.choice(subjects)} circle", "subject": rng.choice(subjects)})
        group_ids.append(created.get_json()["group_id"])
    for student in students:
        for group_id in rng.sample(group_ids, min(4, len(group_ids))):
            client.post(f"/api/groups/{group_id}/join", headers=auth(student))
        for n in range(10):  # a thread of 20 messages per pair, and a notification per message
            client.post("/api/messages/send", headers=auth(student),
                        json={"receiverId": student.peer, "content": f"message {n} about the problem set"})
    return students


# wrk ------------------------------------------------------------------------------------------------


@dataclass
class Result:
    rps: float
    p50: float
    p99: float
    errors: int


def lua_for(students: list[Student], picks: list[tuple[str, str, str | None]],
            etags: dict[tuple[str, str], str] | None = None, changed: float = 1.0) -> str:
    """A wrk script: each request comes from a random student; `picks` (method, path, body) are
    drawn with equal weight (repeat one to weight it). With `etags` ({(student id, path): ETag}),
    a GET sends the student's `If-None-Match` as a caching HTTP client does, except for a
    `changed` share of polls, which stand for the polls that find something new (a full 200)."""
    etags = etags or {}
    paths = sorted({p for m, p, b in picks if m == "GET"})
    users = ",\n".join("{" + ",".join([f'"{s.token}"', f'"{s.peer}"'] + [
        json.dumps(etags.get((s.id, p), "")) for p in paths]) + "}" for s in students)
    choices = ",\n".join(f'{{"{m}","{p}",{json.dumps(b) if b else "nil"},{paths.index(p) + 3 if p in paths else 0}}}'
                          for m, p, b in picks)
    return f"""
local users = {{ {users} }}
local picks = {{ {choices} }}
local changed = {changed}
math.randomseed(os.time() + math.floor(os.clock() * 1000000))
request = function()
  local u = users[math.random(#users)]
  local p = picks[math.random(#picks)]
  local path = string.gsub(p[2], "{{peer}}", u[2])
  local headers = {{["Authorization"] = "Bearer " .. u[1]}}
  if p[3] then headers["Content-Type"] = "application/json" end
  if p[4] > 0 and u[p[4]] ~= "" and math.random() >= changed then headers["If-None-Match"] = u[p[4]] end
  return wrk.format(p[1], path, headers, p[3])
end
"""


def wrk(port: int, path: str, connections: int, duration: int, script: Path | None = None) -> Result:
    args = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s"]
    if script is not None:
        args += ["-s", str(script)]
    out = subprocess.run(args + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    percent = {m.group(1): _ms(m.group(2)) for m in re.finditer(r"^\s+(\d+)%\s+([\d.]+\w+)", out, re.MULTILINE)}
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return Result(rps, percent["50"], percent["99"], errors)


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def check_routes(students: list[Student]) -> None:
    for label, method, path, body in ROUTES + [("poll", "GET", "/api/messages/{peer}", None)]:
        student = students[0]
        request = urllib.request.Request(f"http://127.0.0.1:{APP_PORT}{path.replace('{peer}', student.peer)}",
                                         method=method, data=body.encode() if body else None,
                                         headers={"Authorization": f"Bearer {student.token}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            if response.status != 200:
                raise SystemExit(f"{label}: {response.status}")


# Main -----------------------------------------------------------------------------------------------


def main() -> None:
    global APP_PORT, HELLO_PORT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL (emptied first); default: SQLite in a temp folder")
    parser.add_argument("--redis-url", help="REDIS_URL for the server (two workers, as deploy/gunicorn.conf.py says)")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections for the route table")
    parser.add_argument("--students", type=int, default=120)
    parser.add_argument("--skip-poll", action="store_true")
    parser.add_argument("--changed", type=float, default=0.1,
                        help="revalidating clients: the share of polls that find something new (sent without a validator)")
    parser.add_argument("--port", type=int, default=APP_PORT, help="the app's port; the hello's is the next one")
    parser.add_argument("--rate-limits", action="store_true",
                        help=f"count every request in the API rate limit, as a college runs (RATELIMIT_API={COUNTED_LIMIT})")
    args, _ = parser.parse_known_args()
    APP_PORT, HELLO_PORT = args.port, args.port + 1
    if shutil.which("wrk") is None:
        raise SystemExit("bench/http_throughput.py needs wrk (Debian: apt-get install -y wrk)")

    folder = Path(tempfile.mkdtemp(prefix="bench-http-"))
    url = args.database_url or f"sqlite:///{folder}/bench.db"
    migrate(url, fresh=bool(args.database_url))
    started = time.perf_counter()
    students = seed(url, args.students)
    print(f"seeded {len(students)} students in {time.perf_counter() - started:.0f} s ({url.split(':')[0]})")

    env = server_env(url, args.redis_url, counted=args.rate_limits)
    command_line = run_command()
    print("server:", " ".join(command_line), "| REDIS_URL", "set" if args.redis_url else "unset",
          "| rate limits", "counted" if args.rate_limits else "off")
    app = start(command_line, APP_PORT, env, folder / "app.log")
    hello = None
    try:
        hello = start(hello_command(command_line), HELLO_PORT, env, folder / "hello.log")
        check_routes(students)
        for label, method, path, body in ROUTES:  # warm up every route once
            wrk(APP_PORT, "/", 4, 1, _script(folder, "warm", students, [(method, path, body)]))
        print(f"\nwrk -t2 -c{args.connections} -d{args.duration}s; each route right after a hello run "
              f"(shared machine: compare the ratios)")
        print(f"{'route':<28}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'hello req/s':>13}{'ratio':>8}{'errors':>8}")
        for label, method, path, body in ROUTES:
            base = wrk(HELLO_PORT, "/", args.connections, args.duration)
            result = wrk(APP_PORT, "/", args.connections, args.duration,
                         _script(folder, "route", students, [(method, path, body)]))
            print(f"{label:<28}{result.rps:>9.0f}{result.p50:>9.1f}{result.p99:>9.1f}{base.rps:>13.0f}"
                  f"{result.rps / base.rps:>8.0%}{result.errors:>8}", flush=True)
        if not args.skip_poll:
            poll(folder, students, args.duration, args.changed)
    except BaseException:
        print(f"server logs kept in {folder}", file=sys.stderr)
        raise
    finally:
        stop(app)
        if hello is not None:
            stop(hello)
    shutil.rmtree(folder, ignore_errors=True)


def _script(folder: Path, name: str, students: list[Student], picks, etags=None, changed: float = 1.0) -> Path:
    path = folder / f"{name}.lua"
    path.write_text(lua_for(students, picks, etags, changed))
    return path


def poll(folder: Path, students: list[Student], duration: int, changed: float) -> None:
    per_user = sum(POLL_PER_MINUTE.values()) / 60
    print(f"\nThe app's polling mix ({POLL_PER_MINUTE['messages']} DM-thread + {POLL_PER_MINUTE['notifications']} "
          f"notification GETs a minute per open app = {per_user:.3f} req/s per user)")
    clients = [("no validators", None, 1.0),
               (f"revalidating (If-None-Match; {changed:.0%} of polls find something new)", etags_of(students, POLL_MIX),
                changed)]
    for name, etags, share in clients:
        script = _script(folder, "poll", students, POLL_MIX, etags, share)
        print(f"clients: {name}")
        print(f"{'connections':>11}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'app users':>11}")
        best, over = 0.0, 0
        for connections in POLL_CONNECTIONS:
            result = wrk(APP_PORT, "/", connections, duration, script)
            users = result.rps / per_user
            print(f"{connections:>11}{result.rps:>9.0f}{result.p50:>9.1f}{result.p99:>9.1f}{result.errors:>8}"
                  f"{users:>11.0f}", flush=True)
            if result.p99 >= P99_BUDGET_MS or result.errors:
                over += 1
                if over == 2:  # two levels in a row over budget: one alone may be a neighbour's spike
                    break
                continue
            over = 0
            best = max(best, users)
        print(f"concurrent app users with p99 < {P99_BUDGET_MS:.0f} ms ({name}): {best:.0f} (shared machine)")


def etags_of(students: list[Student], picks) -> dict[tuple[str, str], str]:
    """Each student's current ETag of each polled path, as their app's HTTP cache holds it."""
    tags = {}
    for path in sorted({p for m, p, b in picks if m == "GET"}):
        for student in students:
            request = urllib.request.Request(f"http://127.0.0.1:{APP_PORT}{path.replace('{peer}', student.peer)}",
                                             headers={"Authorization": f"Bearer {student.token}"})
            with urllib.request.urlopen(request, timeout=30) as response:
                tags[(student.id, path)] = response.headers.get("ETag") or ""
    return tags


if __name__ == "__main__":
    main()
