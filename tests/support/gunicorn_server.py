"""The app under gunicorn, as `make run` serves it (deploy/gunicorn.conf.py: uvicorn workers, asgi:app).

Fault tests need the production server's real thread limit: with the werkzeug test server every
request gets a fresh thread, so requests stuck on a frozen database could never starve the others.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port(first: int, last: int) -> int:
    for port in range(first, last + 1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}-{last}")


@contextmanager
def gunicorn(env: dict[str, str], log_path: Path, ports: tuple[int, int], threads: int = 4):
    """Yield the base URL of a gunicorn serving asgi:app with `env`; stop it afterwards."""
    port = free_port(*ports)
    inherited = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    full_env = {**inherited, "PYTHONPATH": str(ROOT), "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": str(threads),
                **env}
    with open(log_path, "a") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
             "asgi:app"], cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if requests.get(f"{base}/api/v1/openapi.json", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start: {log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
