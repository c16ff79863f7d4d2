"""Seed 000's student group API (shared/seeds/000_*.txt), replayed with its bodies verbatim.

Its email "Vishu" has no domain, so the college comes from the request's subdomain (or
DEFAULT_COLLEGE), as for the mobile app. The differences our rules impose are asserted last and
listed in the README ("Legacy clients" → seed 000).
"""
from __future__ import annotations

import re

import pytest

from studysync.access import SYSTEM
from studysync.db import db

from studysync.services import colleges

SIGNUP = {"user_id": "Vish02", "name": "Vishal", "email": "Vishu", "password": "veryverysecurepassword123",
          "rating": 10}
SIGNIN = {"email": "Vishu", "password": "veryverysecurepassword123"}
CREATE_GROUP = {"name": "Django", "feild": "Web Development", "min_requirement": 5, "creator_id": "Vish02"}
STUDENT_FIELDS = ["id", "name", "email", "created_at", "updated_at", "rating", "group_list", "group_limit"]
PY_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$")


@pytest.fixture
def college(factory):
    factory.college(students_count=0)  # a second college, for isolation
    return factory.college(students_count=0)


@pytest.fixture
def host(college):
    return f"http://{college.subdomain}.studysync.app"


def reply(r, status, message):
    assert r.status_code == status, r.get_json()
    body = r.get_json()
    assert list(body) == ["status", "message", "data", "status_code"]
    assert body["status"] == ("success" if status < 400 else "error")
    assert body["message"] == message and body["status_code"] == status
    return body["data"]


def signup(client, host, body=SIGNUP):
    return reply(client.post("/signup", json=body, base_url=host), 201, "Student signed up successfully")


def test_signup_signin_and_create_group(client, host, college):
    data = signup(client, host)
    assert list(data) == ["token", "student"] and data["token"]
    student = data["student"]
    assert list(student) == STUDENT_FIELDS
    assert student["name"] == "Vishal" and student["group_list"] == [] and student["group_limit"] == 5
    assert PY_TIME.match(student["created_at"]) and PY_TIME.match(student["updated_at"])

    data = reply(client.post("/signin", json=SIGNIN, base_url=host), 200, "Student signed in successfully")
    signed_in = data["student"]
    assert list(signed_in) == STUDENT_FIELDS[:1] + ["user_id"] + STUDENT_FIELDS[1:]
    assert signed_in["user_id"] == "Vish02" and signed_in["id"] == student["id"]
    headers = {"Authorization": f"Bearer {data['token']}"}

    r = client.post("/group/create_group", json=CREATE_GROUP, headers=headers, base_url=host)
    assert reply(r, 201, "Group created successfully") is None
    data = reply(client.post("/signin", json={**SIGNIN, "email": "Vish02"}, base_url=host), 200,
                 "Student signed in successfully")  # by the handle too
    [group_id] = data["student"]["group_list"]
    group = client.get(f"/api/v1/groups/{group_id}", headers=headers).json["data"]
    assert group["name"] == "Django" and group["subject"] == "Web Development" and group["min_rating"] == 5


def test_errors_keep_the_reply_shape(client, host, college):
    signup(client, host)
    reply(client.post("/signup", json=SIGNUP, base_url=host), 409, "Email already exists")
    reply(client.post("/signup", json={**SIGNUP, "email": "Other"}, base_url=host), 409, "Username already exists")
    reply(client.post("/signup", json={**SIGNUP, "user_id": ""}, base_url=host), 400,
          "user_id, name, email and password are required")
    reply(client.post("/signin", json={**SIGNIN, "password": "wrong-password"}, base_url=host), 401,
          "Invalid email or password")
    reply(client.post("/group/create_group", json=CREATE_GROUP, base_url=host), 401, "Missing Authorization header")
    reply(client.post("/signup", json={**SIGNUP, "user_id": "Other", "email": "Other", "rating": -1}, base_url=host), 400,
          "rating must be a number of at least 0")


def test_college_from_default_college_and_none_at_all(app_factory):
    app = app_factory(default_college="mit")
    with app.app_context():
        colleges.create_college(SYSTEM, "MIT", "mit", "Admin", "admin@mit.edu", "Passw0rd!x")
        db.session.commit()
    data = reply(app.test_client().post("/signup", json=SIGNUP), 201, "Student signed up successfully")
    assert data["student"]["name"] == "Vishal"  # no subdomain, no domain: DEFAULT_COLLEGE
    bare = app_factory(default_college=None).test_client()
    reply(bare.post("/signup", json={**SIGNUP, "user_id": "New"}), 400,
          "No college found for this request; sign up from your college's address")


# Where our rules differ from the document (README: Legacy clients → seed 000) -------------------


def test_our_rules_the_document_does_not_have(client, host, college, factory):
    student = signup(client, host)["student"]
    assert student["rating"] == 0  # a rating is staff's to give, not the student's to state
    assert student["email"] == "vishu"  # emails are trimmed and lower-cased
    # a college may let students state it
    r = client.put(f"/api/v1/colleges/{college.id}/settings", json={"self_reported_rating": True},
                   headers=college.admin.headers)
    assert r.status_code == 200, r.json
    rated = signup(client, host, {**SIGNUP, "user_id": "Rated", "email": "rated"})["student"]
    assert rated["rating"] == 10
    # the creator is the signed-in student; another handle is refused
    token = reply(client.post("/signin", json=SIGNIN, base_url=host), 200, "Student signed in successfully")["token"]
    r = client.post("/group/create_group", json={**CREATE_GROUP, "creator_id": "Rated"},
                    headers={"Authorization": f"Bearer {token}"}, base_url=host)
    reply(r, 400, "creator_id must be your own user_id")
    # the group limit holds: a sixth group is refused
    headers = {"Authorization": f"Bearer {token}"}
    for i in range(5):
        reply(client.post("/group/create_group", json={**CREATE_GROUP, "name": f"G{i}"}, headers=headers,
                          base_url=host), 201, "Group created successfully")
    r = client.post("/group/create_group", json={**CREATE_GROUP, "name": "G6"}, headers=headers, base_url=host)
    assert r.status_code == 409 and r.json["status"] == "error"
    # a handle is unique per college only
    other = factory.college(students_count=0)
    signup(client, f"http://{other.subdomain}.studysync.app")
