"""The server exactly as `make run` starts it (gunicorn -c deploy/gunicorn.conf.py asgi:app) keeps
answering with far more sockets open than the 32 threads that used to take it down."""
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET
from tests.factories import make_group
from tests.support.processes import ROOT, free_port

from .helpers import connect, events_until, http

SOCKETS = 100
PER_USER = 5  # the default STREAM_MAX_SOCKETS_PER_USER


@pytest.fixture
def make_run_server(migrated_database):
    """gunicorn with deploy/gunicorn.conf.py, as `make run` execs it, on the test database."""
    port = free_port()
    env = {**os.environ, "PORT": str(port), "DATABASE_URL": migrated_database, "JWT_SECRET_KEY": TEST_SECRET,
           "BCRYPT_ROUNDS": "4", "EMBEDDING_MODEL": "hashing", "SYSADMIN_EMAIL": "", "SYSADMIN_PASSWORD": "",
           "PYTHONPATH": str(ROOT)}
    for name in ("REDIS_URL", "WEB_CONCURRENCY", "GUNICORN_THREADS", "STREAM_MAX_SOCKETS_PER_USER"):
        env.pop(name, None)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen([str(gunicorn), "-c", "deploy/gunicorn.conf.py", "asgi:app"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/v1/health", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not start: {process.stderr.read()[-2000:] if process.poll() else ''}")
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def test_a_hundred_open_sockets_leave_the_api_answering_and_all_get_the_message(make_run_server, factory):
    base = make_run_server
    kit = factory.college(students_count=SOCKETS // PER_USER)
    leader, *members = kit.students
    group_id = make_group(factory.client, leader, max_members=len(kit.students),
                          member_ids=[m.id for m in members])["group_id"]
    sockets = []
    try:
        for student in kit.students:
            sockets.extend(connect(base, student) for _ in range(PER_USER))
        assert len(sockets) == SOCKETS

        assert http("GET", f"{base}/api/v1/health")[0] == 200
        status, body = http("GET", f"{base}/api/v1/auth/me", members[0])
        assert status == 200 and body["data"]["user_id"] == members[0].id, body

        status, body = http("POST", f"{base}/api/v1/groups/{group_id}/messages", leader,
                            {"content": "everyone still here?", "message_type": "text"})
        assert status == 201, body
        posted = body["data"]["message_id"]
        for ws in sockets:
            events_until(ws, lambda e: e["type"] == "message.created" and e["data"]["message_id"] == posted)
    finally:
        for ws in sockets:
            ws.close()
