"""Data rights: a person downloads what the college holds about them, and is erased on request —
after which their name and vectors are found nowhere, while the group chat others read stays."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from studysync.db import db
from studysync.models import Embedding, Profile, StudyGroup
from studysync.tenancy import all_tenants
from tests.factories import PASSWORD, make_group

NAME = "Zelda Quixote"
EVENINGS = {"Monday": ["Evening (5-9 PM)"], "Wednesday": ["Evening (5-9 PM)"]}


def ok(response, status=200):
    assert response.status_code == status, response.json
    return response.json["data"]


def set_profile(client, actor, style):
    ok(client.put("/api/v1/me/profile", headers=actor.headers, json={
        "subjects": ["Calculus"], "schedule": EVENINGS, "learning_style": style, "performance_level": 3}))


def people_found(client, actor, q):
    return [p["user_id"] for p in ok(client.get("/api/v1/search", query_string={"q": q, "type": "people"},
                                                headers=actor.headers))]


def partners(client, actor):
    data = ok(client.get("/api/v1/recommendations", query_string={"kind": "partners"}, headers=actor.headers))
    return [p.get("user_id") for p in data]  # nothing close enough: a "create your own group" suggestion


def cached_queries(app) -> list[str]:
    """The search queries this worker keeps embedded (services/search.py)."""
    return [query for _model, query in app.extensions["studysync.query_vectors"]._items]


@pytest.fixture
def world(client, factory):
    """Zelda: a profile, a group with Alice (who leads it), chat and DM messages, a friend (Bob)."""
    kit = factory.college(students_count=2)
    alice, bob = kit.students
    zelda = factory.student_in(kit, NAME)
    set_profile(client, zelda, "visual learner who loves diagrams and mind maps")
    set_profile(client, alice, "visual learner, diagrams help me most")
    group = make_group(client, alice, name="Calc Crew", subject="Calculus")
    ok(client.post(f"/api/v1/groups/{group['group_id']}/join", headers=zelda.headers))
    ok(client.post(f"/api/v1/groups/{group['group_id']}/messages", headers=zelda.headers,
                   json={"content": "hello from the back row"}), 201)
    ok(client.post(f"/api/v1/groups/{group['group_id']}/messages", headers=alice.headers,
                   json={"content": "welcome aboard"}), 201)
    ok(client.post(f"/api/v1/dm/{alice.id}/messages", headers=zelda.headers, json={"content": "see you at 5"}), 201)
    request = ok(client.post("/api/v1/friends/requests", headers=zelda.headers, json={"user_id": bob.id}), 201)
    ok(client.post(f"/api/v1/friends/requests/{request['request']['request_id']}/accept", headers=bob.headers))
    return kit, zelda, alice, bob, group


def test_a_student_downloads_everything_the_college_holds_about_them(client, factory, world):
    kit, zelda, alice, bob, group = world
    assert zelda.id in people_found(client, alice, "Zelda")  # indexes her learning-style vector

    document = ok(client.get("/api/v1/me/data", headers=zelda.headers))
    assert document["account"]["name"] == NAME and document["account"]["email"] == zelda.email
    assert "password_hash" not in document["account"]
    assert document["college"]["college_id"] == kit.id
    assert document["profile"][0]["learning_style"] == "visual learner who loves diagrams and mind maps"
    assert [m["group_id"] for m in document["memberships"]] == [group["group_id"]]
    assert [m["content"] for m in document["group_messages"]] == ["hello from the back row"]
    assert [m["content"] for m in document["direct_messages"]] == ["see you at 5"]
    assert len(document["friendships"]) == 1 and len(document["friend_requests"]) == 1
    assert [s["user_agent"] for s in document["login_sessions"]] == ["pytest"]
    assert [n["type"] for n in document["notifications"]] == ["friend_request_accepted"]
    assert len(document["embeddings"]) == 1 and document["embeddings"][0]["owner_id"] == zelda.id
    assert "welcome aboard" not in json.dumps(document)  # what others wrote is theirs

    assert ok(client.get(f"/api/v1/users/{zelda.id}/data", headers=kit.admin.headers))["account"]["id"] == zelda.id
    assert client.get(f"/api/v1/users/{zelda.id}/data", headers=alice.headers).status_code == 403
    other = factory.college()
    assert client.get(f"/api/v1/users/{zelda.id}/data", headers=other.admin.headers).status_code == 404


def test_after_erasure_the_name_and_vectors_are_found_nowhere(app, client, factory, world):
    kit, zelda, alice, bob, group = world
    assert zelda.id in people_found(client, alice, "Zelda")
    assert zelda.id in partners(client, alice)
    vector = ok(client.get("/api/v1/me/data", headers=zelda.headers))["embeddings"][0]["vector"]
    assert "zelda" in cached_queries(app)

    r = client.post("/api/v1/me/erasure", headers=zelda.headers, json={"password": "Wrong@Pass1"})
    assert r.status_code == 401
    erased = ok(client.post("/api/v1/me/erasure", headers=zelda.headers, json={"password": PASSWORD}))
    assert erased["user_id"] == zelda.id and erased["removed"]["profiles"] == 1

    # the account is gone
    assert client.get("/api/v1/auth/me", headers=zelda.headers).status_code == 401
    r = client.post("/api/v1/students/login", json={"college_id": kit.id, "student_email": zelda.email,
                                                    "student_password": PASSWORD})
    assert r.status_code == 401
    assert client.get(f"/api/v1/users/{zelda.id}/data", headers=kit.admin.headers).status_code == 404
    students = ok(client.get("/api/v1/students", query_string={"limit": 100}, headers=kit.admin.headers))
    assert zelda.id not in [s["student_id"] for s in students]

    # search and recommendations no longer know her, nor remember being asked for her by name
    assert "zelda" not in cached_queries(app)
    assert zelda.id not in people_found(client, alice, "Zelda")
    assert zelda.id not in people_found(client, alice, "visual learner diagrams mind maps")
    assert zelda.id not in partners(client, alice)

    # the chat others read stays, attributed to "Deleted user"; so does Alice's DM thread
    messages = ok(client.get(f"/api/v1/groups/{group['group_id']}/messages", headers=alice.headers))
    assert [(m["sender_name"], m["content"]) for m in messages] == [
        ("Deleted user", "hello from the back row"), (alice.name, "welcome aboard")]
    thread = ok(client.get(f"/api/v1/dm/{zelda.id}/messages", headers=alice.headers))
    assert [(m["sender_name"], m["content"]) for m in thread] == [("Deleted user", "see you at 5")]
    assert ok(client.get(f"/api/v1/groups/{group['group_id']}", headers=alice.headers))["member_count"] == 1
    assert bob.id and ok(client.get("/api/v1/friends", headers=bob.headers)) == []
    assert NAME not in json.dumps(ok(client.get("/api/v1/notifications", headers=bob.headers)))

    # the college's archive holds neither her name, her email nor her vector
    sysadmin = factory.sysadmin()
    archive = json.dumps(ok(client.get(f"/api/v1/colleges/{kit.id}/archive", headers=sysadmin.headers)))
    assert alice.name in archive
    for trace in ("Zelda", "Quixote", zelda.email, vector):
        assert trace not in archive
    with app.app_context(), all_tenants():
        assert db.session.execute(select(func.count()).select_from(Embedding)
                                  .where(Embedding.owner_id == zelda.id)).scalar() == 0
        assert db.session.execute(select(Profile).where(Profile.user_id == zelda.id)).first() is None


def test_an_erased_leader_hands_the_group_to_the_next_member(app, client, factory, world):
    kit, zelda, alice, bob, group = world
    erased = ok(client.post(f"/api/v1/users/{alice.id}/erasure", headers=kit.admin.headers))
    assert erased["removed"]["group_members"] == 1
    detail = ok(client.get(f"/api/v1/groups/{group['group_id']}", headers=zelda.headers))
    assert detail["member_count"] == 1
    with app.app_context(), all_tenants():
        assert db.session.get(StudyGroup, group["group_id"]).leader_id == zelda.id


def test_who_may_erase_whom(client, factory, world):
    kit, zelda, alice, bob, group = world
    other = factory.college()
    assert client.post(f"/api/v1/users/{zelda.id}/erasure", headers=alice.headers).status_code == 403
    assert client.post(f"/api/v1/users/{zelda.id}/erasure", headers=kit.teacher.headers).status_code == 403
    assert client.post(f"/api/v1/users/{zelda.id}/erasure", headers=other.admin.headers).status_code == 404
    assert client.post(f"/api/v1/users/{kit.admin.id}/erasure", headers=kit.admin.headers).status_code == 403
    r = client.post("/api/v1/me/erasure", headers=kit.teacher.headers, json={"password": PASSWORD})
    assert r.status_code == 403
    assert client.get("/api/v1/auth/me", headers=zelda.headers).status_code == 200
