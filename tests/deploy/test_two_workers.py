"""`make run` with REDIS_URL serves with two workers on a machine that has never run it before."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ..conftest import TEST_SECRET
from ..support.processes import post_status

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


def _threads(pid: int) -> dict[int, set[int]]:
    """Each thread of process `pid` and the cores it may run on."""
    return {int(tid): os.sched_getaffinity(int(tid)) for tid in os.listdir(f"/proc/{pid}/task")}


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="one core: nothing to pin")
def test_each_worker_runs_on_a_core_of_its_own_and_hashes_on_every_core(migrated_database, redis_url, tmp_path):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": migrated_database, "JWT_SECRET_KEY": TEST_SECRET,
           "EMBEDDING_MODEL": "hashing", "REDIS_URL": redis_url, "SYSADMIN_EMAIL": "", "TMPDIR": str(tmp_path),
           "PORT": str(port), "GUNICORN_THREADS": "2", "WEB_CONCURRENCY": "2", "BCRYPT_ROUNDS": "10"}
    env.pop("GUNICORN_PIN_WORKERS", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
                                "--bind", f"127.0.0.1:{port}", "asgi:app"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        workers: list[int] = []
        while len(workers) < 2 or not all(_answers(base) for _ in range(2)):
            assert process.poll() is None and time.monotonic() < deadline, "gunicorn did not start two workers"
            time.sleep(0.5)
            workers = [int(pid) for pid in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()]
        every_core = os.sched_getaffinity(0)
        assert os.sched_getaffinity(process.pid) == every_core  # the master is not pinned
        cores = [os.sched_getaffinity(worker) for worker in workers]
        assert all(len(core) == 1 for core in cores) and cores[0] != cores[1], cores
        # Logins teach each worker its hashing route; the next ones hash on a thread of its own that
        # may use every core. Four logins over two workers: one of them served two at least.
        logins = [post_status(f"{base}/api/v1/auth/login", {"email": f"nobody{n}@demo.edu", "password": "Wrong-pass1"},
                              timeout=30) for n in range(4)]
        assert logins == [401] * 4
        hashing = [tid for worker in workers for tid, allowed in _threads(worker).items() if allowed == every_core]
        assert hashing, {worker: _threads(worker) for worker in workers}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)


def _answers(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/api/health", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False
