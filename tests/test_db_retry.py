"""A request caught in a real deadlock runs again and succeeds; one that keeps failing is a 409,
and a database that cannot be reached is a 503 — never a 500."""
import threading

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from studysync.api.unit_of_work import ATTEMPTS, unit_of_work
from studysync.db import RETRY, UNAVAILABLE, db, failure_kind
from studysync.errors import RETRY_MESSAGE
from tests.conftest import BACKEND, make_app
from tests.support.envelopes import error_body

needs_row_locks = pytest.mark.skipif(BACKEND == "sqlite", reason="SQLite has no row locks: writers queue, never deadlock")


def lock_in_order(first, second, barrier):
    """Lock two college rows in the given order, meeting the other request in between."""
    db.session.execute(text("SELECT id FROM colleges WHERE id = :id FOR UPDATE"), {"id": first})
    if barrier is not None:
        barrier.wait(timeout=10)
    db.session.execute(text("SELECT id FROM colleges WHERE id = :id FOR UPDATE"), {"id": second})
    db.session.execute(text("UPDATE colleges SET name = name WHERE id = :id"), {"id": second})
    db.session.commit()


def real_deadlock(url, a, b):
    """Two connections locking two rows in opposite orders: the database kills one. Returns its error."""
    engine = create_engine(url)
    barrier, errors = threading.Barrier(2), []

    def run(first, second):
        try:
            with engine.begin() as conn:
                conn.execute(text("SELECT id FROM colleges WHERE id = :id FOR UPDATE"), {"id": first})
                barrier.wait(timeout=10)
                conn.execute(text("SELECT id FROM colleges WHERE id = :id FOR UPDATE"), {"id": second})
        except DBAPIError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=pair) for pair in ((a, b), (b, a))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    engine.dispose()
    assert len(errors) == 1, errors
    return errors[0]


@needs_row_locks
def test_two_requests_that_deadlock_both_succeed(app_factory, factory, migrated_database):
    app = app_factory()
    a, b = factory.college().id, factory.college().id
    barrier = threading.Barrier(2)
    attempts = []

    def view(order):
        attempts.append(order)
        first, second = (a, b) if order == "ab" else (b, a)
        lock_in_order(first, second, barrier if attempts.count(order) == 1 else None)
        return {"success": True, "order": order}

    app.add_url_rule("/test/lock/<order>", "test_lock", unit_of_work(view))
    results = {}

    def call(order):
        results[order] = app.test_client().get(f"/test/lock/{order}")

    threads = [threading.Thread(target=call, args=(order,)) for order in ("ab", "ba")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert {order: r.status_code for order, r in results.items()} == {"ab": 200, "ba": 200}
    assert len(attempts) == 3  # the database aborted one of them once; it ran again


@needs_row_locks
def test_a_deadlock_that_keeps_happening_is_a_409_asking_to_retry(app_factory, factory, migrated_database):
    app = app_factory()
    error = real_deadlock(migrated_database, factory.college().id, factory.college().id)
    assert failure_kind(error) == RETRY
    calls = []

    def view():
        calls.append(1)
        raise error

    app.add_url_rule("/test/always-deadlocks", "always", unit_of_work(view))
    r = app.test_client().get("/test/always-deadlocks")
    assert r.status_code == 409 and error_body(r) == {"success": False, "message": RETRY_MESSAGE}
    assert len(calls) == ATTEMPTS


UNREACHABLE = {"sqlite": "sqlite:////nonexistent-dir/studysync.db",
               "postgres": "postgresql+psycopg://postgres@127.0.0.1:9/none",
               "mysql": "mysql+pymysql://root@127.0.0.1:9/none"}[BACKEND]


def test_an_unreachable_database_is_a_503_in_the_envelope(factory):
    kit = factory.college()
    engine = create_engine(UNREACHABLE)
    with pytest.raises(DBAPIError) as caught:
        engine.connect()
    engine.dispose()
    assert failure_kind(caught.value) == UNAVAILABLE

    app = make_app(UNREACHABLE)
    for path in ("/api/v1/groups", "/api/groups/mine"):  # the token check fails before any view runs
        r = app.test_client().get(path, headers=kit.student.headers)
        assert r.status_code == 503 and r.json["success"] is False and "unavailable" in r.json["message"], r.json
