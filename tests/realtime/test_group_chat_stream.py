"""Group chat on the live stream, end to end: a member posts over HTTP, the other members' open
sockets get the message as the API returned it; outsiders, revoked tokens and removed members get
nothing; a member who joins while connected starts receiving without reconnecting.

"Nothing" is proved with a marker published on the person's own channel after the fact (a socket's
events arrive in order through one subscription), never by waiting and hoping.
"""
from tests.conftest import TEST_SECRET
from tests.factories import make_group
from tests.support.processes import app_process

from .helpers import (  # noqa: F401 (live_url: fixture)
    Client, connect, events_until, frames_before_marker, http, live_url, refused, ws_url,
)

THUMBS_UP = "\U0001F44D"


def post(base, actor, group_id, content):
    status, body = http("POST", f"{base}/api/v1/groups/{group_id}/messages", actor,
                        {"content": content, "message_type": "text"})
    assert status == 201, body
    return body["data"]


def event_for(event_type, message_id):
    return lambda e: e["type"] == event_type and e["data"].get("message_id") == message_id


def membership_changed(group_id):
    return lambda e: e["type"] == "membership.changed" and e["data"]["group_id"] == group_id


def without_reacted(reactions):
    """The API's reaction groups as the broadcast carries them (`reacted` is per viewer)."""
    return [{k: v for k, v in r.items() if k != "reacted"} for r in reactions]


def test_a_message_reaches_the_other_member_and_no_outsider(app, live_url, factory):
    kit = factory.college(students_count=4)
    alice, bob, carol, dave = kit.students
    group_id = make_group(factory.client, alice, member_ids=[bob.id, dave.id])["group_id"]
    broker = app.extensions["studysync.broker"]
    ws_alice, ws_bob, ws_carol = (connect(live_url, actor) for actor in (alice, bob, carol))
    try:
        sent = post(live_url, alice, group_id, "see you at the library at six")

        assert events_until(ws_bob, event_for("message.created", sent["message_id"])) == [
            {"type": "message.created", "data": sent}]
        assert events_until(ws_alice, event_for("message.created", sent["message_id"]))[-1] == {
            "type": "message.created", "data": sent}  # the sender's other devices see it too
        assert frames_before_marker(broker, ws_carol, carol.id) == []  # same college, not a member
    finally:
        for ws in (ws_alice, ws_bob, ws_carol):
            ws.close()

    # dave is a member, but his token was revoked by logging out: the stream refuses it
    assert http("POST", f"{live_url}/api/v1/auth/logout", dave)[0] == 200
    message, code = refused(Client.connect(ws_url(live_url, dave.token)))
    assert message == {"type": "error", "message": "Invalid or expired token"}
    assert code == 4401


def test_edits_reactions_and_deletes_reach_the_other_member(live_url, factory):
    kit = factory.college()
    alice, bob = kit.students
    group_id = make_group(factory.client, alice, member_ids=[bob.id])["group_id"]
    ws_alice, ws_bob = connect(live_url, alice), connect(live_url, bob)
    try:
        sent = post(live_url, alice, group_id, "quiz on friday?")
        message_id = sent["message_id"]
        url = f"{live_url}/api/v1/messages/{message_id}"

        status, body = http("PATCH", url, alice, {"content": "quiz on thursday?"})
        assert status == 200, body
        edited = body["data"]
        assert edited["content"] == "quiz on thursday?" and edited["edited_at"]
        assert events_until(ws_bob, event_for("message.updated", message_id))[-1] == {
            "type": "message.updated", "data": edited}

        status, body = http("POST", f"{url}/reactions", bob, {"emoji": THUMBS_UP})
        assert status == 200, body
        added = events_until(ws_alice, event_for("reaction.changed", message_id))[-1]
        assert added == {"type": "reaction.changed", "data": {
            "message_id": message_id, "group_id": group_id, "user_id": bob.id, "emoji": THUMBS_UP,
            "added": True, "reactions": [{"emoji": THUMBS_UP, "count": 1, "user_ids": [bob.id]}]}}
        assert added["data"]["reactions"] == without_reacted(body["data"]["reactions"])

        status, body = http("POST", f"{url}/reactions", bob, {"emoji": THUMBS_UP})  # taken back
        assert status == 200, body
        taken_back = events_until(ws_alice, event_for("reaction.changed", message_id))[-1]["data"]
        assert (taken_back["added"], taken_back["reactions"], body["data"]["reactions"]) == (False, [], [])

        status, body = http("DELETE", url, alice)
        assert status == 200, body
        assert body["data"]["is_deleted"] and body["data"]["content"] is None
        assert events_until(ws_bob, event_for("message.deleted", message_id))[-1] == {
            "type": "message.deleted",
            "data": {"message_id": message_id, "group_id": group_id, "deleted_at": body["data"]["deleted_at"]}}
    finally:
        ws_alice.close()
        ws_bob.close()


def test_a_removed_member_stops_receiving_and_a_joining_student_starts(app, live_url, factory):
    kit = factory.college(students_count=4)
    alice, bob, carol, dave = kit.students
    group_id = make_group(factory.client, alice, member_ids=[bob.id, carol.id])["group_id"]
    broker = app.extensions["studysync.broker"]
    messages_url = f"{live_url}/api/v1/groups/{group_id}/messages"
    ws_bob, ws_carol, ws_dave = (connect(live_url, actor) for actor in (bob, carol, dave))
    try:
        # the leader removes bob while his socket is open
        status, body = http("DELETE", f"{live_url}/api/v1/groups/{group_id}/members", alice, {"user_ids": [bob.id]})
        assert status == 200, body
        assert events_until(ws_bob, membership_changed(group_id))[-1]["data"] == {
            "group_id": group_id, "status": "removed"}

        sent = post(live_url, alice, group_id, "bob is gone")
        events_until(ws_carol, event_for("message.created", sent["message_id"]))  # it was sent to the group
        assert frames_before_marker(broker, ws_bob, bob.id) == []
        status, body = http("GET", messages_url, bob)
        assert status == 403, body

        # dave is not a member yet: the group's chat does not reach him
        before = post(live_url, alice, group_id, "before dave")
        events_until(ws_carol, event_for("message.created", before["message_id"]))
        assert frames_before_marker(broker, ws_dave, dave.id) == []

        # he joins the open group on the same socket and receives the next message
        status, body = http("POST", f"{live_url}/api/v1/groups/{group_id}/join", dave)
        assert status == 200 and body["data"]["status"] == "active", body
        assert events_until(ws_dave, membership_changed(group_id))[-1]["data"] == {
            "group_id": group_id, "status": "active"}
        welcome = post(live_url, alice, group_id, "welcome, dave")
        assert events_until(ws_dave, event_for("message.created", welcome["message_id"])) == [
            {"type": "message.created", "data": welcome}]
    finally:
        for ws in (ws_bob, ws_carol, ws_dave):
            ws.close()


def test_a_group_message_crosses_app_processes_through_redis(migrated_database, redis_url, factory):
    kit = factory.college()
    alice, bob = kit.students
    group_id = make_group(factory.client, alice, member_ids=[bob.id])["group_id"]
    env = {"DATABASE_URL": migrated_database, "JWT_SECRET_KEY": TEST_SECRET, "BCRYPT_ROUNDS": "4",
           "REDIS_URL": redis_url, "EMBEDDING_MODEL": "hashing", "SYSADMIN_EMAIL": "", "SYSADMIN_PASSWORD": ""}
    with app_process(env) as first, app_process(env) as second:
        ws = connect(second, bob)  # bob's socket is held by the second process
        try:
            sent = post(first, alice, group_id, "posted through the first process")
            assert events_until(ws, event_for("message.created", sent["message_id"])) == [
                {"type": "message.created", "data": sent}]
        finally:
            ws.close()
