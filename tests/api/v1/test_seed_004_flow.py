"""Seed 004 (PCRM), APIs 1–16 in order, as its TESTING FLOW describes, with its documented bodies."""
import re

from studysync.services.bootstrap import create_sysadmin

from ...support.envelopes import error_body

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def assert_college(data, **expected):
    assert set(data) >= {"college_id", "college_name", "college_subdomain", "college_status",
                         "enabled_features", "created_at", "updated_at"}
    assert UUID.match(data["college_id"]) and ISO_Z.match(data["created_at"])
    for key, value in expected.items():
        assert data[key] == value, key


def test_pcrm_apis_1_to_16(app, client):
    with app.app_context():
        create_sysadmin("sysadmin@pcrm.in", "Admin@1234")

    # API 1: sysadmin login
    r = client.post("/api/v1/auth/login", json={"email": "sysadmin@pcrm.in", "password": "Admin@1234"})
    assert r.status_code == 200
    assert r.json["success"] is True and r.json["message"] == "Login successful"
    data = r.json["data"]
    assert data["role"] == "sysadmin" and data["email"] == "sysadmin@pcrm.in" and UUID.match(data["user_id"])
    assert "college_id" not in data
    sys_token = data["token"]

    # API 2: create college
    r = client.post("/api/v1/colleges", headers=bearer(sys_token), json={
        "college_name": "MIT", "college_subdomain": "mit", "admin_name": "Dr. John Smith",
        "admin_email": "admin@mit.edu", "admin_password": "Admin@1234"})
    assert r.status_code == 201, r.json
    assert r.json["message"] == "College created successfully"
    created = r.json["data"]
    assert_college(created["college"], college_name="MIT", college_subdomain="mit", college_status="active",
                   enabled_features=["core"])
    college_id = created["college"]["college_id"]
    assert created["admin"] == {"user_id": created["admin"]["user_id"], "user_name": "Dr. John Smith",
                                "user_email": "admin@mit.edu", "user_role": "admin",
                                "temporary_password": "Admin@1234"}
    assert created["portal_url"].startswith("https://mit.")
    assert created["note"] == "Please change the temporary password on first login"

    # duplicate subdomain
    r = client.post("/api/v1/colleges", headers=bearer(sys_token), json={
        "college_name": "MIT 2", "college_subdomain": "mit", "admin_name": "Someone",
        "admin_email": "a@mit2.edu", "admin_password": "Admin@1234"})
    assert r.status_code == 409 and r.json["success"] is False

    # API 3: list colleges
    r = client.get("/api/v1/colleges?page=1&limit=20", headers=bearer(sys_token))
    assert r.status_code == 200 and r.json["message"] == "Colleges retrieved"
    assert r.json["pagination"] == {"page": 1, "limit": 20, "total": 1, "pages": 1}
    assert_college(r.json["data"][0], college_id=college_id, updated_at=None)

    # API 4: get single college
    r = client.get(f"/api/v1/colleges/{college_id}", headers=bearer(sys_token))
    assert r.status_code == 200 and r.json["message"] == "College retrieved"
    assert_college(r.json["data"], college_name="MIT")

    # API 5: update college
    r = client.put(f"/api/v1/colleges/{college_id}", headers=bearer(sys_token), json={
        "college_name": "Massachusetts Institute of Technology", "college_status": "active"})
    assert r.status_code == 200 and r.json["message"] == "College updated successfully"
    assert_college(r.json["data"], college_name="Massachusetts Institute of Technology", college_subdomain="mit")
    assert ISO_Z.match(r.json["data"]["updated_at"])

    # API 6: update features (core mandatory; names are slugs)
    features = ["core", "chat", "study_sessions", "ai_matching", "social"]
    r = client.put(f"/api/v1/colleges/{college_id}/features", headers=bearer(sys_token),
                   json={"enabled_features": features})
    assert r.status_code == 200 and r.json["message"] == "College features updated successfully"
    assert r.json["data"]["enabled_features"] == features
    r = client.put(f"/api/v1/colleges/{college_id}/features", headers=bearer(sys_token),
                   json={"enabled_features": ["chat"]})
    assert r.status_code == 400
    assert error_body(r) == {"success": False, "message": "Core feature must always be included in enabled features"}
    r = client.put(f"/api/v1/colleges/{college_id}/features", headers=bearer(sys_token),
                   json={"enabled_features": ["core", "AI Mock!"]})
    assert r.status_code == 400 and "slugs" in r.json["message"]

    # API 7: college admin login
    r = client.post("/api/v1/auth/login", json={"email": "admin@mit.edu", "password": "Admin@1234"})
    assert r.status_code == 200 and r.json["message"] == "Login successful"
    data = r.json["data"]
    assert data["role"] == "admin" and data["email"] == "admin@mit.edu" and data["college_id"] == college_id
    admin_token = data["token"]

    # The note of API 2 is enforced: nothing but the password change answers until it is done
    r = client.get(f"/api/v1/colleges/{college_id}", headers=bearer(admin_token))
    assert r.status_code == 403 and "PUT /api/v1/auth/password" in r.json["message"]
    r = client.put("/api/v1/auth/password", headers=bearer(admin_token),
                   json={"old_password": "Admin@1234", "new_password": "MyOwn@Pass99"})
    assert r.status_code == 200, r.json

    # API 8: college details with features
    r = client.get(f"/api/v1/colleges/{college_id}", headers=bearer(admin_token))
    assert r.status_code == 200 and r.json["data"]["enabled_features"] == features

    # API 9: student registration
    r = client.post("/api/v1/students/register", json={
        "college_id": college_id, "student_name": "John Doe", "student_email": "john.doe@mit.edu",
        "student_password": "Student@1234", "student_department": "Computer Science", "student_year": 2})
    assert r.status_code == 201 and r.json["message"] == "Student registered successfully"
    assert set(r.json["data"]) == {"student_id", "student_name", "student_email"}
    assert r.json["data"]["student_email"] == "john.doe@mit.edu"
    student_id = r.json["data"]["student_id"]
    r = client.post("/api/v1/students/register", json={
        "college_id": college_id, "student_name": "John Doe", "student_email": "john.doe@mit.edu",
        "student_password": "Student@1234", "student_department": "Computer Science", "student_year": 2})
    assert r.status_code == 409 and error_body(r) == {"success": False, "message": "Email already exists"}

    # API 10: bulk register (admin)
    r = client.post("/api/v1/students/bulk", headers=bearer(admin_token), json={"students": [
        {"student_name": "Alice Johnson", "student_email": "alice.johnson@mit.edu", "student_password": "Student@1234",
         "student_department": "Electrical Engineering", "student_year": 1},
        {"student_name": "Bob Smith", "student_email": "bob.smith@mit.edu", "student_password": "Student@1234",
         "student_department": "Mechanical Engineering", "student_year": 3}]})
    assert r.status_code == 200, r.json
    assert r.json["message"] == "2 students registered, 0 failed"
    assert [s["student_email"] for s in r.json["data"]["success"]] == ["alice.johnson@mit.edu", "bob.smith@mit.edu"]
    assert r.json["data"]["failed"] == []

    # API 11: student login (and the documented 401)
    r = client.post("/api/v1/students/login", json={
        "college_id": college_id, "student_email": "john.doe@mit.edu", "student_password": "Student@1234"})
    assert r.status_code == 200 and r.json["message"] == "Login successful"
    data = r.json["data"]
    assert data["role"] == "student" and data["student_email"] == "john.doe@mit.edu" and data["student_name"] == "John Doe"
    student_token = data["token"]
    r = client.post("/api/v1/students/login", json={
        "college_id": college_id, "student_email": "john.doe@mit.edu", "student_password": "Wrong@1234"})
    assert r.status_code == 401 and error_body(r) == {"success": False, "message": "Invalid email or password"}

    # API 13: update password (wrong old password first)
    r = client.put("/api/v1/students/password", headers=bearer(student_token),
                   json={"old_password": "Nope@12345", "new_password": "NewPassword@1234"})
    assert r.status_code == 401 and error_body(r) == {"success": False, "message": "Old password is incorrect"}
    r = client.put("/api/v1/students/password", headers=bearer(student_token),
                   json={"old_password": "Student@1234", "new_password": "NewPassword@1234"})
    assert r.status_code == 200
    assert r.json == {"success": True, "data": {}, "message": "Password updated successfully"}

    # API 12: logout; the token is dead on the next request
    r = client.post("/api/v1/students/logout", headers=bearer(student_token))
    assert r.status_code == 200 and r.json == {"success": True, "data": {}, "message": "Logout successful"}
    r = client.post("/api/v1/students/logout", headers=bearer(student_token))
    assert r.status_code == 401 and r.json["message"] == "Invalid or expired token"
    r = client.post("/api/v1/students/login", json={
        "college_id": college_id, "student_email": "john.doe@mit.edu", "student_password": "NewPassword@1234"})
    assert r.status_code == 200

    # API 14: admin updates the student's profile
    r = client.put(f"/api/v1/students/{student_id}/profile", headers=bearer(admin_token), json={
        "student_name": "John Michael Doe", "student_year": 3, "student_status": "active"})
    assert r.status_code == 200 and r.json["message"] == "Student profile updated successfully"
    expected = {"student_id": student_id, "college_id": college_id, "student_name": "John Michael Doe",
                "student_email": "john.doe@mit.edu", "student_department": "Computer Science",
                "student_year": 3, "student_status": "active"}
    assert {k: r.json["data"][k] for k in expected} == expected

    # API 15: teacher login (the admin creates the teacher first)
    r = client.post("/api/v1/users", headers=bearer(admin_token), json={
        "name": "Teacher", "email": "teacher@mit.edu", "password": "Teacher@1234", "role": "teacher"})
    assert r.status_code == 201
    r = client.post("/api/v1/auth/login", json={"email": "teacher@mit.edu", "password": "Teacher@1234"})
    assert r.status_code == 200
    data = r.json["data"]
    assert data["role"] == "teacher" and data["college_id"] == college_id and UUID.match(data["user_id"])
    teacher_token = data["token"]

    # API 16: teacher updates the student's status
    r = client.put(f"/api/v1/students/{student_id}/profile", headers=bearer(teacher_token),
                   json={"student_status": "active"})
    assert r.status_code == 200 and r.json["message"] == "Student profile updated successfully"
    assert r.json["data"]["student_name"] == "John Michael Doe" and r.json["data"]["student_status"] == "active"

    # The documented error shapes
    r = client.get("/api/v1/colleges")
    assert r.status_code == 401 and error_body(r) == {"success": False, "message": "Missing Authorization header"}
    r = client.get("/api/v1/colleges", headers=bearer("not-a-token"))
    assert r.status_code == 401 and error_body(r) == {"success": False, "message": "Invalid or expired token"}
    r = client.get("/api/v1/colleges", headers=bearer(teacher_token))
    assert r.status_code == 403 and error_body(r) == {"success": False, "message": "Forbidden - insufficient permissions"}
    r = client.get("/api/v1/students/00000000-0000-0000-0000-000000000000", headers=bearer(admin_token))
    assert r.status_code == 404 and r.json["success"] is False


def test_suspended_college_cannot_log_in(app, client, factory):
    sysadmin = factory.sysadmin()
    kit = factory.college()
    r = client.put(f"/api/v1/colleges/{kit.id}", headers=sysadmin.headers, json={"college_status": "suspended"})
    assert r.status_code == 200
    r = client.post("/api/v1/auth/login", json={"email": kit.admin.email, "password": "Passw0rd!x"})
    assert r.status_code == 403 and r.json["message"] == "College is suspended"
    r = client.get("/api/v1/auth/me", headers=kit.admin.headers)
    assert r.status_code == 401 and r.json["message"] == "College is suspended"
