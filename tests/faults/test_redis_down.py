"""Redis configured and then killed: logins, posts and health keep their documented answers.

A private redis-server (its own port) behind the app under gunicorn. While it is down the rate
limits count in the app's process and health reports "degraded" with 200; once it is back, health
says so and the limits are counted in Redis again, without restarting the app.
"""
from __future__ import annotations

import time

import requests

from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, make_group
from tests.support.gunicorn_server import gunicorn
from tests.support.private_redis import private_redis  # noqa: F401 (fixture)

APP_PORTS = (5350, 5399)
ANSWER_WITHIN = 60  # seconds: a generous bound on "answered", not a measurement


def test_with_redis_down_logins_posts_and_health_keep_their_answers(migrated_database, app, client, factory,
                                                                      private_redis, tmp_path):
    kit = factory.college()
    group = make_group(client, kit.student)
    env = {"DATABASE_URL": migrated_database, "REDIS_URL": private_redis.url, "JWT_SECRET_KEY": TEST_SECRET,
           "BCRYPT_ROUNDS": "4", "EMBEDDING_MODEL": "hashing", "RATELIMIT_API": "20 per minute"}
    with gunicorn(env, tmp_path / "gunicorn.log", APP_PORTS) as base:
        def call(method, path, actor=None, **kwargs):
            headers = actor.headers if actor else {}
            return requests.request(method, base + path, headers=headers, timeout=ANSWER_WITHIN, **kwargs)

        def login(password):
            return call("POST", "/api/v1/auth/login", json={"email": kit.admin.email, "password": password,
                                                            "college_id": kit.id})

        def post(text):
            return call("POST", f"/api/v1/groups/{group['group_id']}/messages", kit.student, json={"content": text})

        assert login(PASSWORD).status_code == 200
        assert call("GET", "/api/v1/health").json()["data"]["redis"] == "connected"
        assert private_redis.keys(), "the limiter counts in Redis while it is up"

        private_redis.kill()

        assert call("GET", "/api/v1/openapi.json").status_code == 200
        r = login(PASSWORD)
        assert r.status_code == 200 and r.json()["data"]["token"]
        r = login("Wrong-password-1")
        assert r.status_code == 401 and r.json()["success"] is False
        r = post("while Redis is down")
        assert r.status_code == 201, r.text
        r = call("GET", "/api/v1/health")
        assert r.status_code == 200
        assert (r.json()["data"]["redis"], r.json()["data"]["degraded"]) == ("unreachable", ["redis"])
        assert r.json()["message"] == "degraded: redis unreachable"
        # the limits still hold, counted in this process
        other = kit.students[1]
        statuses = [call("GET", "/api/v1/groups", other).status_code for _ in range(21)]
        assert statuses[:20] == [200] * 20 and statuses[20] == 429

        private_redis.start()

        r = call("GET", "/api/v1/health")
        assert r.status_code == 200
        assert (r.json()["data"]["redis"], r.json()["data"]["degraded"], r.json()["message"]) == (
            "connected", [], "ready")
        # the limiter notices on its own (it re-checks Redis with back-off) and counts there again
        deadline = time.monotonic() + 90
        while not private_redis.keys():
            assert time.monotonic() < deadline, "the limiter never went back to Redis"
            assert post("after Redis came back").status_code == 201
            time.sleep(1)
