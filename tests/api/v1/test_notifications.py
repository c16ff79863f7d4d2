"""Notifications: created inside the caller's transaction, read and marked by their owner only."""
from sqlalchemy import func, select

from studysync.db import db
from studysync.models import Notification
from studysync.realtime import Event, user_channel
from studysync.services import notifications
from studysync.services.events import pending_events
from studysync.tenancy import all_tenants, tenant_context


def send(app, kit, user_id, n, type="join_request"):
    with app.app_context(), tenant_context(kit.id):
        for i in range(n):
            notifications.notify(user_id, type, f"Title {i}", f"Message {i}", {"groupId": f"g{i}"})
        db.session.commit()


def test_notify_joins_the_callers_transaction_and_queues_a_live_event(app, factory):
    kit = factory.college(students_count=1)
    with app.app_context(), tenant_context(kit.id):
        note = notifications.notify(kit.student.id, "join_request", "New join request", "Sam wants to join",
                                    {"groupId": "g1"})
        events = pending_events()
        assert events == [Event("notification.created", notifications.event_payload(note),
                                (user_channel(kit.student.id),))]
        assert events[0].data["created_at"].endswith("Z") and events[0].data["notification_id"] == note.id
        db.session.rollback()  # the caller's change failed: no notification
    with app.app_context(), all_tenants():
        assert db.session.execute(select(func.count()).select_from(Notification)).scalar_one() == 0


def test_list_newest_first_with_unread_count_and_marking_read(app, client, factory):
    kit = factory.college(students_count=2)
    me, other = kit.students
    send(app, kit, me.id, 3)
    send(app, kit, other.id, 1)

    r = client.get("/api/v1/notifications", headers=me.headers)
    assert r.status_code == 200
    assert [n["title"] for n in r.json["data"]] == ["Title 2", "Title 1", "Title 0"]
    assert r.json["unread_count"] == 3 and r.json["pagination"]["total"] == 3
    first = r.json["data"][0]
    assert first["type"] == "join_request" and first["data"] == {"groupId": "g2"} and first["read"] is False

    r = client.post(f"/api/v1/notifications/{first['notification_id']}/read", headers=me.headers)
    assert r.status_code == 200 and r.json["data"]["read"] is True and r.json["data"]["read_at"].endswith("Z")
    r = client.get("/api/v1/notifications?unread=true", headers=me.headers)
    assert [n["title"] for n in r.json["data"]] == ["Title 1", "Title 0"] and r.json["unread_count"] == 2
    r = client.get("/api/v1/notifications?limit=1&page=2", headers=me.headers)
    assert [n["title"] for n in r.json["data"]] == ["Title 1"] and r.json["pagination"]["pages"] == 3

    # Someone else's notification is simply not found, and stays unread.
    theirs = client.get("/api/v1/notifications", headers=other.headers).json["data"][0]
    assert client.post(f"/api/v1/notifications/{theirs['notification_id']}/read", headers=me.headers).status_code == 404
    assert client.get("/api/v1/notifications", headers=other.headers).json["unread_count"] == 1

    r = client.post("/api/v1/notifications/read-all", headers=me.headers)
    assert r.status_code == 200 and r.json["data"] == {"updated": 2, "unread_count": 0}
    assert client.get("/api/v1/notifications", headers=me.headers).json["unread_count"] == 0
    assert client.get("/api/v1/notifications", headers=other.headers).json["unread_count"] == 1


def test_available_without_the_social_feature(app, client, factory):
    kit = factory.college(students_count=1, features=["core"])
    send(app, kit, kit.student.id, 1)
    r = client.get("/api/v1/notifications", headers=kit.student.headers)
    assert r.status_code == 200 and r.json["unread_count"] == 1
    assert client.get("/api/v1/notifications", headers=kit.teacher.headers).json["data"] == []
    assert client.get("/api/v1/notifications").status_code == 401


def test_another_colleges_users_get_404(app, client, factory):
    victim = factory.college(students_count=1)
    send(app, victim, victim.student.id, 1)
    with app.app_context(), all_tenants():
        note_id = db.session.execute(select(Notification.id)).scalar_one()
    intruders = factory.college(students_count=1)
    for actor in (intruders.admin, intruders.teacher, intruders.student):
        r = client.post(f"/api/v1/notifications/{note_id}/read", headers=actor.headers)
        assert r.status_code == 404, actor.role
        assert client.get("/api/v1/notifications", headers=actor.headers).json["data"] == []
        client.post("/api/v1/notifications/read-all", headers=actor.headers)
    with app.app_context(), all_tenants():
        assert db.session.get(Notification, note_id).read_at is None


def revalidate(client, path, actor, etag):
    return client.get(path, headers={**actor.headers, "If-None-Match": etag})


def test_the_list_answers_304_until_something_changes(app, client, factory):
    """Issue 15: the list carries an ETag; revalidating with it is a bodyless 304 until a notification
    arrives, is read or is deleted — each moves the tag and brings the new list."""
    kit = factory.college(students_count=1)
    me = kit.student
    send(app, kit, me.id, 2)
    path = "/api/v1/notifications"
    listed = client.get(path, headers=me.headers)
    etag = listed.headers["ETag"]
    assert listed.status_code == 200 and listed.headers["Cache-Control"] == "private, no-cache"
    unchanged = revalidate(client, path, me, etag)
    assert unchanged.status_code == 304 and unchanged.data == b"" and unchanged.headers["ETag"] == etag

    send(app, kit, me.id, 1)  # a new one
    arrived = revalidate(client, path, me, etag)
    assert arrived.status_code == 200 and arrived.json["pagination"]["total"] == 3 and arrived.json["unread_count"] == 3
    assert arrived.headers["ETag"] != etag
    etag = arrived.headers["ETag"]

    first = arrived.json["data"][0]["notification_id"]
    assert client.post(f"/api/v1/notifications/{first}/read", headers=me.headers).status_code == 200
    read = revalidate(client, path, me, etag)
    assert read.status_code == 200 and read.json["data"][0]["read"] is True and read.json["unread_count"] == 2
    etag = read.headers["ETag"]

    with app.app_context(), tenant_context(kit.id):  # a deletion (an erasure's cascade, say)
        db.session.delete(db.session.get(Notification, first))
        db.session.commit()
    deleted = revalidate(client, path, me, etag)
    assert deleted.status_code == 200 and deleted.json["pagination"]["total"] == 2
    assert first not in [n["notification_id"] for n in deleted.json["data"]]

    assert client.post("/api/v1/notifications/read-all", headers=me.headers).status_code == 200
    all_read = revalidate(client, path, me, deleted.headers["ETag"])
    assert all_read.status_code == 200 and all_read.json["unread_count"] == 0


def test_each_page_and_filter_has_its_own_tag(app, client, factory):
    kit = factory.college(students_count=2)
    me, other = kit.students
    send(app, kit, me.id, 3)
    tags = {}
    for query in ("", "?limit=1", "?limit=1&page=2", "?unread=true", "?limit=1&page=9"):
        listed = client.get(f"/api/v1/notifications{query}", headers=me.headers)
        assert listed.status_code == 200 and listed.json["pagination"]["total"] == 3
        tags[query] = listed.headers["ETag"]
        assert revalidate(client, f"/api/v1/notifications{query}", me, tags[query]).status_code == 304
    assert len(set(tags.values())) == len(tags)
    # Nobody else's list answers to my tag, not even an empty one of the same shape.
    theirs = revalidate(client, "/api/v1/notifications", other, tags[""])
    assert theirs.status_code == 200 and theirs.json["data"] == []
