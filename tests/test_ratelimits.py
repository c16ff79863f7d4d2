"""Rate limits as a user notices them: 429 with retryAfter, shared through Redis (login specifics: test_login_throttle)."""

from collections import Counter

import pytest

from studysync.config import ConfigError

from tests.conftest import TEST_SECRET
from tests.factories import Factory, PASSWORD
from tests.support.private_redis import private_redis  # noqa: F401 (fixture)
from tests.support.processes import app_process, post_status


def failed_login(client, email="nobody@x.edu", ip="10.0.0.1"):
    return client.post("/api/v1/auth/login", json={"email": email, "password": "Wrong-pass1"},
                       environ_base={"REMOTE_ADDR": ip})


def test_sixth_failed_login_within_15_minutes_is_429(client):
    for _ in range(5):
        assert failed_login(client).status_code == 401
    r = failed_login(client)
    assert r.status_code == 429
    assert r.json["success"] is False
    assert r.json["message"].startswith("Too many login attempts. Please try again in")
    assert 800 < r.json["retryAfter"] <= 900
    assert int(r.headers["Retry-After"]) == r.json["retryAfter"]


def test_successful_logins_do_not_count(client, factory):
    kit = factory.college()
    for _ in range(8):
        r = client.post("/api/v1/auth/login", json={"email": kit.admin.email, "password": PASSWORD},
                        environ_base={"REMOTE_ADDR": "10.0.0.2"})
        assert r.status_code == 200


def test_api_limit_is_per_user_and_sysadmin_is_exempt(app_factory):
    app = app_factory(ratelimit_api="3 per minute")
    client = app.test_client()
    factory = Factory(app, client)
    kit = factory.college()
    for _ in range(3):
        assert client.get("/api/v1/auth/me", headers=kit.admin.headers).status_code == 200
    r = client.get("/api/v1/auth/me", headers=kit.admin.headers)
    assert r.status_code == 429 and "retryAfter" in r.json and r.headers["Retry-After"]
    assert client.get("/api/v1/auth/me", headers=kit.teacher.headers).status_code == 200
    sysadmin = factory.sysadmin()
    for _ in range(6):
        assert client.get("/api/v1/colleges", headers=sysadmin.headers).status_code == 200


def test_the_api_limit_counts_each_route_apart_and_never_probes_or_unknown_paths(app_factory):
    app = app_factory(ratelimit_api="2 per minute")
    client = app.test_client()
    kit = Factory(app, client).college()
    assert [client.get("/api/v1/auth/me", headers=kit.student.headers).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/api/v1/groups", headers=kit.student.headers).status_code == 200
    for _ in range(4):  # a load balancer's probes and the docs page's files; a path of no route
        assert client.get("/api/health").status_code == 200
        assert client.get("/api/v1/health").status_code == 200
        assert client.get("/api/v1/docs/assets/favicon-16x16.png").status_code == 200
        assert client.get("/api/v1/no-such-route", headers=kit.student.headers).status_code == 404


def test_a_request_under_the_api_limit_costs_redis_one_command(app_factory, private_redis):
    """Counting a request is one round trip to Redis: a script that counts and sets the expiry (its
    INCRBY is listed by Redis too). The answers carry no X-RateLimit-* headers (nor a Retry-After on
    a 200): working them out took a GET and a TTL more per request. The 429 still says when to retry."""
    app = app_factory(redis_url=private_redis.url, ratelimit_api="11 per minute")
    client = app.test_client()
    kit = Factory(app, client).college()
    assert client.get("/api/v1/auth/me", headers=kit.student.headers).status_code == 200  # the script loaded
    before = private_redis.commands()
    for _ in range(10):
        r = client.get("/api/v1/auth/me", headers=kit.student.headers)
        assert r.status_code == 200
        assert "Retry-After" not in r.headers and not [h for h in r.headers.keys() if h.startswith("X-RateLimit")]
    assert private_redis.commands() - before == Counter(evalsha=10, incrby=10)
    r = client.get("/api/v1/auth/me", headers=kit.student.headers)
    assert r.status_code == 429 and 0 < int(r.headers["Retry-After"]) == r.json["retryAfter"] <= 60


def test_an_api_limit_that_does_not_parse_stops_the_app_at_start(app_factory):
    with pytest.raises(ConfigError, match="RATELIMIT_API"):
        app_factory(ratelimit_api="fifty a minute")


def test_college_can_raise_its_own_api_limit(app_factory):
    app = app_factory(ratelimit_api="2 per minute")
    client = app.test_client()
    factory = Factory(app, client)
    kit = factory.college()
    r = client.put(f"/api/v1/colleges/{kit.id}/settings", headers=kit.admin.headers,
                   json={"ratelimit_api": "100 per minute"})
    assert r.status_code == 200
    for _ in range(5):
        assert client.get("/api/v1/auth/me", headers=kit.teacher.headers).status_code == 200


def test_two_instances_share_the_count_through_redis(migrated_database, redis_url):
    env = {"DATABASE_URL": migrated_database, "JWT_SECRET_KEY": TEST_SECRET, "BCRYPT_ROUNDS": "4",
           "REDIS_URL": redis_url}
    body = {"email": "shared-count@x.edu", "password": "Wrong-pass1"}
    with app_process(env) as first, app_process(env) as second:
        statuses = [post_status(f"{url}/api/v1/auth/login", body) for url in (first, second) * 3]
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429


def test_without_redis_each_instance_counts_alone(migrated_database):
    env = {"DATABASE_URL": migrated_database, "JWT_SECRET_KEY": TEST_SECRET, "BCRYPT_ROUNDS": "4", "REDIS_URL": ""}
    body = {"email": "alone@x.edu", "password": "Wrong-pass1"}
    with app_process(env) as first, app_process(env) as second:
        statuses = [post_status(f"{url}/api/v1/auth/login", body) for url in (first, second) * 3]
    assert statuses == [401] * 6
