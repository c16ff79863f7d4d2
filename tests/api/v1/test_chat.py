"""Group chat: posting, editing, deleting, reactions, read markers and unread counts, cursor paging
while others keep writing, who may do what, and isolation between colleges."""
import threading
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from studysync.db import db
from studysync.errors import Conflict
from studysync.models import GroupMessage, MessageReaction, User
from studysync.services.chat import delete_message, edit_message, post_message, toggle_reaction
from studysync.tenancy import tenant_context
from tests.factories import Factory, make_classroom, make_group


def post(client, actor, group_id, content="hello", **body):
    return client.post(f"/api/v1/groups/{group_id}/messages", headers=actor.headers,
                       json={"content": content, **body})


def sent(client, actor, group_id, content="hello", **body):
    r = post(client, actor, group_id, content, **body)
    assert r.status_code == 201, r.json
    return r.json["data"]


def read(client, actor, group_id, **query):
    r = client.get(f"/api/v1/groups/{group_id}/messages", headers=actor.headers, query_string=query)
    assert r.status_code == 200, r.json
    return r.json


def react(client, actor, message_id, emoji):
    return client.post(f"/api/v1/messages/{message_id}/reactions", headers=actor.headers, json={"emoji": emoji})


def my_groups(client, actor):
    r = client.get("/api/v1/groups/mine", headers=actor.headers)
    assert r.status_code == 200, r.json
    return {g["group_id"]: g for g in r.json["data"]}


def group_of(client, kit, members_count=2, **fields):
    """A group led by the first student with the next `members_count - 1` students as members."""
    leader, *others = kit.students[:members_count]
    group = make_group(client, leader, **fields)
    for other in others:
        assert client.post(f"/api/v1/groups/{group['group_id']}/join", headers=other.headers).status_code == 200
    return group["group_id"]


def post_many(app, kit_id, sender, group_id, texts):
    """Many messages through the same service the route uses (the route is rate-limited)."""
    with app.app_context(), tenant_context(kit_id):
        user = db.session.get(User, sender.id)
        ids = []
        for text in texts:  # one unit of work per message, as one request each would be
            ids.append(post_message(user, group_id, text)["message_id"])
            db.session.commit()
        return ids


def test_members_post_and_read_text_image_and_announcements(client, factory):
    kit = factory.college(students_count=3)
    leader, member, _ = kit.students
    group_id = group_of(client, kit)

    text = sent(client, member, group_id, "  Meeting tomorrow at 6pm in Milner 304  ")
    assert text["content"] == "Meeting tomorrow at 6pm in Milner 304" and text["message_type"] == "text"
    assert text["sender_id"] == member.id and text["sender_name"] == member.name
    assert text["created_at"].endswith("Z") and text["reactions"] == [] and text["is_deleted"] is False
    image = sent(client, member, group_id, "the whiteboard", message_type="image",
                 image_url="https://example.edu/board.png")
    assert image["image_url"] == "https://example.edu/board.png" and image["content"] == "the whiteboard"
    announcement = sent(client, leader, group_id, "Quiz moved to Friday", message_type="announcement")
    assert announcement["message_type"] == "announcement"

    body = read(client, leader, group_id)
    assert [m["message_id"] for m in body["data"]] == [text["message_id"], image["message_id"],
                                                       announcement["message_id"]]
    assert body["cursor"] == {"oldest": text["message_id"], "newest": announcement["message_id"], "has_more": False}


def test_bad_messages_are_400_and_change_nothing(client, factory):
    kit = factory.college()
    leader, member = kit.students
    group_id = group_of(client, kit)
    bad = [
        ({"content": "   "}, "content"),
        ({"content": "x" * 4001}, "content"),
        ({"content": None}, "content"),
        ({"content": "hi", "message_type": "video"}, "message_type"),
        ({"content": "", "message_type": "image"}, "image_url"),
        ({"content": "", "message_type": "image", "image_url": "javascript:alert(1)"}, "image_url"),
        ({"content": "", "message_type": "image", "image_url": "ftp://example.edu/a.png"}, "image_url"),
        ({"content": "", "message_type": "image", "image_url": "https://"}, "image_url"),
        ({"content": "hi", "mention_ids": "everyone"}, "mention_ids"),
    ]
    for body, field in bad:
        r = client.post(f"/api/v1/groups/{group_id}/messages", headers=member.headers, json=body)
        assert r.status_code == 400, (body, r.json)
        assert r.json["success"] is False and field in r.json["errors"], (body, r.json)
    r = client.post(f"/api/v1/groups/{group_id}/messages", headers=member.headers, data="hi",
                    content_type="text/plain")
    assert r.status_code == 415
    assert read(client, leader, group_id)["data"] == []


def test_only_the_leader_or_the_groups_teacher_announce(client, factory):
    kit = factory.college(students_count=3)
    leader, member, _ = kit.students
    classroom = make_classroom(client, kit, students=kit.students)
    group_id = group_of(client, kit, classroom_id=classroom["classroom_id"])

    r = post(client, member, group_id, "I declare", message_type="announcement")
    assert r.status_code == 403
    assert post(client, leader, group_id, "From the leader", message_type="announcement").status_code == 201
    # the classroom's teacher is not a member, yet reads, posts and announces
    assert post(client, kit.teacher, group_id, "From the teacher", message_type="announcement").status_code == 201
    assert [m["content"] for m in read(client, kit.teacher, group_id)["data"]] == ["From the leader", "From the teacher"]


def test_only_active_members_and_moderators_use_the_chat(client, factory):
    kit = factory.college(students_count=4)
    leader, member, outsider, requester = kit.students
    group_id = group_of(client, kit)
    sent(client, member, group_id, "members only")

    for actor in (outsider, requester):
        assert post(client, actor, group_id, "let me in").status_code == 403
        assert client.get(f"/api/v1/groups/{group_id}/messages", headers=actor.headers).status_code == 403
    # a pending request does not open the chat
    other_id = make_group(client, leader, join_policy="request")["group_id"]
    assert client.post(f"/api/v1/groups/{other_id}/join", headers=requester.headers).json["data"]["status"] == "pending"
    assert post(client, requester, other_id, "still waiting").status_code == 403
    # a teacher who does not teach this group is not a moderator; an admin is
    assert client.get(f"/api/v1/groups/{group_id}/messages", headers=kit.teacher.headers).status_code == 403
    assert [m["content"] for m in read(client, kit.admin, group_id)["data"]] == ["members only"]


def test_a_removed_member_loses_access_at_once_and_a_member_who_left_too(client, factory):
    kit = factory.college(students_count=3)
    leader, member, third = kit.students
    group_id = group_of(client, kit, members_count=3)
    message = sent(client, member, group_id, "mine")

    r = client.delete(f"/api/v1/groups/{group_id}/members", headers=leader.headers, json={"user_ids": [member.id]})
    assert r.status_code == 200, r.json
    assert client.get(f"/api/v1/groups/{group_id}/messages", headers=member.headers).status_code == 403
    assert post(client, member, group_id, "after removal").status_code == 403
    assert client.patch(f"/api/v1/messages/{message['message_id']}", headers=member.headers,
                        json={"content": "edited"}).status_code == 403
    assert react(client, member, message["message_id"], "👍").status_code == 403

    assert client.post(f"/api/v1/groups/{group_id}/leave", headers=third.headers).status_code == 200
    assert client.get(f"/api/v1/groups/{group_id}/messages", headers=third.headers).status_code == 403
    # the history stays for those still in the group
    assert [m["content"] for m in read(client, leader, group_id)["data"]] == ["mine"]


def test_the_author_edits_and_nobody_else(client, factory):
    kit = factory.college()
    leader, member = kit.students
    group_id = group_of(client, kit)
    message = sent(client, member, group_id, "teh quiz")

    r = client.patch(f"/api/v1/messages/{message['message_id']}", headers=leader.headers, json={"content": "x"})
    assert r.status_code == 403
    r = client.patch(f"/api/v1/messages/{message['message_id']}", headers=member.headers, json={"content": "the quiz"})
    assert r.status_code == 200, r.json
    assert r.json["data"]["content"] == "the quiz" and r.json["data"]["edited_at"].endswith("Z")
    r = client.patch(f"/api/v1/messages/{message['message_id']}", headers=member.headers, json={"content": "  "})
    assert r.status_code == 400
    (shown,) = read(client, leader, group_id)["data"]
    assert shown["content"] == "the quiz" and shown["edited_at"] is not None


def test_soft_delete_by_author_leader_or_moderator_erases_the_content_everywhere(client, factory):
    kit = factory.college(students_count=3)
    leader, member, third = kit.students
    classroom = make_classroom(client, kit, students=kit.students)
    group_id = group_of(client, kit, members_count=3, classroom_id=classroom["classroom_id"])
    by_author, by_leader, by_teacher, by_admin, kept = (
        sent(client, member, group_id, text)["message_id"] for text in ("one", "two", "three", "four", "five"))
    assert react(client, third, by_author, "👍").status_code == 200

    assert client.delete(f"/api/v1/messages/{kept}", headers=third.headers).status_code == 403
    for actor, message_id in ((member, by_author), (leader, by_leader), (kit.teacher, by_teacher),
                              (kit.admin, by_admin)):
        r = client.delete(f"/api/v1/messages/{message_id}", headers=actor.headers)
        assert r.status_code == 200, r.json
        assert r.json["data"]["is_deleted"] is True and r.json["data"]["content"] is None
    assert client.delete(f"/api/v1/messages/{by_author}", headers=member.headers).status_code == 200  # idempotent

    shown = read(client, third, group_id)["data"]
    assert [m["message_id"] for m in shown] == [by_author, by_leader, by_teacher, by_admin, kept]
    for m in shown[:4]:
        assert m["is_deleted"] and m["content"] is None and m["image_url"] is None and m["reactions"] == []
        assert m["deleted_at"].endswith("Z")
    assert shown[4]["content"] == "five"
    # a deleted message can be neither edited nor reacted to
    assert client.patch(f"/api/v1/messages/{by_author}", headers=member.headers,
                        json={"content": "back"}).status_code == 409
    assert react(client, third, by_author, "👍").status_code == 409


def test_reactions_toggle_and_come_back_grouped_by_emoji(client, factory):
    kit = factory.college(students_count=3)
    leader, member, third = kit.students
    group_id = group_of(client, kit, members_count=3)
    message_id = sent(client, leader, group_id, "Passed the midterm!")["message_id"]

    for actor, emoji in ((member, "🎉"), (third, "🎉"), (third, "👍"), (leader, "🎉")):
        assert react(client, actor, message_id, emoji).status_code == 200
    r = react(client, leader, message_id, "🎉")  # toggled off again
    assert r.status_code == 200
    assert r.json["data"]["reactions"] == [
        {"emoji": "🎉", "count": 2, "reacted": False, "user_ids": [member.id, third.id]},
        {"emoji": "👍", "count": 1, "reacted": False, "user_ids": [third.id]},
    ]
    (shown,) = read(client, third, group_id)["data"]
    assert [(r["emoji"], r["count"], r["reacted"]) for r in shown["reactions"]] == [("🎉", 2, True), ("👍", 1, True)]
    for bad in ("", "   ", "two words", "x" * 17):
        assert react(client, member, message_id, bad).status_code == 400


def test_unread_counts_and_read_markers_feed_my_groups(client, factory):
    kit = factory.college(students_count=3)
    leader, member, _ = kit.students
    group_id = group_of(client, kit)
    assert my_groups(client, member)[group_id]["unread_count"] == 0

    ids = [sent(client, leader, group_id, f"m{i}")["message_id"] for i in range(3)]
    assert my_groups(client, member)[group_id]["unread_count"] == 3
    assert my_groups(client, leader)[group_id]["unread_count"] == 0  # one's own messages are read

    r = client.post(f"/api/v1/groups/{group_id}/read", headers=member.headers, json={"message_id": ids[0]})
    assert r.status_code == 200 and r.json["data"] == {"group_id": group_id, "last_read_message_id": ids[0],
                                                       "unread_count": 2}
    # the marker never moves back
    client.post(f"/api/v1/groups/{group_id}/read", headers=member.headers, json={"message_id": ids[2]})
    r = client.post(f"/api/v1/groups/{group_id}/read", headers=member.headers, json={"message_id": ids[1]})
    assert r.json["data"]["last_read_message_id"] == ids[2] and r.json["data"]["unread_count"] == 0

    new = sent(client, leader, group_id, "m3")["message_id"]
    sent(client, leader, group_id, "m4")
    assert client.delete(f"/api/v1/messages/{new}", headers=leader.headers).status_code == 200
    assert my_groups(client, member)[group_id]["unread_count"] == 1  # a deleted message is not unread
    r = client.post(f"/api/v1/groups/{group_id}/read", headers=member.headers, json={})
    assert r.json["data"]["unread_count"] == 0

    r = client.post(f"/api/v1/groups/{group_id}/read", headers=member.headers, json={"message_id": "nope"})
    assert r.status_code == 400 and "message_id" in r.json["errors"]


def test_a_new_member_starts_with_nothing_unread(client, factory):
    kit = factory.college(students_count=3)
    leader, member, newcomer = kit.students
    group_id = group_of(client, kit)
    sent(client, leader, group_id, "before you came")
    assert client.post(f"/api/v1/groups/{group_id}/join", headers=newcomer.headers).status_code == 200
    assert my_groups(client, newcomer)[group_id]["unread_count"] == 0
    sent(client, leader, group_id, "welcome")
    assert my_groups(client, newcomer)[group_id]["unread_count"] == 1


def test_groups_sort_by_their_latest_message(client, factory):
    kit = factory.college()
    leader, member = kit.students
    first = group_of(client, kit)
    second = group_of(client, kit)
    assert list(my_groups(client, member))[:2] == [second, first]
    sent(client, member, first, "bump")
    assert list(my_groups(client, member))[:2] == [first, second]
    r = client.get(f"/api/v1/groups/{first}", headers=member.headers)
    assert r.json["data"]["last_message_at"] is not None


def test_paging_backwards_while_new_messages_arrive_sees_each_message_once(app, client, factory):
    kit = factory.college()
    leader, member = kit.students
    group_id = group_of(client, kit)
    originals = post_many(app, kit.id, leader, group_id, [f"m{i}" for i in range(250)])
    arrived, seen = [], []

    first = read(client, member, group_id, limit=50)
    pages = [first]
    while pages[-1]["cursor"]["has_more"]:
        # five new messages land between every two page fetches (twenty in all)
        arrived += post_many(app, kit.id, member, group_id, [f"new{len(arrived) + i}" for i in range(5)])
        pages.append(read(client, member, group_id, limit=50, before=pages[-1]["cursor"]["oldest"]))
    for page in pages:
        stamps = [(m["created_at"], m["message_id"]) for m in page["data"]]
        assert stamps == sorted(stamps), "oldest to newest within a page"
        seen += [m["message_id"] for m in page["data"]]
    assert len(pages) == 5 and len(arrived) == 20

    cursor = first["cursor"]["newest"]  # then catch up on what arrived meanwhile
    while True:
        page = read(client, member, group_id, limit=7, after=cursor)
        seen += [m["message_id"] for m in page["data"]]
        if not page["cursor"]["has_more"]:
            break
        cursor = page["cursor"]["newest"]

    assert len(seen) == len(set(seen)) == 270
    assert set(seen) == set(originals) | set(arrived)
    assert read(client, member, group_id, after=arrived[-1])["data"] == []


def test_concurrent_posters_never_leave_a_message_behind_an_after_cursor(app_factory):
    """Writers racing each other: a reader polling with `after` still sees every message once."""
    app = app_factory(ratelimit_api="100000 per minute")  # the reader polls as fast as it can
    client = app.test_client()
    kit = Factory(app, client).college(students_count=4)
    group_id = group_of(client, kit, members_count=4)
    reader = kit.students[0]
    cursor = sent(client, reader, group_id, "start")["message_id"]
    start = threading.Barrier(4)
    posted = []

    def writer(actor):
        start.wait()
        posted.extend(post_many(app, kit.id, actor, group_id, [f"{actor.name} {i}" for i in range(15)]))

    threads = [threading.Thread(target=writer, args=(actor,)) for actor in kit.students[1:]]
    for thread in threads:
        thread.start()
    start.wait()
    seen = []
    while True:
        writing = any(t.is_alive() for t in threads)
        page = read(client, reader, group_id, limit=10, after=cursor)
        seen += [m["message_id"] for m in page["data"]]
        cursor = page["cursor"]["newest"] or cursor
        if not writing and not page["cursor"]["has_more"]:
            break
    for thread in threads:
        thread.join()
    assert len(seen) == len(set(seen)) == 45 and set(seen) == set(posted)


def test_mentions_notify_the_members_named(client, factory):
    kit = factory.college(students_count=3)
    leader, member, outsider = kit.students
    group_id = group_of(client, kit)
    sent(client, leader, group_id, "@you can you bring the notes?", mention_ids=[member.id, outsider.id, leader.id])

    def mentions(actor):
        r = client.get("/api/v1/notifications", headers=actor.headers)
        return [n for n in r.json["data"] if n["type"] == "group_message_mention"]

    (note,) = mentions(member)
    assert note["data"]["groupId"] == group_id and leader.name in note["title"]
    assert mentions(outsider) == [] and mentions(leader) == []


def test_archived_groups_keep_their_history_but_take_no_new_messages(client, factory):
    kit = factory.college()
    leader, member = kit.students
    group_id = group_of(client, kit)
    sent(client, member, group_id, "last words")
    assert client.post(f"/api/v1/groups/{group_id}/archive", headers=leader.headers).status_code == 200
    assert post(client, member, group_id, "anyone?").status_code == 409
    assert [m["content"] for m in read(client, member, group_id)["data"]] == ["last words"]


def test_another_colleges_people_get_404_on_every_chat_route(client, factory):
    kit, other = factory.college(), factory.college()
    leader, member = kit.students
    group_id = group_of(client, kit)
    message_id = sent(client, member, group_id, "private")["message_id"]

    for outsider in (other.student, other.teacher, other.admin):
        h = outsider.headers
        for r in (client.get(f"/api/v1/groups/{group_id}/messages", headers=h),
                  client.post(f"/api/v1/groups/{group_id}/messages", headers=h, json={"content": "hi"}),
                  client.post(f"/api/v1/groups/{group_id}/read", headers=h, json={}),
                  client.patch(f"/api/v1/messages/{message_id}", headers=h, json={"content": "x"}),
                  client.delete(f"/api/v1/messages/{message_id}", headers=h),
                  client.post(f"/api/v1/messages/{message_id}/reactions", headers=h, json={"emoji": "👍"})):
            assert r.status_code == 404, (outsider.role, r.request.method, r.request.path, r.json)
    # and a cursor from another group is refused rather than silently ignored
    own = group_of(client, kit)
    r = client.get(f"/api/v1/groups/{own}/messages", headers=leader.headers, query_string={"before": message_id})
    assert r.status_code == 400 and "before" in r.json["errors"]
    assert [m["content"] for m in read(client, leader, group_id)["data"]] == ["private"]


def test_chat_feature_off_is_403_naming_it(client, factory):
    kit = factory.college(features=["core", "social"])
    leader, member = kit.students
    group_id = group_of(client, kit)
    for r in (post(client, member, group_id), client.get(f"/api/v1/groups/{group_id}/messages", headers=member.headers),
              client.post(f"/api/v1/groups/{group_id}/read", headers=member.headers, json={})):
        assert r.status_code == 403 and "chat" in r.json["message"]


def test_the_sysadmin_has_no_college_chat(client, factory):
    kit = factory.college()
    group_id = group_of(client, kit)
    sysadmin = factory.sysadmin()
    r = client.get(f"/api/v1/groups/{group_id}/messages", headers=sysadmin.headers)
    assert r.status_code == 403


def in_two_days():
    return (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()


def test_scheduling_a_study_session_announces_it_in_the_chat(client, factory):
    kit = factory.college()
    leader, member = kit.students
    group_id = group_of(client, kit)
    r = client.post(f"/api/v1/groups/{group_id}/sessions", headers=member.headers,
                    json={"title": "Midterm review", "scheduled_time": in_two_days(), "location": "Milner 304"})
    assert r.status_code == 201, r.json
    (announcement,) = read(client, leader, group_id)["data"]
    assert announcement["message_type"] == "announcement" and announcement["sender_id"] == member.id
    assert "Midterm review" in announcement["content"] and "Milner 304" in announcement["content"]
    assert my_groups(client, leader)[group_id]["unread_count"] == 1

    quiet = factory.college(features=["core", "study_sessions"])  # no chat: the session alone
    quiet_group = group_of(client, quiet)
    r = client.post(f"/api/v1/groups/{quiet_group}/sessions", headers=quiet.students[0].headers,
                    json={"title": "Review", "scheduled_time": in_two_days()})
    assert r.status_code == 201


def test_an_edit_or_a_reaction_racing_a_delete_never_brings_anything_back(app, client, factory):
    """Whatever order they commit in, a deleted message keeps no content and no reactions."""
    kit = factory.college(students_count=3)
    leader, member, third = kit.students
    group_id = group_of(client, kit, members_count=3)
    ids = post_many(app, kit.id, member, group_id, [f"draft {i}" for i in range(8)])

    def as_user(actor, fn, *args):
        with app.app_context(), tenant_context(kit.id):
            try:
                fn(db.session.get(User, actor.id), *args)
                db.session.commit()
            except Conflict:  # the loser found the message already deleted: that is the point
                pass

    for message_id in ids:
        start = threading.Barrier(3)
        calls = ((member, edit_message, message_id, "edited"), (leader, delete_message, message_id),
                 (third, toggle_reaction, message_id, "👍"))
        racers = [threading.Thread(target=lambda call=call: (start.wait(10), as_user(*call))) for call in calls]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join(30)

    with app.app_context(), tenant_context(kit.id):
        rows = db.session.execute(select(GroupMessage).where(GroupMessage.id.in_(ids))).scalars().all()
        reactions = db.session.execute(select(MessageReaction.message_id)).scalars().all()
    assert len(rows) == 8 and all(row.deleted_at is not None for row in rows)
    assert [row.content for row in rows] == [None] * 8
    assert reactions == []
