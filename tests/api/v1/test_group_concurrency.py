"""The group rules hold when requests race: seats, group limits, one row per (group, user).

Each thread has its own test client (so its own session and database connection) and all of them
fire at one barrier. The same test runs on SQLite, PostgreSQL and MariaDB (TEST_DATABASE).
"""
import threading
from collections import Counter

from sqlalchemy import func, select

from studysync.db import db
from studysync.models import GroupMember, StudyGroup
from studysync.tenancy import all_tenants

from ...factories import make_group


def race(app, calls):
    """Run `calls` [(method, path, headers, json)] at the same moment; the responses in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(i, method, path, headers, body):
        client = app.test_client()
        barrier.wait()
        response = client.open(path, method=method, headers=headers, json=body)
        results[i] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=worker, args=(i, *call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(r is not None for r in results), "a request never finished"
    return results


def group_state(app, group_id):
    with app.app_context(), all_tenants():
        group = db.session.get(StudyGroup, group_id)
        rows = db.session.execute(
            select(GroupMember.user_id, GroupMember.status).where(GroupMember.group_id == group_id)
        ).all()
        return group.member_count, rows


def test_forty_students_race_for_five_seats(app, client, factory):
    kit = factory.college(students_count=0)
    leader = factory.student_in(kit, "Leader")
    group = make_group(client, leader, max_members=6)  # the leader + 5 seats
    racers = [factory.student_in(kit) for _ in range(40)]

    results = race(app, [("POST", f"/api/v1/groups/{group['group_id']}/join", s.headers, None) for s in racers])

    statuses = Counter(status for status, _ in results)
    assert statuses == {200: 5, 409: 35}, results
    assert all(body["message"].startswith("This group is full") for status, body in results if status == 409)
    winners = {s.id for s, (status, _) in zip(racers, results) if status == 200}
    member_count, rows = group_state(app, group["group_id"])
    assert member_count == 6
    assert len(rows) == len({user_id for user_id, _ in rows}) == 6  # one row per member, no duplicates
    assert {user_id for user_id, status in rows if status == "active"} == winners | {leader.id}
    detail = client.get(f"/api/v1/groups/{group['group_id']}", headers=leader.headers).json["data"]
    assert detail["member_count"] == 6 and set(detail["member_ids"]) == winners | {leader.id}


def test_one_student_racing_past_the_group_limit(app, client, factory):
    kit = factory.college(students_count=0)
    student = factory.student_in(kit, "Eager", group_limit=5)
    groups = [make_group(client, kit.teacher) for _ in range(8)]

    results = race(app, [("POST", f"/api/v1/groups/{g['group_id']}/join", student.headers, None) for g in groups])

    statuses = Counter(status for status, _ in results)
    assert statuses == {200: 5, 409: 3}, results
    assert {body["message"] for status, body in results if status == 409} == {
        "You have reached your limit of 5 active groups"}
    with app.app_context(), all_tenants():
        active = db.session.execute(
            select(func.count()).select_from(GroupMember)
            .where(GroupMember.user_id == student.id, GroupMember.status == "active")
        ).scalar_one()
        counts = dict(db.session.execute(select(StudyGroup.id, StudyGroup.member_count)).all())
    assert active == 5
    assert sorted(counts[g["group_id"]] for g in groups) == [0, 0, 0, 1, 1, 1, 1, 1]


def test_same_student_joining_one_group_twice_at_once(app, client, factory):
    kit = factory.college(students_count=1)
    group = make_group(client, kit.teacher)
    student = kit.student
    results = race(app, [("POST", f"/api/v1/groups/{group['group_id']}/join", student.headers, None)] * 6)
    assert Counter(status for status, _ in results) == {200: 1, 409: 5}
    member_count, rows = group_state(app, group["group_id"])
    assert member_count == 1 and rows == [(student.id, "active")]


def test_leader_adding_while_students_join_never_overfills(app, client, factory):
    kit = factory.college(students_count=0)
    leader = factory.student_in(kit, "Leader")
    group = make_group(client, leader, max_members=4)
    added = [factory.student_in(kit) for _ in range(3)]
    joiners = [factory.student_in(kit) for _ in range(6)]
    gid = group["group_id"]
    calls = [("POST", f"/api/v1/groups/{gid}/members", leader.headers, {"user_ids": [s.id for s in added]})]
    calls += [("POST", f"/api/v1/groups/{gid}/join", s.headers, None) for s in joiners]

    results = race(app, calls)

    assert {status for status, _ in results} <= {200, 409}, results
    member_count, rows = group_state(app, gid)
    active = [user_id for user_id, status in rows if status == "active"]
    assert member_count == len(active) <= 4
    if results[0][0] == 200:  # the leader's batch fitted: exactly one joiner could have got in before it
        assert set(s.id for s in added) <= set(active)
