"""deploy/nginx.conf in front of gunicorn (deploy/gunicorn.conf.py), both real, on private ports.

nginx's own errors (413, 414, 431, 502, 504) answer with the API's JSON envelope, and gunicorn's
request-line and header limits never trigger first: whatever nginx lets through reaches the app.
Skipped when nginx is not installed (`apt-get install -y nginx`).
"""
from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ..conftest import TEST_SECRET

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
PORTS = iter(range(5280, 5290))  # inside this worktree's port range

pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed")


def _wait_for_port(port: int, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def _wait_for_the_app(port: int, process: subprocess.Popen, seconds: float = 180) -> None:
    """gunicorn's master listens before its worker has imported the app (torch, under load: long)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            _request(port, "GET", "/api/v1/no-such-route")
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("the app did not answer")


def _start_nginx(tmp_path: Path, upstream_port: int, read_timeout: str) -> tuple[subprocess.Popen, int]:
    """The real deploy/nginx.conf, with only its ports (and for the 504 its read timeout) changed."""
    port = next(PORTS)
    prefix = tmp_path / f"nginx-{port}"
    prefix.mkdir()
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    site = site.replace("server 127.0.0.1:5000;", f"server 127.0.0.1:{upstream_port};")
    site = re.sub(r"listen 80;", f"listen 127.0.0.1:{port};", site)
    site = site.replace("proxy_read_timeout 65s;", f"proxy_read_timeout {read_timeout};")
    (prefix / "site.conf").write_text(site)
    user = "user root;" if os.geteuid() == 0 else ""
    (prefix / "nginx.conf").write_text(f"""
{user}
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/site.conf;
}}
""")
    process = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _wait_for_port(port, process, seconds=10)
    return process, port


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def gunicorn(migrated_database):
    port = next(PORTS)
    env = {**os.environ, "DATABASE_URL": migrated_database, "JWT_SECRET_KEY": TEST_SECRET, "BCRYPT_ROUNDS": "4",
           "EMBEDDING_MODEL": "hashing", "RATELIMIT_ENABLED": "false", "REDIS_URL": "", "SYSADMIN_EMAIL": "",
           "PORT": str(port), "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "4"}
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
                                "--bind", f"127.0.0.1:{port}", "asgi:app"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for_port(port, process)
    _wait_for_the_app(port, process)
    yield port
    _stop(process)


@pytest.fixture
def nginx(tmp_path):
    started = []

    def start(upstream_port: int, read_timeout: str = "65s") -> int:
        process, port = _start_nginx(tmp_path, upstream_port, read_timeout)
        started.append(process)
        return port

    yield start
    for process in started:
        _stop(process)


def _request(port: int, method: str, path: str, headers: dict | list | None = None, body: bytes | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.putrequest(method, path, skip_accept_encoding=True)
    items = headers.items() if isinstance(headers, dict) else (headers or [])
    for name, value in items:
        connection.putheader(name, value)
    if body is not None:
        connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response, data


def _envelope(response, data: bytes, status: int) -> None:
    import json

    assert response.status == status, data[:300]
    assert response.getheader("Content-Type", "").startswith("application/json"), data[:300]
    body = json.loads(data)
    assert body["success"] is False and body["message"]


def test_nginx_refuses_oversized_requests_with_the_envelope(gunicorn, nginx):
    port = nginx(gunicorn)
    response, data = _request(port, "GET", "/api/v1/health?pad=" + "a" * 9000)
    _envelope(response, data, 414)
    response, data = _request(port, "GET", "/api/v1/health", {"X-Pad": "a" * 9000})
    _envelope(response, data, 431)
    response, data = _request(port, "POST", "/api/v1/auth/login", {"Content-Type": "application/json"},
                              b'{"pad": "' + b"a" * (2 * 1024 * 1024) + b'"}')
    _envelope(response, data, 413)


def test_whatever_nginx_lets_through_reaches_the_app_not_gunicorns_limits(gunicorn, nginx):
    """Each request is just inside nginx's limits and beyond gunicorn's defaults (a 4094-byte request
    line, 100 headers, 8190 bytes per header). The app's own 404 envelope proves the app answered (no
    database involved); gunicorn's 414/431 would be HTML."""
    port = nginx(gunicorn)
    path = "/api/v1/no-such-route"
    cases = {
        "long request line": (path + "?pad=" + "a" * 8000, {}),
        "long header": (path, {"X-Pad": "a" * 8000}),
        # nginx appends the client's address: the header gunicorn sees is longer than the one nginx checked
        "long X-Forwarded-For": (path, {"X-Forwarded-For": ("10.0.0.1, " * 900)[:8160].rstrip(", ")}),
        "800 headers": (path, [(f"X-Pad-{i}", "a") for i in range(800)]),
    }
    for name, (target, headers) in cases.items():
        response, data = _request(port, "GET", target, headers)
        assert response.status == 404, (name, response.status, data[:300])
        assert response.getheader("Content-Type", "").startswith("application/json"), (name, data[:300])
        assert b'"success":false' in data.replace(b" ", b""), (name, data[:300])


def test_an_app_that_is_down_is_a_502_envelope(nginx):
    closed = next(PORTS)  # nothing listens there
    response, data = _request(nginx(closed), "GET", "/api/v1/health")
    _envelope(response, data, 502)


def test_an_app_that_does_not_answer_is_a_504_envelope(nginx):
    silent = socket.socket()
    silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    silent_port = next(PORTS)
    silent.bind(("127.0.0.1", silent_port))
    silent.listen(8)
    held = []
    stop = threading.Event()

    def accept_and_ignore():
        silent.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(silent.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept_and_ignore, daemon=True)
    thread.start()
    try:
        response, data = _request(nginx(silent_port, read_timeout="1s"), "GET", "/api/v1/health")
        _envelope(response, data, 504)
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        silent.close()
