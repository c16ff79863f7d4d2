"""deploy/nginx.conf in front of the app, for real: one HTTP request and one WebSocket round trip.

    .venv/bin/python .ci/nginx_check.py        (needs the nginx binary: apt-get install -y nginx)

Starts the app as production does (gunicorn -c deploy/gunicorn.conf.py asgi:app, SQLite in a temp
dir), then an unprivileged nginx with its own prefix and port that includes deploy/nginx.conf with
only the listen port (the first listen; any others dropped) and the upstream address changed.
Through nginx it checks that GET /api/v1/auth/me answers 200 for a student's token, that
GET /api/v1/stream upgrades to a WebSocket that says `ready` and answers a ping, and that a direct
message posted through nginx reaches that socket. Exits non-zero, with the logs, on any failure.
Takes about 25 s, most of it starting the app.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from websockets.sync.client import connect  # noqa: E402

from studysync.app import create_app  # noqa: E402
from studysync.access import SYSTEM, SystemActor  # noqa: E402
from studysync.auth import sessions  # noqa: E402
from studysync.db import db  # noqa: E402
from studysync.services import colleges, students  # noqa: E402
from studysync.tenancy import tenant_context  # noqa: E402

SECRET = "nginx-check-" * 4
TIMEOUT = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def two_students(url: str) -> tuple[str, str, str]:
    """Alice's token, Bob's token and Bob's id, made through the services."""
    app = create_app(database_url=url, jwt_secret_key=SECRET, bcrypt_rounds=4, redis_url=None,
                     sysadmin_email=None, sysadmin_password=None, embedding_model="hashing")
    info = sessions.ClientInfo("nginx-check", "127.0.0.1")
    with app.app_context():
        college = colleges.create_college(SYSTEM, "Check College", "check", "Check Admin", "admin@check.edu",
                                          "Admin@1234", ["core", "chat"], temporary_admin_password=False).college
        admin = SystemActor(role="admin", college_id=college.id)  # the check's set-up, acting as the admin
        with tenant_context(college.id):
            alice, bob = (students.create_student(admin, {"name": name, "email": f"{name.lower()}@check.edu",
                                                          "department": "Computer Science", "year": 1},
                                                  "Student@1234")[0]
                          for name in ("Alice", "Bob"))
            tokens = [sessions.open_session(person, info).token for person in (alice, bob)]
            bob_id = bob.id
        db.session.commit()  # services flush; outside a request the caller commits
    app.extensions["studysync.db"].dispose()
    return tokens[0], tokens[1], bob_id


def nginx_config(workdir: Path, nginx_port: int, app_port: int) -> Path:
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    listens = iter(range(1_000_000))  # the first listen becomes ours; others (IPv6, TLS) are dropped
    site = re.sub(r"\blisten\s+[^;]+;",
                  lambda _: f"listen 127.0.0.1:{nginx_port};" if next(listens) == 0 else "", site)
    site, upstreams = re.subn(r"(\bserver\s+)127\.0\.0\.1:5000\s*;", rf"\g<1>127.0.0.1:{app_port};", site)
    if next(listens) == 0 or upstreams != 1:
        raise SystemExit("deploy/nginx.conf: expected a listen directive and one upstream server 127.0.0.1:5000")
    (workdir / "studysync.conf").write_text(site)
    main = workdir / "nginx.conf"
    temp = "".join(f"    {kind}_temp_path {workdir}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                            "scgi"))
    main.write_text(f"""worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {workdir}/access.log;
{temp}    include {workdir}/studysync.conf;
}}
""")
    return main


def wait_for(url: str, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{what} did not answer {url}")
        time.sleep(0.2)


def request(method: str, url: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=TIMEOUT) as response:
        return response.status, json.loads(response.read())


def check(base: str, alice: str, bob: str, bob_id: str) -> None:
    status, body = request("GET", f"{base}/api/v1/auth/me", bob)
    assert status == 200 and body["data"]["user_id"] == bob_id, (status, body)
    print(f"[nginx] GET /api/v1/auth/me through nginx: {status}")

    with connect(base.replace("http://", "ws://") + "/api/v1/stream", open_timeout=TIMEOUT) as ws:
        ws.send(json.dumps({"token": bob}))
        assert json.loads(ws.recv(TIMEOUT)) == {"type": "ready", "data": {"user_id": bob_id}}
        ws.send(json.dumps({"type": "ping"}))
        assert json.loads(ws.recv(TIMEOUT)) == {"type": "pong"}
        status, body = request("POST", f"{base}/api/v1/dm/{bob_id}/messages", alice, {"content": "via nginx"})
        assert status == 201, (status, body)
        while (event := json.loads(ws.recv(TIMEOUT)))["type"] != "dm.created":
            pass
        assert event["data"]["content"] == "via nginx", event
    print("[nginx] WebSocket /api/v1/stream through nginx: ready, ping/pong, a posted DM arrived")


def main() -> int:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    workdir = Path(tempfile.mkdtemp(prefix="studysync-nginx-"))
    url = f"sqlite:///{workdir / 'app.db'}"
    app_port, nginx_port = free_port(), free_port()
    env = {**os.environ, "DATABASE_URL": url, "JWT_SECRET_KEY": SECRET, "BCRYPT_ROUNDS": "4", "PORT": str(app_port),
           "EMBEDDING_MODEL": "hashing", "SYSADMIN_EMAIL": "", "SYSADMIN_PASSWORD": "", "TRUSTED_PROXIES": "1",
           "REDIS_URL": "", "WEB_CONCURRENCY": "1", "PYTHONPATH": str(ROOT)}
    processes: list[subprocess.Popen] = []
    ok = False
    try:
        with open(workdir / "alembic.log", "w") as alembic_log:
            subprocess.run([str(Path(sys.executable).with_name("alembic")), "upgrade", "head"], cwd=ROOT, env=env,
                           check=True, stdout=alembic_log, stderr=subprocess.STDOUT)
        alice, bob, bob_id = two_students(url)
        app_log = open(workdir / "gunicorn.log", "w")
        processes.append(subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "-c",
                                           "deploy/gunicorn.conf.py", "asgi:app"], cwd=ROOT, env=env,
                                          stdout=app_log, stderr=subprocess.STDOUT))
        wait_for(f"http://127.0.0.1:{app_port}/api/v1/health", processes[-1], "gunicorn")
        config = nginx_config(workdir, nginx_port, app_port)
        subprocess.run([nginx, "-t", "-p", str(workdir), "-e", str(workdir / "error.log"), "-c", str(config)],
                       check=True)
        processes.append(subprocess.Popen([nginx, "-p", str(workdir), "-e", str(workdir / "error.log"),
                                           "-c", str(config), "-g", "daemon off;"]))
        base = f"http://127.0.0.1:{nginx_port}"
        wait_for(f"{base}/api/v1/health", processes[-1], "nginx")
        print(f"[nginx] {nginx} on :{nginx_port} in front of gunicorn on :{app_port}")
        check(base, alice, bob, bob_id)
        ok = True
    finally:
        for process in reversed(processes):
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        if not ok:
            for name in ("alembic.log", "error.log", "gunicorn.log"):
                path = workdir / name
                if path.exists():
                    print(f"--- {name} (last lines)\n{path.read_text()[-3000:]}", file=sys.stderr)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
