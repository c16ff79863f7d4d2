"""PostgreSQL transactions begin at a request's first write, not its first read (studysync/db_roundtrips.py).

What an operator or another request would notice: a connection that only read holds no transaction
open on the server (`idle`, never `idle in transaction`), while a write is never visible to anyone
before its request's COMMIT, and a row lock taken with SELECT ... FOR UPDATE is held until then.
"""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, pool, select, text

from studysync.db import db
from studysync.models import User
from studysync.tenancy import tenant_context

from .conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="PostgreSQL's lazy BEGIN")


@pytest.fixture
def observer(migrated_database):
    """Another connection, as another request or an operator's psql would see the server."""
    engine = create_engine(migrated_database, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        yield connection
    engine.dispose()


def backend_state(observer, pid: int) -> str:
    return observer.execute(text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}).scalar_one()


def seen_name(observer, user_id: str) -> str:
    return observer.execute(text("SELECT name FROM users WHERE id = :id"), {"id": user_id}).scalar_one()


def test_a_read_holds_no_transaction_and_a_write_stays_invisible_until_commit(app, factory, observer):
    student = factory.college(students_count=1).students[0]
    with app.test_request_context("/"), tenant_context(student.college_id):
        session = db.session
        user = session.get(User, student.id)
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert backend_state(observer, pid) == "idle"

        user.name = "Renamed"
        session.flush()
        assert backend_state(observer, pid) == "idle in transaction"
        assert seen_name(observer, student.id) == student.name
        session.rollback()
        assert seen_name(observer, student.id) == student.name

        session.get(User, student.id).name = "Renamed"
        session.commit()
    assert seen_name(observer, student.id) == "Renamed"


def test_a_row_locked_by_select_for_update_stays_locked_until_the_commit(app, factory, observer):
    student = factory.college(students_count=1).students[0]
    with app.test_request_context("/"), tenant_context(student.college_id):
        session = db.session
        session.execute(select(User).where(User.id == student.id).with_for_update()).scalar_one()
        locked = observer.execute(text("SELECT id FROM users WHERE id = :id FOR UPDATE SKIP LOCKED"),
                                  {"id": student.id}).first()
        assert locked is None  # the lock is held: the SELECT ran inside the transaction
        session.commit()
    free = observer.execute(text("SELECT id FROM users WHERE id = :id FOR UPDATE SKIP LOCKED"), {"id": student.id})
    assert free.first() is not None
