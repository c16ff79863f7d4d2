"""The two lists the app polls — its notifications every 10 s, an open DM thread every 3 s — answer
304 when nothing changed since the ETag the client holds (issue 15). The tag is decided from one
cheap statement before the list is loaded, so these tests check what a client would notice: the
same tag gives an empty 304, any change gives a 200 with the new body and a new tag, and no user's
tag ever answers for someone else.
"""
from __future__ import annotations

import pytest

from ...test_statement_counts import counted


@pytest.fixture
def pair(factory):
    kit = factory.college(students_count=2)
    return kit, kit.students[0], kit.students[1]


def send(client, sender, receiver, text):
    r = client.post("/api/messages/send", headers=sender.headers, json={"receiverId": receiver.id, "content": text})
    assert r.status_code == 200, r.get_json()


def revalidate(client, path, actor, etag):
    return client.get(path, headers={**actor.headers, "If-None-Match": etag})


def tagged(response):
    assert response.status_code == 200, response.get_json()
    assert response.headers["ETag"]
    assert response.headers["Cache-Control"] == "private, no-cache"
    return response.headers["ETag"]


def assert_not_modified(response, etag):
    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == etag
    assert response.headers["Cache-Control"] == "private, no-cache"


def test_an_unchanged_bell_answers_304_and_a_new_notification_200(client, pair):
    _, me, friend = pair
    send(client, friend, me, "first")
    first = client.get("/api/notifications", headers=me.headers)
    etag = tagged(first)
    assert_not_modified(revalidate(client, "/api/notifications", me, etag), etag)

    send(client, friend, me, "second")
    changed = revalidate(client, "/api/notifications", me, etag)
    new_etag = tagged(changed)
    assert new_etag != etag
    assert [n["message"] for n in changed.get_json()["notifications"]] == ["second", "first"]
    assert changed.get_json()["unreadCount"] == 2
    assert_not_modified(revalidate(client, "/api/notifications", me, new_etag), new_etag)


def test_an_empty_bell_answers_304_until_its_first_notification(client, pair):
    """The tag of an empty list is the same whether the page's window aggregates or the token's
    statement (an outer join, `notifications.BELL_COUNTS`) read the version."""
    _, me, friend = pair
    etag = tagged(client.get("/api/notifications", headers=me.headers))
    assert_not_modified(revalidate(client, "/api/notifications", me, etag), etag)
    send(client, me, friend, "my message notifies them, not me")
    assert_not_modified(revalidate(client, "/api/notifications", me, etag), etag)

    send(client, friend, me, "hi")
    changed = revalidate(client, "/api/notifications", me, etag)
    tagged(changed)
    assert changed.get_json()["unreadCount"] == 1


def test_reading_a_notification_changes_the_bell(client, pair):
    _, me, friend = pair
    send(client, friend, me, "hello")
    listed = client.get("/api/notifications", headers=me.headers)
    etag, notification = tagged(listed), listed.get_json()["notifications"][0]
    assert client.post(f"/api/notifications/{notification['id']}/read", headers=me.headers).status_code == 200

    changed = revalidate(client, "/api/notifications", me, etag)
    tagged(changed)
    assert changed.get_json()["notifications"][0]["read"] is True
    assert changed.get_json()["unreadCount"] == 0


def test_an_unchanged_thread_answers_304_and_a_new_message_200(client, pair):
    _, me, friend = pair
    path = f"/api/messages/{friend.id}"
    send(client, friend, me, "first")
    etag = tagged(client.get(path, headers=me.headers))
    assert_not_modified(revalidate(client, path, me, etag), etag)

    send(client, friend, me, "second")
    changed = revalidate(client, path, me, etag)
    assert tagged(changed) != etag
    assert [m["content"] for m in changed.get_json()["messages"]] == ["first", "second"]


def test_a_thread_shows_its_own_pair_only_and_starts_empty(client, factory, pair):
    """The conversation is looked up by the token's own statement (`auth/current.py`'s
    `Companion`): by the pair, in the caller's college, whoever else talks to either of them."""
    kit, me, friend = pair
    classmate = factory.student_in(kit)
    elsewhere = factory.college(students_count=1).students[0]
    path = f"/api/messages/{friend.id}"
    empty = client.get(path, headers=me.headers)
    etag = tagged(empty)
    assert empty.get_json()["messages"] == []
    assert_not_modified(revalidate(client, path, me, etag), etag)

    send(client, classmate, friend, "to the friend")  # their conversations, not ours
    send(client, classmate, me, "to me")
    assert_not_modified(revalidate(client, path, me, etag), etag)
    send(client, friend, me, "ours")
    changed = revalidate(client, path, me, etag)
    tagged(changed)
    assert [m["content"] for m in changed.get_json()["messages"]] == ["ours"]
    assert client.get(f"/api/messages/{elsewhere.id}", headers=me.headers).status_code == 404
    assert client.get(f"/api/messages/{me.id}", headers=elsewhere.headers).status_code == 404


def test_a_long_thread_shows_its_newest_messages_oldest_first(app, client, pair):
    """The poll reads the newest `MAX_LIMIT` messages (the limit a parameter of one statement built
    once per process), whatever the database."""
    from studysync.services.direct_messages import MAX_LIMIT

    from ..v1.test_dm import send_many

    kit, me, friend = pair
    send_many(app, kit.id, friend, me.id, [f"m{i}" for i in range(MAX_LIMIT + 2)])
    shown = client.get(f"/api/messages/{friend.id}", headers=me.headers)
    assert shown.status_code == 200, shown.get_json()
    assert [m["content"] for m in shown.get_json()["messages"]] == [f"m{i}" for i in range(2, MAX_LIMIT + 2)]


def test_a_renamed_correspondent_changes_the_thread(client, pair):
    kit, me, friend = pair
    path = f"/api/messages/{friend.id}"
    send(client, friend, me, "hi")
    etag = tagged(client.get(path, headers=me.headers))
    renamed = client.put(f"/api/v1/students/{friend.id}/profile", headers=kit.admin.headers,
                         json={"student_name": "Renamed Friend"})
    assert renamed.status_code == 200, renamed.get_json()

    changed = revalidate(client, path, me, etag)
    tagged(changed)
    assert changed.get_json()["messages"][0]["senderName"] == "Renamed Friend"


def test_an_erased_sender_leaves_no_name_behind_a_304(client, pair):
    kit, me, friend = pair
    send(client, friend, me, "hello")
    listed = client.get("/api/notifications", headers=me.headers)
    etag = tagged(listed)
    assert friend.name in listed.get_json()["notifications"][0]["title"]
    erased = client.post(f"/api/v1/users/{friend.id}/erasure", headers=kit.admin.headers)
    assert erased.status_code == 200, erased.get_json()

    changed = revalidate(client, "/api/notifications", me, etag)
    tagged(changed)
    assert friend.name not in changed.get_json()["notifications"][0]["title"]


def test_one_users_tag_never_answers_for_another(client, factory, pair):
    kit, me, friend = pair
    elsewhere = factory.college(students_count=1).students[0]
    classmate = factory.student_in(kit)
    mine = tagged(client.get("/api/notifications", headers=me.headers))  # empty, like theirs
    for other in (friend, classmate, elsewhere):
        theirs = revalidate(client, "/api/notifications", other, mine)
        assert theirs.status_code == 200 and theirs.get_json()["notifications"] == []
        assert theirs.headers["ETag"] != mine

    send(client, friend, me, "between us")  # the same conversation, seen from either side
    my_thread = tagged(client.get(f"/api/messages/{friend.id}", headers=me.headers))
    theirs = revalidate(client, f"/api/messages/{me.id}", friend, my_thread)
    assert theirs.status_code == 200 and [m["content"] for m in theirs.get_json()["messages"]] == ["between us"]


def test_a_held_tag_does_not_bypass_the_rules(client, factory, pair):
    """A tag from before the feature was switched off gets the 403, not a 304."""
    kit, me, friend = pair
    send(client, friend, me, "hi")
    etag = tagged(client.get(f"/api/messages/{friend.id}", headers=me.headers))
    sysadmin = factory.sysadmin()
    off = client.put(f"/api/v1/colleges/{kit.id}/features", headers=sysadmin.headers,
                     json={"enabled_features": ["core"]})
    assert off.status_code == 200, off.get_json()
    assert revalidate(client, f"/api/messages/{friend.id}", me, etag).status_code == 403


def test_a_304_loads_nothing_and_a_poll_locks_nothing(app, client, pair):
    _, me, friend = pair
    for n in range(3):
        send(client, friend, me, f"message {n}")
    thread = f"/api/messages/{friend.id}"
    bell_tag = tagged(client.get("/api/notifications", headers=me.headers))
    thread_tag = tagged(client.get(thread, headers=me.headers))  # reads the thread: the marker moves here

    with counted(app) as statements:
        assert revalidate(client, "/api/notifications", me, bell_tag).status_code == 304
    assert len(statements) == 1, statements  # the token, with the version's aggregates
    with counted(app) as statements:
        assert revalidate(client, thread, me, thread_tag).status_code == 304
    assert len(statements) == 1, statements  # the token, with the URL's user and the conversation
    with counted(app) as statements:  # no validator: the whole thread, but its marker is already there
        assert client.get(thread, headers=me.headers).status_code == 200
    assert len(statements) == 2, statements
    assert not [s for s in statements if "FOR UPDATE" in s.upper() or s.lstrip().upper().startswith(("UPDATE", "INSERT"))]
