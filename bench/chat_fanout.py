"""Live events at scale: fan-out to thousands of open sockets, and the plain API beside them.

    .venv/bin/python bench/chat_fanout.py                       # 1,000 and 5,000 sockets, both brokers
    .venv/bin/python bench/chat_fanout.py --sockets 200 1000 --posts 20 --only in-process

The server is the default configuration, exactly as `make run` starts it: gunicorn -c
deploy/gunicorn.conf.py asgi:app (uvicorn's worker; one worker without REDIS_URL, two with it), no
thread tuning. Rate limits are off (RATELIMIT_ENABLED=false: 50 posts a minute is the production
limit). The database is a throwaway SQLite file built by `alembic upgrade head`; the users (one
socket each, so the per-user cap of 5 never applies), one big group of all of them and 100 small
groups (user i in group i % 100) are created through the services and models.

One asyncio process (uvloop; each socket is websockets' sans-I/O client protocol on a bare asyncio
connection) holds every socket. For each socket count in --sockets it opens sockets up to that count,
then the leader (a member of every group, holding no socket) posts --posts messages one at a time,
each waiting until every recipient has it:

  one group   : every post goes to the big group, i.e. to every open socket;
  100 groups  : posts go to the small groups in turn, each reaching 1/100 of the sockets.

  fan-out = (when the LAST recipient received the message) - (when the POST's HTTP response arrived)

p50 and p99 are nearest rank (with 50 posts p99 is the maximum). The event is published after the
commit but before the response is written, so fan-out can be small or negative for few sockets.
A receipt is stamped when the client's event loop has read the frame off the socket and parsed it,
on the same 2 cores as the server: the figures are an upper bound for remote clients. The CPU
seconds of both sides are printed, and how many sockets each worker holds.

Also measured, in the in-process run: the p99 of GET /api/v1/auth/me (sequential requests on one
keep-alive connection) with no sockets and with all sockets open and idle; the worker's resident
memory with none and with each socket count (per 1,000 sockets); and at the end the plain API's
throughput (GET /api/v1/auth/me from --http-clients keep-alive connections) through this server and
through the previous one (gthread, 32 threads, wsgi:app), alternating A B A B A B in the same run
(medians: on a shared machine single rounds vary by a factor of two).
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import http.client
import json
import math
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import uvloop  # noqa: E402
import websockets  # noqa: E402
from websockets.client import ClientProtocol  # noqa: E402
from websockets.extensions.permessage_deflate import enable_client_permessage_deflate  # noqa: E402
from websockets.frames import Frame, Opcode  # noqa: E402
from websockets.uri import parse_uri  # noqa: E402
from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402

from studysync.app import create_app  # noqa: E402
from studysync.db import db, new_id, utcnow  # noqa: E402
from studysync.models import GroupMember, StudyGroup  # noqa: E402
from studysync.auth import sessions  # noqa: E402
from studysync.access import SYSTEM, SystemActor  # noqa: E402
from studysync.services import colleges, students  # noqa: E402
from studysync.tenancy import tenant_context  # noqa: E402

PASSWORD = "Student@1234"
SECRET = "bench-chat-fanout-" * 4
CREATED_BYTES = b'{"type":"message.created"'  # how the stream serialises it (compact JSON, type first)
SMALL_GROUPS = 100
WAIT_SECONDS = 60.0


# Setup -----------------------------------------------------------------------------------------


def migrate(url: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")


def build(url: str, users: int) -> tuple[str, list[str], str, list[str]]:
    """The big group's id, the small groups' ids, the leader's token and one token per user."""
    app = create_app(database_url=url, jwt_secret_key=SECRET, bcrypt_rounds=4, redis_url=None,
                     sysadmin_email=None, sysadmin_password=None, embedding_model="hashing")
    info = sessions.ClientInfo("bench", "127.0.0.1")
    with app.app_context():
        college = colleges.create_college(SYSTEM, "Bench College", "bench", "Bench Admin", "admin@bench.edu",
                                          "Admin@1234", ["core", "chat"], temporary_admin_password=False).college
        admin = SystemActor(role="admin", college_id=college.id)  # the bench's set-up, acting as the admin
        with tenant_context(college.id):
            people = [students.create_student(admin, {"name": f"Bench Student {i:05d}", "email": f"s{i:05d}@bench.edu",
                                                      "department": "Computer Science", "year": 1}, PASSWORD)[0]
                      for i in range(users + 1)]
            leader, members = people[0], people[1:]
            now = utcnow()

            def group(name: str, joined: list) -> str:
                row = StudyGroup(id=new_id(), name=name, leader_id=leader.id, created_by=leader.id,
                                 max_members=len(joined) + 1, member_count=len(joined) + 1,
                                 created_at=now, updated_at=now)
                db.session.add(row)
                db.session.flush()
                db.session.add_all(GroupMember(group_id=row.id, user_id=p.id, role="leader" if p is leader else "member",
                                               status="active", joined_at=now, created_at=now)
                                   for p in [leader, *joined])
                return row.id

            big = group("Everyone", members)
            small = [group(f"Small {g}", members[g::SMALL_GROUPS]) for g in range(SMALL_GROUPS)]
            db.session.commit()
            tokens = [sessions.open_session(p, info).token for p in people]
            db.session.commit()  # services flush; outside a request the caller commits
    app.extensions["studysync.db"].dispose()
    return big, small, tokens[0], tokens[1:]


# The servers -----------------------------------------------------------------------------------


PORTS: list[int] = []  # --ports: the range to take servers' ports from, in turn


def free_port() -> int:
    if PORTS:
        return PORTS.pop(0)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """gunicorn -c deploy/gunicorn.conf.py on a free port; `extra` arguments only for the gthread baseline."""

    def __init__(self, workdir: Path, database_url: str, redis_url: str | None, extra: list[str], app: str,
                 workers: int | None = None):
        self.port = free_port()
        self.log_path = workdir / f"gunicorn-{self.port}.log"
        env = {**os.environ, "DATABASE_URL": database_url, "JWT_SECRET_KEY": SECRET, "BCRYPT_ROUNDS": "4",
               "REDIS_URL": redis_url or "", "RATELIMIT_ENABLED": "false", "EMBEDDING_MODEL": "hashing",
               "SYSADMIN_EMAIL": "", "SYSADMIN_PASSWORD": "", "PORT": str(self.port), "PYTHONPATH": str(ROOT)}
        for name in ("WEB_CONCURRENCY", "GUNICORN_THREADS", "STREAM_MAX_SOCKETS_PER_USER", "STREAM_QUEUE_SIZE"):
            env.pop(name, None)
        if workers:
            env["WEB_CONCURRENCY"] = str(workers)
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py", *extra, app],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited: {self.log_path.read_text()[-3000:]}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/api/v1/health")
                ok = connection.getresponse().status == 200
                connection.close()
                if ok:
                    time.sleep(1.0)  # let any other worker finish importing the app too
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"gunicorn not ready after 90 s: {self.log_path.read_text()[-3000:]}")

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

    def rss_mib(self) -> float:
        """Resident memory of the workers (VmRSS), MiB."""
        total = 0
        for pid in self.worker_pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        return total / 1024

    def open_sockets(self) -> list[int]:
        """How many sockets each worker holds open (listening, Redis and database ones included)."""
        counts = []
        for pid in self.worker_pids():
            count = 0
            try:
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    try:
                        count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
                    except OSError:
                        pass
            except OSError:
                pass
            counts.append(count)
        return counts

    def cpu_seconds(self) -> tuple[float, float]:
        """CPU seconds of gunicorn and its workers: (user, system)."""
        user = system = 0
        for pid in [self.process.pid, *self.worker_pids()]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            user, system = user + int(fields[11]), system + int(fields[12])
        return user / os.sysconf("SC_CLK_TCK"), system / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


# Plain HTTP ------------------------------------------------------------------------------------


def me_latencies(port: int, token: str, count: int) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT_SECONDS)
    headers = {"Authorization": f"Bearer {token}"}
    timings = []
    try:
        for _ in range(count):
            started = time.perf_counter()
            connection.request("GET", "/api/v1/auth/me", headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"GET /auth/me answered {response.status}")
            timings.append(time.perf_counter() - started)
    finally:
        connection.close()
    return timings


def throughput(port: int, tokens: list[str], clients: int, seconds: float) -> float:
    """Requests per second of GET /api/v1/auth/me from ``clients`` keep-alive connections."""
    counts = [0] * clients
    stop = time.perf_counter() + seconds

    def run(i: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT_SECONDS)
        headers = {"Authorization": f"Bearer {tokens[i % len(tokens)]}"}
        while time.perf_counter() < stop:
            connection.request("GET", "/api/v1/auth/me", headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"GET /auth/me answered {response.status}")
            counts[i] += 1
        connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - started)


def post(port: int, token: str, group_id: str, n: int) -> tuple[float, float]:
    """POST one message; (sent, answered) perf_counter stamps. One connection per post keeps it simple."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT_SECONDS)
    body = json.dumps({"content": f"fan-out message {n}", "message_type": "text"})
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    connection.connect()
    sent = time.perf_counter()
    connection.request("POST", f"/api/v1/groups/{group_id}/messages", body, headers)
    response = connection.getresponse()
    payload = response.read()
    answered = time.perf_counter()
    connection.close()
    if response.status != 201:
        raise SystemExit(f"POST answered {response.status}: {payload[:300]!r}")
    return sent, answered


# The sockets -----------------------------------------------------------------------------------


class Receipts:
    """Posts go out one at a time, so every `message.created` that arrives belongs to the current one."""

    def __init__(self) -> None:
        self.expected = 0
        self.count = 0
        self.first = self.last = 0.0
        self.done = asyncio.Event()
        self.stray = 0

    def start(self, expected: int) -> None:
        self.expected, self.count = expected, 0
        self.done.clear()

    def arrived(self, at: float) -> None:
        if self.count >= self.expected:
            self.stray += 1
            return
        self.count += 1
        if self.count == 1:
            self.first = at
        self.last = at
        if self.count == self.expected:
            self.done.set()


def is_created_frame(data: bytes) -> bool:
    """Is ``data`` exactly one whole WebSocket frame, final, unmasked, text, carrying a message.created?"""
    if len(data) < 2 or data[0] != 0x81:  # FIN and the text opcode; no extension bits
        return False
    length, start = data[1], 2  # the mask bit is clear: a server's frames are not masked
    if length == 126:
        length, start = int.from_bytes(data[2:4], "big"), 4
    elif length > 126:
        return False  # 64 KiB or more (or masked): not one of ours, let the protocol judge
    return len(data) == start + length and data.startswith(CREATED_BYTES, start)


class Receiver(asyncio.Protocol):
    """One socket of the bench: websockets' own protocol (sans I/O) on a bare asyncio connection.

    A receipt is stamped as the frame is parsed in data_received, on the loop's read of the socket: no
    task is woken and no queue passed per message, which with the library's asyncio connection cost the
    client more CPU per frame than the server spent sending it (the clients share the server's 2 cores).
    A read that is exactly one whole `message.created` frame (the common case) is recognised by its
    header and length without the protocol's generator-based parser; anything else, a frame split over
    reads or several in one, goes through the protocol. Pings are answered (the protocol queues the
    pong), a close ends the connection.
    """

    def __init__(self, url: str, receipts: Receipts, ready: asyncio.Future, compression: bool) -> None:
        extensions = enable_client_permessage_deflate(None) if compression else None
        self.protocol = ClientProtocol(parse_uri(url), extensions=extensions, max_size=None)
        self.receipts = receipts
        self.ready = ready
        self.closed = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.protocol.send_request(self.protocol.connect())
        self._write()

    def data_received(self, data: bytes) -> None:
        if self.ready.done() and not self.protocol.reader.buffer and is_created_frame(data):
            self.receipts.arrived(time.perf_counter())
            return
        self.protocol.receive_data(data)
        for event in self.protocol.events_received():
            if isinstance(event, Frame):
                if event.opcode is Opcode.TEXT:
                    if event.data.startswith(CREATED_BYTES):
                        self.receipts.arrived(time.perf_counter())
                    elif not self.ready.done():
                        first = json.loads(event.data)
                        if first.get("type") == "ready":
                            self.ready.set_result(self)
                        else:
                            self.ready.set_exception(RuntimeError(f"not ready: {first}"))
            elif self.protocol.handshake_exc is not None and not self.ready.done():
                self.ready.set_exception(self.protocol.handshake_exc)
        self._write()

    def _write(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.transport.write(data)
            else:
                self.transport.write_eof()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(exc or ConnectionError("closed before ready"))
        if not self.closed.done():
            self.closed.set_result(None)


class Sockets:
    def __init__(self, port: int, tokens: list[str], compression: bool) -> None:
        self.compression = compression
        self.address = ("127.0.0.1", port)
        self.url = f"ws://127.0.0.1:{port}/api/v1/stream?token="
        self.tokens = tokens
        self.receipts = Receipts()
        self.open: list[Receiver] = []

    async def grow(self, total: int, concurrency: int = 200) -> float:
        started = time.perf_counter()
        limit = asyncio.Semaphore(concurrency)

        async def one(token: str) -> Receiver:
            async with limit:
                loop = asyncio.get_running_loop()
                ready = loop.create_future()
                url = self.url + token
                transport, _ = await loop.create_connection(lambda: Receiver(url, self.receipts, ready, self.compression),
                                                            *self.address)
                try:
                    return await asyncio.wait_for(ready, WAIT_SECONDS)
                except BaseException:
                    transport.close()
                    raise

        self.open += await asyncio.gather(*(one(t) for t in self.tokens[len(self.open):total]))
        return time.perf_counter() - started

    async def close(self) -> None:
        for receiver in self.open:
            receiver.transport.close()
        await asyncio.gather(*(receiver.closed for receiver in self.open))


# One configuration ------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summary(values_s: list[float]) -> str:
    ms = [v * 1e3 for v in values_s]
    return (f"p50 {percentile(ms, 50):7.1f}  p90 {percentile(ms, 90):7.1f}  p99 {percentile(ms, 99):7.1f}  "
            f"max {max(ms):7.1f} ms")


async def fan_out(server: Gunicorn, sockets: Sockets, leader: str, targets: list[tuple[str, int]],
                  posts: int, warmup: int) -> list[float]:
    loop = asyncio.get_running_loop()
    fan = []
    for n in range(warmup + posts):
        group_id, expected = targets[n % len(targets)]
        sockets.receipts.start(expected)
        sent, answered = await loop.run_in_executor(None, post, server.port, leader, group_id, n)
        try:
            await asyncio.wait_for(sockets.receipts.done.wait(), WAIT_SECONDS)
        except asyncio.TimeoutError:
            raise SystemExit(f"post {n}: {sockets.receipts.count}/{expected} sockets got it in {WAIT_SECONDS:.0f} s")
        if n >= warmup:
            fan.append(sockets.receipts.last - answered)
    return fan


async def run(label: str, server: Gunicorn, big: str, small: list[str], leader: str, tokens: list[str],
              args: argparse.Namespace, measure_idle: bool) -> None:
    print(f"\n== {label}   (workers: {len(server.worker_pids())})", flush=True)
    loop = asyncio.get_running_loop()
    rss0 = server.rss_mib()
    if measure_idle:
        await loop.run_in_executor(None, me_latencies, server.port, tokens[0], 50)  # warm-up
        idle0 = await loop.run_in_executor(None, me_latencies, server.port, tokens[0], args.me_requests)
        print(f"GET /auth/me, 0 sockets open       : {summary(idle0)}")
    print(f"worker RSS with 0 sockets: {rss0:.0f} MiB")
    held0 = server.open_sockets()
    sockets = Sockets(server.port, tokens, args.compression)
    try:
        for total in args.sockets:
            took = await sockets.grow(total)
            # The client's own heap (5,000 connections) would otherwise stall its loop for
            # a full garbage collection now and then, delaying receipts: out of sight, they stay put.
            gc.collect()
            gc.freeze()
            rss = server.rss_mib()
            print(f"-- {total} sockets open (opened in {took:.1f} s); worker RSS {rss:.0f} MiB, "
                  f"{(rss - rss0) / total * 1000:.1f} MiB per 1,000 sockets; per worker "
                  f"{' + '.join(str(n - n0) for n, n0 in zip(server.open_sockets(), held0))}", flush=True)
            client_cpu, server_cpu, wall = time.process_time(), server.cpu_seconds(), time.perf_counter()
            one = await fan_out(server, sockets, leader, [(big, total)], args.posts, args.warmup)
            print(f"  one group of {total:5d}    fan-out {summary(one)}", flush=True)
            per_group = [(group_id, len(range(g, total, SMALL_GROUPS))) for g, group_id in enumerate(small)]
            spread = await fan_out(server, sockets, leader, per_group, args.posts, args.warmup)
            print(f"  100 groups of {total // SMALL_GROUPS:4d}    fan-out {summary(spread)}", flush=True)
            user, system = (now - before for now, before in zip(server.cpu_seconds(), server_cpu))
            print(f"  CPU while posting: clients {time.process_time() - client_cpu:.1f} s, server {user + system:.1f} s "
                  f"(user {user:.1f}, system {system:.1f}) over {time.perf_counter() - wall:.1f} s wall", flush=True)
        if measure_idle:
            idle = await loop.run_in_executor(None, me_latencies, server.port, tokens[0], args.me_requests)
            print(f"GET /auth/me, {len(sockets.open)} sockets open idle : {summary(idle)}")
            print(f"  p99 ratio (idle sockets / none): {percentile(idle, 99) / percentile(idle0, 99):.2f}")
        if sockets.receipts.stray:
            raise SystemExit(f"{sockets.receipts.stray} message.created frames more than were sent")
    finally:
        await sockets.close()


def compare_throughput(workdir: Path, url: str, tokens: list[str], args: argparse.Namespace) -> None:
    print(f"\n== plain API throughput: GET /api/v1/auth/me, {args.http_clients} keep-alive clients, "
          f"{args.http_seconds:.0f} s per round, rounds A B A B A B")
    results: dict[str, list[float]] = {"asgi": [], "gthread": []}
    configurations = {"asgi": ([], "asgi:app"),
                      "gthread": (["--worker-class", "gthread", "--threads", "32"], "wsgi:app")}
    for name in ("asgi", "gthread") * 3:
        extra, app = configurations[name]
        server = Gunicorn(workdir, url, None, extra, app)
        try:
            throughput(server.port, tokens, args.http_clients, 2)  # warm-up
            results[name].append(throughput(server.port, tokens, args.http_clients, args.http_seconds))
        finally:
            server.stop()
        print(f"  {name:8s} {results[name][-1]:7.0f} req/s", flush=True)
    asgi, gthread = statistics.median(results["asgi"]), statistics.median(results["gthread"])
    print(f"  median: asgi (uvicorn worker, this server) {asgi:.0f} req/s, gthread (32 threads, before) "
          f"{gthread:.0f} req/s: {asgi / gthread:.0%} of gthread")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, nargs="+", default=[1000, 5000], help="socket counts, ascending")
    parser.add_argument("--posts", type=int, default=50, help="timed posts per scenario (default 50)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--me-requests", type=int, default=500, help="GET /auth/me for the idle p99 (default 500)")
    parser.add_argument("--http-clients", type=int, default=8)
    parser.add_argument("--http-seconds", type=float, default=10.0)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--only", choices=("in-process", "redis", "throughput"))
    parser.add_argument("--workers", type=int, help="WEB_CONCURRENCY for the fan-out servers (default: as "
                        "deploy/gunicorn.conf.py decides, 1 without Redis and 2 with it)")
    parser.add_argument("--compression", action="store_true", help="clients offer permessage-deflate, as "
                        "browsers do (the server then compresses each frame per socket)")
    parser.add_argument("--ports", type=int, nargs=2, metavar=("FIRST", "LAST"),
                        help="take the servers' ports from this range (default: any free port)")
    args = parser.parse_args()
    if args.ports:
        PORTS[:] = range(args.ports[0], args.ports[1] + 1)

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < max(args.sockets) + 1000:
        raise SystemExit(f"open-file limit {hard} is too low for {max(args.sockets)} sockets (ulimit -Hn)")
    workdir = Path(tempfile.mkdtemp(prefix="studysync-fanout-"))
    url = f"sqlite:///{workdir / 'bench.db'}"
    try:
        migrate(url)
        started = time.perf_counter()
        big, small, leader, tokens = build(url, max(args.sockets))
        print(f"cores: {os.cpu_count()}   load average: {load()}   python {platform.python_version()}   "
              f"database: SQLite in {workdir} ({len(tokens)} users set up in {time.perf_counter() - started:.0f} s)")
        print("server: gunicorn -c deploy/gunicorn.conf.py asgi:app (default configuration); clients: one asyncio "
              f"process (uvloop, websockets {websockets.__version__} sans I/O), one socket per user, permessage-deflate "
              f"{'offered' if args.compression else 'not offered'}; open-file limit {hard}")
        configurations = [("in-process", "(1) in-process broker", None),
                          ("redis", f"(2) Redis broker ({args.redis_url})", args.redis_url)]
        for key, label, redis_url in configurations:
            if args.only and args.only != key:
                continue
            server = Gunicorn(workdir, url, redis_url, [], "asgi:app", args.workers)
            try:
                uvloop.run(run(label, server, big, small, leader, tokens, args, measure_idle=key == "in-process"))
            finally:
                server.stop()
        if args.only in (None, "throughput"):
            compare_throughput(workdir, url, tokens, args)
        print(f"\nload average after: {load()}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
