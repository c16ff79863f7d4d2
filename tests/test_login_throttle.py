"""One login throttle under every surface: wrong credentials only, per account+address, account, address."""

import pytest

from studysync.auth.sessions import APP_IS_FOR_STUDENTS
from studysync.auth.throttle import LoginThrottle
from studysync.config import ConfigError, Settings, load_config
from studysync.errors import TooManyRequests
from studysync.services.students import STAFF_EMAIL
from tests.conftest import TEST_SECRET, make_app
from tests.factories import PASSWORD, Factory
from tests.support.processes import app_process, post_status

WRONG = "Wrong-pass1"
GUESSER, OWNER = "10.0.0.1", "10.0.0.2"
LOCKED = "Too many login attempts. Please try again in 15 minutes."


def v1_login(client, email, password=WRONG, ip=GUESSER):
    return client.post("/api/v1/auth/login", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def app_login(client, email, password=WRONG, ip=GUESSER):
    return client.post("/api/auth/login", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def test_guesses_on_both_surfaces_share_one_count(client, factory):
    kit = factory.college()
    email = kit.admin.email
    assert [v1_login(client, email).status_code for _ in range(3)] == [401] * 3
    assert [app_login(client, email).status_code for _ in range(2)] == [401] * 2
    r = app_login(client, email)
    assert r.status_code == 429
    assert r.json["message"] == LOCKED and r.json["error"] == LOCKED
    assert 800 < int(r.headers["Retry-After"]) <= 900
    assert v1_login(client, email, PASSWORD).status_code == 429  # the right password does not get past it
    r = v1_login(client, email, PASSWORD, ip=OWNER)
    assert r.status_code == 200 and r.json["data"]["user_id"] == kit.admin.id


def test_every_password_route_counts_on_the_same_counter(client, factory):
    kit = factory.college(domain="throttle.edu", students_count=0)
    student = factory.student_in(kit, email="ana@throttle.edu")
    ip = {"REMOTE_ADDR": GUESSER}
    wrong_login = {"email": student.email, "password": WRONG}
    answers = [
        client.post("/api/v1/auth/token", data={"username": student.email, "password": WRONG}, environ_base=ip),
        client.post("/api/v1/students/login", environ_base=ip, json={
            "college_id": kit.id, "student_email": student.email, "student_password": WRONG}),
        client.post("/api/v1/students/register", environ_base=ip, json={
            "college_id": kit.id, "student_name": "Ana Again", "student_email": student.email,
            "student_password": "Good-pass123"}),
        client.put("/api/v1/students/password", headers=student.headers, environ_base=ip,
                   json={"old_password": WRONG, "new_password": "Brand-new-1234"}),
        client.post("/api/auth/register", environ_base=ip,
                    json={"name": "Ana Again", "email": student.email, "password": "secret123"}),
    ]
    assert [r.status_code for r in answers] == [401, 401, 409, 401, 409]
    for attempt in (
        lambda: client.post("/api/auth/login", json=wrong_login, environ_base=ip),
        lambda: client.post("/api/v1/students/login", environ_base=ip, json={
            "college_id": kit.id, "student_email": student.email, "student_password": PASSWORD}),
        lambda: client.put("/api/v1/students/password", headers=student.headers, environ_base=ip,
                           json={"old_password": PASSWORD, "new_password": "Brand-new-1234"}),
    ):
        r = attempt()
        assert r.status_code == 429 and r.json["message"] == LOCKED


def test_staff_password_change_counts_too(client, factory):
    kit = factory.college()
    for _ in range(5):
        r = client.put("/api/v1/auth/password", headers=kit.teacher.headers, environ_base={"REMOTE_ADDR": GUESSER},
                       json={"old_password": WRONG, "new_password": "Brand-new-1234"})
        assert r.status_code == 401
    assert v1_login(client, kit.teacher.email, PASSWORD).status_code == 429
    assert v1_login(client, kit.teacher.email, PASSWORD, ip=OWNER).status_code == 200


def test_a_success_clears_the_count_for_that_address(client, factory):
    kit = factory.college()
    email = kit.admin.email
    for _ in range(4):
        assert v1_login(client, email).status_code == 401
    assert v1_login(client, email, PASSWORD).status_code == 200
    for _ in range(5):
        assert v1_login(client, email).status_code == 401
    assert v1_login(client, email).status_code == 429


def test_one_address_trying_many_accounts_does_not_lock_out_the_others(client, factory):
    kit = factory.college()
    for n in range(20):
        assert v1_login(client, f"someone{n}@elsewhere.edu").status_code == 401
    assert v1_login(client, kit.admin.email, PASSWORD).status_code == 200
    assert app_login(client, kit.student.email, PASSWORD).status_code == 200


def test_validation_errors_never_count(client, factory):
    kit = factory.college(domain="lab.edu", students_count=0)
    student = factory.student_in(kit, email="lab@lab.edu")
    ip = {"REMOTE_ADDR": GUESSER}
    for _ in range(5):
        r = client.post("/api/v1/students/register", environ_base=ip, json={
            "college_id": kit.id, "student_name": "Weak", "student_email": "weak@lab.edu", "student_password": "weak"})
        assert r.status_code == 400
        r = client.post("/api/auth/register", environ_base=ip,
                        json={"name": "Weak", "email": student.email, "password": "12345"})
        assert r.status_code == 400
    assert app_login(client, student.email, PASSWORD).status_code == 200
    r = client.post("/api/v1/students/register", environ_base=ip, json={
        "college_id": kit.id, "student_name": "Strong", "student_email": "strong@lab.edu",
        "student_password": "Strong-pass1"})
    assert r.status_code == 201


def test_guesses_spread_over_many_addresses_lock_the_account(app_factory):
    app = app_factory(ratelimit_auth_account="4 per 15 minutes")
    client = app.test_client()
    kit = Factory(app, client).college()
    for n in range(4):
        assert v1_login(client, kit.admin.email, ip=f"10.1.0.{n}").status_code == 401
    assert v1_login(client, kit.admin.email, PASSWORD, ip="10.1.0.99").status_code == 429
    assert v1_login(client, kit.teacher.email, PASSWORD, ip="10.1.0.99").status_code == 200


def test_address_limit_and_a_trusted_campus_network(app_factory):
    app = app_factory(ratelimit_auth_ip="3 per 15 minutes", ratelimit_auth_exempt_networks=("10.9.0.0/16",))
    client = app.test_client()
    kit = Factory(app, client).college()
    for ip in ("10.0.0.1", "10.9.1.1"):
        for n in range(3):
            assert v1_login(client, f"someone{n}@elsewhere.edu", ip=ip).status_code == 401
    assert v1_login(client, kit.admin.email, PASSWORD, ip="10.0.0.1").status_code == 429
    assert v1_login(client, kit.admin.email, PASSWORD, ip="10.9.1.1").status_code == 200


@pytest.mark.parametrize("who", ["admin", "teacher", "sysadmin"])
def test_the_app_sends_staff_to_the_web_login(client, factory, who):
    kit = factory.college()
    actor = factory.sysadmin() if who == "sysadmin" else getattr(kit, who)
    r = app_login(client, actor.email, WRONG)
    assert r.status_code == 401  # no hint about the role before the password is right
    r = app_login(client, actor.email, PASSWORD)
    assert r.status_code == 403 and r.json["message"] == APP_IS_FOR_STUDENTS and "/api/v1/auth/login" in r.json["error"]
    assert "token" not in r.json
    assert v1_login(client, actor.email, PASSWORD).status_code == 200


def test_registering_with_a_staff_email_points_to_the_staff_login(client, factory):
    kit = factory.college(domain="staff.edu", students_count=0)
    r = client.post("/api/v1/users", headers=kit.admin.headers, json={
        "name": "Tess Teacher", "email": "tess@staff.edu", "password": "Teach-pass1", "role": "teacher"})
    assert r.status_code == 201
    factory.sysadmin("root@staff.edu")
    for email in ("tess@staff.edu", "root@staff.edu"):
        r = client.post("/api/auth/register", json={"name": "Not A Student", "email": email, "password": "secret123"})
        assert r.status_code == 403 and r.json["error"] == STAFF_EMAIL
        r = client.post("/api/v1/students/register", json={
            "college_id": kit.id, "student_name": "Not A Student", "student_email": email,
            "student_password": "Good-pass123"})
        assert r.status_code == 403 and r.json["message"] == STAFF_EMAIL
    r = app_login(client, "root@staff.edu", PASSWORD, ip=OWNER)  # the sysadmin, though the domain is a college's
    assert r.status_code == 403 and r.json["error"] == APP_IS_FOR_STUDENTS


def test_two_instances_and_two_surfaces_share_the_count_through_redis(migrated_database, redis_url):
    env = {"DATABASE_URL": migrated_database, "JWT_SECRET_KEY": TEST_SECRET, "BCRYPT_ROUNDS": "4",
           "REDIS_URL": redis_url}
    body = {"email": "shared-guess@x.edu", "password": WRONG}
    with app_process(env) as first, app_process(env) as second:
        urls = [f"{first}/api/v1/auth/login", f"{second}/api/auth/login"] * 3
        statuses = [post_status(url, body) for url in urls]
    assert statuses == [401] * 5 + [429]


def test_throttle_settings_from_the_environment(monkeypatch, migrated_database):
    monkeypatch.setenv("RATELIMIT_AUTH_ACCOUNT", "20 per hour")
    monkeypatch.setenv("RATELIMIT_AUTH_IP", "300 per 15 minutes")
    monkeypatch.setenv("RATELIMIT_AUTH_EXEMPT_NETWORKS", "10.9.0.0/16, 192.0.2.0/24")
    settings = load_config()
    assert settings.ratelimit_auth_account == "20 per hour" and settings.ratelimit_auth_ip == "300 per 15 minutes"
    assert settings.ratelimit_auth_exempt_networks == ("10.9.0.0/16", "192.0.2.0/24")
    with pytest.raises(ConfigError, match="RATELIMIT_AUTH_EXEMPT_NETWORKS"):
        make_app(migrated_database, ratelimit_auth_exempt_networks=("campus",))
    with pytest.raises(ConfigError, match="RATELIMIT_AUTH_IP"):
        make_app(migrated_database, ratelimit_auth_ip="lots")


def test_with_redis_unreachable_each_process_still_counts():
    """Redis down must not open the door (nor fail every login): the count falls back to this process."""
    throttle = LoginThrottle(Settings(redis_url="redis://127.0.0.1:5799/0"))  # nothing listens there
    for _ in range(5):
        throttle.check("victim@x.edu", GUESSER)
        throttle.failed("victim@x.edu", GUESSER)
    with pytest.raises(TooManyRequests) as refused:
        throttle.check("victim@x.edu", GUESSER)
    assert refused.value.message == LOCKED
    throttle.check("victim@x.edu", OWNER)
