"""Recommendations over HTTP in a college of 10,000 students, with and without profile churn.

bench/recommend.py times the matrix arithmetic alone; this times what a student waits for. It
serves the app the way `make run` does (bench/http_throughput.py's helpers: the Makefile's server
command, deploy/gunicorn.conf.py's workers) on a database seeded here with one college of
`--students` students, each with a profile (synthetic subjects, timetable, level and learning
style, bench/_synthetic.py), their embeddings (and the groups') already cached, and groups of 4-6
of them. Vectors come from the fast hashing embedder (EMBEDDING_MODEL=hashing, for the seed and the
server) unless `--model minilm`: then from the real all-MiniLM-L6-v2, loaded offline from its
package, so each change of the churn below is embedded by the real model. Then, with `wrk`:

1. p50/p99 of `GET /api/v1/recommendations` and of the mobile `POST /api/recommend`, each from
   random students of the college, first with no changes, then while one student of the same
   college changes their profile (new subjects, timetable and learning-style text) every second
   (the "PUT ms" column: how long those changes took, p50/max);
2. joins per second into the college's open groups (each request a new student/group pair),
   without and with that churn; a run with errors says what they were (each non-2xx status with
   its message, wrk's timeouts and socket errors, the statuses in the server log).

`GET /api/health` is timed first as the same run's baseline (shared machine: compare ratios).
The server log counts whole builds of the college's index ("matching index built").

    python bench/recommend_http.py [--database-url postgresql+psycopg://...] [--redis-url redis://...]
                                   [--students 10000] [--duration 10] [--connections 8]
                                   [--model hashing|minilm]
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _synthetic  # noqa: E402
import http_throughput as ht  # noqa: E402

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
import uuid  # noqa: E402

PORT = int(os.environ.get("BENCH_PORT", "7201"))
TOKENS = 2000  # students who send requests (and join groups)
JOIN_GROUPS = 300  # open groups of MAX size that the join runs fill
PASSWORD_HASH_ROUNDS = 4


MODELS = {"hashing": "hashing", "minilm": None}  # --model → embedding_model (None: the bundled MiniLM)


def seed(url: str, count: int, model_name: str = "hashing") -> tuple[str, list[ht.Student], list[str]]:
    """One college of `count` students with profiles and cached embeddings; groups; tokens."""
    from sqlalchemy import insert, select

    from studysync.app import create_app
    from studysync.auth import passwords, sessions
    from studysync.db import db, utcnow
    from studysync.models import College, Embedding, GroupMember, Profile, StudyGroup, User
    from studysync.schemas.group import MAX_GROUP_SIZE
    from studysync.services import demo, embeddings
    from studysync.tenancy import tenant_context

    app = create_app(database_url=url, jwt_secret_key=ht.JWT_SECRET, bcrypt_rounds=PASSWORD_HASH_ROUNDS,
                     redis_url=None, ratelimit_enabled=False, sysadmin_email=None,
                     sysadmin_password=None, embedding_model=MODELS[model_name], app_env="testing")
    rng = random.Random(15)
    with app.app_context():
        demo.seed_demo()
        college = db.session.execute(select(College).where(College.subdomain == "demo")).scalar_one()
        college_id = college.id
        model = embeddings.embedder()
        password = passwords.hash_password("Student@1234", PASSWORD_HASH_ROUNDS)
        synthetic = _synthetic.college(count, seed=15)
        texts = sorted({s.learning_style for s in synthetic})
        vectors = dict(zip(texts, model.embed(texts)))
        now = utcnow()
        users, profiles, vecs = [], [], []
        for i, s in enumerate(synthetic):
            user_id = str(uuid.uuid4())
            users.append({"id": user_id, "college_id": college_id, "role": "student", "name": s.name,
                          "email": f"student{i}@demo.edu", "password_hash": password, "status": "active",
                          "department": s.major, "year": 1 + i % 4, "group_limit": 100, "rating": 0.0,
                          "created_at": now, "updated_at": now})
            profiles.append({"id": str(uuid.uuid4()), "college_id": college_id, "user_id": user_id,
                             "major": s.major, "year": str(1 + i % 4), "learning_style": s.learning_style,
                             "subjects": s.subjects, "schedule": s.schedule, "performance_level": s.performance_level,
                             "text_version": 1, "embedding_stale": False, "created_at": now, "updated_at": now})
            vecs.append({"id": str(uuid.uuid4()), "college_id": college_id, "owner_type": "profile",
                         "owner_id": user_id, "model": model.name, "text_hash": embeddings.text_hash(s.learning_style),
                         "vector": embeddings.to_bytes(vectors[s.learning_style]), "updated_at": now})
        groups, members = [], []
        ids = [u["id"] for u in users]
        for g in range(count // 10):  # groups of 4-6 students sharing a subject
            leader = synthetic[rng.randrange(count)]
            size = rng.randint(4, 6)
            chosen = rng.sample(range(count), size)
            group_id = str(uuid.uuid4())
            groups.append(_group(group_id, college_id, f"{leader.subjects[0]} circle {g}", leader.subjects[0],
                                 ids[chosen[0]], 10, size, now))
            members += [_member(college_id, group_id, ids[c], "leader" if n == 0 else "member", now)
                        for n, c in enumerate(chosen)]
        join_targets = []
        for g in range(JOIN_GROUPS):
            group_id = str(uuid.uuid4())
            join_targets.append(group_id)
            groups.append(_group(group_id, college_id, f"Open study hall {g}", rng.choice(_synthetic.GENERAL),
                                 ids[g], MAX_GROUP_SIZE, 1, now))
            members.append(_member(college_id, group_id, ids[g], "leader", now))
        # Core inserts: no flush, so no change-log rows (the index is simply built on first use)
        for table, rows in ((User, users), (Profile, profiles), (Embedding, vecs), (StudyGroup, groups),
                            (GroupMember, members)):
            for start in range(0, len(rows), 1000):
                db.session.execute(insert(table.__table__), rows[start:start + 1000])
        db.session.commit()
        with tenant_context(college_id):  # what the first build would otherwise embed (seconds with MiniLM)
            embeddings.group_vectors(db.session.execute(select(StudyGroup)).scalars().all(), model)
        db.session.commit()
        students = []
        with tenant_context(college_id):
            chosen = db.session.execute(select(User).where(User.id.in_(ids[JOIN_GROUPS:JOIN_GROUPS + TOKENS]))).scalars()
            for user in chosen:
                login = sessions.open_session(user, sessions.ClientInfo("bench", "127.0.0.1"))
                students.append(ht.Student(id=user.id, token=login.token, peer=user.id))
            db.session.commit()
    return college_id, students, join_targets


def _group(group_id, college_id, name, subject, leader, max_members, count, now) -> dict:
    return {"id": group_id, "college_id": college_id, "name": name, "subject": subject, "description": None,
            "max_members": max_members, "min_rating": 0.0, "join_policy": "open", "leader_id": leader,
            "created_by": leader, "is_archived": False, "member_count": count, "created_at": now, "updated_at": now}


def _member(college_id, group_id, user_id, role, now) -> dict:
    return {"id": str(uuid.uuid4()), "college_id": college_id, "group_id": group_id, "user_id": user_id,
            "role": role, "status": "active", "invited": False, "joined_at": now, "created_at": now}


def _wait_for_model(timeout: float = 120.0) -> None:
    """The server loads its model in the background: measure once it is there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/api/health", timeout=5) as response:
            state = json.load(response).get("ai_model")
        if state == "loaded":
            return
        if state == "error":
            raise SystemExit("the server could not load its embedding model")
        time.sleep(0.5)
    raise SystemExit(f"the server's embedding model did not load in {timeout:.0f} s")


class Churn:
    """One profile change a second, by students of the college, through the API."""

    def __init__(self, students: list[ht.Student]) -> None:
        self.students = students
        self.stop = threading.Event()
        self.done = self.failed = 0
        self.latencies: list[float] = []  # seconds per change
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.rng = random.Random(99)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    def summary(self) -> str:
        """p50/max milliseconds of the changes made."""
        if not self.latencies:
            return "-"
        times = sorted(self.latencies)
        return f"{times[len(times) // 2] * 1000:.0f}/{times[-1] * 1000:.0f}"

    def run(self) -> None:
        synthetic = _synthetic.college(500, seed=2026)
        while not self.stop.is_set():
            started = time.perf_counter()
            student, s = self.rng.choice(self.students), self.rng.choice(synthetic)
            body = {"subjects": s.subjects, "schedule": s.schedule, "performance_level": s.performance_level,
                    "learning_style": f"{s.learning_style} ({self.done})"}  # a new text: re-embedded
            request = urllib.request.Request(f"http://127.0.0.1:{PORT}/api/v1/me/profile", method="PUT",
                                             data=json.dumps(body).encode(),
                                             headers={"Authorization": f"Bearer {student.token}",
                                                      "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    ok = response.status == 200
            except OSError:
                ok = False
            self.done += ok
            self.failed += not ok
            self.latencies.append(time.perf_counter() - started)
            self.stop.wait(max(0.0, 1.0 - (time.perf_counter() - started)))


def join_script(folder: Path, students: list[ht.Student], groups: list[str], first: int, threads: int) -> Path:
    """Each wrk thread takes its own slice of distinct (student, group) pairs, in order. What went
    wrong is written to `failures(path)`: each non-2xx answer's status and message, wrk's timeouts."""
    count = len(students)
    pairs = [(students[i % count].token, groups[(i % count + i // count) % len(groups)])
             for i in range(first, first + 4 * count)]  # a student's 4 pairs: 4 different groups
    rows = ",\n".join(f'{{"{t}","{g}"}}' for t, g in pairs)
    path = folder / f"join{first}.lua"
    path.write_text(f"""
local targets = {{ {rows} }}
local nthreads = {threads}
local started = 0
local threads = {{}}
setup = function(thread)  -- runs in the main state; sets the global `tid` of each thread's own state
  thread:set("tid", started)
  started = started + 1
  table.insert(threads, thread)
end
local n = 0
request = function()
  local p = targets[(n * nthreads + tid) % #targets + 1]
  n = n + 1
  return wrk.format("POST", "/api/v1/groups/" .. p[2] .. "/join", {{["Authorization"] = "Bearer " .. p[1]}}, nil)
end
failed = {{}}  -- global, so done() can read each thread's: "status message" -> count
response = function(status, headers, body)
  if status >= 300 then
    local message = string.match(body or "", '"message"%s*:%s*"([^"]*)"') or ""
    local key = status .. " " .. message
    failed[key] = (failed[key] or 0) + 1
  end
end
done = function(summary, latency, requests)
  local out = io.open("{failures(path)}", "w")
  for _, thread in ipairs(threads) do
    for key, count in pairs(thread:get("failed")) do out:write(count .. "\\t" .. key .. "\\n") end
  end
  for kind, count in pairs(summary.errors) do
    if kind ~= "status" and count > 0 then out:write(count .. "\\t" .. kind .. "\\n") end
  end
  out:close()
end
""")
    return path


def failures(script: Path) -> Path:
    return script.with_suffix(".failures")


def _failed(script: Path, log: Path, since: int, route: str) -> str:
    """What the join run's failures were, as wrk saw them and as the server logged them."""
    seen = failures(script).read_text().splitlines() if failures(script).exists() else []
    logged: dict[int, int] = {}
    for line in log.read_text(errors="replace").splitlines()[since:]:
        if f'"route": "{route}"' in line and '"status": ' in line:
            status = int(line.split('"status": ', 1)[1].split(",", 1)[0])
            if status >= 300:
                logged[status] = logged.get(status, 0) + 1
    counted: dict[str, int] = {}
    for count, what in (line.split("\t", 1) for line in seen):  # one line per wrk thread
        counted[what] = counted.get(what, 0) + int(count)
    client = "; ".join(f"{count}× {what}" for what, count in counted.items())
    server = ", ".join(f"{count}× {status}" for status, count in sorted(logged.items()))
    return f"wrk: {client or 'none'} | server log: {server or 'none'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL (emptied first); default: SQLite in a temp folder")
    parser.add_argument("--redis-url", help="REDIS_URL for the server (two workers)")
    parser.add_argument("--students", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--model", choices=sorted(MODELS), default="hashing",
                        help="embedder of the seed and the server; minilm: the real all-MiniLM-L6-v2")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("needs wrk (Debian: apt-get install -y wrk)")

    folder = Path(tempfile.mkdtemp(prefix="bench-recommend-http-"))
    url = args.database_url or f"sqlite:///{folder}/bench.db"
    ht.migrate(url, fresh=bool(args.database_url))
    started = time.perf_counter()
    _, students, join_groups = seed(url, args.students, args.model)
    print(f"seeded {args.students:,} students with profiles and cached {args.model} vectors, "
          f"{args.students // 10 + JOIN_GROUPS:,} groups in {time.perf_counter() - started:.0f} s ({url.split(':')[0]})")

    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "WEB_CONCURRENCY")}
    env = {k: v for k, v in env.items() if k != "EMBEDDING_MODEL"}
    env.update(DATABASE_URL=url, JWT_SECRET_KEY=ht.JWT_SECRET, RATELIMIT_ENABLED="0",
               SYSADMIN_EMAIL="", SYSADMIN_PASSWORD="", LOG_FORMAT="json")
    if MODELS[args.model]:
        env["EMBEDDING_MODEL"] = MODELS[args.model]
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
        # the two workers' metric files go in the bench's temp folder, removed with it
        env["PROMETHEUS_MULTIPROC_DIR"] = str(folder / "metrics")
        (folder / "metrics").mkdir()
    command_line = ht.run_command()
    log = folder / "app.log"
    print("server:", " ".join(command_line), "| workers:", 2 if args.redis_url else 1)
    # the app logs to stdout, which ht.start discards: send it to the log with stderr
    server = ht.start(["sh", "-c", 'exec "$@" 1>&2', "sh", *command_line], PORT, env, log)
    recommend = [("GET /api/v1/recommendations", "GET", "/api/v1/recommendations", None),
                 ("POST /api/recommend", "POST", "/api/recommend", "{}")]
    try:
        _wait_for_model()
        t = time.perf_counter()
        for _ in range(4):  # every worker builds the college's index once
            ht.wrk(PORT, "/", 4, 2, ht._script(folder, "warm", students, [(m, p, b) for _, m, p, b in recommend]))
        print(f"warm-up (first builds included) {time.perf_counter() - t:.0f} s; "
              f"whole builds so far: {_builds(log)}")
        base = ht.wrk(PORT, "/api/health", args.connections, args.duration)
        print(f"\nwrk -c{args.connections} -d{args.duration}s; baseline GET /api/health: {base.rps:.0f} req/s, "
              f"p50 {base.p50:.1f} ms, p99 {base.p99:.1f} ms")
        print(f"{'route':<30}{'churn':>7}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'changes':>9}"
              f"{'PUT ms':>10}{'in app p50/p99 ms':>19}")
        for label, method, path, body in recommend:
            script = ht._script(folder, "route", students, [(method, path, body)])
            for churning in (False, True):
                builds, since = _builds(log), _lines(log)
                if churning:
                    with Churn(students[-200:]) as churn:
                        r = ht.wrk(PORT, "/", args.connections, args.duration, script)
                    changes, put = f"{churn.done}/{churn.done + churn.failed}", churn.summary()
                else:
                    r = ht.wrk(PORT, "/", args.connections, args.duration, script)
                    changes = put = "-"
                print(f"{label:<30}{'1/s' if churning else 'none':>7}{r.rps:>8.0f}{r.p50:>9.1f}{r.p99:>9.1f}"
                      f"{r.errors:>8}{changes:>9}{put:>10}{_server_ms(log, since, path):>19}"
                      f"   (whole builds during run: {_builds(log) - builds})", flush=True)
        print(f"\njoins: POST /api/v1/groups/<id>/join, each a new student/group pair, {JOIN_GROUPS} open groups")
        print(f"{'churn':>7}{'joins/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'PUT ms':>10}{'in app p50/p99 ms':>19}")
        for n, churning in enumerate((False, True)):
            since = _lines(log)
            script = join_script(folder, students[:-200], join_groups, n * 4 * (len(students) - 200), 2)
            put = "-"
            if churning:
                with Churn(students[-200:]) as churn:
                    r = ht.wrk(PORT, "/", args.connections, args.duration, script)
                put = churn.summary()
            else:
                r = ht.wrk(PORT, "/", args.connections, args.duration, script)
            route = "/api/v1/groups/<group_id>/join"
            print(f"{'1/s' if churning else 'none':>7}{r.rps:>9.0f}{r.p50:>9.1f}{r.p99:>9.1f}{r.errors:>8}{put:>10}"
                  f"{_server_ms(log, since, route):>19}", flush=True)
            if r.errors:
                print(f"{'':>7}failed: {_failed(script, log, since, route)}", flush=True)
        print(f"\nwhole builds of the college's index in the run: {_builds(log)} (one per worker expected)")
    except BaseException:
        print(f"server log kept in {log}", file=sys.stderr)
        raise
    finally:
        ht.stop(server)
    shutil.rmtree(folder, ignore_errors=True)


def _server_ms(log: Path, since: int, route: str) -> str:
    """p50/p99 of the app's own duration_ms for `route` in log lines after `since` (queueing excluded)."""
    times = []
    for line in log.read_text(errors="replace").splitlines()[since:]:
        if f'"route": "{route}"' in line and '"duration_ms": ' in line:
            times.append(float(line.split('"duration_ms": ', 1)[1].split(",", 1)[0]))
    if not times:
        return "-"
    times.sort()
    return f"{times[len(times) // 2]:.1f}/{times[min(len(times) - 1, int(len(times) * 0.99))]:.1f}"


def _lines(log: Path) -> int:
    return len(log.read_text(errors="replace").splitlines())


def _builds(log: Path) -> int:
    return log.read_text(errors="replace").count("matching index built")


if __name__ == "__main__":
    main()
