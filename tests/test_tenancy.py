"""Tenant isolation: another college's id is a 404 on every route, and the ORM refuses to forget."""
import pytest
from sqlalchemy import select, update

from studysync.db import db
from studysync.models import College, User
from studysync.tenancy import TenancyError, all_tenants, tenant_context

from .support.envelopes import error_body


def snapshot(app, model, object_id):
    with app.app_context(), all_tenants():
        obj = db.session.get(model, object_id)
        return {c.name: getattr(obj, c.key) for c in model.__table__.columns}


CORE_ROUTES = [
    ("GET", "/api/v1/colleges/{college}", None, College, "college"),
    ("PUT", "/api/v1/colleges/{college}/settings", {"group_limit": 9}, College, "college"),
    ("GET", "/api/v1/users/{teacher}", None, User, "teacher"),
    ("PUT", "/api/v1/users/{teacher}", {"name": "Hijacked"}, User, "teacher"),
    ("DELETE", "/api/v1/users/{teacher}", None, User, "teacher"),
    ("GET", "/api/v1/students/{student}", None, User, "student"),
    ("PUT", "/api/v1/students/{student}/profile", {"student_name": "Hijacked"}, User, "student"),
    ("DELETE", "/api/v1/students/{student}", None, User, "student"),
]


@pytest.mark.parametrize("method,template,body,model,target", CORE_ROUTES)
def test_other_colleges_ids_are_not_found(app, client, factory, method, template, body, model, target):
    victim = factory.college()
    intruders = factory.college()
    ids = {"college": victim.id, "teacher": victim.teacher.id, "student": victim.student.id}
    before = snapshot(app, model, ids[target])
    url = template.format(**ids)
    for actor in (intruders.admin, intruders.teacher, intruders.student):
        r = client.open(url, method=method, json=body, headers=actor.headers)
        assert r.status_code == 404, (actor.role, r.json)
        assert error_body(r) == {"success": False, "message": "Resource not found"}
    assert snapshot(app, model, ids[target]) == before


def test_lists_never_show_another_college(client, factory):
    first, second = factory.college(students_count=3), factory.college(students_count=2)
    r = client.get("/api/v1/students?limit=100", headers=first.admin.headers)
    emails = {s["student_email"] for s in r.json["data"]}
    assert emails == {s.email for s in first.students}
    assert r.json["pagination"]["total"] == 3
    r = client.get("/api/v1/users", headers=second.admin.headers)
    assert {u["college_id"] for u in r.json["data"]} == {second.id}


def test_select_without_a_college_fails_closed(app):
    with app.app_context():
        with pytest.raises(TenancyError):
            db.session.execute(select(User)).all()


def test_criteria_reach_counts_and_joins(app, factory):
    first, second = factory.college(students_count=3), factory.college(students_count=1)
    from studysync.queries import paginate

    with app.app_context(), tenant_context(second.id):
        page = paginate(select(User).where(User.role == "student"), 1, 10)
        assert page.total == 1 and [u.id for u in page.items] == [second.student.id]


def test_one_statement_run_for_two_colleges_sees_each_ones_rows(app, factory):
    """The statements the services build once per process carry the college as a parameter of each
    run: the second college must not be answered from the first one's criteria."""
    first, second = factory.college(students_count=3), factory.college(students_count=1)
    students = select(User.id).where(User.role == "student")
    seen = {}
    with app.app_context():
        for kit in (first, second, first):
            with tenant_context(kit.id):
                seen.setdefault(kit.id, []).append(set(db.session.execute(students).scalars()))
    assert seen[first.id] == [{s.id for s in first.students}] * 2
    assert seen[second.id] == [{second.student.id}]


def test_bulk_changes_of_tenant_rows_by_primary_key_fail_closed(app, factory):
    """An executemany cannot carry the college's criteria: it is refused rather than run unscoped."""
    kit = factory.college(students_count=2)
    with app.app_context(), tenant_context(kit.id):
        with pytest.raises(TenancyError):
            db.session.execute(update(User), [{"id": s.id, "name": "Renamed"} for s in kit.students])
        db.session.rollback()
    assert all(snapshot(app, User, s.id)["name"] != "Renamed" for s in kit.students)


def test_flush_refuses_rows_of_another_college(app, factory):
    first, second = factory.college(), factory.college()
    with app.app_context(), tenant_context(first.id):
        db.session.add(User(role="student", name="Sneaky", email="sneaky@x.edu", college_id=second.id))
        with pytest.raises(TenancyError):
            db.session.flush()
        db.session.rollback()
        stamped = User(role="student", name="Stamped", email="stamped@x.edu")
        db.session.add(stamped)
        db.session.commit()
        assert stamped.college_id == first.id


def test_a_row_cannot_move_between_colleges(app, factory):
    first, second = factory.college(), factory.college()
    with app.app_context(), tenant_context(first.id):
        student = db.session.get(User, first.student.id)
        student.college_id = second.id
        with pytest.raises(TenancyError):
            db.session.commit()


def test_a_row_added_in_a_college_is_stamped_even_when_an_all_colleges_step_flushes_it(app, factory):
    """Opening a login session flushes inside all_tenants(); a row the caller added before it still
    belongs to the caller's college (it was written with no college at all before)."""
    from studysync.auth import sessions
    from studysync.models import Notification

    kit = factory.college()
    with app.app_context(), tenant_context(kit.id):
        user = db.session.get(User, kit.student.id)
        db.session.add(Notification(user_id=kit.student.id, type="t", title="t", message="m"))
        sessions.open_session(user, sessions.ClientInfo("pytest", "127.0.0.1"))
        db.session.commit()
    with app.app_context(), all_tenants():
        stored = db.session.execute(select(Notification).where(Notification.type == "t")).scalar_one()
    assert stored.college_id == kit.id
