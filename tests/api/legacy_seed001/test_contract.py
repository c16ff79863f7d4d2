"""Seed 001's student management API (shared/seeds/001_*.txt), replayed with its bodies verbatim.

Its users register with a handle and log in through an OAuth2 password form whose `username` is the
handle or the email. Managing students is staff's work here: the differences our rules impose are
asserted last and listed in the README ("Legacy clients" → seed 001).
"""
from __future__ import annotations

import pytest

REGISTER = {"username": "alice", "email": "alice@example.com", "password": "secure123"}
LOGIN = {"username": "alice", "password": "secure123"}
STUDENT = {"roll_no": "21CS001", "name": "Ravi Kumar", "branch": "CSE", "marks": 88.5}


@pytest.fixture
def college(factory):
    factory.college(students_count=0)  # a second college, for isolation
    return factory.college(students_count=0, domain="example.com")


def bearer(r):
    assert r.status_code == 200, r.get_json()
    assert list(r.json) == ["access_token", "token_type"] and r.json["token_type"] == "bearer"
    return {"Authorization": f"Bearer {r.json['access_token']}"}


def staff_login(client, actor):
    return bearer(client.post("/login", data={"username": actor.email, "password": "Passw0rd!x"}))


def test_register_and_login_by_handle_or_email(client, college):
    r = client.post("/register", json=REGISTER)
    assert r.status_code == 201 and r.json["message"] == "User registered successfully"
    bearer(client.post("/login", data=LOGIN))
    headers = bearer(client.post("/login", data={**LOGIN, "username": "alice@example.com"}))
    me = client.get("/api/v1/auth/me", headers=headers).json["data"]
    assert me["email"] == "alice@example.com" and me["role"] == "student"
    r = client.post("/login", data={**LOGIN, "password": "wrong-one"})
    assert r.status_code == 401 and r.json == {"detail": "Invalid email or password"}
    r = client.post("/register", json=REGISTER)
    assert r.status_code == 409 and r.json == {"detail": "Email already exists"}
    r = client.post("/login", data={"username": "alice"})
    assert r.status_code == 422 and set(r.json) == {"detail"}


def test_students_crud_by_roll_no(client, college):
    headers = staff_login(client, college.admin)
    assert client.get("/students", headers=headers).json == []
    r = client.post("/students", json=STUDENT, headers=headers)
    assert r.status_code == 201 and r.json == STUDENT
    assert client.get("/students", headers=headers).json == [STUDENT]
    r = client.get("/students/21CS001", headers=headers)
    assert r.status_code == 200 and r.json == STUDENT and list(r.json) == ["roll_no", "name", "branch", "marks"]
    r = client.put("/students/21CS001", json={"name": "Ravi K", "branch": "ECE", "marks": 91}, headers=headers)
    assert r.status_code == 200 and r.json == {"roll_no": "21CS001", "name": "Ravi K", "branch": "ECE", "marks": 91}
    r = client.delete("/students/21CS001", headers=headers)
    assert r.status_code == 200 and r.json == {"message": "Student deleted successfully"}
    # a deleted student is gone from this surface
    assert client.get("/students", headers=headers).json == []
    for method in ("GET", "PUT", "DELETE"):
        r = client.open("/students/21CS001", method=method, json={"marks": 1} if method == "PUT" else None,
                        headers=headers)
        assert r.status_code == 404 and r.json == {"detail": "Student not found"}, method


def test_students_need_a_token_and_a_valid_body(client, college):
    for method, path in (("GET", "/students"), ("POST", "/students"), ("GET", "/students/21CS001"),
                         ("PUT", "/students/21CS001"), ("DELETE", "/students/21CS001")):
        r = client.open(path, method=method, json=STUDENT if method in ("POST", "PUT") else None)
        assert r.status_code == 401 and r.json == {"detail": "Missing Authorization header"}
        assert r.headers["WWW-Authenticate"] == "Bearer"
    headers = staff_login(client, college.teacher)
    r = client.post("/students", json={**STUDENT, "roll_no": ""}, headers=headers)
    assert r.status_code == 400 and r.json == {"detail": "roll_no is required (at most 50 characters)"}
    r = client.post("/students", json={**STUDENT, "marks": "high"}, headers=headers)
    assert r.status_code == 400 and r.json == {"detail": "marks must be a number from 0 to 100"}
    for marks in (-1, 100.5, 1e300):  # /api/v1's range; 1e300 fits no FLOAT column
        r = client.post("/students", json={**STUDENT, "marks": marks}, headers=headers)
        assert r.status_code == 400 and r.json == {"detail": "marks must be a number from 0 to 100"}, marks
    assert client.post("/students", json=STUDENT, headers=staff_login(client, college.admin)).status_code == 201
    r = client.post("/students", json=STUDENT, headers=staff_login(client, college.admin))
    assert r.status_code == 409 and set(r.json) == {"detail"}


def test_a_college_sees_only_its_own_students(client, college, factory):
    client.post("/students", json=STUDENT, headers=staff_login(client, college.admin))
    other = factory.college(students_count=0)
    headers = staff_login(client, other.admin)
    assert client.get("/students", headers=headers).json == []
    assert client.get("/students/21CS001", headers=headers).status_code == 404


# Where our rules differ from the document (README: Legacy clients → seed 001) -------------------


def test_a_registered_student_does_not_manage_students(client, college):
    client.post("/students", json=STUDENT, headers=staff_login(client, college.admin))
    assert client.post("/register", json=REGISTER).status_code == 201
    headers = bearer(client.post("/login", data=LOGIN))
    for method, path, body in (("GET", "/students", None), ("POST", "/students", {**STUDENT, "roll_no": "X1"}),
                               ("GET", "/students/21CS001", None), ("PUT", "/students/21CS001", {"marks": 100}),
                               ("DELETE", "/students/21CS001", None)):
        r = client.open(path, method=method, json=body, headers=headers)
        assert r.status_code == 403 and set(r.json) == {"detail"}, (method, path, r.status_code)


def test_register_needs_a_college(client, college):
    r = client.post("/register", json={**REGISTER, "email": "alice@nowhere.org"})
    assert r.status_code == 400 and r.json == {"detail": "No college found for this request; register from your college's address"}
