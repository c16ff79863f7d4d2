"""Rate limits as a user notices them: 429 with retryAfter, shared through Redis (login specifics: test_login_throttle)."""

from tests.conftest import TEST_SECRET
from tests.factories import Factory, PASSWORD
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
