"""AI matching through the API: recommendations, search, auto-formed groups (hashing embedder)."""
from __future__ import annotations

import pytest

from studysync.realtime import user_channel
from tests.factories import make_classroom, make_group

EVENINGS = {"Monday": ["Evening (5-9 PM)"], "Wednesday": ["Evening (5-9 PM)"]}
MORNINGS = {"Tuesday": ["Morning (8-12 PM)"]}


def set_profile(client, actor, **fields):
    body = {"subjects": [], "schedule": {}, "learning_style": "", "performance_level": 3, **fields}
    r = client.put("/api/v1/me/profile", json=body, headers=actor.headers)
    assert r.status_code == 200, r.json
    return r.json["data"]


def recommendations(client, actor, kind="groups", **params):
    r = client.get("/api/v1/recommendations", query_string={"kind": kind, **params}, headers=actor.headers)
    assert r.status_code == 200, r.json
    return r.json["data"]


@pytest.fixture
def kit(factory, client):
    kit = factory.college(students_count=4)
    me, twin, other, shy = kit.students
    set_profile(client, me, subjects=["Calculus", "Physics"], schedule=EVENINGS, performance_level=4,
                learning_style="visual learner who draws diagrams")
    set_profile(client, twin, subjects=["Calculus", "Physics"], schedule=EVENINGS, performance_level=4,
                learning_style="visual learner who draws diagrams")
    set_profile(client, other, subjects=["History"], schedule=MORNINGS, performance_level=1,
                learning_style="I learn by listening to lectures")
    return kit


def test_partners_are_ranked_with_breakdown_and_explanation(client, kit):
    me, twin = kit.students[0], kit.students[1]
    data = recommendations(client, me, "partners")
    assert [d["user_id"] for d in data] == [twin.id]  # the history student is below the threshold
    best = data[0]
    assert best["match_percentage"] == 100
    assert set(best["compatibility"]) == {"subject", "schedule", "learning_style", "performance"}
    assert "Calculus" in best["explanation"]
    assert {"name", "major", "year", "subjects"} <= set(best)


def test_groups_recommended_only_when_joinable(client, kit, factory):
    me, twin, other, shy = kit.students
    good = make_group(client, twin, name="Calculus II Crew", subject="Calculus", max_members=4)
    make_group(client, other, name="History Buffs", subject="History")
    full = make_group(client, twin, name="Full Calc", subject="Calculus", max_members=1)
    invite = make_group(client, twin, name="Secret Calc", subject="Calculus", join_policy="invite")
    data = recommendations(client, me)
    ids = [d["group_id"] for d in data]
    assert ids == [good["group_id"]]
    assert full["group_id"] not in ids and invite["group_id"] not in ids
    group = data[0]
    assert group["member_count"] == 1 and group["max_members"] == 4 and group["join_policy"] == "open"
    assert 50 <= group["match_percentage"] <= 100

    # once the caller joins, the group is no longer a recommendation: the cache noticed the change
    r = client.post(f"/api/v1/groups/{good['group_id']}/join", headers=me.headers)
    assert r.status_code == 200, r.json
    data = recommendations(client, me)
    assert data[0].get("suggested") is True


def test_no_group_is_recommended_at_the_group_limit_which_archived_groups_do_not_fill(app, client, kit):
    """Recommendations count toward the limit exactly what a join counts."""
    from studysync.db import db
    from studysync.models import User
    from studysync.tenancy import all_tenants

    me, twin = kit.students[:2]
    with app.app_context(), all_tenants():
        db.session.get(User, me.id).group_limit = 1
        db.session.commit()
    first = make_group(client, twin, name="Calculus Crew", subject="Calculus", max_members=4)
    second = make_group(client, twin, name="Calculus Club", subject="Calculus", max_members=4)
    assert client.post(f"/api/v1/groups/{first['group_id']}/join", headers=me.headers).status_code == 200
    assert recommendations(client, me)[0].get("suggested") is True
    r = client.post(f"/api/v1/groups/{second['group_id']}/join", headers=me.headers)
    assert r.status_code == 409 and "limit of 1" in r.json["message"]

    r = client.post(f"/api/v1/groups/{first['group_id']}/archive", headers=twin.headers)
    assert r.status_code == 200, r.json
    assert [g["group_id"] for g in recommendations(client, me)] == [second["group_id"]]
    assert client.post(f"/api/v1/groups/{second['group_id']}/join", headers=me.headers).status_code == 200


def test_nothing_above_threshold_suggests_creating_a_group(client, kit):
    other = kit.students[2]
    data = recommendations(client, other)
    assert len(data) == 1
    assert data[0]["suggested"] is True and data[0]["match_percentage"] is None
    assert data[0]["title"] == "Create Your Own Study Group"


def test_college_threshold_setting_is_used(client, kit, app):
    from studysync.db import db
    from studysync.models import College
    from studysync.tenancy import all_tenants

    with app.app_context(), all_tenants():
        college = db.session.get(College, kit.id)
        college.settings = {**(college.settings or {}), "matching": {"threshold": 0.0}}
        db.session.commit()
    data = recommendations(client, kit.students[2], "partners")
    assert len(data) == 2 and not any(d.get("suggested") for d in data)


def test_second_request_embeds_nothing(client, kit, app):
    me = kit.students[0]
    embedder = app.extensions["studysync.embedder"]
    recommendations(client, me, "partners")
    before = (embedder.calls, embedder.texts_embedded)
    recommendations(client, me, "partners")
    recommendations(client, me, "groups")
    assert (embedder.calls, embedder.texts_embedded) == before


def test_profile_change_is_reembedded_once_and_changes_the_ranking(client, kit, app):
    me, twin, other = kit.students[:3]
    embedder = app.extensions["studysync.embedder"]
    assert [d["user_id"] for d in recommendations(client, me, "partners")] == [twin.id]
    before = embedder.texts_embedded
    set_profile(client, other, subjects=["Calculus", "Physics"], schedule=EVENINGS, performance_level=4,
                learning_style="visual learner who draws diagrams")
    assert embedder.texts_embedded == before + 1  # the save embedded the changed text...
    assert {d["user_id"] for d in recommendations(client, me, "partners")} == {twin.id, other.id}
    recommendations(client, me, "partners")
    assert embedder.texts_embedded == before + 1  # ...and no recommendation embeds it again


def test_search_groups_by_keyword_prefix(client, kit):
    me, twin, other = kit.students[:3]
    crew = make_group(client, twin, name="Calculus II Crew", subject="Calculus")
    make_group(client, other, name="History Buffs", subject="History")
    r = client.get("/api/v1/search", query_string={"q": "calc", "type": "groups"}, headers=me.headers)
    assert r.status_code == 200, r.json
    assert [g["group_id"] for g in r.json["data"]][:1] == [crew["group_id"]]
    assert all(g["name"] != "History Buffs" for g in r.json["data"])


def test_search_people_by_learning_style(client, kit):
    me, twin, other = kit.students[:3]
    r = client.get("/api/v1/search", query_string={"q": "visual learner", "type": "people"}, headers=other.headers)
    assert r.status_code == 200, r.json
    ids = [p["user_id"] for p in r.json["data"]]
    assert set(ids[:2]) == {me.id, twin.id}
    assert other.id not in ids  # never yourself


def test_search_query_is_embedded_once(client, kit, app):
    embedder = app.extensions["studysync.embedder"]
    client.get("/api/v1/search", query_string={"q": "visual learner", "type": "people"}, headers=kit.student.headers)
    before = embedder.texts_embedded
    r = client.get("/api/v1/search", query_string={"q": "Visual  learner", "type": "people"}, headers=kit.student.headers)
    assert r.status_code == 200
    assert embedder.texts_embedded == before


def test_search_needs_a_query(client, kit):
    r = client.get("/api/v1/search", query_string={"type": "people"}, headers=kit.student.headers)
    assert r.status_code == 400


def test_search_is_within_the_college(client, kit, factory):
    other_kit = factory.college(students_count=1)
    make_group(client, other_kit.student, name="Calculus Elsewhere", subject="Calculus")
    r = client.get("/api/v1/search", query_string={"q": "calc"}, headers=kit.student.headers)
    assert r.status_code == 200
    assert all(g["name"] != "Calculus Elsewhere" for g in r.json["data"])


def test_feature_off_is_403(client, factory):
    kit = factory.college(features=["core"])
    for url in ("/api/v1/recommendations", "/api/v1/search?q=calc"):
        r = client.get(url, headers=kit.student.headers)
        assert r.status_code == 403 and "ai_matching" in r.json["message"]
    classroom = make_classroom(client, kit, kit.students)
    r = client.post(f"/api/v1/classrooms/{classroom['classroom_id']}/groups/auto-form", json={"group_size": 2},
                    headers=kit.teacher.headers)
    assert r.status_code == 403


# Auto-form -------------------------------------------------------------------------------------


@pytest.fixture
def classroom_kit(factory, client):
    kit = factory.college(students_count=7)
    for i, s in enumerate(kit.students):
        set_profile(client, s, subjects=["Calculus"] if i % 2 else ["History"], schedule=EVENINGS if i % 2 else MORNINGS,
                    performance_level=1 + i % 5, learning_style="visual" if i % 2 else "auditory")
    classroom = make_classroom(client, kit, kit.students)
    return kit, classroom


def auto_form(client, actor, classroom_id, **body):
    return client.post(f"/api/v1/classrooms/{classroom_id}/groups/auto-form", json=body, headers=actor.headers)


def test_auto_form_dry_run_is_balanced_deterministic_and_creates_nothing(client, classroom_kit):
    kit, classroom = classroom_kit
    r = auto_form(client, kit.teacher, classroom["classroom_id"], group_size=3, dry_run=True, seed=7)
    assert r.status_code == 200, r.json
    data = r.json["data"]
    sizes = [len(g["members"]) for g in data["groups"]]
    assert max(sizes) - min(sizes) <= 1 and sum(sizes) == 7
    members = [m["user_id"] for g in data["groups"] for m in g["members"]]
    assert sorted(members) == sorted(s.id for s in kit.students)
    assert data["min_score"] == min(g["score"] for g in data["groups"])
    again = auto_form(client, kit.teacher, classroom["classroom_id"], group_size=3, dry_run=True, seed=7).json["data"]
    assert again["groups"] == data["groups"]
    listed = client.get(f"/api/v1/classrooms/{classroom['classroom_id']}/groups", headers=kit.teacher.headers)
    assert listed.json["data"] == []


def test_auto_form_creates_groups_once_per_student(client, classroom_kit):
    kit, classroom = classroom_kit
    r = auto_form(client, kit.admin, classroom["classroom_id"], group_size=3, weights={"subject": 0.7})
    assert r.status_code == 200, r.json
    created = r.json["data"]["groups"]
    assert all(g["group_id"] for g in created)
    listed = client.get(f"/api/v1/classrooms/{classroom['classroom_id']}/groups", headers=kit.teacher.headers)
    assert {g["group_id"] for g in listed.json["data"]} == {g["group_id"] for g in created}
    for g in created:
        detail = client.get(f"/api/v1/groups/{g['group_id']}", headers=kit.teacher.headers).json["data"]
        assert detail["member_count"] == len(g["members"])
    # everyone is now grouped: nobody is left to form
    again = auto_form(client, kit.teacher, classroom["classroom_id"], group_size=3)
    assert again.status_code == 400


def test_auto_form_only_by_owning_teacher_or_admin(client, classroom_kit, factory):
    kit, classroom = classroom_kit
    assert auto_form(client, kit.student, classroom["classroom_id"], group_size=3).status_code == 403
    from studysync.services import users
    from studysync.tenancy import tenant_context

    with factory.app.app_context(), tenant_context(kit.id):
        other_teacher = factory._actor(users.create_staff(kit.admin, "T2", f"t2@{kit.subdomain}.edu", "Passw0rd!x", "teacher"))
    assert auto_form(client, other_teacher, classroom["classroom_id"], group_size=3).status_code == 403


def test_auto_form_other_college_classroom_is_404(client, classroom_kit, factory):
    kit, classroom = classroom_kit
    other = factory.college(students_count=1)
    r = auto_form(client, other.teacher, classroom["classroom_id"], group_size=2, dry_run=True)
    assert r.status_code == 404
    r = auto_form(client, other.admin, classroom["classroom_id"], group_size=2, dry_run=True)
    assert r.status_code == 404


def test_auto_form_validates_body(client, classroom_kit):
    kit, classroom = classroom_kit
    assert auto_form(client, kit.teacher, classroom["classroom_id"], group_size=1).status_code in (400, 422)
    assert auto_form(client, kit.teacher, classroom["classroom_id"], group_size=3, bogus=1).status_code in (400, 422)


def test_reindex_cli_embeds_stale_profiles_once(client, kit, app):
    from sqlalchemy import delete

    from studysync.db import db
    from studysync.models import Embedding

    embedder = app.extensions["studysync.embedder"]
    with app.app_context():  # as a bulk import leaves them: saved, never embedded
        db.session.execute(delete(Embedding).where(Embedding.owner_type == "profile")
                           .execution_options(all_tenants=True))
        db.session.commit()
    before = embedder.texts_embedded
    result = app.test_cli_runner().invoke(args=["reindex-embeddings", "--college", kit.id])
    assert result.exit_code == 0, result.output
    assert "3 profiles" in result.output
    assert embedder.texts_embedded == before + 3  # the three profiles with learning styles
    result = app.test_cli_runner().invoke(args=["reindex-embeddings"])
    assert result.exit_code == 0, result.output
    assert embedder.texts_embedded == before + 3  # nothing changed since: nothing embedded
    before = (embedder.calls, embedder.texts_embedded)
    recommendations(client, kit.students[0], "partners")
    assert embedder.texts_embedded == before[1]  # the request found every vector cached


def test_reindex_cli_unknown_college(app):
    result = app.test_cli_runner().invoke(args=["reindex-embeddings", "--college", "nope"])
    assert result.exit_code != 0


def test_change_log_grows_only_on_changes_that_matter(client, kit, app):
    from sqlalchemy import func, select

    from studysync.db import db
    from studysync.db import utcnow
    from studysync.models import MatchingChange, StudyGroup
    from studysync.tenancy import tenant_context

    def logged():
        return db.session.execute(select(MatchingChange.kind, MatchingChange.subject_id)
                                  .where(MatchingChange.college_id == kit.id)
                                  .order_by(MatchingChange.id.desc()).limit(1)).one_or_none(), \
            db.session.execute(select(func.count()).select_from(MatchingChange)
                               .where(MatchingChange.college_id == kit.id)).scalar_one()

    group = make_group(client, kit.students[1], name="Calculus II Crew", subject="Calculus")
    with app.app_context(), tenant_context(kit.id):
        _, count = logged()
        row = db.session.get(StudyGroup, group["group_id"])
        row.last_message_at = utcnow()  # a chat message: no bearing on matches
        db.session.commit()
        assert logged()[1] == count
        row.subject = "Physics"
        db.session.commit()
        assert logged() == (("group", group["group_id"]), count + 1)


def test_auto_formed_members_streams_follow_their_new_group(app, client, classroom_kit):
    """Each member's open stream is told to follow the group it was placed in, as on a join."""
    kit, classroom = classroom_kit
    broker = app.extensions["studysync.broker"]
    subscription = broker.subscribe([user_channel(s.id) for s in kit.students])
    try:
        r = auto_form(client, kit.teacher, classroom["classroom_id"], group_size=3)
        assert r.status_code == 200, r.json
        told = {}
        while (event := subscription.get(timeout=2)) is not None and len(told) < len(kit.students):
            if event["type"] == "membership.changed":
                told.setdefault(event["data"]["group_id"], []).append(event["data"]["status"])
    finally:
        subscription.close()
    placed = {g["group_id"]: len(g["members"]) for g in r.json["data"]["groups"]}
    assert {group_id: len(statuses) for group_id, statuses in told.items()} == placed
    assert {s for statuses in told.values() for s in statuses} == {"active"}
