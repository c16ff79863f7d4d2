"""Account lifecycle: an admin's reset to a temporary password, which must be changed before
anything else answers; the sysadmin resets admins; API 2's first admin starts with a temporary one."""
from __future__ import annotations

from studysync.auth.current import MUST_CHANGE_PASSWORD
from tests.factories import PASSWORD


def reset(client, actor, user_id):
    return client.post(f"/api/v1/users/{user_id}/password-reset", headers=actor.headers)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def student_login(client, kit, email, password):
    return client.post("/api/v1/students/login", json={"college_id": kit.id, "student_email": email,
                                                       "student_password": password})


def test_reset_revokes_sessions_and_the_temporary_password_must_be_changed_first(client, factory):
    kit = factory.college()
    student = kit.student
    second = student_login(client, kit, student.email, PASSWORD).json["data"]["token"]

    r = reset(client, kit.admin, student.id)
    assert r.status_code == 200, r.json
    data = r.json["data"]
    assert data["user_id"] == student.id and data["must_change_password"] is True
    assert data["sessions_revoked"] == 2
    temporary = data["temporary_password"]

    # every earlier session is gone, and the old password no longer works
    for token in (student.token, second):
        assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401
    assert student_login(client, kit, student.email, PASSWORD).status_code == 401

    token = student_login(client, kit, student.email, temporary).json["data"]["token"]
    for method, url in (("get", "/api/v1/groups"), ("get", "/api/v1/me/profile"), ("get", "/api/v1/notifications"),
                        ("get", "/api/groups/mine")):
        r = getattr(client, method)(url, headers=bearer(token))
        assert r.status_code == 403, (url, r.json)
        assert r.json["message"] == MUST_CHANGE_PASSWORD
    me = client.get("/api/v1/auth/me", headers=bearer(token))
    assert me.status_code == 200 and me.json["data"]["must_change_password"] is True

    r = client.put("/api/v1/students/password", headers=bearer(token),
                   json={"old_password": temporary, "new_password": "Chosen@Pass42"})
    assert r.status_code == 200, r.json
    assert client.get("/api/v1/groups", headers=bearer(token)).status_code == 200
    assert client.get("/api/v1/auth/me", headers=bearer(token)).json["data"]["must_change_password"] is False
    assert student_login(client, kit, student.email, "Chosen@Pass42").status_code == 200


def test_who_may_reset_whom(client, factory):
    kit, other = factory.college(), factory.college()
    sysadmin = factory.sysadmin()

    assert reset(client, kit.teacher, kit.student.id).status_code == 403
    assert reset(client, kit.student, kit.students[1].id).status_code == 403
    assert reset(client, other.admin, kit.student.id).status_code == 404  # another college's user: not found
    r = reset(client, kit.admin, kit.admin.id)
    assert r.status_code == 403 and r.json["message"] == "Only the sysadmin can reset an admin's password"
    assert reset(client, kit.admin, kit.teacher.id).status_code == 200

    r = reset(client, sysadmin, kit.admin.id)
    assert r.status_code == 200, r.json
    assert client.get("/api/v1/auth/me", headers=kit.admin.headers).status_code == 401
    login = client.post("/api/v1/auth/login", json={"email": kit.admin.email,
                                                    "password": r.json["data"]["temporary_password"]})
    token = login.json["data"]["token"]
    r = client.get(f"/api/v1/colleges/{kit.id}", headers=bearer(token))
    assert r.status_code == 403 and r.json["message"] == MUST_CHANGE_PASSWORD


def test_the_first_admin_of_a_new_college_changes_the_temporary_password_at_first_login(client, factory):
    sysadmin = factory.sysadmin()
    r = client.post("/api/v1/colleges", headers=sysadmin.headers, json={
        "college_name": "Temp U", "college_subdomain": "tempu", "admin_name": "First Admin",
        "admin_email": "first@tempu.edu", "admin_password": "Admin@1234"})
    assert r.status_code == 201, r.json
    assert r.json["data"]["note"] == "Please change the temporary password on first login"
    college_id = r.json["data"]["college"]["college_id"]

    token = client.post("/api/v1/auth/login", json={"email": "first@tempu.edu", "password": "Admin@1234"}
                        ).json["data"]["token"]
    r = client.get("/api/v1/users", headers=bearer(token))
    assert r.status_code == 403 and r.json["message"] == MUST_CHANGE_PASSWORD
    r = client.put("/api/v1/auth/password", headers=bearer(token),
                   json={"old_password": "Admin@1234", "new_password": "Admin@1234"})
    assert r.status_code == 400  # the same password again is not a change
    r = client.put("/api/v1/auth/password", headers=bearer(token),
                   json={"old_password": "Admin@1234", "new_password": "Mine@5678x"})
    assert r.status_code == 200, r.json
    assert client.get(f"/api/v1/colleges/{college_id}", headers=bearer(token)).status_code == 200
