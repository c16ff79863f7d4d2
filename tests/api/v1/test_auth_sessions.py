"""Every token names a server-side session: revocation bites on the very next request."""
import jwt

from tests.factories import PASSWORD


def login(client, email, password=PASSWORD, agent="phone"):
    r = client.post("/api/v1/auth/login", json={"email": email, "password": password},
                    headers={"User-Agent": agent})
    assert r.status_code == 200, r.json
    return {"Authorization": f"Bearer {r.json['data']['token']}"}


def test_token_claims_are_pinned_and_complete(app, client, factory):
    kit = factory.college()
    headers = login(client, kit.admin.email)
    token = headers["Authorization"].split()[1]
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert {"sub", "role", "college_id", "sid", "iat", "exp"} <= set(claims)
    assert claims["role"] == "admin" and claims["college_id"] == kit.id
    forged = jwt.encode({**claims, "role": "sysadmin"}, "another-secret", algorithm="HS256")
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {unsigned}"}).status_code == 401


def test_logout_rejects_the_old_token_only(client, factory):
    kit = factory.college()
    phone, laptop = login(client, kit.admin.email, agent="phone"), login(client, kit.admin.email, agent="laptop")
    assert client.post("/api/v1/auth/logout", headers=phone).status_code == 200
    r = client.get("/api/v1/auth/me", headers=phone)
    assert r.status_code == 401 and r.json["message"] == "Invalid or expired token"
    assert client.get("/api/v1/auth/me", headers=laptop).status_code == 200


def test_logout_all_rejects_every_token(client, factory):
    kit = factory.college()
    phone, laptop = login(client, kit.admin.email), login(client, kit.admin.email)
    r = client.post("/api/v1/auth/logout-all", headers=phone)
    assert r.status_code == 200 and r.json["data"]["revoked"] >= 2
    for headers in (phone, laptop):
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_password_change_revokes_the_other_sessions(client, factory):
    kit = factory.college()
    phone, laptop = login(client, kit.teacher.email), login(client, kit.teacher.email)
    r = client.put("/api/v1/auth/password", headers=phone,
                   json={"old_password": PASSWORD, "new_password": "Brand-new-1234"})
    assert r.status_code == 200
    assert client.get("/api/v1/auth/me", headers=phone).status_code == 200
    assert client.get("/api/v1/auth/me", headers=laptop).status_code == 401
    r = client.post("/api/v1/auth/login", json={"email": kit.teacher.email, "password": PASSWORD})
    assert r.status_code == 401
    login(client, kit.teacher.email, "Brand-new-1234")


def test_sessions_listed_and_revoked_one_by_one(client, factory):
    kit = factory.college()
    phone, laptop = login(client, kit.admin.email, agent="phone"), login(client, kit.admin.email, agent="laptop")
    r = client.get("/api/v1/auth/sessions", headers=phone)
    assert r.status_code == 200
    sessions = r.json["data"]
    agents = {s["user_agent"]: s for s in sessions}
    assert {"phone", "laptop"} <= set(agents)
    assert agents["phone"]["current"] is True and agents["laptop"]["current"] is False
    r = client.delete(f"/api/v1/auth/sessions/{agents['laptop']['session_id']}", headers=phone)
    assert r.status_code == 200
    assert client.get("/api/v1/auth/me", headers=laptop).status_code == 401
    assert client.get("/api/v1/auth/me", headers=phone).status_code == 200


def test_someone_elses_session_is_not_found(client, factory):
    kit = factory.college()
    other = factory.college()
    r = client.get("/api/v1/auth/sessions", headers=other.admin.headers)
    their_session = r.json["data"][0]["session_id"]
    r = client.delete(f"/api/v1/auth/sessions/{their_session}", headers=kit.admin.headers)
    assert r.status_code == 404
    assert client.get("/api/v1/auth/me", headers=other.admin.headers).status_code == 200


def test_deactivation_takes_effect_on_the_next_request(client, factory):
    kit = factory.college()
    student = kit.student
    assert client.get("/api/v1/auth/me", headers=student.headers).status_code == 200
    assert client.delete(f"/api/v1/students/{student.id}", headers=kit.admin.headers).status_code == 200
    assert client.get("/api/v1/auth/me", headers=student.headers).status_code == 401
    r = client.delete(f"/api/v1/users/{kit.teacher.id}", headers=kit.admin.headers)
    assert r.status_code == 200 and r.json["data"]["status"] == "inactive"
    assert client.get("/api/v1/auth/me", headers=kit.teacher.headers).status_code == 401
    r = client.post("/api/v1/auth/login", json={"email": kit.teacher.email, "password": PASSWORD})
    assert r.status_code == 403


def test_oauth2_password_form(client, factory):
    kit = factory.college()
    r = client.post("/api/v1/auth/token", data={"username": kit.student.email, "password": PASSWORD})
    assert r.status_code == 200, r.json
    assert r.json["token_type"] == "bearer"
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {r.json['access_token']}"})
    assert me.status_code == 200 and me.json["data"]["user_id"] == kit.student.id
    r = client.post("/api/v1/auth/token", data={"username": kit.student.email, "password": "wrong"})
    assert r.status_code == 401


def test_password_over_72_bytes_is_a_400(client, factory):
    kit = factory.college()
    r = client.post("/api/v1/students/register", json={
        "college_id": kit.id, "student_name": "Long Pass", "student_email": "long@x.edu",
        "student_password": "Aa1" + "é" * 40})
    assert r.status_code == 400 and "72 bytes" in r.json["message"]
    r = client.post("/api/v1/auth/login", json={"email": kit.admin.email, "password": "A" * 100})
    assert r.status_code == 401


def test_same_email_in_two_colleges_needs_a_college(client, factory):
    first, second = factory.college(), factory.college()
    for kit in (first, second):
        r = client.post("/api/v1/users", headers=kit.admin.headers, json={
            "name": "Shared Person", "email": "shared@teachers.org", "password": "Shared-pass1", "role": "teacher"})
        assert r.status_code == 201
    r = client.post("/api/v1/auth/login", json={"email": "shared@teachers.org", "password": "Shared-pass1"})
    assert r.status_code == 400 and "college_id" in r.json["message"]
    r = client.post("/api/v1/auth/login", json={"email": "shared@teachers.org", "password": "Shared-pass1",
                                                "college_id": second.id})
    assert r.status_code == 200 and r.json["data"]["college_id"] == second.id



def test_a_request_counts_as_use_of_its_session_once_a_minute_in_its_own_commit(app, client, factory):
    """`last_used_at` (the sessions list shows it) moves when the session was last used over a
    minute ago, committed by the request's own unit of work: one COMMIT per request, not two."""
    from datetime import timedelta

    from sqlalchemy import event, select, update

    from studysync.db import db, utcnow
    from studysync.models import AuthSession
    from studysync.tenancy import all_tenants

    kit = factory.college()
    headers = login(client, kit.admin.email)
    current = client.get("/api/v1/auth/sessions", headers=headers).json["data"]
    session_id = next(s["session_id"] for s in current if s["current"])
    long_ago = utcnow() - timedelta(hours=2)

    def last_used():
        with app.app_context(), all_tenants():
            value = db.session.execute(select(AuthSession.last_used_at).where(AuthSession.id == session_id)).scalar_one()
            db.session.rollback()
            return value

    with app.app_context(), all_tenants():
        db.session.execute(update(AuthSession).where(AuthSession.id == session_id).values(last_used_at=long_ago))
        db.session.commit()
    engine = app.extensions["studysync.db"].engine
    commits = []
    listener = lambda conn: commits.append(conn)  # noqa: E731
    event.listen(engine, "commit", listener)
    try:  # a route that reads more after authenticating
        assert client.get("/api/v1/auth/sessions", headers=headers).status_code == 200
    finally:
        event.remove(engine, "commit", listener)
    assert len(commits) == 1
    touched = last_used()
    assert touched > long_ago + timedelta(hours=1)
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert last_used() == touched  # within the minute: not written again


def test_the_use_of_a_session_is_written_last_so_no_lock_is_held_while_the_request_reads(app, client, factory):
    """The `last_used_at` UPDATE comes after everything the request reads, right before its COMMIT:
    written first, it would hold the session row's lock (on SQLite the one write lock of the whole
    database) for as long as the request runs."""
    from datetime import timedelta

    from sqlalchemy import event, update

    from studysync.db import db, utcnow
    from studysync.models import AuthSession
    from studysync.tenancy import all_tenants

    kit = factory.college(students_count=1)
    with app.app_context(), all_tenants():
        db.session.execute(update(AuthSession).where(AuthSession.user_id == kit.student.id)
                           .values(last_used_at=utcnow() - timedelta(hours=2)))
        db.session.commit()
    engine = app.extensions["studysync.db"].engine
    statements = []
    listener = lambda _c, _cur, statement, *_: statements.append(statement.lstrip().split()[0].upper())  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:  # a route that reads more after authenticating
        assert client.get("/api/v1/auth/sessions", headers=kit.student.headers).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    writes = [i for i, verb in enumerate(statements) if verb == "UPDATE"]
    assert len(writes) == 1, statements
    assert all(verb in ("BEGIN", "COMMIT", "RELEASE", "SAVEPOINT") for verb in statements[writes[0] + 1:]), statements
    assert statements.index("SELECT") < writes[0]


def test_the_use_of_a_session_is_written_at_the_commit_not_at_a_savepoint(app, client, factory):
    """A first message opens the conversation in a savepoint (`queries.locked_or_created`): releasing
    it is not the request's commit, so the session's `last_used_at` is still written last."""
    from datetime import timedelta

    from sqlalchemy import event, update

    from studysync.db import db, utcnow
    from studysync.models import AuthSession
    from studysync.tenancy import all_tenants

    kit = factory.college(students_count=2)
    sender, receiver = kit.students
    with app.app_context(), all_tenants():
        db.session.execute(update(AuthSession).where(AuthSession.user_id == sender.id)
                           .values(last_used_at=utcnow() - timedelta(hours=2)))
        db.session.commit()
    engine = app.extensions["studysync.db"].engine
    statements = []
    listener = lambda _c, _cur, statement, *_: statements.append(" ".join(statement.split()[:2]).upper())  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        r = client.post("/api/messages/send", headers=sender.headers, json={"receiverId": receiver.id, "content": "hi"})
        assert r.status_code == 200, r.get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert any(s.startswith("RELEASE") for s in statements), statements
    touch = statements.index("UPDATE AUTH_SESSIONS")
    assert set(statements[touch + 1:]) <= {"COMMIT"}, statements
