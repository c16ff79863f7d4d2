"""Classrooms: who creates and sees them, enrollment lists, the classroom's groups."""
from sqlalchemy import select

from studysync.db import db
from studysync.models import Classroom, ClassroomEnrollment
from studysync.tenancy import all_tenants

from ...factories import make_classroom, make_group


def enrolled(client, room, actor):
    r = client.get(f"/api/v1/classrooms/{room['classroom_id']}/students?limit=100", headers=actor.headers)
    assert r.status_code == 200, r.json
    return [s["user_id"] for s in r.json["data"]]


def test_teachers_and_admins_create_classrooms(client, factory):
    kit = factory.college(students_count=1)
    r = client.post("/api/v1/classrooms", json={"name": "Physics 101", "code": "PHY101"}, headers=kit.teacher.headers)
    assert r.status_code == 201, r.json
    room = r.json["data"]
    assert room["teacher_id"] == kit.teacher.id and room["teacher_name"] == kit.teacher.name
    assert room["student_count"] == 0 and room["code"] == "PHY101"

    r = client.post("/api/v1/classrooms", json={"name": "Again", "code": "PHY101"}, headers=kit.admin.headers)
    assert r.status_code == 409 and r.json["message"] == "Classroom code already exists"
    r = client.post("/api/v1/classrooms", json={"name": "Chem", "teacher_id": kit.teacher.id}, headers=kit.admin.headers)
    assert r.status_code == 201 and r.json["data"]["teacher_id"] == kit.teacher.id
    r = client.post("/api/v1/classrooms", json={"name": "Bio", "teacher_id": kit.student.id}, headers=kit.admin.headers)
    assert r.status_code == 400 and "teacher" in r.json["message"]
    r = client.post("/api/v1/classrooms", json={"name": "Bio", "teacher_id": kit.admin.id}, headers=kit.teacher.headers)
    assert r.status_code == 403
    assert client.post("/api/v1/classrooms", json={"name": "Mine"}, headers=kit.student.headers).status_code == 403
    assert client.post("/api/v1/classrooms", json={"name": ""}, headers=kit.teacher.headers).status_code == 400
    r = client.post("/api/v1/classrooms", json={"name": "x", "room": 4}, headers=kit.teacher.headers)
    assert r.status_code == 400 and "room" in r.json["errors"]


def test_listing_by_role(client, factory):
    kit = factory.college(students_count=2)
    s1, s2 = kit.students
    mine = make_classroom(client, kit, [s1], name="Algebra")
    r = client.post("/api/v1/users", json={"name": "Other Teacher", "email": "t2@x.edu", "password": "Passw0rd!x",
                                           "role": "teacher"}, headers=kit.admin.headers)
    other_teacher_id = r.json["data"]["user_id"]
    r = client.post("/api/v1/classrooms", json={"name": "Botany", "teacher_id": other_teacher_id},
                    headers=kit.admin.headers)
    theirs = r.json["data"]

    def names(actor):
        r = client.get("/api/v1/classrooms", headers=actor.headers)
        assert r.status_code == 200
        return [c["name"] for c in r.json["data"]]

    assert names(kit.admin) == ["Algebra", "Botany"]
    assert names(kit.teacher) == ["Algebra"]
    assert names(s1) == ["Algebra"]
    assert names(s2) == []
    assert client.get(f"/api/v1/classrooms/{mine['classroom_id']}", headers=s1.headers).status_code == 200
    assert client.get(f"/api/v1/classrooms/{mine['classroom_id']}", headers=s2.headers).status_code == 403
    assert client.get(f"/api/v1/classrooms/{theirs['classroom_id']}", headers=kit.teacher.headers).status_code == 403
    r = client.get("/api/v1/classrooms?q=alg", headers=kit.admin.headers)
    assert [c["name"] for c in r.json["data"]] == ["Algebra"] and r.json["pagination"]["total"] == 1


def test_update_classroom(client, factory):
    kit = factory.college(students_count=1)
    room = make_classroom(client, kit, name="Old", code="OLD1")
    path = f"/api/v1/classrooms/{room['classroom_id']}"
    r = client.put(path, json={"name": "New", "description": "Tuesdays"}, headers=kit.teacher.headers)
    assert r.status_code == 200 and r.json["data"]["name"] == "New" and r.json["data"]["code"] == "OLD1"
    assert client.put(path, json={"name": "Hijack"}, headers=kit.student.headers).status_code == 403
    assert client.put(path, json={"teacher_id": None}, headers=kit.teacher.headers).status_code == 403
    r = client.put(path, json={"teacher_id": None}, headers=kit.admin.headers)
    assert r.status_code == 200 and r.json["data"]["teacher_id"] is None
    assert client.get(path, headers=kit.teacher.headers).status_code == 403  # no longer theirs


def test_enrollment_add_dedupes_replace_and_remove(app, client, factory):
    kit = factory.college(students_count=4)
    s1, s2, s3, s4 = kit.students
    room = make_classroom(client, kit)
    path = f"/api/v1/classrooms/{room['classroom_id']}/students"

    r = client.post(path, json={"student_ids": [s1.id, s2.id, s1.id]}, headers=kit.teacher.headers)
    assert r.status_code == 200 and r.json["data"]["student_count"] == 2
    r = client.post(path, json={"student_ids": [s2.id, s3.id]}, headers=kit.teacher.headers)
    assert r.json["data"]["student_count"] == 3
    assert sorted(enrolled(client, room, kit.teacher)) == sorted([s1.id, s2.id, s3.id])

    r = client.put(path, json={"student_ids": [s3.id, s4.id]}, headers=kit.admin.headers)
    assert r.status_code == 200 and sorted(enrolled(client, room, kit.admin)) == sorted([s3.id, s4.id])
    r = client.delete(path, json={"student_ids": [s4.id, s1.id]}, headers=kit.teacher.headers)
    assert r.status_code == 200 and enrolled(client, room, kit.teacher) == [s3.id]

    r = client.post(path, json={"student_ids": [kit.teacher.id]}, headers=kit.teacher.headers)
    assert r.status_code == 400 and kit.teacher.id in r.json["message"]
    assert client.post(path, json={"student_ids": []}, headers=kit.teacher.headers).status_code == 400
    assert client.post(path, json={"student_ids": [s1.id]}, headers=s3.headers).status_code == 403
    r = client.put(path, json={"student_ids": []}, headers=kit.teacher.headers)
    assert r.status_code == 200 and r.json["data"]["student_count"] == 0
    with app.app_context(), all_tenants():
        assert db.session.execute(select(ClassroomEnrollment)).all() == []

    # Students see classmates without their emails; staff see the emails.
    client.post(path, json={"student_ids": [s1.id, s2.id]}, headers=kit.teacher.headers)
    seen = client.get(path, headers=s1.headers).json["data"]
    assert {s["user_id"]: s.get("email") for s in seen} == {s1.id: s1.email, s2.id: None}
    assert {s.get("email") for s in client.get(path, headers=kit.teacher.headers).json["data"]} == {s1.email, s2.email}


def test_classroom_groups_for_members_only(client, factory):
    kit = factory.college(students_count=2)
    s1, s2 = kit.students
    room = make_classroom(client, kit, [s1])
    group = make_group(client, s1, classroom_id=room["classroom_id"])
    path = f"/api/v1/classrooms/{room['classroom_id']}/groups"
    for actor in (s1, kit.teacher, kit.admin):
        r = client.get(path, headers=actor.headers)
        assert r.status_code == 200 and [g["group_id"] for g in r.json["data"]] == [group["group_id"]]
    assert client.get(path, headers=s2.headers).status_code == 403


def test_another_colleges_users_get_404_on_every_classroom_route(app, client, factory):
    victim = factory.college(students_count=1)
    room = make_classroom(client, victim, [victim.student], code="V1")
    intruders = factory.college(students_count=1)
    cid = room["classroom_id"]
    routes = [
        ("GET", f"/api/v1/classrooms/{cid}", None),
        ("PUT", f"/api/v1/classrooms/{cid}", {"name": "Hijacked"}),
        ("GET", f"/api/v1/classrooms/{cid}/students", None),
        ("POST", f"/api/v1/classrooms/{cid}/students", {"student_ids": [intruders.student.id]}),
        ("PUT", f"/api/v1/classrooms/{cid}/students", {"student_ids": []}),
        ("DELETE", f"/api/v1/classrooms/{cid}/students", {"student_ids": [victim.student.id]}),
        ("GET", f"/api/v1/classrooms/{cid}/groups", None),
    ]

    def state():
        with app.app_context(), all_tenants():
            row = db.session.get(Classroom, cid)
            enrolled_ids = db.session.execute(
                select(ClassroomEnrollment.student_id).where(ClassroomEnrollment.classroom_id == cid)).scalars().all()
            return {c.name: getattr(row, c.key) for c in Classroom.__table__.columns}, enrolled_ids

    before = state()
    for method, path, body in routes:
        for actor in (intruders.admin, intruders.teacher, intruders.student):
            r = client.open(path, method=method, json=body, headers=actor.headers)
            assert r.status_code == 404, (method, path, actor.role, r.json)
    assert state() == before
    assert client.get("/api/v1/classrooms", headers=intruders.admin.headers).json["data"] == []
    # The other college's student cannot be enrolled here, even by this college's teacher.
    r = client.post(f"/api/v1/classrooms/{cid}/students", json={"student_ids": [intruders.student.id]},
                    headers=victim.teacher.headers)
    assert r.status_code == 400
    # A group in another college's classroom is refused as an unknown classroom.
    r = client.post("/api/v1/groups", json={"name": "x", "classroom_id": cid}, headers=intruders.teacher.headers)
    assert r.status_code == 404
