"""Every route with an id in its URL, every method, every role of another college: 404, and the
victim college's data unchanged.

The routes come from the app's own URL map, not from a list kept by hand, so a route added later
is covered the day it is added; a new kind of id fails here until the victim below owns one.
"""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from studysync.db import Base, db
from studysync.models import AuthSession, BulkImportJob, Notification
from studysync.tenancy import all_tenants, tenant_context
from tests.factories import make_classroom, make_group

SKIP_METHODS = {"HEAD", "OPTIONS"}
# Seed 003's clients read their own error body, `{"message": ...}`, not our envelope.
LEGACY_NOT_FOUND = {"/api/studygroups/": ({"message": "Study group not found"}, {"message": "Classroom not found"})}


def assert_not_found_body(rule: str, body) -> None:
    for prefix, bodies in LEGACY_NOT_FOUND.items():
        if rule.startswith(prefix):
            assert body in bodies, (rule, body)
            return
    assert body["success"] is False, (rule, body)


def victim_rows(app, college_id):
    """Every row of every table that belongs to the college, as comparable tuples."""
    rows = {}
    with app.app_context(), all_tenants():
        for table in Base.metadata.sorted_tables:
            if "college_id" in table.c:
                stmt = select(table).where(table.c.college_id == college_id)
            elif table.name == "colleges":
                stmt = select(table).where(table.c.id == college_id)
            else:
                continue
            rows[table.name] = sorted(tuple(str(v) for v in row) for row in db.session.execute(stmt))
    return rows


@pytest.fixture
def victim(app, client, factory):
    """A college with one of everything an URL can name."""
    kit = factory.college(students_count=3)
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
        "notification_id": notification_id, "job_id": job_id, "session_id": auth_session_id,
    }
    assert all(ids.values()), ids
    return kit, ids


def id_routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        params = sorted(a for a in rule.arguments if a.endswith("_id"))
        if params:
            for method in sorted(rule.methods - SKIP_METHODS):
                yield method, rule, params


def test_every_id_route_is_a_404_for_every_role_of_another_college(app, client, factory, victim):
    kit, ids = victim
    intruders = factory.college()
    before = victim_rows(app, kit.id)
    checked = 0
    for method, rule, params in id_routes(app):
        missing = [p for p in params if p not in ids]
        assert not missing, f"{rule.rule}: give the victim college a {missing} in this test"
        url = rule.rule
        for param in rule.arguments:
            url = url.replace(f"<{param}>", str(ids[param]))
        for actor in (intruders.admin, intruders.teacher, intruders.student):
            body = None if method in ("GET", "DELETE") else {}
            r = client.open(url, method=method, json=body, headers=actor.headers)
            assert r.status_code == 404, (method, rule.rule, actor.role, r.status_code, r.get_json())
            assert r.is_json
            assert_not_found_body(rule.rule, r.json)
            checked += 1
    assert checked > 150  # every id route of /api/v1 and /api, three roles each
    assert victim_rows(app, kit.id) == before
