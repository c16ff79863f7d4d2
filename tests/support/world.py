"""A college with one of everything a URL can name, built through the API (tests of every route)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from studysync.db import db
from studysync.models import AuthSession, BulkImportJob, Notification
from studysync.tenancy import tenant_context
from tests.factories import CollegeKit, make_classroom, make_group


@dataclass
class World:
    kit: CollegeKit
    ids: dict[str, str]

    def url(self, rule: str, overrides: dict[str, str] | None = None) -> str:
        ids = {**self.ids, **(overrides or {})}
        for name, value in ids.items():
            rule = rule.replace(f"<{name}>", str(value))
        return rule


def build_world(app, client, factory, **college) -> World:
    """Three students: a leader, a member and one who asked to join (and was asked to be friends);
    a classroom of theirs, its group with a chat message and a study session, a finished bulk job."""
    kit = factory.college(students_count=3, **college)
    leader, member, requester = kit.students
    classroom = make_classroom(client, kit, students=kit.students)
    group_id = make_group(client, leader, join_policy="request", classroom_id=classroom["classroom_id"])["group_id"]
    r = client.post(f"/api/v1/groups/{group_id}/members", headers=leader.headers, json={"user_ids": [member.id]})
    assert r.status_code == 200, r.json
    assert client.post(f"/api/v1/groups/{group_id}/join", headers=requester.headers).status_code == 200
    message = client.post(f"/api/v1/groups/{group_id}/messages", headers=member.headers, json={"content": "hi"})
    when = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
    session = client.post(f"/api/v1/groups/{group_id}/sessions", headers=leader.headers,
                          json={"title": "Review", "scheduled_time": when})
    request = client.post("/api/v1/friends/requests", headers=member.headers, json={"user_id": requester.id})
    assert message.status_code == 201 and session.status_code == 201 and request.status_code == 201, (
        message.json, session.json, request.json)
    roll_no = f"R-{requester.id[:8]}"
    r = client.put(f"/api/v1/students/{requester.id}/profile", headers=kit.admin.headers, json={"roll_no": roll_no})
    assert r.status_code == 200, r.json
    with app.app_context(), tenant_context(kit.id):
        job = BulkImportJob(created_by=kit.admin.id, status="finished", total=0)
        db.session.add(job)
        db.session.commit()
        notification_id = db.session.execute(
            select(Notification.id).where(Notification.user_id == leader.id)).scalars().first()
        auth_session_id = db.session.execute(
            select(AuthSession.id).where(AuthSession.user_id == member.id)).scalars().first()
        job_id = job.id
    ids = {
        "college_id": kit.id, "user_id": requester.id, "student_id": requester.id, "group_id": group_id,
        "classroom_id": classroom["classroom_id"], "message_id": message.json["data"]["message_id"],
        "study_session_id": session.json["data"]["session_id"], "request_id": request.json["data"]["request"]["request_id"],
        "notification_id": notification_id, "job_id": job_id, "session_id": auth_session_id, "roll_no": roll_no,
    }
    assert all(ids.values()), ids
    return World(kit, ids)
