"""One commit per request: a deadlock at that commit runs the whole request again, never half of it.

The deadlock is injected at the request's final commit (the database aborts the transaction after
every row was written), once. Before the unit of work, register committed the account and then
failed later: the retry answered 409 "Email already exists" for the account it had just created.
"""
from __future__ import annotations

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from studysync.conflicts import conflict_message
from studysync.db import FOREIGN_KEY, RETRY, UNIQUE, db, failure_kind, integrity_violation
from studysync.models import AuthSession, GroupMember, Profile, User
from studysync.tenancy import all_tenants


class _Deadlock(Exception):
    sqlstate = "40P01"  # what PostgreSQL says; failure_kind reads it the same on every backend


@pytest.fixture
def deadlock_at_next_commit(app):
    """Abort the next commit of the app's sessions the way a deadlock does, once."""
    factory = app.extensions["studysync.db"].session_factory
    fired = []

    def before_commit(session):
        if not fired and session.info.get("arm_deadlock"):
            fired.append(True)
            raise OperationalError("COMMIT", {}, _Deadlock("deadlock detected"))

    event.listen(factory, "before_commit", before_commit)

    @app.before_request
    def _arm():
        db.session.info["arm_deadlock"] = True

    yield fired
    event.remove(factory, "before_commit", before_commit)


def count(app, model, *where):
    with app.app_context(), all_tenants():
        return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def test_the_injected_failure_is_a_deadlock_to_the_retry():
    assert failure_kind(OperationalError("COMMIT", {}, _Deadlock())) == RETRY


def test_a_register_whose_commit_deadlocks_creates_one_account_and_answers_201(app, client, factory,
                                                                                deadlock_at_next_commit):
    factory.college(domain="state.edu", students_count=0)
    body = {"name": "Jane Doe", "email": "jane@state.edu", "password": "secret123", "major": "Physics",
            "subjects": ["Mathematics"]}
    r = client.post("/api/auth/register", json=body)
    assert deadlock_at_next_commit == [True]
    assert r.status_code == 201, r.json
    assert r.json["user"]["email"] == "jane@state.edu"
    (user_id,) = [r.json["user"]["id"]]
    assert count(app, User, User.email == "jane@state.edu") == 1
    assert count(app, Profile, Profile.user_id == user_id) == 1
    assert count(app, AuthSession, AuthSession.user_id == user_id) == 1
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {r.json['token']}"})
    assert me.status_code == 200 and me.json["user"]["major"] == "Physics"


def test_a_student_update_whose_commit_deadlocks_is_applied_once(app, client, factory, deadlock_at_next_commit):
    kit = factory.college()
    student = kit.student
    r = client.put(f"/api/v1/students/{student.id}/profile", headers=kit.admin.headers,
                   json={"student_department": "Physics", "student_status": "inactive"})
    assert deadlock_at_next_commit == [True]
    assert r.status_code == 200, r.json
    with app.app_context(), all_tenants():
        user = db.session.get(User, student.id)
        assert (user.department, user.status) == ("Physics", "inactive")
    assert count(app, AuthSession, AuthSession.user_id == student.id, AuthSession.revoked_at.is_(None)) == 0
    assert client.get("/api/v1/auth/me", headers=student.headers).status_code == 401


def violation(app, row):
    with app.app_context(), all_tenants():
        db.session.add(row)
        try:
            db.session.flush()
        except IntegrityError as exc:
            return exc
        finally:
            db.session.rollback()
    raise AssertionError("the database accepted the row")


def test_only_a_unique_violation_is_a_conflict_and_it_names_what_clashed(app, factory):
    """Read the same way on SQLite, PostgreSQL and MariaDB: a duplicate email is the email's
    conflict; a membership of a group that does not exist is no conflict at all (the request runs
    again and meets the missing group as a 404)."""
    kit = factory.college()
    duplicate = violation(app, User(college_id=kit.id, role="teacher", name="Twin", email=kit.teacher.email))
    assert integrity_violation(duplicate) == (UNIQUE, "uq_users_college_id_email")
    assert conflict_message(duplicate) == "Email already exists"
    orphan = violation(app, GroupMember(college_id=kit.id, group_id="no-such-group", user_id=kit.student.id))
    assert integrity_violation(orphan)[0] == FOREIGN_KEY
