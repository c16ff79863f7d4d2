"""Study sessions: scheduling, RSVPs, editing and cancelling, who may do what, live events."""
import threading
from datetime import datetime, timedelta, timezone

import icalendar
import pytest
from sqlalchemy import event, func, select

from studysync.db import db
from studysync.models import SessionAttendee, StudySession
from studysync.realtime import group_channel
from studysync.services.events import pending_events
from studysync.services import users
from studysync.tenancy import all_tenants, tenant_context

from ...factories import PASSWORD, make_classroom, make_group

MISSING = object()


def at(days: float = 2, hour: int = 16) -> datetime:
    """A whole-minute UTC time `days` from now (tests never depend on the clock beyond that)."""
    day = datetime.now(timezone.utc) + timedelta(days=days)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def schedule(client, group, actor, **fields):
    body = {"title": "Exam prep", "scheduled_time": iso(at()), **fields}
    return client.post(f"/api/v1/groups/{group['group_id']}/sessions", json=body, headers=actor.headers)


def scheduled(client, group, actor, **fields) -> dict:
    r = schedule(client, group, actor, **fields)
    assert r.status_code == 201, r.json
    return r.json["data"]


def session_url(session, suffix=""):
    return f"/api/v1/sessions/{session['session_id']}{suffix}"


def rsvp(client, session, actor, status):
    return client.put(session_url(session, "/rsvp"), json={"status": status}, headers=actor.headers)


def detail(client, session, actor) -> dict:
    r = client.get(session_url(session), headers=actor.headers)
    assert r.status_code == 200, r.json
    return r.json["data"]


def listed(client, path, actor, **query) -> list[dict]:
    r = client.get(path, headers=actor.headers, query_string=query)
    assert r.status_code == 200, r.json
    return r.json["data"]


def attendee_rows(app, session_id, user_id=None) -> int:
    with app.app_context(), all_tenants():
        stmt = select(func.count()).select_from(SessionAttendee).where(SessionAttendee.session_id == session_id)
        if user_id:
            stmt = stmt.where(SessionAttendee.user_id == user_id)
        return db.session.execute(stmt).scalar_one()


@pytest.fixture
def crew(client, factory):
    """A classroom group led by a student: `leader`, members `alice` and `bob`; `outsider` is a
    student of the same college outside it; the classroom's teacher manages the group."""
    kit = factory.college(students_count=4)
    leader, alice, bob, outsider = kit.students
    room = make_classroom(client, kit, [leader, alice, bob, outsider])
    group = make_group(client, leader, name="Calc Crew", classroom_id=room["classroom_id"],
                       member_ids=[alice.id, bob.id])
    return kit, group, leader, alice, bob, outsider


# The whole flow --------------------------------------------------------------------------------


def test_schedule_rsvp_edit_cancel(app, client, crew):
    kit, group, leader, alice, bob, _ = crew
    when = at(days=3)
    r = schedule(client, group, alice, title="  Integrals  ", scheduled_time=iso(when), duration_minutes=90,
                 location="Library room 2", description="Bring past papers")
    assert r.status_code == 201, r.json
    created = r.json["data"]
    assert created["title"] == "Integrals" and created["group_id"] == group["group_id"]
    assert created["scheduled_time"] == iso(when) and created["ends_at"] == iso(when + timedelta(minutes=90))
    assert created["created_by"] == alice.id and created["status"] == "scheduled" and created["sequence"] == 0
    assert created["created_at"].endswith("Z") and created["cancelled_at"] is None
    assert created["my_rsvp"] == "going"
    assert created["attendees"] == [{"user_id": alice.id, "name": alice.name, "status": "going"}]
    assert created["counts"] == {"going": 1, "maybe": 0, "not_going": 0}

    # Everyone else in the group is told; the creator is not.
    for actor in (leader, bob):
        notes = [n for n in listed(client, "/api/v1/notifications", actor) if n["type"] == "session_scheduled"]
        assert len(notes) == 1, actor.name
        assert notes[0]["title"] == "New study session in Calc Crew"
        assert "Integrals" in notes[0]["message"] and when.strftime("%Y-%m-%d %H:%M") in notes[0]["message"]
        assert notes[0]["data"] == {"sessionId": created["session_id"], "groupId": group["group_id"]}
    assert not [n for n in listed(client, "/api/v1/notifications", alice) if n["type"] == "session_scheduled"]

    # Listed soonest first, by members and the group's teacher.
    sooner = scheduled(client, group, leader, title="Warm-up", scheduled_time=iso(at(days=1)))
    sessions_path = f"/api/v1/groups/{group['group_id']}/sessions"
    for actor in (bob, kit.teacher, kit.admin):
        assert [s["session_id"] for s in listed(client, sessions_path, actor)] == [
            sooner["session_id"], created["session_id"]]
    body = client.get(sessions_path, headers=bob.headers, query_string={"limit": 1}).json
    assert body["pagination"] == {"page": 1, "limit": 1, "total": 2, "pages": 2}
    assert body["data"][0]["my_rsvp"] is None and body["data"][0]["counts"]["going"] == 1

    # An RSVP changes in place: one row per person.
    r = rsvp(client, created, bob, "maybe")
    assert r.status_code == 200, r.json
    assert r.json["data"]["my_rsvp"] == "maybe" and r.json["data"]["counts"] == {"going": 1, "maybe": 1, "not_going": 0}
    r = rsvp(client, created, bob, "going")
    assert r.json["data"]["counts"] == {"going": 2, "maybe": 0, "not_going": 0}
    assert [a["user_id"] for a in r.json["data"]["attendees"]] == [alice.id, bob.id]
    assert attendee_rows(app, created["session_id"], bob.id) == 1
    seen_by_leader = detail(client, created, leader)
    assert seen_by_leader["my_rsvp"] is None and seen_by_leader["counts"]["going"] == 2
    assert detail(client, created, bob)["my_rsvp"] == "going"

    # Edited by its creator, the group's leader and its teacher; each edit bumps the sequence.
    for actor, change in ((alice, {"title": "Integrals II"}), (leader, {"location": "Room 5", "description": None}),
                          (kit.teacher, {"duration_minutes": 120, "scheduled_time": iso(at(days=4))})):
        r = client.patch(session_url(created), json=change, headers=actor.headers)
        assert r.status_code == 200, (actor.role, r.json)
    edited = r.json["data"]
    assert edited["sequence"] == 3 and edited["title"] == "Integrals II" and edited["location"] == "Room 5"
    assert edited["description"] is None and edited["duration_minutes"] == 120
    assert edited["scheduled_time"] == iso(at(days=4))
    assert datetime.fromisoformat(edited["updated_at"]) > datetime.fromisoformat(created["updated_at"])
    r = client.patch(session_url(created), json={"title": "Mine now"}, headers=bob.headers)
    assert r.status_code == 403 and "creator" in r.json["message"]
    assert client.delete(session_url(created), headers=bob.headers).status_code == 403
    r = client.patch(session_url(created), json={}, headers=alice.headers)  # nothing to change: no new sequence
    assert r.status_code == 200 and r.json["data"]["sequence"] == 3

    mine = listed(client, "/api/v1/me/sessions", bob)
    assert [s["session_id"] for s in mine] == [sooner["session_id"], created["session_id"]]
    assert mine[1]["group"] == {"group_id": group["group_id"], "name": "Calc Crew"}
    assert [s["my_rsvp"] for s in mine] == [None, "going"]

    # Cancelling keeps the row; twice is a conflict, and a cancelled session is frozen.
    r = client.delete(session_url(created), headers=leader.headers)
    assert r.status_code == 200, r.json
    cancelled = r.json["data"]
    assert cancelled["status"] == "cancelled" and cancelled["cancelled_at"].endswith("Z")
    assert cancelled["sequence"] == 4
    assert client.delete(session_url(created), headers=leader.headers).status_code == 409
    assert client.patch(session_url(created), json={"title": "x"}, headers=alice.headers).status_code == 409
    assert rsvp(client, created, bob, "maybe").status_code == 409
    assert detail(client, created, bob)["status"] == "cancelled"

    assert [s["session_id"] for s in listed(client, "/api/v1/me/sessions", bob)] == [sooner["session_id"]]
    assert [s["session_id"] for s in listed(client, sessions_path, bob)] == [sooner["session_id"]]
    assert [s["session_id"] for s in listed(client, sessions_path, bob, include_cancelled="true")] == [
        sooner["session_id"], created["session_id"]]

    r = client.get("/api/v1/me/calendar.ics", headers=bob.headers)
    assert r.status_code == 200
    events = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(r.data).walk("VEVENT")}
    assert str(events[f"{created['session_id']}@studysync"]["STATUS"]) == "CANCELLED"
    assert str(events[f"{sooner['session_id']}@studysync"]["STATUS"]) == "CONFIRMED"


def test_past_and_archived(app, client, crew):
    kit, group, leader, alice, bob, _ = crew
    session = scheduled(client, group, alice)
    with app.app_context(), all_tenants():  # time passes: the session is over
        row = db.session.get(StudySession, session["session_id"])
        row.scheduled_time = datetime.now(timezone.utc) - timedelta(hours=3)
        db.session.commit()
    assert rsvp(client, session, bob, "going").status_code == 409
    assert client.delete(session_url(session), headers=alice.headers).status_code == 409
    path = f"/api/v1/groups/{group['group_id']}/sessions"
    assert listed(client, path, bob) == [] and listed(client, "/api/v1/me/sessions", bob) == []
    assert [s["session_id"] for s in listed(client, path, bob, upcoming="false")] == [session["session_id"]]

    # A session that started but has not ended is still upcoming (duration counts).
    ongoing = scheduled(client, group, alice, duration_minutes=120)
    with app.app_context(), all_tenants():
        row = db.session.get(StudySession, ongoing["session_id"])
        row.scheduled_time = datetime.now(timezone.utc) - timedelta(minutes=60)
        db.session.commit()
    assert [s["session_id"] for s in listed(client, path, bob)] == [ongoing["session_id"]]
    assert rsvp(client, ongoing, bob, "going").status_code == 200

    assert client.post(f"/api/v1/groups/{group['group_id']}/archive", headers=leader.headers).status_code == 200
    r = schedule(client, group, alice)
    assert r.status_code == 409 and r.json["message"] == "This group is archived"
    assert rsvp(client, ongoing, bob, "maybe").status_code == 409
    assert listed(client, "/api/v1/me/sessions", bob) == []
    assert [s["session_id"] for s in listed(client, path, bob)] == [ongoing["session_id"]]  # history stays readable


# Validation ------------------------------------------------------------------------------------


@pytest.mark.parametrize("body, field", [
    ({"scheduled_time": iso(at(days=-1))}, "scheduled_time"),
    ({"title": MISSING}, "title"),
    ({"title": None}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 101}, "title"),
    ({"duration_minutes": 14}, "duration_minutes"),
    ({"duration_minutes": 721}, "duration_minutes"),
    ({"duration_minutes": "long"}, "duration_minutes"),
    ({"scheduled_time": "2030-01-01T10:00:00"}, "scheduled_time"),  # naive: which zone?
    ({"scheduled_time": "tomorrow at noon"}, "scheduled_time"),
    ({"scheduled_time": "2030-13-01T10:00:00Z"}, "scheduled_time"),
    ({"scheduled_time": 1893456000}, "scheduled_time"),
    ({"scheduled_time": None}, "scheduled_time"),
    ({"scheduled_time": "9999-12-31T23:00:00Z"}, "scheduled_time"),
    ({"scheduled_time": "9999-12-31T23:00:00-05:00"}, "scheduled_time"),
    ({"location": "x" * 201}, "location"),
    ({"description": "x" * 4001}, "description"),
    ({"colour": "red"}, "colour"),
])
def test_schedule_validation(client, crew, body, field):
    _, group, _, alice, _, _ = crew
    base = {"title": "Exam prep", "scheduled_time": iso(at())}
    base.update(body)
    base = {name: value for name, value in base.items() if value is not MISSING}
    r = client.post(f"/api/v1/groups/{group['group_id']}/sessions", json=base, headers=alice.headers)
    assert r.status_code == 400, r.json
    assert r.json["success"] is False and field in r.json["errors"], r.json


def test_edit_and_rsvp_validation(client, crew):
    _, group, _, alice, bob, _ = crew
    session = scheduled(client, group, alice)
    for change in ({"scheduled_time": iso(at(days=-2))}, {"scheduled_time": "2030-01-01 10:00"},
                   {"title": None}, {"title": ""}, {"duration_minutes": 1000}, {"scheduled_time": None}):
        r = client.patch(session_url(session), json=change, headers=alice.headers)
        assert r.status_code == 400 and set(r.json["errors"]) == set(change), (change, r.json)
    for body in ({"status": "yes"}, {"status": None}, {}, {"status": "going", "extra": 1}):
        r = client.put(session_url(session, "/rsvp"), json=body, headers=bob.headers)
        assert r.status_code == 400, (body, r.json)
    r = rsvp(client, session, bob, "yes")
    assert "status" in r.json["errors"]
    r = client.get(f"/api/v1/groups/{group['group_id']}/sessions?limit=101", headers=bob.headers)
    assert r.status_code == 400
    r = client.get(f"/api/v1/groups/{group['group_id']}/sessions?upcoming=perhaps", headers=bob.headers)
    assert r.status_code == 400
    assert client.get("/api/v1/sessions/no-such-session", headers=bob.headers).status_code == 404


# Who may do what -------------------------------------------------------------------------------


def test_outsiders_of_the_group_and_of_the_college(app, client, factory, crew):
    kit, group, leader, alice, bob, outsider = crew
    session = scheduled(client, group, alice)
    gid, sid = group["group_id"], session["session_id"]
    routes = [
        ("GET", f"/api/v1/groups/{gid}/sessions", None),
        ("POST", f"/api/v1/groups/{gid}/sessions", {"title": "Hijack", "scheduled_time": iso(at())}),
        ("GET", f"/api/v1/sessions/{sid}", None),
        ("PATCH", f"/api/v1/sessions/{sid}", {"title": "Hijacked"}),
        ("DELETE", f"/api/v1/sessions/{sid}", None),
        ("PUT", f"/api/v1/sessions/{sid}/rsvp", {"status": "going"}),
    ]

    def state():
        with app.app_context(), all_tenants():
            row = db.session.get(StudySession, sid)
            columns = {c.key: getattr(row, c.key) for c in StudySession.__mapper__.column_attrs}
            sessions = db.session.execute(select(func.count()).select_from(StudySession)).scalar_one()
        return columns, sessions, attendee_rows(app, sid)

    before = state()
    intruders = factory.college(students_count=1)
    for method, path, body in routes:
        for actor in (intruders.admin, intruders.teacher, intruders.student):
            r = client.open(path, method=method, json=body, headers=actor.headers)
            assert r.status_code == 404, (method, path, actor.role, r.json)
        r = client.open(path, method=method, json=body, headers=outsider.headers)
        assert r.status_code == 403 and r.json["message"] == "You are not a member of this group", (method, path)
    assert state() == before
    assert listed(client, "/api/v1/me/sessions", outsider) == []
    assert listed(client, "/api/v1/me/sessions", intruders.student) == []

    # Staff who do not manage the group are outsiders too; managing staff may look and edit, not RSVP.
    with app.app_context(), tenant_context(kit.id):
        stranger = factory._actor(users.create_staff(kit.admin, "Other Teacher", f"other@{kit.subdomain}.edu", PASSWORD,
                                                     "teacher"))
    assert client.get(f"/api/v1/sessions/{sid}", headers=stranger.headers).status_code == 403
    assert detail(client, session, kit.admin)["session_id"] == sid
    r = rsvp(client, session, kit.teacher, "going")
    assert r.status_code == 403 and r.json["message"] == "You are not a member of this group"
    assert scheduled(client, group, kit.teacher)["my_rsvp"] == "going"  # the teacher may schedule

    # A member who leaves loses access.
    assert client.post(f"/api/v1/groups/{gid}/leave", headers=bob.headers).status_code == 200
    assert client.get(f"/api/v1/sessions/{sid}", headers=bob.headers).status_code == 403
    assert listed(client, "/api/v1/me/sessions", bob) == []


def test_study_sessions_feature_off_is_403_naming_it(client, factory):
    kit = factory.college(features=["core", "chat"])
    student = kit.student
    group = make_group(client, student)
    gid = group["group_id"]
    for method, path, body in [
        ("GET", f"/api/v1/groups/{gid}/sessions", None),
        ("POST", f"/api/v1/groups/{gid}/sessions", {"title": "x", "scheduled_time": iso(at())}),
        ("GET", "/api/v1/me/sessions", None),
        ("POST", "/api/v1/me/calendar/token", None),
        ("DELETE", "/api/v1/me/calendar/token", None),
        ("GET", "/api/v1/me/calendar.ics", None),
    ]:
        r = client.open(path, method=method, json=body, headers=student.headers)
        assert r.status_code == 403 and "study_sessions" in r.json["message"], (method, path, r.json)


# Concurrency and live events -------------------------------------------------------------------


def test_two_first_rsvps_at_once_leave_one_row(app, client, crew):
    _, group, _, alice, bob, _ = crew
    for status_pair in (("going", "maybe"), ("not_going", "going"), ("maybe", "maybe")):
        session = scheduled(client, group, alice)
        barrier = threading.Barrier(2)
        statuses = []

        def answer(status):
            own_client = app.test_client()
            barrier.wait()
            statuses.append(rsvp(own_client, session, bob, status).status_code)

        threads = [threading.Thread(target=answer, args=(s,)) for s in status_pair]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert statuses == [200, 200]
        assert attendee_rows(app, session["session_id"], bob.id) == 1
        assert detail(client, session, bob)["my_rsvp"] in status_pair


def test_session_changed_is_published_only_after_commit(app, client, crew):
    _, group, leader, alice, bob, _ = crew
    broker = app.extensions["studysync.broker"]
    factory = app.extensions["studysync.db"].session_factory
    received, at_commit, chat = [], [], []

    def drain():
        while (item := sub.get(timeout=0)) is not None:
            (received if item["type"] == "session.changed" else chat).append(item)

    def before_commit(session):
        queued = [e.data["action"] for e in pending_events(session) if e.type == "session.changed"]
        if queued:
            drain()
            at_commit.append((queued, len(received)))  # queued, and only the earlier ones delivered

    sub = broker.subscribe(group_channel(group["group_id"]))
    event.listen(factory, "before_commit", before_commit)
    try:
        session = scheduled(client, group, alice)
        assert rsvp(client, session, bob, "maybe").status_code == 200
        assert rsvp(client, session, bob, "maybe").status_code == 200  # no change, no event
        assert client.patch(session_url(session), json={"title": "Renamed"}, headers=leader.headers).status_code == 200
        assert client.delete(session_url(session), headers=alice.headers).status_code == 200
        assert client.delete(session_url(session), headers=alice.headers).status_code == 409  # nothing happened
        drain()
    finally:
        event.remove(factory, "before_commit", before_commit)
        sub.close()

    assert at_commit == [(["scheduled"], 0), (["rsvp"], 1), (["updated"], 2), (["cancelled"], 3)]

    assert [e["type"] for e in received] == ["session.changed"] * 4
    # scheduling also announced the session in the group's chat, in the same commit
    (announcement,) = chat
    assert announcement["type"] == "message.created" and announcement["data"]["message_type"] == "announcement"
    assert session["title"] in announcement["data"]["content"] and announcement["data"]["sender_id"] == alice.id
    assert [e["data"]["action"] for e in received] == ["scheduled", "rsvp", "updated", "cancelled"]
    first, last = received[0]["data"]["session"], received[-1]["data"]["session"]
    assert first["session_id"] == session["session_id"] and first["scheduled_time"] == session["scheduled_time"]
    assert first["scheduled_time"].endswith("Z") and "my_rsvp" not in first
    assert first["attendees"] == [{"user_id": alice.id, "name": alice.name, "status": "going"}]
    assert received[1]["data"]["session"]["counts"] == {"going": 1, "maybe": 1, "not_going": 0}
    assert last["status"] == "cancelled" and last["title"] == "Renamed" and last["sequence"] == 2


def test_lists_take_a_fixed_number_of_queries(app, client, factory):
    kit = factory.college(students_count=2)
    me, friend = kit.students
    groups = [make_group(client, me, name=f"Group {i}", member_ids=[friend.id]) for i in range(3)]
    engine = app.extensions["studysync.db"].engine

    def queries_for(path):
        statements = []

        def count(*_args):
            statements.append(1)

        event.listen(engine, "before_cursor_execute", count)
        try:
            items = listed(client, path, friend)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements), len(items)

    group_path = f"/api/v1/groups/{groups[0]['group_id']}/sessions"
    first = scheduled(client, groups[0], me, scheduled_time=iso(at(days=1)))
    rsvp(client, first, friend, "maybe")
    few = queries_for("/api/v1/me/sessions"), queries_for(group_path)
    for i in range(6):
        session = scheduled(client, groups[i % 3], me, scheduled_time=iso(at(days=2 + i)))
        rsvp(client, session, friend, ("going", "maybe", "not_going")[i % 3])
    many = queries_for("/api/v1/me/sessions"), queries_for(group_path)
    assert [n for _, n in few] == [1, 1] and [n for _, n in many] == [7, 3]
    assert [q for q, _ in many] == [q for q, _ in few]
