"""The sysadmin exports a college and deletes it with all its data, in one confirmed operation:
every row of that college goes (counted per table), and no row of another college."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from studysync.db import db
from studysync.services.data_export import college_tables
from studysync.services.offboarding import CONFIRMATION_MISMATCH
from tests.factories import make_classroom, make_group


def ok(response, status=200):
    assert response.status_code == status, response.json
    return response.json["data"]


def populate(client, kit) -> None:
    """Rows in (nearly) every table: profiles, groups, chat, reactions, DMs, friends, sessions,
    RSVPs, calendar feeds, classrooms, bulk imports, reset tokens, embeddings."""
    alice, bob = kit.students[:2]
    for actor in (alice, bob):
        ok(client.put("/api/v1/me/profile", headers=actor.headers, json={
            "subjects": ["Physics"], "learning_style": "hands-on practice", "performance_level": 3}))
    classroom = make_classroom(client, kit, students=[alice, bob])
    group = make_group(client, alice, name="Optics", subject="Physics", classroom_id=classroom["classroom_id"])
    ok(client.post(f"/api/v1/groups/{group['group_id']}/join", headers=bob.headers))
    message = ok(client.post(f"/api/v1/groups/{group['group_id']}/messages", headers=bob.headers,
                             json={"content": "lenses tomorrow?"}), 201)
    ok(client.post(f"/api/v1/messages/{message['message_id']}/reactions", headers=alice.headers,
                   json={"emoji": "👍"}))
    ok(client.get(f"/api/v1/groups/{group['group_id']}/messages", headers=alice.headers))
    ok(client.post(f"/api/v1/dm/{bob.id}/messages", headers=alice.headers, json={"content": "hi"}), 201)
    ok(client.get(f"/api/v1/dm/{alice.id}/messages", headers=bob.headers))
    request = ok(client.post("/api/v1/friends/requests", headers=alice.headers, json={"user_id": bob.id}), 201)
    ok(client.post(f"/api/v1/friends/requests/{request['request']['request_id']}/accept", headers=bob.headers))
    when = (datetime.now(timezone.utc) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    session = ok(client.post(f"/api/v1/groups/{group['group_id']}/sessions", headers=alice.headers, json={
        "title": "Lab prep", "scheduled_time": when.isoformat().replace("+00:00", "Z")}), 201)
    ok(client.put(f"/api/v1/sessions/{session['session_id']}/rsvp", headers=bob.headers, json={"status": "going"}))
    ok(client.post("/api/v1/me/calendar/token", headers=bob.headers), 201)
    ok(client.post("/api/v1/students/bulk", headers=kit.admin.headers, json={"students": [
        {"student_name": "Bulk One", "student_email": f"bulk@{kit.subdomain}.edu", "student_password": "Bulk@1234"}]}))
    ok(client.post("/api/v1/auth/forgot-password", json={"email": alice.email}))
    client.application.extensions["studysync.reset_queue"].drain()  # its token row is written off the request
    ok(client.get("/api/v1/search", query_string={"q": "optics", "type": "groups"}, headers=alice.headers))


def counts(app, college_id: str) -> dict[str, int]:
    with app.app_context():
        found = {t.name: db.session.execute(select(func.count()).select_from(t).where(t.c.college_id == college_id)
                                            ).scalar() for t in college_tables()}
        colleges = college_tables()[0].metadata.tables["colleges"]
        found["colleges"] = db.session.execute(select(func.count()).select_from(colleges)
                                               .where(colleges.c.id == college_id)).scalar()
        return found


def test_offboarding_removes_every_row_of_the_college_and_none_of_another(app, client, factory):
    gone, kept = factory.college(), factory.college()
    sysadmin = factory.sysadmin()
    populate(client, gone)
    populate(client, kept)
    before_gone, before_kept = counts(app, gone.id), counts(app, kept.id)
    empty = sorted(table for table, n in before_gone.items() if n == 0)
    assert empty == ["college_email_domains"], empty  # the data really is everywhere

    r = client.post(f"/api/v1/colleges/{gone.id}/offboard", headers=sysadmin.headers,
                    json={"confirm_subdomain": kept.subdomain})
    assert r.status_code == 400 and r.json["message"] == CONFIRMATION_MISMATCH
    assert client.post(f"/api/v1/colleges/{gone.id}/offboard", headers=gone.admin.headers,
                       json={"confirm_subdomain": gone.subdomain}).status_code == 403
    assert counts(app, gone.id) == before_gone

    result = ok(client.post(f"/api/v1/colleges/{gone.id}/offboard", headers=sysadmin.headers,
                            json={"confirm_subdomain": gone.subdomain.upper()}))
    assert result["college_id"] == gone.id
    assert result["removed"] == before_gone  # what it reports is what there was
    assert counts(app, gone.id) == {table: 0 for table in before_gone}
    assert counts(app, kept.id) == before_kept

    archive = result["archive"]
    assert archive["college"]["subdomain"] == gone.subdomain
    assert {t: len(rows) for t, rows in archive["tables"].items()} == {
        t: n for t, n in before_gone.items() if t != "colleges"}
    text = json.dumps(archive)
    assert "password_hash" not in text and "token_hash" not in text
    assert gone.student.email in text and kept.student.email not in text

    assert client.get(f"/api/v1/colleges/{gone.id}", headers=sysadmin.headers).status_code == 404
    assert client.get("/api/v1/auth/me", headers=gone.admin.headers).status_code == 401
    assert client.get("/api/v1/groups", headers=kept.student.headers).status_code == 200


def test_the_archive_alone_is_for_the_sysadmin(client, factory):
    kit = factory.college()
    sysadmin = factory.sysadmin()
    archive = ok(client.get(f"/api/v1/colleges/{kit.id}/archive", headers=sysadmin.headers))
    assert {u["email"] for u in archive["tables"]["users"]} >= {kit.admin.email, kit.student.email}
    assert client.get(f"/api/v1/colleges/{kit.id}/archive", headers=kit.admin.headers).status_code == 403
    assert client.get(f"/api/v1/colleges/{kit.id}", headers=sysadmin.headers).status_code == 200
