"""`make run` with REDIS_URL serves with two workers on a machine that has never run it before."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..conftest import TEST_SECRET

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_two_workers_start_without_a_metrics_directory_made_beforehand(migrated_database, redis_url, tmp_path):
    """The metrics directory lives under TMPDIR, which is empty here as on a fresh machine: the
    master used to die importing the worker class, before its start-up hook made the directory."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": migrated_database, "JWT_SECRET_KEY": TEST_SECRET,
           "EMBEDDING_MODEL": "hashing", "REDIS_URL": redis_url, "SYSADMIN_EMAIL": "", "TMPDIR": str(tmp_path),
           "PORT": str(port), "GUNICORN_THREADS": "2"}
    env.pop("WEB_CONCURRENCY", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
                                "--bind", f"127.0.0.1:{port}", "asgi:app"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        health = None
        deadline = time.monotonic() + 180  # under load, importing the app takes a while
        while health is None and time.monotonic() < deadline:
            assert process.poll() is None, f"gunicorn exited with {process.returncode}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5) as response:
                    health = (response.status, json.load(response))
            except OSError:
                time.sleep(0.5)
        assert health is not None and health[0] == 200, health
        assert health[1]["database"] == "connected"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
