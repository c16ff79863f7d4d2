"""Study groups: seed 003's classroom groups, seed 000's ratings and limits, join policies, requests."""
from datetime import datetime

import pytest
from sqlalchemy import func, select

from studysync.db import db
from studysync.models import GroupMember, StudyGroup
from studysync.tenancy import all_tenants

from ...factories import make_classroom, make_group


def url(group, suffix=""):
    return f"/api/v1/groups/{group['group_id']}{suffix}"


def get_group(client, group, actor):
    r = client.get(url(group), headers=actor.headers)
    assert r.status_code == 200, r.json
    return r.json["data"]


def join(client, group, actor):
    return client.post(url(group, "/join"), headers=actor.headers)


def ids(*actors):
    return [a.id for a in actors]


def listed(client, path, actor):
    r = client.get(path, headers=actor.headers)
    assert r.status_code == 200, r.json
    return [g["group_id"] for g in r.json["data"]]


def membership_rows(app, group_id):
    with app.app_context(), all_tenants():
        return db.session.execute(
            select(GroupMember.user_id, GroupMember.status).where(GroupMember.group_id == group_id)
        ).all()


# Seed 003: the eight documented operations -------------------------------------------------------


def test_seed_003_classroom_groups_end_to_end(client, factory):
    kit = factory.college(students_count=5)
    s1, s2, s3, s4, s5 = kit.students
    outsider = factory.student_in(kit)  # same college, not in the classroom
    room = make_classroom(client, kit, [s1, s2, s3, s4, s5])
    room_id = room["classroom_id"]

    # 1. Create: classroom + members; every member must exist and belong to the classroom.
    body = {"classroom_id": room_id, "name": "Math Study Group", "member_ids": ids(s1, s2)}
    r = client.post("/api/v1/groups", json=body, headers=kit.teacher.headers)
    assert r.status_code == 201, r.json
    math = r.json["data"]
    assert math["classroom_id"] == room_id and math["name"] == "Math Study Group"
    assert math["member_ids"] == ids(s1, s2)  # the teacher leads without being a member
    assert math["created_by"] == kit.teacher.id and math["leader_id"] == kit.teacher.id
    assert math["last_message_at"] is None and math["is_archived"] is False
    assert math["created_at"] == math["updated_at"] and math["created_at"].endswith("Z")

    r = client.post("/api/v1/groups", json={**body, "member_ids": ids(s1, outsider)}, headers=kit.teacher.headers)
    assert r.status_code == 400 and outsider.name in r.json["message"]
    r = client.post("/api/v1/groups", json={**body, "member_ids": [s1.id, "no-such-user"]}, headers=kit.teacher.headers)
    assert r.status_code == 400 and "no-such-user" in r.json["message"]
    r = client.post("/api/v1/groups", json={**body, "classroom_id": "no-such-classroom"}, headers=kit.teacher.headers)
    assert r.status_code == 404

    # 2. Get by id, members populated (name, role; the email only for staff).
    detail = get_group(client, math, kit.teacher)
    assert [(m["user_id"], m["name"], m["user_role"]) for m in detail["members"]] == [
        (s1.id, s1.name, "student"), (s2.id, s2.name, "student")]
    assert [m["email"] for m in detail["members"]] == [s1.email, s2.email]
    seen_by_s1 = get_group(client, math, s1)["members"]
    assert "email" not in next(m for m in seen_by_s1 if m["user_id"] == s2.id)

    # 3. By classroom: non-archived, most recently updated first.
    science = make_group(client, s3, classroom_id=room_id, name="Science Study Group", member_ids=[s4.id])
    doomed = make_group(client, s5, classroom_id=room_id, name="Archived soon")
    client.post(url(doomed, "/archive"), headers=s5.headers)
    classroom_groups = f"/api/v1/classrooms/{room_id}/groups"
    assert listed(client, classroom_groups, s1) == [science["group_id"], math["group_id"]]

    # 4. My groups: the caller's non-archived groups, most recently updated first.
    client.post(url(science, "/members"), json={"user_ids": [s2.id]}, headers=s3.headers)
    assert listed(client, "/api/v1/groups/mine", s2) == [science["group_id"], math["group_id"]]

    # 5. Replace members.
    r = client.put(url(math, "/members"), json={"user_ids": ids(s1, s3)}, headers=kit.teacher.headers)
    assert r.status_code == 200, r.json
    assert r.json["data"]["member_ids"] == ids(s1, s3)
    assert datetime.fromisoformat(r.json["data"]["updated_at"]) > datetime.fromisoformat(math["updated_at"])
    assert listed(client, classroom_groups, s1) == [math["group_id"], science["group_id"]]  # order follows updates

    # 6. Add members: duplicates (in the body or already members) are handled.
    r = client.post(url(math, "/members"), json={"user_ids": [s4.id, s4.id, s1.id]}, headers=kit.teacher.headers)
    assert r.status_code == 200 and r.json["data"]["member_ids"] == ids(s1, s3, s4)
    assert r.json["data"]["member_count"] == 3

    # 7. Remove members.
    r = client.delete(url(math, "/members"), json={"user_ids": [s4.id]}, headers=kit.teacher.headers)
    assert r.status_code == 200 and r.json["data"]["member_ids"] == ids(s1, s3)
    r = client.post(url(math, "/members"), json={"user_ids": []}, headers=kit.teacher.headers)
    assert r.status_code == 400 and "non-empty" in r.json["message"]

    # 8. Archive: gone from every listing, still readable by id.
    r = client.post(url(math, "/archive"), headers=kit.teacher.headers)
    assert r.status_code == 200 and r.json["data"]["is_archived"] is True
    assert listed(client, classroom_groups, s1) == [science["group_id"]]
    assert math["group_id"] not in listed(client, "/api/v1/groups/mine", s1)
    assert math["group_id"] not in listed(client, "/api/v1/groups", kit.admin)
    assert get_group(client, math, s1)["is_archived"] is True
    r = client.post(url(math, "/unarchive"), headers=kit.teacher.headers)
    assert r.status_code == 200 and r.json["data"]["is_archived"] is False
    assert listed(client, classroom_groups, s1)[0] == math["group_id"]


def test_classroom_groups_accept_only_enrolled_students(client, factory):
    kit = factory.college(students_count=2)
    inside, outside = kit.students
    room = make_classroom(client, kit, [inside])
    group = make_group(client, kit.teacher, classroom_id=room["classroom_id"])
    r = join(client, group, outside)
    assert r.status_code == 403 and r.json["message"] == "Only students enrolled in this classroom can join its groups"
    r = client.post(url(group, "/members"), json={"user_ids": [outside.id]}, headers=kit.teacher.headers)
    assert r.status_code == 400 and "Not enrolled" in r.json["message"]
    own = make_group(client, inside, classroom_id=room["classroom_id"])  # an enrolled student may create one
    assert own["leader_id"] == inside.id and own["member_ids"] == [inside.id]
    r = client.post("/api/v1/groups", json={"name": "x", "classroom_id": room["classroom_id"]}, headers=outside.headers)
    assert r.status_code == 403
    assert group["group_id"] not in listed(client, "/api/v1/groups", outside)  # nor browse it
    r = client.get(f"/api/v1/classrooms/{room['classroom_id']}/groups", headers=outside.headers)
    assert r.status_code == 403


# Seed 000: ratings and the group limit ---------------------------------------------------------------


def test_seed_000_min_rating_and_group_limit(client, factory):
    kit = factory.college(students_count=0)
    vishal = factory.student_in(kit, "Vishal", rating=10)
    low = factory.student_in(kit, "Low", rating=3)
    fine = factory.student_in(kit, "Fine", rating=5)

    django = make_group(client, vishal, name="Django", subject="Web Development", min_rating=5)
    assert django["min_rating"] == 5 and django["leader_id"] == vishal.id and django["member_ids"] == [vishal.id]

    r = join(client, django, low)
    assert r.status_code == 403
    assert r.json["message"] == "Your rating 3 is below this group's minimum of 5"
    r = join(client, django, fine)
    assert r.status_code == 200 and r.json["data"]["status"] == "active"

    # Five active groups is the default limit: the sixth is refused, joining or creating.
    others = [make_group(client, kit.teacher, name=f"Open {i}") for i in range(6)]
    for group in others[:4]:
        assert join(client, group, vishal).status_code == 200  # Django + 4 = 5
    r = join(client, others[4], vishal)
    assert r.status_code == 409 and r.json["message"] == "You have reached your limit of 5 active groups"
    r = client.post("/api/v1/groups", json={"name": "One more"}, headers=vishal.headers)
    assert r.status_code == 409
    # A leader adding them is refused the same way, naming the student.
    r = client.post(url(others[5], "/members"), json={"user_ids": [vishal.id]}, headers=kit.teacher.headers)
    assert r.status_code == 409 and r.json["message"] == "Vishal has reached their limit of 5 active groups"

    # Leaving one frees a place; an archived group does not count.
    assert client.post(url(others[0], "/leave"), headers=vishal.headers).status_code == 200
    assert join(client, others[4], vishal).status_code == 200
    client.post(url(others[1], "/archive"), headers=kit.teacher.headers)
    assert join(client, others[5], vishal).status_code == 200
    # ...until it is unarchived: that would put them over the limit, so it is refused.
    r = client.post(url(others[1], "/unarchive"), headers=kit.teacher.headers)
    assert r.status_code == 409 and "Vishal" in r.json["message"]


def test_group_limit_from_student_then_college_setting(client, factory):
    kit = factory.college(students_count=0)
    capped = factory.student_in(kit, group_limit=1)
    plain = factory.student_in(kit)
    r = client.put(f"/api/v1/colleges/{kit.id}/settings", json={"group_limit": 2}, headers=kit.admin.headers)
    assert r.status_code == 200, r.json
    groups = [make_group(client, kit.teacher) for _ in range(3)]
    assert join(client, groups[0], capped).status_code == 200
    assert join(client, groups[1], capped).json["message"] == "You have reached your limit of 1 active groups"
    assert join(client, groups[0], plain).status_code == 200
    assert join(client, groups[1], plain).status_code == 200
    assert join(client, groups[2], plain).status_code == 409


# Join policies and requests --------------------------------------------------------------------------


def test_request_policy_notifies_leader_and_requester(app, client, factory):
    kit = factory.college(students_count=3)
    leader, asker, other = kit.students
    group = make_group(client, leader, name="Calc II Crew", join_policy="request", max_members=3)

    r = join(client, group, asker)
    assert r.status_code == 200, r.json
    assert r.json["data"]["status"] == "pending"
    assert r.json["message"] == "Join request sent to the group leader"
    assert join(client, group, asker).json["message"] == "Your request to join this group is already pending"
    mine = client.get("/api/v1/groups/mine", headers=asker.headers).json["data"]
    assert [(g["group_id"], g["status"], g["role"]) for g in mine] == [(group["group_id"], "pending", "member")]

    note = client.get("/api/v1/notifications", headers=leader.headers).json["data"][0]
    assert note["type"] == "join_request" and note["read"] is False
    assert note["data"] == {"groupId": group["group_id"], "groupName": "Calc II Crew",
                            "requesterId": asker.id, "requesterName": asker.name}

    r = client.get(url(group, "/requests"), headers=leader.headers)
    assert [q["user_id"] for q in r.json["data"]] == [asker.id]
    assert client.get(url(group, "/requests"), headers=other.headers).status_code == 403
    assert client.post(url(group, f"/requests/{asker.id}/approve"), headers=other.headers).status_code == 403

    r = client.post(url(group, f"/requests/{note['data']['requesterId']}/approve"), headers=leader.headers)
    assert r.status_code == 200 and r.json["data"]["status"] == "active"
    assert r.json["message"] == "Join request approved"
    assert get_group(client, group, leader)["member_ids"] == [leader.id, asker.id]
    approved = client.get("/api/v1/notifications", headers=asker.headers).json["data"][0]
    assert approved["type"] == "request_approved"
    assert approved["data"] == {"groupId": group["group_id"], "groupName": "Calc II Crew"}
    assert client.post(url(group, f"/requests/{asker.id}/approve"), headers=leader.headers).status_code == 404
    assert join(client, group, asker).json["message"] == "You are already a member of this group"

    assert join(client, group, other).status_code == 200
    r = client.post(url(group, f"/requests/{other.id}/reject"), headers=leader.headers)
    assert r.status_code == 200 and r.json["data"]["status"] == "rejected"
    rejected = client.get("/api/v1/notifications", headers=other.headers).json["data"][0]
    assert rejected["type"] == "request_rejected" and rejected["data"]["groupId"] == group["group_id"]
    assert client.get(url(group, "/requests"), headers=leader.headers).json["data"] == []
    assert get_group(client, group, leader)["member_count"] == 2
    assert sorted(membership_rows(app, group["group_id"])) == sorted(
        [(leader.id, "active"), (asker.id, "active"), (other.id, "rejected")])


def test_invite_policy_and_rejoining_after_removal(client, factory):
    kit = factory.college(students_count=3)
    leader, guest, stranger = kit.students
    invite = make_group(client, leader, join_policy="invite")
    r = join(client, invite, stranger)
    assert r.status_code == 403 and r.json["message"] == "This group is invite-only: ask its leader to add you"

    client.post(url(invite, "/members"), json={"user_ids": [guest.id]}, headers=leader.headers)
    assert client.post(url(invite, "/leave"), headers=guest.headers).status_code == 200
    assert join(client, invite, guest).status_code == 200  # invited once, may come back
    client.delete(url(invite, "/members"), json={"user_ids": [guest.id]}, headers=leader.headers)
    assert join(client, invite, guest).status_code == 403  # removal revoked the invitation

    open_group = make_group(client, leader)
    client.post(url(open_group, "/members"), json={"user_ids": [guest.id]}, headers=leader.headers)
    client.delete(url(open_group, "/members"), json={"user_ids": [guest.id]}, headers=leader.headers)
    assert join(client, open_group, guest).status_code == 200  # an open group lets anyone back


def test_full_group_and_double_join_are_conflicts(client, factory):
    kit = factory.college(students_count=3)
    a, b, c = kit.students
    group = make_group(client, a, max_members=2)
    assert join(client, group, b).status_code == 200
    r = join(client, group, b)
    assert r.status_code == 409 and r.json["message"] == "You are already a member of this group"
    r = join(client, group, c)
    assert r.status_code == 409 and r.json["message"] == "This group is full (2 of 2 members)"
    r = client.post(url(group, "/members"), json={"user_ids": [c.id]}, headers=a.headers)
    assert r.status_code == 409 and "full" in r.json["message"]
    r = client.patch(url(group), json={"max_members": 1}, headers=a.headers)
    assert r.status_code == 409
    archived = make_group(client, c)
    client.post(url(archived, "/archive"), headers=c.headers)
    assert join(client, archived, b).json["message"] == "This group is archived"


def test_leaving_hands_over_leadership_and_the_last_member_archives(client, factory):
    kit = factory.college(students_count=3)
    a, b, c = kit.students
    group = make_group(client, a)
    assert join(client, group, b).status_code == 200
    assert join(client, group, c).status_code == 200
    r = client.post(url(group, "/leave"), headers=a.headers)
    assert r.status_code == 200 and r.json["data"]["leader_id"] == b.id  # the longest-standing member
    detail = get_group(client, group, b)
    assert detail["member_ids"] == [b.id, c.id] and detail["members"][0]["role"] == "leader"
    assert client.post(url(group, "/leave"), headers=a.headers).status_code == 409
    assert client.post(url(group, "/leave"), headers=b.headers).json["data"]["leader_id"] == c.id
    r = client.post(url(group, "/leave"), headers=c.headers)
    assert r.json["data"]["is_archived"] is True and r.json["data"]["member_count"] == 0


def test_leader_transfer_with_patch(client, factory):
    kit = factory.college(students_count=3)
    a, b, c = kit.students
    group = make_group(client, a, member_ids=[b.id])
    r = client.patch(url(group), json={"leader_id": c.id}, headers=a.headers)
    assert r.status_code == 400  # not a member
    r = client.patch(url(group), json={"leader_id": b.id, "location": "Library"}, headers=a.headers)
    assert r.status_code == 200 and r.json["data"]["leader_id"] == b.id and r.json["data"]["location"] == "Library"
    assert client.patch(url(group), json={"name": "Mine now"}, headers=a.headers).status_code == 403
    mine = {g["group_id"]: g["role"] for g in client.get("/api/v1/groups/mine", headers=a.headers).json["data"]}
    assert mine[group["group_id"]] == "member"
    r = client.delete(url(group, "/members"), json={"user_ids": [b.id]}, headers=kit.admin.headers)
    assert r.status_code == 400  # the leader stays unless leadership moves first


def test_who_manages_a_group(client, factory):
    kit = factory.college(students_count=2)
    other_teacher = factory.college().teacher  # another college entirely
    s1, s2 = kit.students
    room = make_classroom(client, kit, [s1, s2])
    group = make_group(client, s1, classroom_id=room["classroom_id"])
    body = {"user_ids": [s2.id]}
    assert client.post(url(group, "/members"), json=body, headers=s2.headers).status_code == 403
    assert client.post(url(group, "/members"), json=body, headers=kit.teacher.headers).status_code == 200
    assert client.post(url(group, "/archive"), headers=kit.admin.headers).status_code == 200
    assert client.post(url(group, "/unarchive"), headers=other_teacher.headers).status_code == 404
    # a teacher without the classroom cannot manage a student's group
    teacher2 = factory.college().teacher
    assert client.patch(url(group), json={"name": "x"}, headers=teacher2.headers).status_code == 404
    assert client.post(f"/api/v1/groups/{group['group_id']}/join", headers=kit.teacher.headers).status_code == 403


def test_browse_filters_and_pagination(client, factory):
    kit = factory.college(students_count=3)
    a, b, c = kit.students
    room = make_classroom(client, kit, [a])
    algebra = make_group(client, a, name="Algebra nights", subject="Mathematics", max_members=1)
    physics = make_group(client, b, name="Quantum", subject="Physics", description="waves and algebra")
    chem = make_group(client, c, name="Bonds", subject="Chemistry")
    inroom = make_group(client, a, name="Room group", classroom_id=room["classroom_id"], subject="mathematics")

    def browse(actor, query=""):
        return listed(client, f"/api/v1/groups{query}", actor)

    assert browse(a) == [inroom["group_id"], chem["group_id"], physics["group_id"], algebra["group_id"]]
    assert browse(b) == [chem["group_id"], physics["group_id"], algebra["group_id"]]  # not in that classroom
    assert browse(a, "?q=ALGEBRA") == [physics["group_id"], algebra["group_id"]]
    assert browse(a, "?subject=mathematics") == [inroom["group_id"], algebra["group_id"]]
    assert browse(a, f"?classroom_id={room['classroom_id']}") == [inroom["group_id"]]
    assert algebra["group_id"] not in browse(a, "?has_space=true")
    r = client.get("/api/v1/groups?limit=2&page=2", headers=a.headers)
    assert r.json["pagination"] == {"page": 2, "limit": 2, "total": 4, "pages": 2}
    assert [g["group_id"] for g in r.json["data"]] == [physics["group_id"], algebra["group_id"]]
    assert client.get("/api/v1/groups?limit=101", headers=a.headers).status_code == 400


def test_my_groups_shows_role_status_counts(client, factory):
    kit = factory.college(students_count=2)
    a, b = kit.students
    led = make_group(client, a, member_ids=[b.id])
    asked = make_group(client, b, join_policy="request")
    join(client, asked, a)
    room = make_classroom(client, kit, [a])
    taught = make_group(client, kit.teacher, classroom_id=room["classroom_id"])
    mine = client.get("/api/v1/groups/mine", headers=a.headers).json["data"]
    view = {g["group_id"]: (g["role"], g["status"], g["member_count"], g["unread_count"]) for g in mine}
    assert view == {led["group_id"]: ("leader", "active", 2, 0), asked["group_id"]: ("member", "pending", 1, 0)}
    pending = client.get("/api/v1/groups/mine?status=pending", headers=a.headers).json["data"]
    assert [g["group_id"] for g in pending] == [asked["group_id"]]
    teacher_view = client.get("/api/v1/groups/mine", headers=kit.teacher.headers).json["data"]
    assert [(g["group_id"], g["role"]) for g in teacher_view] == [(taught["group_id"], "leader")]


@pytest.mark.parametrize("body,field", [
    ({"name": ""}, "name"),
    ({"name": "x", "join_policy": "secret"}, "join_policy"),
    ({"name": "x", "max_members": 0}, "max_members"),
    ({"name": "x", "min_rating": -1}, "min_rating"),
    ({"name": "x", "colour": "red"}, "colour"),
    ({"name": "x", "member_ids": "abc"}, "member_ids"),
])
def test_create_validation(client, factory, body, field):
    kit = factory.college(students_count=1)
    r = client.post("/api/v1/groups", json=body, headers=kit.student.headers)
    assert r.status_code == 400 and field in r.json["errors"], r.json


def test_members_over_max_and_roles(client, factory):
    kit = factory.college(students_count=3)
    a, b, c = kit.students
    r = client.post("/api/v1/groups", json={"name": "x", "max_members": 2, "member_ids": [b.id, c.id]},
                    headers=a.headers)
    assert r.status_code == 400 and "max_members" in r.json["message"]
    sysadmin = factory.sysadmin()
    assert client.get("/api/v1/groups", headers=sysadmin.headers).status_code == 403
    assert client.get("/api/v1/groups").status_code == 401


# Isolation ---------------------------------------------------------------------------------------


def test_another_colleges_admin_teacher_and_student_get_404_everywhere(app, client, factory):
    victim = factory.college(students_count=3)
    leader, member, asker = victim.students
    group = make_group(client, leader, join_policy="request", member_ids=[member.id])
    join(client, group, asker)
    intruders = factory.college(students_count=1)
    gid = group["group_id"]
    routes = [
        ("GET", f"/api/v1/groups/{gid}", None),
        ("PATCH", f"/api/v1/groups/{gid}", {"name": "Hijacked"}),
        ("POST", f"/api/v1/groups/{gid}/archive", None),
        ("POST", f"/api/v1/groups/{gid}/unarchive", None),
        ("GET", f"/api/v1/groups/{gid}/members", None),
        ("POST", f"/api/v1/groups/{gid}/members", {"user_ids": [intruders.student.id]}),
        ("PUT", f"/api/v1/groups/{gid}/members", {"user_ids": [intruders.student.id]}),
        ("DELETE", f"/api/v1/groups/{gid}/members", {"user_ids": [member.id]}),
        ("POST", f"/api/v1/groups/{gid}/join", None),
        ("POST", f"/api/v1/groups/{gid}/leave", None),
        ("GET", f"/api/v1/groups/{gid}/requests", None),
        ("POST", f"/api/v1/groups/{gid}/requests/{asker.id}/approve", None),
        ("POST", f"/api/v1/groups/{gid}/requests/{asker.id}/reject", None),
    ]

    def state():
        with app.app_context(), all_tenants():
            row = db.session.get(StudyGroup, gid)
            group_state = {c.name: getattr(row, c.key) for c in StudyGroup.__table__.columns}
            count = db.session.execute(select(func.count()).select_from(GroupMember)).scalar_one()
        return group_state, count, sorted(membership_rows(app, gid))

    before = state()
    for method, path, body in routes:
        for actor in (intruders.admin, intruders.teacher, intruders.student):
            r = client.open(path, method=method, json=body, headers=actor.headers)
            assert r.status_code == 404, (method, path, actor.role, r.json)
    assert state() == before
    for actor in (intruders.admin, intruders.teacher, intruders.student):
        assert gid not in listed(client, "/api/v1/groups", actor)
    # ids of the other college inside a body are unknown users, never members
    r = client.post(f"/api/v1/groups/{gid}/members", json={"user_ids": [intruders.student.id]}, headers=leader.headers)
    assert r.status_code == 400


def test_the_creators_stream_follows_the_group_they_just_created(app, client, factory):
    """Creating a group tells its members' open streams to follow it, as joining does."""
    from studysync.realtime import user_channel

    kit = factory.college(students_count=2)
    creator, listed = kit.students
    subscription = app.extensions["studysync.broker"].subscribe([user_channel(creator.id), user_channel(listed.id)])
    try:
        group = make_group(client, creator, member_ids=[listed.id])
        events = [subscription.get(timeout=2) for _ in range(2)]
    finally:
        subscription.close()
    assert sorted((e["type"], e["data"]["group_id"], e["data"]["status"]) for e in events) == [
        ("membership.changed", group["group_id"], "active")] * 2


def test_join_checks_run_in_the_order_a_student_understands(client, factory):
    """Not allowed at all (invite-only) before full, full before the rating."""
    kit = factory.college(students_count=3)
    leader, low_rated, other = kit.students
    invite_only = make_group(client, leader, join_policy="invite", min_rating=4)
    r = join(client, invite_only, low_rated)
    assert r.status_code == 403 and r.json["message"] == "This group is invite-only: ask its leader to add you"

    full = make_group(client, leader, max_members=2, min_rating=4)
    assert client.post(url(full, "/members"), json={"user_ids": [other.id]}, headers=leader.headers).status_code == 200
    r = join(client, full, low_rated)
    assert r.status_code == 409 and r.json["message"].startswith("This group is full")

    roomy = make_group(client, leader, min_rating=4)
    r = join(client, roomy, low_rated)
    assert r.status_code == 403 and "rating" in r.json["message"]
