"""A private PostgreSQL frozen (SIGSTOP) and killed under load, with the app under gunicorn.

What a user would notice: every request gets an answer (a JSON 503 while the database is away),
routes that need no database keep answering, an answer of 2xx means the change is stored and a
503 means it is not (unless the 503 says the COMMIT's outcome is unknown), and the service works
again once the database is back, without a restart. Bulk imports caught by a crash end `finished`
or `interrupted` with the exact rows not imported.

These tests start their own PostgreSQL and gunicorn, so they do not depend on TEST_DATABASE; they
run once per `make test`, in the SQLite pass. Client timeouts are generous bounds on "answered",
never measurements.
"""
from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import pytest
import requests
from alembic import command
from sqlalchemy import create_engine, pool, text

from tests.conftest import BACKEND, TEST_SECRET, alembic_config, make_app
from tests.factories import Factory, make_group
from tests.support.gunicorn_server import gunicorn
from tests.support.private_postgres import PrivatePostgres, binaries

PG_PORT = 55433
APP_PORTS = (5300, 5349)
# Small bounds so the test sees them trip; the production defaults are in config.py.
TIMEOUTS = {"DB_CONNECT_TIMEOUT": "2", "DB_POOL_TIMEOUT": "2", "DB_STATEMENT_TIMEOUT": "2", "HEALTH_TIMEOUT": "1"}
ANSWER_WITHIN = 60  # seconds: a client timeout far above any configured bound; hitting it is a hang
UNKNOWN_OUTCOME = "the change may have been stored"

pytestmark = [
    pytest.mark.skipif(BACKEND != "sqlite", reason="runs once per make test, in the SQLite pass "
                                                   "(it starts its own PostgreSQL)"),
]


@pytest.fixture(scope="module")
def postgres():
    bin_dir = binaries()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries (initdb, postgres) are required in CI for the fault tests")
        pytest.skip("PostgreSQL binaries (initdb, postgres) not found under /usr/lib/postgresql/*/bin or on PATH")
    server = PrivatePostgres(PG_PORT, bin_dir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@dataclass
class World:
    url: str
    kit: object
    groups: dict  # student id -> group id


_databases = iter(range(1, 100))


@pytest.fixture
def world(postgres):
    """A fresh database on the private server: a college whose students each lead a group."""
    name = f"faults_{next(_databases)}"
    postgres.create_database(name)
    url = postgres.url(name)
    command.upgrade(alembic_config(url), "head")
    app = make_app(url, ratelimit_enabled=False)
    client = app.test_client()
    kit = Factory(app, client).college(students_count=6)
    groups = {student.id: make_group(client, student)["group_id"] for student in kit.students}
    app.extensions["studysync.db"].dispose()
    return World(url, kit, groups)


def server_env(world: World, **extra) -> dict:
    return {"DATABASE_URL": world.url, "JWT_SECRET_KEY": TEST_SECRET, "BCRYPT_ROUNDS": "4",
            "RATELIMIT_ENABLED": "false", "EMBEDDING_MODEL": "hashing", "APP_ENV": "development",
            **TIMEOUTS, **{k: str(v) for k, v in extra.items()}}


@dataclass
class Load:
    """Students posting and reading their group's messages, and a watcher of the database-free routes."""

    base: str
    world: World
    stop: threading.Event = field(default_factory=threading.Event)
    posts: list = field(default_factory=list)  # (content, status, message)
    answers: dict = field(default_factory=lambda: defaultdict(list))  # route -> [status]
    hangs: list = field(default_factory=list)
    not_envelopes: list = field(default_factory=list)  # 5xx answers that are not the JSON error envelope
    slowest: dict = field(default_factory=lambda: defaultdict(float))  # route -> longest wait (printed only)

    def run(self):
        threads = [threading.Thread(target=self._poster, args=(s,)) for s in self.world.kit.students]
        threads += [threading.Thread(target=self._reader, args=(s,)) for s in self.world.kit.students[:4]]
        threads += [threading.Thread(target=self._watcher)]
        for thread in threads:
            thread.start()
        return threads

    def _call(self, method, path, route, **kwargs):
        started = time.monotonic()
        try:
            response = requests.request(method, self.base + path, timeout=ANSWER_WITHIN, **kwargs)
        except requests.RequestException as exc:
            self.hangs.append((route, repr(exc)))
            return None
        self.slowest[route] = max(self.slowest[route], time.monotonic() - started)
        self.answers[route].append(response.status_code)
        if response.status_code >= 500 and not _is_envelope(response):
            self.not_envelopes.append((route, response.status_code, response.text[:200]))
        return response

    def _poster(self, student):
        group_id, n = self.world.groups[student.id], 0
        while not self.stop.is_set():
            n += 1
            content = f"fault {student.id[:8]} {n}"
            r = self._call("POST", f"/api/v1/groups/{group_id}/messages", "post", headers=student.headers,
                           json={"content": content})
            if r is not None:
                self.posts.append((content, r.status_code, r.json().get("message", "") if _is_json(r) else r.text))

    def _reader(self, student):
        group_id = self.world.groups[student.id]
        while not self.stop.is_set():
            self._call("GET", f"/api/v1/groups/{group_id}/messages", "read", headers=student.headers)

    def _watcher(self):
        while not self.stop.is_set():
            self._call("GET", "/api/v1/openapi.json", "openapi")
            self._call("GET", "/api/v1/health", "health")
            time.sleep(0.2)


def _is_json(response) -> bool:
    return response.headers.get("Content-Type", "").startswith("application/json")


def _is_envelope(response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return body.get("success") is False and bool(body.get("message"))


def stored_contents(url: str) -> set[str]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return set(connection.execute(text("SELECT content FROM messages WHERE content LIKE 'fault %'")).scalars())
    finally:
        engine.dispose()


def check_consistency(load: Load, url: str) -> None:
    stored = stored_contents(url)
    answered_ok = {content for content, status, _ in load.posts if status == 201}
    refused = {content for content, status, message in load.posts if status >= 500 and UNKNOWN_OUTCOME not in message}
    assert answered_ok <= stored, f"answered 201 but not stored: {sorted(answered_ok - stored)[:5]}"
    assert not refused & stored, f"answered 503 but stored: {sorted(refused & stored)[:5]}"
    statuses = {status for _, status, _ in load.posts}
    assert statuses <= {201, 503}, statuses


def post_once(base: str, world: World) -> int:
    student = world.kit.students[0]
    r = requests.post(f"{base}/api/v1/groups/{world.groups[student.id]}/messages", headers=student.headers,
                      json={"content": "fault after recovery"}, timeout=ANSWER_WITHIN)
    return r.status_code


def run_fault(postgres, world, tmp_path, fault):
    with gunicorn(server_env(world), tmp_path / "gunicorn.log", APP_PORTS, threads=8) as base:
        load = Load(base, world)
        threads = load.run()
        try:
            time.sleep(1.5)
            fault()
            time.sleep(2)
        finally:
            load.stop.set()
            for thread in threads:
                thread.join(timeout=ANSWER_WITHIN + 10)
        in_doubt = sum(1 for _, status, message in load.posts if status == 503 and UNKNOWN_OUTCOME in message)
        print(f"\n{fault.__name__}: posts {len(load.posts)} (201: {load.answers['post'].count(201)}, "
              f"503: {load.answers['post'].count(503)}, of which outcome unknown: {in_doubt}); "
              f"openapi {load.answers['openapi']}; health {load.answers['health']}; longest waits (s): "
              f"{ {route: round(seconds, 1) for route, seconds in load.slowest.items()} }")
        assert not load.hangs, f"requests without an answer: {load.hangs[:5]}"
        assert not load.not_envelopes, load.not_envelopes[:5]
        assert all(status == 200 for status in load.answers["openapi"]), load.answers["openapi"]
        assert 503 in load.answers["post"] and 201 in load.answers["post"], "the fault did not show"
        assert 503 in load.answers["health"], load.answers["health"]
        assert set(load.answers["read"]) <= {200, 503}
        # recovered without a restart
        assert post_once(base, world) == 201
        assert requests.get(f"{base}/api/v1/health", timeout=ANSWER_WITHIN).status_code == 200
        check_consistency(load, world.url)


def test_a_frozen_database_gets_503s_not_hangs_and_the_service_recovers(postgres, world, tmp_path):
    def freeze_for_a_while():
        postgres.freeze()
        try:
            time.sleep(8)  # several times every configured timeout
        finally:
            postgres.thaw()

    run_fault(postgres, world, tmp_path, freeze_for_a_while)


def test_a_crashed_database_gets_503s_and_the_service_recovers_after_its_restart(postgres, world, tmp_path):
    def crash_and_restart():
        postgres.crash()
        time.sleep(3)
        postgres.start()

    run_fault(postgres, world, tmp_path, crash_and_restart)


# --- bulk imports through a crash ----------------------------------------------------------------


def rows(count: int) -> list[dict]:
    return [{"student_name": f"Bulk {n:04d}", "student_email": f"bulk{n:04d}@fault.edu", "student_password": "Student@1234",
             "student_department": "Physics", "student_year": 1} for n in range(1, count + 1)]


def imported_emails(url: str) -> set[str]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return set(connection.execute(text("SELECT email FROM users WHERE email LIKE 'bulk%@fault.edu'")).scalars())
    finally:
        engine.dispose()


def crash_during_import(postgres, world, tmp_path, *, down_for: float, **settings) -> tuple[dict, list[dict]]:
    """Submit 200 rows, crash the database once some are in, bring it back after `down_for` seconds;
    the job's last answer and the rows sent."""
    sent = rows(200)
    env = server_env(world, BCRYPT_ROUNDS=8, BULK_WORKERS=1, **settings)
    admin = world.kit.admin
    with gunicorn(env, tmp_path / "gunicorn.log", APP_PORTS) as base:
        r = requests.post(f"{base}/api/v1/students/bulk", json={"students": sent}, headers=admin.headers,
                          timeout=ANSWER_WITHIN)
        assert r.status_code == 202, r.text
        status_url = base + r.json()["data"]["status_url"]
        deadline = time.monotonic() + 120
        while requests.get(status_url, headers=admin.headers, timeout=ANSWER_WITHIN).json()["data"]["done"] < 20:
            assert time.monotonic() < deadline, "the import never got going"
            time.sleep(0.05)
        postgres.crash()
        time.sleep(down_for)
        postgres.start()
        deadline = time.monotonic() + 180
        while True:
            r = requests.get(status_url, headers=admin.headers, timeout=ANSWER_WITHIN)
            if r.status_code == 200 and r.json()["data"]["status"] not in ("queued", "running"):
                return r.json()["data"], sent
            assert r.status_code in (200, 503), r.text
            assert time.monotonic() < deadline, f"the job never ended: {r.text}"
            time.sleep(0.2)


def test_a_bulk_import_retries_through_a_short_crash_and_finishes(postgres, world, tmp_path):
    job, sent = crash_during_import(postgres, world, tmp_path, down_for=2, BULK_RETRY_SECONDS=30)
    assert (job["status"], job["done"], job["succeeded"], job["failed_count"]) == ("finished", 200, 200, 0)
    assert imported_emails(world.url) == {row["student_email"] for row in sent}


def test_a_bulk_import_that_outlasts_its_patience_ends_interrupted_with_the_rows_to_resend(postgres, world, tmp_path):
    # The worker gives up after 1s without the database, cannot record that while it is down, and the
    # job then reads interrupted once it has not moved for 4s.
    job, sent = crash_during_import(postgres, world, tmp_path, down_for=5, BULK_RETRY_SECONDS=1,
                                    BULK_STALLED_SECONDS=4)
    assert job["status"] == "interrupted"
    done = job["done"]
    assert 20 <= done < 200
    assert job["not_imported"] == list(range(done + 1, 201))
    assert [s["student_email"] for s in job["success"]] == [row["student_email"] for row in sent[:done]]
    assert imported_emails(world.url) == {row["student_email"] for row in sent[:done]}
