"""`make run` with REDIS_URL serves with two workers on a machine that has never run it before."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from ..conftest import TEST_SECRET
from ..support.processes import free_port, post_status

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def _served_with_redis(database_url: str, redis_url: str, tmp_path: Path, **settings: str):
    """gunicorn as `make run` starts it with REDIS_URL (two workers by default), TMPDIR empty as on a
    fresh machine: the master process and the base URL, once /api/health answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("WEB_CONCURRENCY", "PROMETHEUS_MULTIPROC_DIR", "GUNICORN_PIN_WORKERS")}
    env.update({"DATABASE_URL": database_url, "JWT_SECRET_KEY": TEST_SECRET, "EMBEDDING_MODEL": "hashing",
                "REDIS_URL": redis_url, "SYSADMIN_EMAIL": "", "TMPDIR": str(tmp_path), "PORT": str(port),
                "GUNICORN_THREADS": "2", **settings})
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
                                "--bind", f"127.0.0.1:{port}", "asgi:app"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # under load, importing the app takes a while
        while not _answers(base):
            assert process.poll() is None, f"gunicorn exited with {process.returncode}"
            assert time.monotonic() < deadline, "gunicorn did not answer /api/health within 180 s"
            time.sleep(0.5)
        yield process, base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)


def _answers(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/api/health", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def test_two_workers_start_without_a_metrics_directory_made_beforehand(migrated_database, redis_url, tmp_path):
    """The metrics directory lives under TMPDIR, which is empty here as on a fresh machine: the
    master used to die importing the worker class, before its start-up hook made the directory."""
    with _served_with_redis(migrated_database, redis_url, tmp_path) as (_, base):
        with urllib.request.urlopen(f"{base}/api/health", timeout=5) as response:
            assert response.status == 200
            assert json.load(response)["database"] == "connected"


def _threads(pid: int) -> dict[int, set[int]]:
    """Each thread of process `pid` and the cores it may run on."""
    return {int(tid): os.sched_getaffinity(int(tid)) for tid in os.listdir(f"/proc/{pid}/task")}


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="one core: nothing to pin")
def test_each_worker_runs_on_a_core_of_its_own_and_hashes_on_every_core(migrated_database, redis_url, tmp_path):
    with _served_with_redis(migrated_database, redis_url, tmp_path, BCRYPT_ROUNDS="10") as (process, base):
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while len(workers) < 2:
            assert time.monotonic() < deadline, "gunicorn did not start two workers"
            workers = [int(pid) for pid in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()]
            time.sleep(0.2)
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
