"""How a worker should run its threads (how many, how many hash, pinned or not), by the app's polls.

Every request thread and the worker's event loop take turns at Python's one interpreter lock, and
the loop reads every request and sends every answer: once the worker's CPU is the limit, threads
beyond those that keep it busy make each request wait longer for its turn. Threads that wait (bcrypt
at login, SQLite's write lock, a slow statement) are the reason to have more than a few. This bench
shows both sides, one server per count started as `make run` starts it. A count is written
`THREADS+HASHING`: `GUNICORN_THREADS` request threads and `GUNICORN_HASHING_THREADS` threads for the
routes that hash passwords (0: logins run among the other requests, as before that pool existed).
Each count runs with each `--pin` setting (`GUNICORN_PIN_WORKERS`: 1 keeps each worker on a core of
its own, studysync/cores.py; 0 leaves it to the scheduler):

- the polling mix of bench/http_throughput.py (revalidating clients, 10% of polls finding something
  new) at `--connections`, for `--duration` seconds: req/s, p50, p99;
- the same while `--logins` clients log in one after another (bcrypt at the server's own cost, 12
  unless BCRYPT_ROUNDS says otherwise): the polls' figures and the logins a second ("errors" counts
  failed polls and failed logins).

Counts and runs are interleaved (`--repeat`) so that the machine's load falls on each alike. Each
server is warmed up with polls and logins first: a fresh worker learns which routes hash from their
first requests, which run on the request threads (studysync/hashing_routes.py).

    python bench/request_threads.py [--threads 8+0,8+1,4+1] [--pin 1,0] [--logins 4] [--connections 32]
                                    [--duration 10] [--repeat 2] [--database-url postgresql+psycopg://...]
                                    [--redis-url ...]
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import http_throughput as ht  # noqa: E402

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import urllib.request  # noqa: E402

PORT = 5921


def post(path: str, body: dict) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status


class Logins:
    """`clients` threads, each logging the same user in again as soon as the last login answered."""

    def __init__(self, clients: int, email: str) -> None:
        self.email, self.done, self.failed, self._stop = email, 0, 0, threading.Event()
        self._threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(clients)]

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                post("/api/auth/login", {"email": self.email, "password": ht.PASSWORD})
                self.done += 1
            except OSError:  # an HTTP error or a refused connection: counted, and the next login tries
                self.failed += 1

    def __enter__(self) -> "Logins":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()


def main() -> None:
    global PORT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="8+0,8+1,4+1",
                        help="GUNICORN_THREADS+GUNICORN_HASHING_THREADS pairs to compare")
    parser.add_argument("--pin", default="1", help="GUNICORN_PIN_WORKERS values to compare (1,0: both)")
    parser.add_argument("--logins", type=int, default=4, help="clients logging in during the second run of each count")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections polling")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--students", type=int, default=120)
    parser.add_argument("--database-url", help="PostgreSQL (emptied first); default: SQLite in a temp folder")
    parser.add_argument("--redis-url", help="REDIS_URL for the server (two workers, as deploy/gunicorn.conf.py says)")
    parser.add_argument("--port", type=int, default=PORT)
    args = parser.parse_args()
    PORT = ht.APP_PORT = args.port
    if shutil.which("wrk") is None:
        raise SystemExit("bench/request_threads.py needs wrk (Debian: apt-get install -y wrk)")

    folder = Path(tempfile.mkdtemp(prefix="bench-threads-"))
    url = args.database_url or f"sqlite:///{folder}/bench.db"
    ht.migrate(url, fresh=bool(args.database_url))
    stdout, sys.stdout = sys.stdout, open(os.devnull, "w")  # the seeding app's log lines
    try:
        students = ht.seed(url, args.students)
    finally:
        sys.stdout = stdout
    env = ht.server_env(url, args.redis_url)  # the thread counts are set per run below
    command_line = ht.run_command()
    print(f"{url.split(':')[0]}{' + Redis' if args.redis_url else ''}; server: {' '.join(command_line)}")
    print(f"the polling mix, revalidating, wrk -c{args.connections} -d{args.duration}s; "
          f"then the same beside {args.logins} clients logging in")
    print(f"{'threads':>7}{'pinned':>7}{'logins':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'logins/s':>10}")
    emails = itertools.count()
    try:
        for _ in range(args.repeat):
            for threads, pin in itertools.product(args.threads.split(","), args.pin.split(",")):
                requests, _, hashing = threads.partition("+")
                server = ht.start(command_line, PORT, {**env, "GUNICORN_THREADS": requests,
                                                       "GUNICORN_HASHING_THREADS": hashing or "0",
                                                       "GUNICORN_PIN_WORKERS": pin}, folder / "app.log")
                try:
                    email = f"threads{next(emails)}@demo.edu"  # registered here: hashed at the server's cost
                    post("/api/auth/register", {"name": "Login Bench", "email": email, "password": ht.PASSWORD,
                                                "major": "Biology", "year": "2", "subjects": ["Genetics"],
                                                "learning_style": "visual", "availability": {"monday": ["evening"]}})
                    script = ht._script(folder, "poll", students, ht.POLL_MIX, ht.etags_of(students, ht.POLL_MIX), 0.1)
                    with Logins(args.logins, email):  # warm up, logins too: each worker learns its hashing routes
                        ht.wrk(PORT, "/", 8, 2, script)
                    for clients in (0, args.logins):
                        with Logins(clients, email) as logins:
                            result = ht.wrk(PORT, "/", args.connections, args.duration, script)
                        pinned = "no" if pin == "0" else "yes"
                        print(f"{threads:>7}{pinned:>7}{clients:>8}{result.rps:>9.0f}{result.p50:>9.1f}"
                              f"{result.p99:>9.1f}{result.errors + logins.failed:>8}"
                              f"{logins.done / args.duration:>10.1f}", flush=True)
                finally:
                    ht.stop(server)
    except BaseException:
        print(f"server log kept in {folder}", file=sys.stderr)
        raise
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
