"""Direct messages: sending, reading with cursors while others keep writing, unread counts, isolation."""
import threading

from sqlalchemy import event

from studysync.db import db
from studysync.models import User
from studysync.services.direct_messages import send_dm
from studysync.tenancy import tenant_context
from tests.factories import Factory


def send(client, actor, to_id, content):
    return client.post(f"/api/v1/dm/{to_id}/messages", headers=actor.headers, json={"content": content})


def read(client, actor, other_id, **query):
    r = client.get(f"/api/v1/dm/{other_id}/messages", headers=actor.headers, query_string=query)
    assert r.status_code == 200, r.json
    return r.json


def conversations(client, actor):
    r = client.get("/api/v1/conversations", headers=actor.headers)
    assert r.status_code == 200, r.json
    return r.json["data"]


def send_many(app, kit_id, sender, receiver_id, texts):
    """Bulk messages through the same service the route uses (the route is rate-limited)."""
    with app.app_context(), tenant_context(kit_id):
        user = db.session.get(User, sender.id)
        ids = []
        for text in texts:  # one unit of work per message, as one request each would be
            ids.append(send_dm(user, receiver_id, text)["message_id"])
            db.session.commit()
        return ids


def test_send_and_read_a_thread(client, factory):
    kit = factory.college()
    alice, bob = kit.students
    r = send(client, alice, bob.id, "  Hey, want to study Thursday?  ")
    assert r.status_code == 201, r.json
    sent = r.json["data"]
    assert sent["content"] == "Hey, want to study Thursday?"
    assert sent["sender_id"] == alice.id and sent["receiver_id"] == bob.id and sent["sender_name"] == alice.name
    assert sent["created_at"].endswith("Z")
    send(client, bob, alice.id, "Sure!")

    for actor, other in ((alice, bob), (bob, alice)):
        body = read(client, actor, other.id)
        assert [m["content"] for m in body["data"]] == ["Hey, want to study Thursday?", "Sure!"]
        assert body["cursor"] == {"oldest": body["data"][0]["message_id"], "newest": body["data"][1]["message_id"],
                                  "has_more": False}

    r = client.get("/api/v1/notifications", headers=bob.headers)
    (note,) = [n for n in r.json["data"] if n["type"] == "direct_message"]
    assert note["data"]["senderId"] == alice.id and note["data"]["senderName"] == alice.name


def test_an_empty_thread_and_invalid_messages(client, factory):
    kit = factory.college()
    alice, bob = kit.students
    body = read(client, alice, bob.id)
    assert body["data"] == [] and body["cursor"]["has_more"] is False

    for content in ("", "   ", "x" * 4001):
        r = send(client, alice, bob.id, content)
        assert r.status_code == 400 and "content" in r.json["errors"], content
    assert send(client, alice, bob.id, "x" * 4000).status_code == 201
    r = send(client, alice, alice.id, "hi me")
    assert r.status_code == 400 and "yourself" in r.json["message"]
    assert client.post(f"/api/v1/dm/{bob.id}/messages", headers=alice.headers, json={}).status_code == 400
    r = client.post(f"/api/v1/dm/{bob.id}/messages", headers=alice.headers, json={"content": "a", "x": 1})
    assert r.status_code == 400
    r = client.get(f"/api/v1/dm/{bob.id}/messages?before=nope", headers=alice.headers)
    assert r.status_code == 400 and "before" in r.json["errors"]
    r = client.get(f"/api/v1/dm/{bob.id}/messages?limit=101", headers=alice.headers)
    assert r.status_code == 400


def test_a_cursor_from_another_conversation_is_refused(client, factory):
    kit = factory.college(students_count=3)
    alice, bob, carol = kit.students
    other_thread = send(client, alice, carol.id, "for carol").json["data"]["message_id"]
    send(client, alice, bob.id, "for bob")
    r = client.get(f"/api/v1/dm/{bob.id}/messages?before={other_thread}", headers=alice.headers)
    assert r.status_code == 400


def test_paging_backwards_while_new_messages_arrive_sees_each_message_once(app, client, factory):
    kit = factory.college()
    alice, bob = kit.students
    originals = send_many(app, kit.id, alice, bob.id, [f"m{i}" for i in range(250)])
    arrived = []
    seen = []

    first = read(client, bob, alice.id, limit=50)
    newest_seen = first["cursor"]["newest"]
    pages = [first]
    while pages[-1]["cursor"]["has_more"]:
        # five new messages land between every two page fetches (twenty in all)
        arrived += send_many(app, kit.id, alice, bob.id, [f"new{len(arrived) + i}" for i in range(5)])
        pages.append(read(client, bob, alice.id, limit=50, before=pages[-1]["cursor"]["oldest"]))
    for page in pages:
        ids = [m["message_id"] for m in page["data"]]
        times = [(m["created_at"], m["message_id"]) for m in page["data"]]
        assert times == sorted(times), "oldest to newest within a page"
        seen += ids
    assert len(pages) == 5 and seen[:50] == [m["message_id"] for m in first["data"]]
    assert len(arrived) == 20

    cursor = newest_seen
    while True:
        page = read(client, bob, alice.id, limit=7, after=cursor)
        seen += [m["message_id"] for m in page["data"]]
        if not page["cursor"]["has_more"]:
            break
        cursor = page["cursor"]["newest"]

    assert len(seen) == len(set(seen)) == 270
    assert set(seen) == set(originals) | set(arrived)
    assert read(client, bob, alice.id, after=arrived[-1])["data"] == []


def test_conversations_newest_first_with_unread_counts(client, factory):
    kit = factory.college(students_count=3)
    alice, bob, carol = kit.students
    for text in ("one", "two", "three"):
        send(client, bob, alice.id, text)
    send(client, carol, alice.id, "from carol")

    listed = conversations(client, alice)
    assert [c["user"]["user_id"] for c in listed] == [carol.id, bob.id]
    assert [c["unread_count"] for c in listed] == [1, 3]
    assert listed[1]["last_message"]["content"] == "three"
    assert listed[1]["last_message"]["sender_name"] == bob.name
    assert conversations(client, bob)[0]["unread_count"] == 0  # their own messages are not unread

    read(client, alice, bob.id)  # reading marks the thread read
    assert [c["unread_count"] for c in conversations(client, alice)] == [1, 0]
    send(client, bob, alice.id, "four")
    listed = conversations(client, alice)
    assert [c["user"]["user_id"] for c in listed] == [bob.id, carol.id]
    assert [c["unread_count"] for c in listed] == [1, 1]

    # reading an older page does not move the marker back
    oldest = read(client, alice, bob.id, limit=1, after=read(client, alice, bob.id)["data"][0]["message_id"])
    assert oldest["cursor"]["has_more"] is True
    assert conversations(client, alice)[0]["unread_count"] == 0

    # replying counts as having read the thread
    send(client, alice, carol.id, "hi carol")
    assert [c["unread_count"] for c in conversations(client, alice)] == [0, 0]


def test_conversations_take_a_fixed_number_of_queries(app, client, factory):
    kit = factory.college(students_count=1)
    me = kit.student
    engine = app.extensions["studysync.db"].engine

    def queries_for_listing():
        statements = []

        def count(*_args):
            statements.append(1)

        event.listen(engine, "before_cursor_execute", count)
        try:
            listed = conversations(client, me)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements), len(listed)

    first = factory.student_in(kit)
    send(client, first, me.id, "hello")
    few = queries_for_listing()
    for _ in range(6):
        send(client, factory.student_in(kit), me.id, "hello")
    many = queries_for_listing()
    assert few[1] == 1 and many[1] == 7
    assert many[0] == few[0]


def test_sending_is_rate_limited_like_every_route(app_factory):
    app = app_factory(ratelimit_api="3 per minute")
    client = app.test_client()
    kit = Factory(app, client).college()
    alice, bob = kit.students
    statuses = [send(client, alice, bob.id, f"m{i}").status_code for i in range(4)]
    assert statuses == [201, 201, 201, 429]


def test_another_colleges_users_get_404(client, factory):
    kit, other = factory.college(), factory.college()
    alice, bob = kit.students
    outsider = other.student
    send(client, alice, bob.id, "private")

    assert client.get(f"/api/v1/dm/{alice.id}/messages", headers=outsider.headers).status_code == 404
    assert send(client, outsider, alice.id, "hi").status_code == 404
    assert send(client, alice, outsider.id, "hi").status_code == 404
    assert client.get(f"/api/v1/dm/{outsider.id}/messages", headers=alice.headers).status_code == 404
    assert conversations(client, outsider) == []


def test_deactivated_users_keep_their_history_but_get_no_new_messages(client, factory):
    kit = factory.college()
    alice, bob = kit.students
    send(client, alice, bob.id, "before")
    assert client.delete(f"/api/v1/students/{bob.id}", headers=kit.admin.headers).status_code == 200
    assert send(client, alice, bob.id, "after").status_code == 404
    assert [m["content"] for m in read(client, alice, bob.id)["data"]] == ["before"]


def test_chat_feature_off_is_403_naming_it(client, factory):
    kit = factory.college(features=["core", "social"])
    alice, bob = kit.students
    for r in (send(client, alice, bob.id, "hi"), client.get(f"/api/v1/dm/{bob.id}/messages", headers=alice.headers),
              client.get("/api/v1/conversations", headers=alice.headers)):
        assert r.status_code == 403 and "chat" in r.json["message"]


def test_two_people_writing_their_first_messages_at_once_share_one_conversation(app, factory):
    kit = factory.college(students_count=0)
    for _ in range(3):
        alice, bob = factory.student_in(kit), factory.student_in(kit)
        barrier = threading.Barrier(2)
        statuses = []

        def write(sender, receiver):
            client = app.test_client()
            barrier.wait()
            statuses.append(send(client, sender, receiver.id, f"hi from {sender.name}").status_code)

        threads = [threading.Thread(target=write, args=pair) for pair in ((alice, bob), (bob, alice))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        client = app.test_client()
        assert statuses == [201, 201]
        (conversation,) = conversations(client, alice)
        assert conversation["user"]["user_id"] == bob.id
        assert sorted(m["content"] for m in read(client, bob, alice.id)["data"]) == sorted(
            [f"hi from {alice.name}", f"hi from {bob.name}"])
