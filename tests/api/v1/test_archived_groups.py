"""An archived group is frozen: every write to it answers the same 409, on every surface; reads
still work, and unarchiving brings the writes back."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from studysync.policies import GROUP_ARCHIVED
from tests.support.world import build_world


def test_every_write_to_an_archived_group_is_the_same_409_and_reads_still_work(app, client, factory):
    world = build_world(app, client, factory)
    kit, ids = world.kit, world.ids
    leader, member, requester = kit.students
    outsider = factory.student_in(kit)  # enrolled in the classroom, not in the group
    r = client.post(world.url("/api/v1/classrooms/<classroom_id>/students"), headers=kit.teacher.headers,
                    json={"student_ids": [outsider.id]})
    assert r.status_code == 200, r.json
    r = client.post(world.url("/api/v1/groups/<group_id>/archive"), headers=leader.headers)
    assert r.status_code == 200 and r.json["data"]["is_archived"] is True

    later = (datetime.now(timezone.utc) + timedelta(days=3)).isoformat()
    writes = [
        (leader, "PATCH", "/api/v1/groups/<group_id>", {"name": "Renamed"}),
        (member, "POST", "/api/v1/groups/<group_id>/messages", {"content": "still here?"}),
        (member, "PATCH", "/api/v1/messages/<message_id>", {"content": "edited"}),
        (leader, "POST", "/api/v1/messages/<message_id>/reactions", {"emoji": "👍"}),
        (member, "DELETE", "/api/v1/messages/<message_id>", None),
        (leader, "POST", "/api/v1/groups/<group_id>/sessions", {"title": "More review", "scheduled_time": later}),
        (leader, "PATCH", "/api/v1/sessions/<study_session_id>", {"title": "Moved"}),
        (member, "PUT", "/api/v1/sessions/<study_session_id>/rsvp", {"status": "going"}),
        (leader, "DELETE", "/api/v1/sessions/<study_session_id>", None),
        (kit.teacher, "POST", "/api/v1/groups/<group_id>/members", {"user_ids": [outsider.id]}),
        (kit.teacher, "PUT", "/api/v1/groups/<group_id>/members", {"user_ids": [leader.id]}),
        (kit.teacher, "DELETE", "/api/v1/groups/<group_id>/members", {"user_ids": [member.id]}),
        (leader, "POST", "/api/v1/groups/<group_id>/requests/<user_id>/approve", None),
        (leader, "POST", "/api/v1/groups/<group_id>/requests/<user_id>/reject", None),
        (member, "POST", "/api/v1/groups/<group_id>/leave", None),
        (outsider, "POST", "/api/v1/groups/<group_id>/join", None),
        (member, "POST", "/api/chat/<group_id>/send", {"content": "from the app"}),
        (leader, "POST", "/api/chat/message/<message_id>/react", {"emoji": "👍"}),
        (leader, "POST", "/api/groups/<group_id>/requests/<user_id>/approve", None),
    ]
    for actor, method, rule, body in writes:
        r = client.open(world.url(rule), method=method, json=body if body is not None else {}, headers=actor.headers)
        assert r.status_code == 409 and r.json["message"] == GROUP_ARCHIVED, (method, rule, r.status_code, r.json)

    reads = ["/api/v1/groups/<group_id>", "/api/v1/groups/<group_id>/members", "/api/v1/groups/<group_id>/messages",
             "/api/v1/groups/<group_id>/sessions?upcoming=false", "/api/v1/sessions/<study_session_id>",
             "/api/chat/<group_id>/messages"]
    for rule in reads:
        r = client.get(world.url(rule), headers=member.headers)
        assert r.status_code == 200, (rule, r.json)
    messages = client.get(world.url("/api/v1/groups/<group_id>/messages"), headers=member.headers).json["data"]
    original = next(m for m in messages if m["message_id"] == ids["message_id"])
    assert original["content"] == "hi" and original["is_deleted"] is False and original["reactions"] == []

    assert client.post(world.url("/api/v1/groups/<group_id>/unarchive"), headers=leader.headers).status_code == 200
    r = client.post(world.url("/api/v1/groups/<group_id>/messages"), headers=member.headers, json={"content": "back"})
    assert r.status_code == 201, r.json
