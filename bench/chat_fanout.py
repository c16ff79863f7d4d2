"""Group chat fan-out latency: one post, every member's open socket.

    .venv/bin/python bench/chat_fanout.py                        # 200 sockets, 50 posts, both runs
    .venv/bin/python bench/chat_fanout.py --clients 200 --posts 50 --only redis

What it measures. --clients students, all active members of one group, each hold a WebSocket on
GET /api/v1/stream (simple-websocket clients, as the tests use) against a real gunicorn server
(deploy/gunicorn.conf.py, gthread). The group's leader, who holds no socket, then posts --posts
messages over HTTP one after another; each post waits until every socket has its
`message.created` before the next is sent. Per post it records

  fan-out = (when the LAST socket received the message) - (when the POST's HTTP response arrived)

and prints p50, p99 and max in ms (nearest rank: with 50 posts p99 is the 50th of 50, i.e. the
max; raise --posts for a p99 distinct from it). The event is published after the commit but
before the response is written, so some sockets may have it before the response arrives;
fan-out can then be small or even negative. The same figures counted from the moment
the request was sent (which always covers the whole path) and the POST's own round trip follow.

It runs twice in one process:
  (1) in-process broker: one gunicorn worker with --clients + 16 threads, REDIS_URL unset;
  (2) Redis broker (--redis-url): two gunicorn workers, each with --clients + 16 threads, so the
      sockets spread over both workers (the split is printed) and every event crosses Redis
      (the Redis broker delivers even same-worker events through Redis).
The app's Redis prefix is not configurable from the environment, so (2) uses the default
"studysync:" prefix; the channel names are fresh UUIDs, so nothing else on that Redis hears them.
Rate limits are off (RATELIMIT_ENABLED=false): 50 posts a minute is the production limit.

The database is a throwaway SQLite file built by `alembic upgrade head`; the college, the users
(bcrypt rounds 4) and the group are created directly through the services and models.

How a receipt is timed, and what that costs. Each simple-websocket client already runs one
reader thread; `TimedClient` stamps time.perf_counter() in that thread as soon as recv() has
returned the bytes (wsproto has buffered them, not yet decoded the frame), then only checks the
frame's type and bumps a counter under a lock (no JSON decoding during the run; the frames are
checked against the posted message ids afterwards). Still, the --clients reader threads run on
the same machine as the server: on a small box they compete with the server's threads for the
cores (and, within this process, for the GIL), so the figures are an upper bound for what remote
clients would see. The CPU seconds used by this process (the clients) and by the gunicorn
processes while posting are printed to show the split.
"""
from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import simple_websocket  # noqa: E402
from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402

from studysync.app import create_app  # noqa: E402
from studysync.db import db, new_id, utcnow  # noqa: E402
from studysync.models import GroupMember, StudyGroup  # noqa: E402
from studysync.auth import sessions  # noqa: E402
from studysync.services import colleges, students  # noqa: E402
from studysync.tenancy import tenant_context  # noqa: E402

PASSWORD = "Student@1234"
SECRET = "bench-chat-fanout-" * 4
CREATED = '{"type":"message.created"'  # how the stream serialises it (compact JSON, type first)
WAIT_SECONDS = 30.0


# Setup -----------------------------------------------------------------------------------------


def migrate(url: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")


def build_group(url: str, clients: int) -> tuple[str, str, list[str]]:
    """The group id, the leader's token and one token per member with a socket."""
    app = create_app(database_url=url, jwt_secret_key=SECRET, bcrypt_rounds=4, redis_url=None,
                     sysadmin_email=None, sysadmin_password=None, embedding_model="hashing")
    info = sessions.ClientInfo("bench", "127.0.0.1")
    with app.app_context():
        college = colleges.create_college("Bench College", "bench", "Bench Admin", "admin@bench.edu",
                                          "Admin@1234", ["core", "chat"]).college
        with tenant_context(college.id):
            people = [students.create_student({"name": f"Bench Student {i:04d}", "email": f"s{i:04d}@bench.edu",
                                               "department": "Computer Science", "year": 1}, PASSWORD)[0]
                      for i in range(clients + 1)]
            leader, members = people[0], people[1:]
            now = utcnow()
            group = StudyGroup(id=new_id(), name="Fan-out", leader_id=leader.id, created_by=leader.id,
                               max_members=len(people), member_count=len(people), created_at=now, updated_at=now)
            db.session.add(group)
            db.session.flush()
            db.session.add_all(GroupMember(group_id=group.id, user_id=p.id, role="leader" if p is leader else "member",
                                           status="active", joined_at=now, created_at=now) for p in people)
            db.session.commit()
            group_id = group.id
            tokens = [sessions.open_session(p, info).token for p in people]
    app.extensions["studysync.db"].dispose()
    return group_id, tokens[0], tokens[1:]


# The server ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """`gunicorn -c deploy/gunicorn.conf.py wsgi:app` on a free port, output to a log file."""

    def __init__(self, workdir: Path, database_url: str, workers: int, threads: int, redis_url: str | None):
        self.port = free_port()
        self.log_path = workdir / f"gunicorn-{self.port}.log"
        env = {**os.environ, "DATABASE_URL": database_url, "JWT_SECRET_KEY": SECRET, "BCRYPT_ROUNDS": "4",
               "REDIS_URL": redis_url or "", "RATELIMIT_ENABLED": "false", "EMBEDDING_MODEL": "hashing",
               "SYSADMIN_EMAIL": "", "SYSADMIN_PASSWORD": "", "PYTHONPATH": str(ROOT)}
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py",
             "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers), "--threads", str(threads), "wsgi:app"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.workers = workers
        self._wait_ready()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited: {self.log_path.read_text()[-3000:]}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/api/v1/health")
                ok = connection.getresponse().status == 200
                connection.close()
                if ok and len(self.worker_pids()) == self.workers:
                    time.sleep(0.5)  # let the other worker(s) finish importing the app too
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"gunicorn not ready after 60 s: {self.log_path.read_text()[-3000:]}")

    def worker_pids(self) -> list[int]:
        pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    pids.append(int(entry))
        return sorted(pids)

    def cpu_seconds(self) -> float:
        """User + system CPU of the master and its workers so far."""
        total = 0
        for pid in [self.process.pid, *self.worker_pids()]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
        return total / os.sysconf("SC_CLK_TCK")

    def sockets_per_worker(self) -> list[int]:
        """Established connections on our port held by each worker (from /proc; Linux only)."""
        inodes = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                lines = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                parts = line.split()
                if int(parts[1].rsplit(":", 1)[1], 16) == self.port and parts[3] == "01":
                    inodes.add(parts[9])
        counts = []
        for pid in self.worker_pids():
            held = 0
            try:
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    try:
                        target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    except OSError:
                        continue
                    if target.startswith("socket:[") and target[8:-1] in inodes:
                        held += 1
            except OSError:
                pass
            counts.append(held)
        return counts

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


# The clients -----------------------------------------------------------------------------------


class Tally:
    """How many sockets have received their n-th `message.created` (n = 1, 2, ...)."""

    def __init__(self, clients: int) -> None:
        self.clients = clients
        self._lock = threading.Lock()
        self._counts: dict[int, int] = {}
        self._done: dict[int, threading.Event] = {}

    def event(self, n: int) -> threading.Event:
        with self._lock:
            return self._done.setdefault(n, threading.Event())

    def arrived(self, n: int) -> None:
        with self._lock:
            self._counts[n] = self._counts.get(n, 0) + 1
            if self._counts[n] == self.clients:
                self._done.setdefault(n, threading.Event()).set()

    def count(self, n: int) -> int:
        with self._lock:
            return self._counts.get(n, 0)


class TimedClient(simple_websocket.Client):
    """simple-websocket's client, stamping each frame's arrival in its own reader thread.

    Like the tests' client it also reads frames that came in the same packet as the handshake
    response (otherwise `ready` could sit unread until more data arrives)."""

    tally: Tally | None = None

    def handshake(self):
        self.frames: list[tuple[float, str]] = []
        self.created = 0
        super().handshake()
        self._handle_events()
        self.connected = True

    def _handle_events(self):
        arrived = time.perf_counter()  # recv() has just returned these bytes
        before = len(self.input_buffer)
        keep_going = super()._handle_events()
        for raw in self.input_buffer[before:]:
            self.frames.append((arrived, raw))
            if isinstance(raw, str) and raw.startswith(CREATED):
                self.created += 1
                if self.tally is not None:
                    self.tally.arrived(self.created)
        del self.input_buffer[before:]  # nobody calls receive(): the frames live in self.frames
        return keep_going


def open_sockets(base: str, tokens: list[str], tally: Tally) -> list[TimedClient]:
    url = base.replace("http://", "ws://") + "/api/v1/stream?token="

    def one(token: str) -> TimedClient:
        ws = TimedClient.connect(url + token)
        ws.tally = tally
        deadline = time.monotonic() + WAIT_SECONDS
        while not ws.frames and time.monotonic() < deadline:
            time.sleep(0.01)
        if not ws.frames or json.loads(ws.frames[0][1]).get("type") != "ready":
            raise SystemExit(f"socket not ready: {ws.frames[:1]} (close {ws.close_reason})")
        return ws

    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(one, tokens))


def close_sockets(sockets: list[TimedClient]) -> None:
    for ws in sockets:
        try:
            ws.close()
        except Exception:  # noqa: BLE001 - already gone
            pass


# One run ---------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summary(values_s: list[float]) -> str:
    ms = [v * 1e3 for v in values_s]
    return f"p50 {percentile(ms, 50):8.2f}   p99 {percentile(ms, 99):8.2f}   max {max(ms):8.2f}   (ms)"


def run(label: str, server: Gunicorn, group_id: str, leader_token: str, tokens: list[str],
        posts: int, warmup: int) -> None:
    print(f"\n== {label}")
    tally = Tally(len(tokens))
    started = time.perf_counter()
    sockets = open_sockets(server.base, tokens, tally)
    print(f"{len(sockets)} sockets ready in {time.perf_counter() - started:.1f} s; "
          f"established connections per worker: {server.sockets_per_worker()}")
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=WAIT_SECONDS)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {leader_token}"}
    sent_ids: list[str] = []
    timings = []  # (request sent, response arrived, last receipt, first receipt)
    client_cpu, server_cpu, wall = time.process_time(), server.cpu_seconds(), time.perf_counter()
    try:
        for n in range(1, warmup + posts + 1):
            done = tally.event(n)
            body = json.dumps({"content": f"fan-out message {n}", "message_type": "text"})
            sent = time.perf_counter()
            connection.request("POST", f"/api/v1/groups/{group_id}/messages", body, headers)
            response = connection.getresponse()
            payload = response.read()
            answered = time.perf_counter()
            if response.status != 201:
                raise SystemExit(f"POST answered {response.status}: {payload[:500]!r}")
            sent_ids.append(json.loads(payload)["data"]["message_id"])
            if not done.wait(WAIT_SECONDS):
                raise SystemExit(f"post {n}: only {tally.count(n)}/{len(sockets)} sockets received it "
                                 f"within {WAIT_SECONDS:.0f} s")
            if n > warmup:
                receipts = [[t for t, raw in ws.frames if raw.startswith(CREATED)][n - 1] for ws in sockets]
                timings.append((sent, answered, max(receipts), min(receipts)))
        wall = time.perf_counter() - wall
        client_cpu, server_cpu = time.process_time() - client_cpu, server.cpu_seconds() - server_cpu
    finally:
        connection.close()
        close_sockets(sockets)

    # Every socket got exactly the posted messages, in order (checked after the timed part).
    for ws in sockets:
        got = [json.loads(raw)["data"]["message_id"] for _, raw in ws.frames if raw.startswith(CREATED)]
        if got != sent_ids:
            raise SystemExit(f"a socket received {len(got)} messages, not the {len(sent_ids)} posted, in order")

    fan_out = [last - answered for _, answered, last, _ in timings]
    print(f"{posts} posts (+{warmup} warm-up) to {len(sockets)} sockets; every socket got every message, in order")
    print(f"  response arrived -> last socket has it : {summary(fan_out)}")
    print(f"  request sent     -> last socket has it : {summary([last - sent for sent, _, last, _ in timings])}")
    print(f"  request sent     -> first socket has it: {summary([first - sent for sent, _, _, first in timings])}")
    print(f"  POST round trip                        : {summary([done - sent for sent, done, _, _ in timings])}")
    early = sum(1 for v in fan_out if v < 0)
    if early:
        print(f"  ({early} of {posts} posts reached every socket before their HTTP response arrived)")
    print(f"  CPU over the {wall:.1f} s of posting: clients (this process) {client_cpu:.2f} s, "
          f"gunicorn {server_cpu:.2f} s, of {os.cpu_count()} cores x {wall:.1f} s")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200, help="sockets, all members of the group (default 200)")
    parser.add_argument("--posts", type=int, default=50, help="timed posts per run (default 50)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed posts first (default 3)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--only", choices=("in-process", "redis"), help="run one configuration")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="studysync-fanout-"))
    url = f"sqlite:///{workdir / 'bench.db'}"
    threads = args.clients + 16  # one per socket, and room for the posts
    try:
        migrate(url)
        group_id, leader_token, tokens = build_group(url, args.clients)
        print(f"cores: {os.cpu_count()}   load average: {load()}   python {platform.python_version()}   "
              f"database: SQLite (WAL) in {workdir}")
        print(f"clients: {args.clients} WebSockets (simple-websocket), all members of one group; "
              f"posts: {args.posts} (+{args.warmup} warm-up) by the group's leader (no socket), one at a time")
        print(f"server: gunicorn -c deploy/gunicorn.conf.py (gthread), threads per worker: {threads}")
        configurations = [("in-process", "(1) in-process broker, gunicorn 1 worker", 1, None),
                          ("redis", f"(2) Redis broker ({args.redis_url}), gunicorn 2 workers", 2, args.redis_url)]
        for key, label, workers, redis_url in configurations:
            if args.only and args.only != key:
                continue
            server = Gunicorn(workdir, url, workers, threads, redis_url)
            try:
                run(label, server, group_id, leader_token, tokens, args.posts, args.warmup)
            finally:
                server.stop()
        print(f"\nload average after: {load()}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
