"""Seed 003's classroom study groups (shared/seeds/003_*.txt), replayed against `/api/studygroups`.

Every documented request is sent with its body verbatim (its ids are MongoDB ObjectIds that name
nothing here, so they answer the documented 404/400) and again with real ids, asserting the
documented status, fields and messages. The differences our rules impose are asserted last; the
README lists them under "Legacy clients".
"""
from __future__ import annotations

import re

import pytest

from tests.factories import make_classroom

BASE = "/api/studygroups"
FIELDS = ["_id", "classroomId", "name", "memberUserIds", "createdBy", "lastMessageAt", "isArchived",
          "createdAt", "updatedAt"]
JS_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

# The document's bodies, verbatim
CREATE = {"classroomId": "507f1f77bcf86cd799439011", "name": "Math Study Group",
          "memberUserIds": ["507f1f77bcf86cd799439012", "507f1f77bcf86cd799439013"]}
REPLACE = {"memberUserIds": ["507f1f77bcf86cd799439012", "507f1f77bcf86cd799439018"]}
ADD = {"userIds": ["507f1f77bcf86cd799439019", "507f1f77bcf86cd799439020"]}
REMOVE = {"userIds": ["507f1f77bcf86cd799439019"]}
DOC_GROUP_ID = "507f1f77bcf86cd799439014"


@pytest.fixture
def world(client, factory):
    kit = factory.college(students_count=5)
    factory.college(students_count=1)  # a second college, for isolation
    classroom = make_classroom(client, kit, students=kit.students[:4])
    return kit, classroom["classroom_id"]


def study_group(r, status=200):
    assert r.status_code == status, r.get_json()
    body = r.get_json()
    assert list(body) == FIELDS  # the document's keys, in its order, no envelope
    assert JS_TIME.match(body["createdAt"]) and JS_TIME.match(body["updatedAt"])
    return body


def create(client, actor, classroom_id, members, name="Math Study Group"):
    body = {"classroomId": classroom_id, "name": name, "memberUserIds": [m.id for m in members]}
    return study_group(client.post(f"{BASE}/", json=body, headers=actor.headers), 201)


def test_create_study_group(client, world):
    kit, classroom_id = world
    s1, s2 = kit.students[:2]
    # verbatim: the document's classroom does not exist here
    r = client.post(f"{BASE}/", json=CREATE, headers=s1.headers)
    assert r.status_code == 404 and r.json == {"message": "Classroom not found"}
    # verbatim members in a real classroom: unknown user ids are a 400
    r = client.post(f"{BASE}/", json={**CREATE, "classroomId": classroom_id}, headers=s1.headers)
    assert r.status_code == 400 and set(r.json) == {"message"} and "507f1f77bcf86cd799439012" in r.json["message"]

    group = create(client, s1, classroom_id, [s1, s2])
    assert group["classroomId"] == classroom_id and group["name"] == "Math Study Group"
    assert group["memberUserIds"] == [s1.id, s2.id]
    assert group["createdBy"] == s1.id  # the authenticated user
    assert group["lastMessageAt"] is None and group["isArchived"] is False
    assert group["createdAt"] == group["updatedAt"]


def test_create_validation_rules(client, world):
    kit, classroom_id = world
    s1, s2 = kit.students[:2]
    outsider = kit.students[4]  # not enrolled in the classroom
    required = {"message": "classroomId and non-empty memberUserIds are required"}
    for body in ({"name": "x", "memberUserIds": [s1.id]}, {"classroomId": classroom_id, "memberUserIds": []},
                 {"classroomId": classroom_id}, {"classroomId": classroom_id, "memberUserIds": s1.id}):
        r = client.post(f"{BASE}/", json=body, headers=s1.headers)
        assert r.status_code == 400 and r.json == required, body
    r = client.post(f"{BASE}/", json={"classroomId": classroom_id, "name": "x" * 121, "memberUserIds": [s1.id]},
                    headers=s1.headers)
    assert r.status_code == 400 and r.json == {"message": "name must be at most 120 characters"}
    assert create(client, s1, classroom_id, [s1], name="x" * 120)["name"] == "x" * 120
    r = client.post(f"{BASE}/", json={"classroomId": classroom_id, "memberUserIds": [s1.id, outsider.id]},
                    headers=s1.headers)
    assert r.status_code == 400 and "Not enrolled in this classroom" in r.json["message"]
    # name is optional
    r = client.post(f"{BASE}/", json={"classroomId": classroom_id, "memberUserIds": [s1.id, s2.id]},
                    headers=s1.headers)
    assert study_group(r, 201)["name"] == "Study group"


def test_every_operation_without_a_token_is_401(client, world):
    _, classroom_id = world
    unauthorized = {"message": "Unauthorized - Invalid or missing token"}
    for method, path, body in (("POST", "/", CREATE), ("GET", f"/{DOC_GROUP_ID}", None),
                               ("GET", f"/classroom/{classroom_id}", None), ("GET", "/", None),
                               ("PUT", f"/{DOC_GROUP_ID}/members", REPLACE), ("POST", f"/{DOC_GROUP_ID}/members", ADD),
                               ("DELETE", f"/{DOC_GROUP_ID}/members", REMOVE), ("POST", f"/{DOC_GROUP_ID}/archive", None)):
        r = client.open(f"{BASE}{path}", method=method, json=body)
        assert r.status_code == 401 and r.json == unauthorized, (method, path)


def test_get_by_id_populates_members(client, world):
    kit, classroom_id = world
    s1, s2 = kit.students[:2]
    created = create(client, s1, classroom_id, [s1, s2])
    r = client.get(f"{BASE}/{created['_id']}", headers=kit.teacher.headers)
    group = study_group(r)
    assert group["memberUserIds"] == [
        {"_id": s1.id, "name": s1.name, "email": s1.email, "role": "student"},
        {"_id": s2.id, "name": s2.name, "email": s2.email, "role": "student"},
    ]
    assert {k: v for k, v in group.items() if k != "memberUserIds"} == \
        {k: v for k, v in created.items() if k != "memberUserIds"}
    r = client.get(f"{BASE}/{DOC_GROUP_ID}", headers=s1.headers)
    assert r.status_code == 404 and r.json == {"message": "Study group not found"}


def test_listings_skip_archived_and_put_the_latest_first(client, world):
    kit, classroom_id = world
    s1, s2, s3 = kit.students[:3]
    math = create(client, s1, classroom_id, [s1, s2])
    science = create(client, s3, classroom_id, [s3, s2], name="Science Study Group")
    r = client.get(f"{BASE}/classroom/{classroom_id}", headers=s1.headers)
    assert r.status_code == 200 and [g["_id"] for g in r.json] == [science["_id"], math["_id"]]
    assert all(list(g) == FIELDS and isinstance(g["memberUserIds"][0], str) for g in r.json)
    # a change moves a group to the top
    r = client.post(f"{BASE}/{math['_id']}/members", json={"userIds": [kit.students[3].id]}, headers=s1.headers)
    assert r.status_code == 200
    r = client.get(f"{BASE}/classroom/{classroom_id}", headers=s1.headers)
    assert [g["_id"] for g in r.json] == [math["_id"], science["_id"]]
    # the caller's own groups
    r = client.get(f"{BASE}/", headers=s1.headers)
    assert r.status_code == 200 and [g["_id"] for g in r.json] == [math["_id"]]
    r = client.get(f"{BASE}/", headers=s2.headers)
    assert [g["_id"] for g in r.json] == [math["_id"], science["_id"]]
    # archived groups leave both listings
    archived = study_group(client.post(f"{BASE}/{math['_id']}/archive", headers=s1.headers))
    assert archived["isArchived"] is True and archived["_id"] == math["_id"]
    r = client.get(f"{BASE}/classroom/{classroom_id}", headers=s2.headers)
    assert [g["_id"] for g in r.json] == [science["_id"]]
    assert [g["_id"] for g in client.get(f"{BASE}/", headers=s2.headers).json] == [science["_id"]]
    r = client.post(f"{BASE}/{DOC_GROUP_ID}/archive", headers=s1.headers)
    assert r.status_code == 404 and r.json == {"message": "Study group not found"}


def test_member_replace_add_remove(client, world):
    kit, classroom_id = world
    s1, s2, s3, s4 = kit.students[:4]
    group = create(client, s1, classroom_id, [s1, s2])
    url = f"{BASE}/{group['_id']}/members"
    # verbatim bodies: their ids name no one here
    for method, body in (("PUT", REPLACE), ("POST", ADD), ("DELETE", REMOVE)):
        r = client.open(url, method=method, json=body, headers=s1.headers)
        if method == "DELETE":  # removing someone who is not a member changes nothing
            assert study_group(r)["memberUserIds"] == [s1.id, s2.id]
        else:
            assert r.status_code == 400 and set(r.json) == {"message"} and "Unknown users" in r.json["message"]
    for method, body in (("PUT", REPLACE), ("POST", ADD), ("DELETE", REMOVE)):
        r = client.open(f"{BASE}/{DOC_GROUP_ID}/members", method=method, json=body, headers=s1.headers)
        assert r.status_code == 404 and r.json == {"message": "Study group not found"}

    replaced = study_group(client.put(url, json={"memberUserIds": [s1.id, s3.id]}, headers=s1.headers))
    assert replaced["memberUserIds"] == [s1.id, s3.id]
    added = study_group(client.post(url, json={"userIds": [s3.id, s4.id, s2.id, s4.id]}, headers=s1.headers))
    assert added["memberUserIds"] == [s1.id, s3.id, s4.id, s2.id]  # no duplicates
    removed = study_group(client.delete(url, json={"userIds": [s4.id]}, headers=s1.headers))
    assert removed["memberUserIds"] == [s1.id, s3.id, s2.id]
    assert removed["updatedAt"] >= replaced["updatedAt"]

    assert client.put(url, json={"memberUserIds": s2.id}, headers=s1.headers).json == \
        {"message": "memberUserIds must be an array"}
    for method in ("POST", "DELETE"):
        for body in ({"userIds": []}, {}, {"userIds": "x"}):
            r = client.open(url, method=method, json=body, headers=s1.headers)
            assert r.status_code == 400 and r.json == {"message": "userIds must be a non-empty array"}


# Where our rules differ from the document (README: Legacy clients → seed 003) -------------------


def test_our_rules_the_document_does_not_have(client, world):
    kit, classroom_id = world
    s1, s2, s3, s4 = kit.students[:4]
    # a student creating a group is always one of its members
    group = create(client, s1, classroom_id, [s2, s3])
    assert group["createdBy"] == s1.id and group["memberUserIds"] == [s1.id, s2.id, s3.id]
    # a teacher may create one without joining it
    taught = create(client, kit.teacher, classroom_id, [s2, s3])
    assert taught["createdBy"] == kit.teacher.id and taught["memberUserIds"] == [s2.id, s3.id]
    url = f"{BASE}/{group['_id']}/members"
    # only the leader, the classroom's teacher or an admin changes members or archives
    for method, body in (("PUT", {"memberUserIds": [s1.id]}), ("POST", {"userIds": [s4.id]}),
                         ("DELETE", {"userIds": [s3.id]})):
        r = client.open(url, method=method, json=body, headers=s2.headers)
        assert r.status_code == 403 and set(r.json) == {"message"}, method
    assert client.post(f"{BASE}/{group['_id']}/archive", headers=s2.headers).status_code == 403
    assert study_group(client.post(url, json={"userIds": [s4.id]}, headers=kit.teacher.headers))
    # the leader stays a member
    r = client.put(url, json={"memberUserIds": [s2.id]}, headers=s1.headers)
    assert r.status_code == 400 and "leader" in r.json["message"]
    # a classmate's email is private: null for a student viewer, shown to staff
    members = client.get(f"{BASE}/{group['_id']}", headers=s2.headers).json["memberUserIds"]
    assert {m["_id"]: m["email"] for m in members} == {s1.id: None, s2.id: s2.email, s3.id: None, s4.id: None}
    # a student outside the classroom sees neither the group nor the classroom's list
    outsider = kit.students[4]
    assert client.get(f"{BASE}/{group['_id']}", headers=outsider.headers).status_code == 403
    assert client.get(f"{BASE}/classroom/{classroom_id}", headers=outsider.headers).status_code == 403


def test_another_colleges_ids_are_not_found(client, world, factory):
    kit, classroom_id = world
    group = create(client, kit.students[0], classroom_id, kit.students[:2])
    other = factory.college(students_count=1)
    r = client.get(f"{BASE}/{group['_id']}", headers=other.student.headers)
    assert r.status_code == 404 and r.json == {"message": "Study group not found"}
    r = client.get(f"{BASE}/classroom/{classroom_id}", headers=other.teacher.headers)
    assert r.status_code == 404 and r.json == {"message": "Classroom not found"}
    r = client.post(f"{BASE}/", json={**CREATE, "classroomId": classroom_id}, headers=other.student.headers)
    assert r.status_code == 404 and r.json == {"message": "Classroom not found"}


def test_surface_can_be_switched_off(app_factory):
    app = app_factory(legacy_surfaces="seed000,seed001")
    r = app.test_client().get(f"{BASE}/")
    assert r.status_code == 404


def test_legacy_surfaces_setting(app_factory, monkeypatch):
    from studysync.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="seed999"):
        load_config(legacy_surfaces="seed003,seed999")
    monkeypatch.setenv("LEGACY_SURFACES", "")
    client = app_factory(legacy_surfaces=load_config().legacy_surfaces).test_client()
    for method, path in (("GET", f"{BASE}/"), ("POST", "/signup"), ("POST", "/register"), ("GET", "/students")):
        assert client.open(path, method=method, json={}).status_code == 404, path
