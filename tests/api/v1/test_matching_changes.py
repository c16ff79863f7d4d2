"""The matching index follows changes one at a time, in every worker, and joins never queue on it.

`builds` counts whole builds of a college's index in one app (one worker): a change must show in
the next recommendation while that count stays put. Two apps on one database are two workers.
"""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import func, select, update

from studysync.db import db
from studysync.models import Embedding, GroupMember, MatchingChange, Profile, StudyGroup
from studysync.services.embeddings import text_hash
from studysync.tenancy import tenant_context
from tests.api.v1.test_matching import EVENINGS, MORNINGS, kit, recommendations, set_profile  # noqa: F401
from tests.factories import PASSWORD, make_group


def builds(app, college_id: str) -> int:
    entry = app.extensions["studysync.matching_index"].peek(college_id)
    return entry.builds if entry is not None else 0


def partner_ids(client, actor) -> list[str]:
    return [p["user_id"] for p in recommendations(client, actor, "partners") if not p.get("suggested")]


def group_ids(client, actor) -> list[str]:
    return [g["group_id"] for g in recommendations(client, actor) if not g.get("suggested")]


def test_a_profile_change_shows_in_the_next_recommendation_without_a_rebuild(app, client, kit):
    me, twin, other, _ = kit.students
    embedder = app.extensions["studysync.embedder"]
    assert partner_ids(client, me) == [twin.id]
    assert builds(app, kit.id) == 1
    embedded = embedder.texts_embedded

    set_profile(client, twin, subjects=["History"], schedule=MORNINGS, performance_level=1,
                learning_style="I learn by listening to podcasts")
    assert partner_ids(client, me) == []
    assert embedder.texts_embedded == embedded + 1  # only the changed text, once

    set_profile(client, other, subjects=["Calculus", "Physics"], schedule=EVENINGS, performance_level=4,
                learning_style="visual learner who draws diagrams")
    assert partner_ids(client, me) == [other.id]
    assert builds(app, kit.id) == 1


def test_a_stale_profile_is_embedded_in_memory_and_the_recommendation_writes_nothing(app, client, kit):
    """A text its writer could not embed (the model was still loading, say) is embedded by each
    index for itself: the recommendation that catches up stays a reader, so it never queues for
    a write lock behind other writers (on SQLite, behind every one of them)."""
    me, twin, other, _ = kit.students
    embedder = app.extensions["studysync.embedder"]
    assert partner_ids(client, me) == [twin.id]
    with app.app_context(), tenant_context(kit.id):
        session = db.session
        profile = session.execute(select(Profile).where(Profile.user_id == other.id)).scalar_one()
        profile.subjects, profile.schedule, profile.performance_level = ["Calculus", "Physics"], EVENINGS, 4
        profile.learning_style, profile.embedding_stale = "visual learner who draws diagrams", True
        session.commit()  # logged as a change, not embedded
        stored = session.execute(select(Embedding.text_hash).where(Embedding.owner_id == other.id)).scalar_one()
    embedded = embedder.texts_embedded

    assert sorted(partner_ids(client, me)) == sorted([twin.id, other.id])
    assert embedder.texts_embedded == embedded + 1
    with app.app_context(), tenant_context(kit.id):
        session = db.session
        assert session.execute(select(Embedding.text_hash).where(Embedding.owner_id == other.id)).scalar_one() \
            == stored  # the cache is as it was
        assert session.execute(select(Profile.embedding_stale).where(Profile.user_id == other.id)).scalar_one()
    assert builds(app, kit.id) == 1


def test_a_saved_profile_is_embedded_by_its_save(app, client, kit):
    me, twin, other, _ = kit.students
    assert partner_ids(client, me) == [twin.id]
    set_profile(client, other, subjects=["Calculus", "Physics"], schedule=EVENINGS, performance_level=4,
                learning_style="an entirely new text")
    with app.app_context(), tenant_context(kit.id):
        session = db.session
        assert session.execute(select(Embedding.text_hash).where(Embedding.owner_id == other.id)).scalar_one() \
            == text_hash("an entirely new text")
        assert not session.execute(select(Profile.embedding_stale).where(Profile.user_id == other.id)).scalar_one()


def test_a_new_profile_joins_the_candidates_and_a_deactivated_student_leaves(app, client, kit):
    me, twin, _, shy = kit.students
    assert partner_ids(client, me) == [twin.id]
    set_profile(client, shy, subjects=["Calculus", "Physics"], schedule=EVENINGS, performance_level=4,
                learning_style="visual learner who draws diagrams")
    assert sorted(partner_ids(client, me)) == sorted([twin.id, shy.id])

    r = client.put(f"/api/v1/students/{twin.id}/profile", json={"student_status": "inactive"},
                   headers=kit.admin.headers)
    assert r.status_code == 200, r.json
    assert partner_ids(client, me) == [shy.id]
    assert builds(app, kit.id) == 1


def test_an_erased_student_is_no_longer_recommended(app, client, kit):
    me, twin, _, _ = kit.students
    assert partner_ids(client, me) == [twin.id]
    r = client.post("/api/v1/me/erasure", headers=twin.headers, json={"password": PASSWORD})
    assert r.status_code == 200, r.json
    assert partner_ids(client, me) == []
    hits = client.get("/api/v1/search", query_string={"q": twin.name, "type": "people"}, headers=me.headers)
    assert twin.id not in [h["user_id"] for h in hits.json["data"]]


def test_joins_leaves_and_archiving_are_followed(app, client, kit):
    me, twin, other, shy = kit.students
    crew = make_group(client, twin, name="Calculus Crew", subject="Calculus", max_members=3)
    assert group_ids(client, me) == [crew["group_id"]]
    first = recommendations(client, me)[0]
    assert first["member_count"] == 1

    assert client.post(f"/api/v1/groups/{crew['group_id']}/join", headers=shy.headers).status_code == 200
    assert recommendations(client, me)[0]["member_count"] == 2
    assert client.post(f"/api/v1/groups/{crew['group_id']}/join", headers=other.headers).status_code == 200
    assert group_ids(client, me) == []  # full
    assert client.post(f"/api/v1/groups/{crew['group_id']}/leave", headers=other.headers).status_code == 200
    assert recommendations(client, me)[0]["member_count"] == 2

    # the group is as good as its members: its leader becoming a history student sinks it
    set_profile(client, twin, subjects=["History"], schedule=MORNINGS, performance_level=1,
                learning_style="I learn by listening to podcasts")
    assert group_ids(client, me) == []
    set_profile(client, twin, subjects=["Calculus", "Physics"], schedule=EVENINGS, performance_level=4,
                learning_style="visual learner who draws diagrams")
    assert group_ids(client, me) == [crew["group_id"]]

    r = client.post(f"/api/v1/groups/{crew['group_id']}/archive", headers=twin.headers)
    assert r.status_code == 200, r.json
    assert group_ids(client, me) == []
    assert builds(app, kit.id) == 1


def test_two_workers_each_follow_a_change_made_through_the_other(app, app_factory, client, kit):
    me, twin, other, _ = kit.students
    second = app_factory()
    client2 = second.test_client()
    assert partner_ids(client, me) == [twin.id]
    assert partner_ids(client2, me) == [twin.id]

    set_profile(client2, twin, subjects=["History"], schedule=MORNINGS, performance_level=1)
    assert partner_ids(client, me) == []
    assert partner_ids(client2, me) == []
    set_profile(client, other, subjects=["Calculus", "Physics"], schedule=EVENINGS, performance_level=4,
                learning_style="visual learner who draws diagrams")
    assert partner_ids(client2, me) == [other.id]
    assert partner_ids(client, me) == [other.id]
    assert builds(app, kit.id) == builds(second, kit.id) == 1


def test_a_change_committed_after_a_newer_one_was_read_is_still_applied(app, client, kit):
    """Ids are handed out at insert, seen at commit: here the change with the smaller id appears
    only after the index has applied a larger one (on SQLite, by renumbering the log rows)."""
    me, twin, other, _ = kit.students
    db = app.extensions["studysync.db"]
    assert partner_ids(client, me) == [twin.id]
    with db.engine.begin() as connection:
        newest = connection.execute(select(func.max(MatchingChange.id))).scalar()
    if db.engine.dialect.name != "sqlite":
        pytest.skip("test_a_late_commit_on_a_real_server covers servers that hand out ids concurrently")
    set_profile(client, other, subjects=["Chemistry"])  # logged as newest + 1 ...
    with db.engine.begin() as connection:  # ... moved to newest + 3, leaving room below it
        connection.execute(update(MatchingChange).where(MatchingChange.id == newest + 1).values(id=newest + 3))
    assert partner_ids(client, me) == [twin.id]  # the index has now read up to newest + 3
    set_profile(client, twin, subjects=["History"], schedule=MORNINGS, performance_level=1)
    with db.engine.begin() as connection:  # the twin's change "commits late" with a smaller id
        connection.execute(update(MatchingChange).where(MatchingChange.id == newest + 4).values(id=newest + 2))
    assert partner_ids(client, me) == []
    assert builds(app, kit.id) == 1


@contextmanager
def open_transaction(app, college_id: str):
    """A session of its own (another request, say), as `college_id`; rolled back unless committed."""
    if app.extensions["studysync.db"].engine.dialect.name == "sqlite":
        pytest.skip("SQLite has one writer at a time: no transaction stays open beside another")
    session = app.extensions["studysync.db"].session_factory()
    try:
        with tenant_context(college_id, session=session):
            yield session
    finally:
        session.rollback()
        session.close()


def test_a_late_commit_on_a_real_server(app, client, kit):
    """A transaction that logged a change first commits last; the index still applies it."""
    me, twin, other, _ = kit.students
    assert partner_ids(client, me) == [twin.id]
    with app.app_context(), open_transaction(app, kit.id) as slow:
        profile = slow.execute(select(Profile).where(Profile.user_id == twin.id)).scalar_one()
        profile.subjects, profile.schedule, profile.performance_level = ["History"], MORNINGS, 1
        slow.flush()  # its change row holds the smaller id, not yet committed
        set_profile(client, other, subjects=["Chemistry"])  # a larger id, committed at once
        assert partner_ids(client, me) == [twin.id]  # read past the slow one's id
        slow.commit()
    assert partner_ids(client, me) == []
    assert builds(app, kit.id) == 1


def test_joins_in_one_college_do_not_wait_on_each_other(app_factory, factory_free_kit):
    """One transaction has joined a group and stays open; a join to another group of the same
    college by someone else completes (the old version row made it wait for the first commit)."""
    app, client, kit, groups = factory_free_kit
    first, second = kit.students[0], kit.students[1]
    with app.app_context(), open_transaction(app, kit.id) as slow:
        group = slow.get(StudyGroup, groups[0])
        slow.add(GroupMember(group_id=group.id, user_id=first.id, status="active", role="member"))
        group.member_count += 1
        slow.flush()  # joined and logged, not committed
        r = client.post(f"/api/v1/groups/{groups[1]}/join", headers=second.headers)
        assert r.status_code == 200, r.json


@pytest.fixture
def factory_free_kit(app_factory):
    """A college with two open groups, on an app whose statements give up after two seconds, so a
    join that would wait for a lock fails (503) instead of hanging."""
    from tests.factories import Factory

    app = app_factory(db_statement_timeout=2.0)
    client = app.test_client()
    kit = Factory(app, client).college(students_count=3)
    leader = kit.students[2]
    groups = [make_group(client, leader, name=f"Open {i}", subject="Calculus")["group_id"] for i in range(2)]
    return app, client, kit, groups
