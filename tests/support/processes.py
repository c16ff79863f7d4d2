"""Start and stop app instances in subprocesses."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def post_status(url: str, body: dict, timeout: float = 10) -> int:
    """POST `body` as JSON to a running instance; the answer's status, errors included."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def app_process(env: dict[str, str]):
    """Yield the base URL of a freshly started instance; kill it afterwards."""
    port = free_port()
    full_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "tests.support.serve", str(port)], cwd=ROOT,
                               env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        if "ready" not in line:
            process.kill()
            raise RuntimeError(f"app process failed to start: {process.stderr.read()[-2000:]}")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
