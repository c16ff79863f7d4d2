"""The live stream end to end: a real server, real WebSocket clients, events only after commits.

The app runs under uvicorn in this process, served as the gunicorn worker serves it (the stream on
the event loop); the cross-process test starts two app processes that share only the database and
Redis.
"""
import json
import socket
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from studysync.auth.current import COLLEGE_SUSPENDED, INVALID_TOKEN, session_problems
from studysync.db import db, new_id, utcnow
from studysync.models import AuthSession, College, GroupMember, StudyGroup, User
from studysync.realtime import group_channel, stream as stream_module, user_channel
from studysync.services.events import pending_events, publish_after_commit
from studysync.tenancy import all_tenants, tenant_context
from tests.conftest import TEST_SECRET
from tests.factories import make_group
from tests.support.processes import app_process

from .helpers import (  # noqa: F401 (live_url: fixture)
    WAIT, Client, connect, events_until, frame, http, live_url, refused, ws_url,
)


def is_dm(content):
    return lambda e: e["type"] == "dm.created" and e["data"]["content"] == content


def send_dm(base, sender, receiver, content):
    status, body = http("POST", f"{base}/api/v1/dm/{receiver.id}/messages", sender, {"content": content})
    assert status == 201, body
    return body["data"]


def test_a_direct_message_reaches_both_people_and_nobody_else(live_url, factory):
    kit, other = factory.college(students_count=3), factory.college()
    alice, bob, carol = kit.students
    sockets = {name: connect(live_url, actor) for name, actor in
               (("alice", alice), ("bob", bob), ("carol", carol), ("outsider", other.student))}
    try:
        sent = send_dm(live_url, alice, bob, "see you at the library")

        bob_saw = events_until(sockets["bob"], is_dm("see you at the library"))
        assert bob_saw[-1] == {"type": "dm.created", "data": sent}
        alice_saw = events_until(sockets["alice"], is_dm("see you at the library"))
        assert alice_saw[-1]["data"]["message_id"] == sent["message_id"]
        (note,) = [e for e in bob_saw if e["type"] == "notification.created"]
        assert note["data"]["type"] == "direct_message" and note["data"]["data"]["senderId"] == alice.id
        assert not any(e["type"] == "notification.created" for e in alice_saw)

        # Later messages to carol and the outsider arrive after the first would have: whatever they
        # received before them is everything they were sent, and alice's message is not among it.
        send_dm(live_url, bob, carol, "marker for carol")
        carol_saw = events_until(sockets["carol"], is_dm("marker for carol"))
        assert all(e["data"].get("content") != "see you at the library" for e in carol_saw)
        send_dm(live_url, other.students[1], other.student, "marker for outsider")
        outsider_saw = events_until(sockets["outsider"], is_dm("marker for outsider"))
        assert all(e["data"].get("content") != "see you at the library" for e in outsider_saw)
    finally:
        for ws in sockets.values():
            ws.close()


def test_token_in_the_first_frame(live_url, factory):
    kit = factory.college()
    alice, bob = kit.students
    ws = Client.connect(ws_url(live_url))
    try:
        ws.send(json.dumps({"token": bob.token}))
        assert frame(ws) == {"type": "ready", "data": {"user_id": bob.id}}
        send_dm(live_url, alice, bob, "first frame works")
        events_until(ws, is_dm("first frame works"))
    finally:
        ws.close()


def test_revoked_invalid_and_missing_tokens_are_refused(live_url, factory):
    kit = factory.college()
    alice = kit.student
    status, _ = http("POST", f"{live_url}/api/v1/auth/logout", alice)
    assert status == 200

    for ws in (Client.connect(ws_url(live_url, alice.token)), Client.connect(ws_url(live_url, "not-a-jwt"))):
        message, code = refused(ws)
        assert message == {"type": "error", "message": "Invalid or expired token"}
        assert code == 4401

    ws = Client.connect(ws_url(live_url))
    ws.send(json.dumps({"token": alice.token}))
    assert refused(ws)[1] == 4401
    ws = Client.connect(ws_url(live_url))
    ws.send("hello")
    assert refused(ws)[1] == 4401


def test_a_temporary_password_opens_no_stream(live_url, factory):
    kit = factory.college()
    status, body = http("POST", f"{live_url}/api/v1/users/{kit.student.id}/password-reset", kit.admin)
    assert status == 200
    status, body = http("POST", f"{live_url}/api/v1/students/login", None, {
        "college_id": kit.id, "student_email": kit.student.email,
        "student_password": body["data"]["temporary_password"]})
    message, code = refused(Client.connect(ws_url(live_url, body["data"]["token"])))
    assert message["message"] == stream_module.MUST_CHANGE_PASSWORD and code == 4401


def test_a_session_revoked_while_connected_is_closed(live_url, factory, monkeypatch):
    monkeypatch.setattr(stream_module, "REVALIDATE_SECONDS", 0.2)
    kit = factory.college()
    alice = kit.student
    ws = connect(live_url, alice)
    assert http("POST", f"{live_url}/api/v1/auth/logout", alice)[0] == 200
    message, code = refused(ws)
    assert message["type"] == "error" and code == 4401


def test_group_members_receive_their_groups_events_and_follow_membership_changes(app, live_url, factory):
    kit = factory.college()
    alice, bob = kit.students
    with app.app_context(), tenant_context(kit.id):
        groups = [StudyGroup(id=new_id(), name=f"G{i}", leader_id=alice.id, created_by=alice.id) for i in range(2)]
        db.session.add_all(groups)
        db.session.flush()
        db.session.add(GroupMember(group_id=groups[0].id, user_id=alice.id, role="leader", status="active"))
        db.session.commit()
        first, second = (g.id for g in groups)
    broker = app.extensions["studysync.broker"]
    ws_alice, ws_bob = connect(live_url, alice), connect(live_url, bob)
    try:
        broker.publish(group_channel(first), {"type": "message.created", "data": {"n": 1}})
        assert frame(ws_alice) == {"type": "message.created", "data": {"n": 1}}

        # joining a group while connected: the membership event adds its channel
        broker.publish(user_channel(alice.id), {"type": "membership.changed",
                                                "data": {"group_id": second, "status": "active"}})
        assert frame(ws_alice)["type"] == "membership.changed"
        broker.publish(group_channel(second), {"type": "message.created", "data": {"n": 2}})
        assert frame(ws_alice) == {"type": "message.created", "data": {"n": 2}}
        broker.publish(user_channel(alice.id), {"type": "membership.changed",
                                                "data": {"group_id": second, "status": "left"}})
        assert frame(ws_alice)["type"] == "membership.changed"
        broker.publish(group_channel(second), {"type": "message.created", "data": {"n": 3}})
        broker.publish(user_channel(alice.id), {"type": "test.marker", "data": {}})
        assert frame(ws_alice)["type"] == "test.marker"

        broker.publish(user_channel(bob.id), {"type": "test.marker", "data": {}})
        assert frame(ws_bob)["type"] == "test.marker"  # bob is in no group: nothing before the marker
    finally:
        ws_alice.close()
        ws_bob.close()


def test_a_client_ping_is_answered_and_a_closed_socket_ends_its_subscription(app, live_url, factory):
    kit = factory.college()
    alice = kit.student
    broker = app.extensions["studysync.broker"]
    ws = connect(live_url, alice)
    ws.send(json.dumps({"type": "ping"}))
    assert frame(ws) == {"type": "pong"}
    assert user_channel(alice.id) in broker._registry.channels()
    ws.sock.shutdown(socket.SHUT_RDWR)  # the client vanishes without a closing handshake
    deadline = time.monotonic() + WAIT
    while user_channel(alice.id) in broker._registry.channels() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert user_channel(alice.id) not in broker._registry.channels()


def test_events_are_published_only_after_commit(app, factory):
    kit = factory.college()
    broker = app.extensions["studysync.broker"]
    sub = broker.subscribe("user:events-test")
    try:
        with app.app_context(), tenant_context(kit.id):
            publish_after_commit("user:events-test", "kept", {"n": 1})
            db.session.execute(text("SELECT 1"))  # inside a transaction now
            assert sub.get(timeout=0.1) is None  # not before the commit
            db.session.commit()
            assert sub.get(timeout=WAIT) == {"type": "kept", "data": {"n": 1}}

            publish_after_commit("user:events-test", "rolled back", {})
            db.session.rollback()
            assert pending_events() == []

            publish_after_commit("user:events-test", "outer", {})
            try:
                with db.session.begin_nested():
                    publish_after_commit("user:events-test", "inside a failed savepoint", {})
                    raise RuntimeError("savepoint fails")
            except RuntimeError:
                pass
            with db.session.begin_nested():
                publish_after_commit("user:events-test", "inside a released savepoint", {})
            assert [e.type for e in pending_events()] == ["outer", "inside a released savepoint"]
            db.session.commit()
            assert [sub.get(timeout=WAIT)["type"] for _ in range(2)] == ["outer", "inside a released savepoint"]
            assert sub.get(timeout=0.1) is None

            with pytest.raises(TypeError):
                publish_after_commit("user:events-test", "bad", {"when": object()})
    finally:
        sub.close()


def test_two_app_processes_share_events_through_redis(migrated_database, redis_url, factory):
    kit = factory.college()
    alice, bob = kit.students
    env = {"DATABASE_URL": migrated_database, "JWT_SECRET_KEY": TEST_SECRET, "BCRYPT_ROUNDS": "4",
           "REDIS_URL": redis_url, "EMBEDDING_MODEL": "hashing", "SYSADMIN_EMAIL": "", "SYSADMIN_PASSWORD": ""}
    with app_process(env) as first, app_process(env) as second:
        ws = connect(second, bob)
        try:
            sent = send_dm(first, alice, bob, "across processes")
            assert events_until(ws, is_dm("across processes"))[-1] == {"type": "dm.created", "data": sent}
        finally:
            ws.close()


def test_the_batch_session_check_refuses_what_a_request_would(app, factory, client):
    """The stream re-checks all its sockets' sessions in one batch: it must refuse exactly what
    a request with the same token would be refused."""
    kit, suspended = factory.college(students_count=4), factory.college()
    live, logged_out, deactivated, someone_else = kit.students
    assert client.post("/api/v1/auth/logout", headers=logged_out.headers).status_code == 200
    with app.app_context(), all_tenants():
        db.session.get(User, deactivated.id).status = "inactive"
        db.session.get(College, suspended.id).status = "suspended"
        db.session.commit()
        session_of = {actor.id: db.session.execute(select(AuthSession.id).where(AuthSession.user_id == actor.id))
                      .scalar_one() for actor in (live, logged_out, deactivated, suspended.student)}
        sessions = {session_of[live.id]: live.id, session_of[logged_out.id]: logged_out.id,
                    session_of[deactivated.id]: deactivated.id, session_of[suspended.student.id]: suspended.student.id,
                    "no-such-session": live.id}
        sessions_mismatch = {session_of[live.id]: someone_else.id}
        long_ago = utcnow() - timedelta(hours=2)
        db.session.get(AuthSession, session_of[live.id]).last_used_at = long_ago
        db.session.commit()
        problems = session_problems(sessions)
        mismatch = session_problems(sessions_mismatch)
        db.session.expire_all()
        assert db.session.get(AuthSession, session_of[live.id]).last_used_at > long_ago  # the check counts as use
    assert problems == {session_of[logged_out.id]: INVALID_TOKEN, session_of[deactivated.id]: INVALID_TOKEN,
                        session_of[suspended.student.id]: COLLEGE_SUSPENDED, "no-such-session": INVALID_TOKEN}
    assert mismatch == {session_of[live.id]: INVALID_TOKEN}
    for actor, status in ((live, 200), (logged_out, 401), (deactivated, 401), (suspended.student, 401)):
        assert client.get("/api/v1/auth/me", headers=actor.headers).status_code == status


def test_one_event_frame_serves_every_socket_and_a_client_offering_compression_gets_plain_frames(live_url,
                                                                                                 factory):
    """The server builds an event's frame once and writes it to every socket (serving.StreamProtocol),
    including a client that offers permessage-deflate as browsers do: the server declines it. Each of
    them reads every message whole, in both frame header sizes."""
    from websockets.sync.client import connect as connect_deflate

    kit = factory.college(students_count=4)
    leader, *members = kit.students
    group_id = make_group(factory.client, leader, member_ids=[m.id for m in members])["group_id"]
    plain = [connect(live_url, member) for member in members[:2]]
    try:
        with connect_deflate(ws_url(live_url, members[2].token), compression="deflate") as deflate:
            assert not deflate.protocol.extensions, "the server accepted permessage-deflate"
            assert json.loads(deflate.recv(timeout=WAIT))["type"] == "ready"
            posted = []
            for content in ("short", "a longer message " * 20):  # both frame header sizes (< 126, < 64 KiB)
                status, body = http("POST", f"{live_url}/api/v1/groups/{group_id}/messages", leader,
                                    {"content": content, "message_type": "text"})
                assert status == 201, body
                posted.append(body["data"])
            for sent in posted:
                def is_it(e, id=sent["message_id"]):
                    return e["type"] == "message.created" and e["data"]["message_id"] == id
                for ws in plain:
                    assert events_until(ws, is_it)[-1] == {"type": "message.created", "data": sent}
                while not is_it(event := json.loads(deflate.recv(timeout=WAIT))):
                    pass
                assert event == {"type": "message.created", "data": sent}
    finally:
        for ws in plain:
            ws.close()
