"""The audit log: staff actions leave entries their college's admins (and the sysadmin) can read."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

from studysync.db import db
from studysync.models import AuditEntry
from studysync.models.audit import AuditLogError
from studysync.tenancy import all_tenants

from ...factories import PASSWORD, make_classroom, make_group


def entries(client, actor, **query) -> dict:
    r = client.get("/api/v1/audit", query_string=query, headers=actor.headers)
    assert r.status_code == 200, r.json
    return r.json


def actions(client, actor, **query) -> list[str]:
    return [e["action"] for e in entries(client, actor, limit=100, **query)["data"]]


def test_admin_actions_are_recorded_with_who_what_target_request_and_address(client, factory):
    kit = factory.college(students_count=2)
    admin = kit.admin

    r = client.post("/api/v1/users", json={"name": "New Teacher", "email": "nt@c.edu", "password": PASSWORD,
                                           "role": "teacher"}, headers=admin.headers)
    assert r.status_code == 201, r.json
    teacher_id, created_request = r.json["data"]["user_id"], r.headers["X-Request-ID"]
    client.put(f"/api/v1/users/{teacher_id}", json={"role": "admin", "password": "An0ther-Passw0rd"},
               headers=admin.headers)
    client.delete(f"/api/v1/users/{teacher_id}", headers=admin.headers)
    client.put(f"/api/v1/students/{kit.student.id}/profile", json={"marks": 91}, headers=admin.headers)
    client.delete(f"/api/v1/students/{kit.student.id}", headers=admin.headers)
    client.put(f"/api/v1/colleges/{kit.id}/settings", json={"group_limit": 3}, headers=admin.headers)

    log = entries(client, admin, limit=100, actor_id=admin.id)["data"]
    assert [e["action"] for e in log] == [
        "college.settings", "student.deactivate", "student.update", "staff.deactivate", "staff.password",
        "staff.create"]
    created = log[-1]
    assert created["actor_id"] == admin.id and created["actor_role"] == "admin"
    assert created["target_type"] == "user" and created["target_id"] == teacher_id
    assert created["request_id"] == created_request and created["client_address"] == "127.0.0.1"
    assert created["college_id"] == kit.id and created["details"] == {"role": "teacher"}
    assert log[-2]["details"] == {"changes": {"role": "admin"}}  # that a password changed, never the password
    assert "An0ther-Passw0rd" not in str(log)


def test_staff_forced_memberships_are_recorded_and_a_leaders_own_are_not(client, factory):
    kit = factory.college(students_count=3)
    leader, other, third = kit.students
    room = make_classroom(client, kit, students=[leader, other, third])
    group = make_group(client, leader, classroom_id=room["classroom_id"], join_policy="open")

    r = client.post(f"/api/v1/groups/{group['group_id']}/members", json={"user_ids": [other.id]},
                    headers=kit.teacher.headers)
    assert r.status_code == 200, r.json
    r = client.delete(f"/api/v1/groups/{group['group_id']}/members", json={"user_ids": [other.id]},
                      headers=leader.headers)
    assert r.status_code == 200, r.json

    log = [e for e in entries(client, kit.admin, limit=100)["data"] if e["actor_id"]]
    assert [e["action"] for e in log] == ["group.member_add", "classroom.enroll"]
    assert log[0]["actor_id"] == kit.teacher.id and log[0]["details"] == {"added": [other.id]}
    assert sorted(log[1]["details"]["added"]) == sorted([leader.id, other.id, third.id])


def test_each_college_reads_only_its_own_entries_and_the_sysadmin_reads_all(client, factory):
    sysadmin = factory.sysadmin()
    first, second = factory.college(), factory.college()
    r = client.put(f"/api/v1/colleges/{first.id}/features", json={"enabled_features": ["core", "chat"]},
                   headers=sysadmin.headers)
    assert r.status_code == 200, r.json
    client.put(f"/api/v1/colleges/{second.id}/settings", json={"group_limit": 2}, headers=second.admin.headers)

    first_log = entries(client, first.admin)["data"]
    assert [(e["action"], e["actor_id"], e["college_id"]) for e in first_log if e["actor_id"]] == [
        ("college.features", sysadmin.id, first.id)]
    assert {e["college_id"] for e in first_log} == {first.id}
    assert {e["college_id"] for e in entries(client, second.admin, limit=100)["data"]} == {second.id}
    everything = entries(client, sysadmin, limit=100)["data"]
    assert {e["college_id"] for e in everything} == {first.id, second.id}
    for outsider in (first.teacher, first.student):
        assert client.get("/api/v1/audit", headers=outsider.headers).status_code == 403
    assert client.get("/api/v1/audit").status_code == 401


def test_filters_and_pages(client, factory):
    kit = factory.college(students_count=3)
    for student in kit.students:
        client.put(f"/api/v1/students/{student.id}/profile", json={"marks": 50}, headers=kit.teacher.headers)
    client.put(f"/api/v1/colleges/{kit.id}/settings", json={"group_limit": 4}, headers=kit.admin.headers)

    assert actions(client, kit.admin, action="student.update") == ["student.update"] * 3
    assert actions(client, kit.admin, actor_id=kit.admin.id) == ["college.settings"]
    assert actions(client, kit.admin, target_id=kit.students[1].id, action="student.update") == ["student.update"]
    page = entries(client, kit.admin, action="student.update", limit=2, page=2)
    assert page["pagination"] == {"page": 2, "limit": 2, "total": 3, "pages": 2} and len(page["data"]) == 1

    everything = entries(client, kit.admin, limit=100)["data"]
    newest = everything[0]["created_at"]
    assert actions(client, kit.admin, since=newest) == ["college.settings"]
    assert "college.settings" not in actions(client, kit.admin, until=newest)
    assert actions(client, kit.admin, since="2099-01-01T00:00:00Z") == []
    r = client.get("/api/v1/audit?since=yesterday", headers=kit.admin.headers)
    assert r.status_code == 400 and "since" in r.json["errors"]


def test_a_refused_action_leaves_no_entry(client, factory):
    kit = factory.college()
    r = client.post("/api/v1/users", json={"name": "Dup", "email": kit.teacher.email, "password": PASSWORD,
                                           "role": "teacher"}, headers=kit.admin.headers)
    assert r.status_code == 409
    assert actions(client, kit.admin, actor_id=kit.admin.id) == []


def test_entries_are_never_changed_or_deleted(app, client, factory):
    kit = factory.college()
    client.put(f"/api/v1/colleges/{kit.id}/settings", json={"group_limit": 3}, headers=kit.admin.headers)
    with app.app_context(), all_tenants():
        entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "college.settings")).scalar_one()
        entry.action = "nothing.happened"
        with pytest.raises(AuditLogError):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.get(AuditEntry, entry.id))
        with pytest.raises(AuditLogError):
            db.session.flush()
        db.session.rollback()
        for statement in (update(AuditEntry).values(action="x"), delete(AuditEntry)):
            with pytest.raises(AuditLogError):
                db.session.execute(statement)
        db.session.rollback()
    assert actions(client, kit.admin, actor_id=kit.admin.id) == ["college.settings"]
    assert client.delete("/api/v1/audit", headers=kit.admin.headers).status_code == 405
