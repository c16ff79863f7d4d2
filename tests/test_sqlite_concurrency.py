"""SQLite serves many users at once: reads never wait for the write lock, and a request that read
and then writes, when another connection wrote meanwhile, runs again instead of failing.

Real concurrency on the test's SQLite file: threads, each with its own test client (and so its own
session and connection), and a second plain sqlite3 connection standing for another worker process.
"""
from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from studysync.api.unit_of_work import unit_of_work
from studysync.asgi import DEFAULT_WSGI_THREADS
from studysync.db import RETRY, _writers, db, failure_kind, utcnow
from studysync.models import AuthSession, DirectMessage
from studysync.tenancy import all_tenants
from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's single write lock and WAL snapshots")

SQLITE_BUSY_SNAPSHOT = 517


@pytest.fixture
def other_process(migrated_database):
    """A connection of its own to the database file, as another gunicorn worker has."""
    connection = sqlite3.connect(make_url(migrated_database).database, isolation_level=None, timeout=30,
                                 check_same_thread=False)
    yield connection
    if connection.in_transaction:
        connection.rollback()
    connection.close()


def run_together(count: int, work) -> list:
    """`work(index)` on `count` threads started at the same moment; their results in order."""
    barrier, results = threading.Barrier(count), [None] * count

    def run(index):
        barrier.wait(timeout=30)
        try:
            results[index] = work(index)
        except BaseException as exc:  # noqa: BLE001 - shown by the assertion below
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_sqlite_refuses_a_stale_upgrade_and_that_is_a_retry(other_process, migrated_database, app, factory):
    """What the design rests on: a transaction that read, then writes after another connection
    committed, fails at once (busy_timeout does not help), and `failure_kind` calls it RETRY."""
    kit = factory.college(students_count=0)
    reader = sqlite3.connect(make_url(migrated_database).database, isolation_level=None, timeout=30)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT name FROM colleges WHERE id = ?", (kit.id,)).fetchone()
        other_process.execute("UPDATE colleges SET name = 'Elsewhere' WHERE id = ?", (kit.id,))
        with pytest.raises(sqlite3.OperationalError) as refused:
            reader.execute("UPDATE colleges SET name = 'Mine' WHERE id = ?", (kit.id,))
    finally:
        reader.close()
    assert refused.value.sqlite_errorcode == SQLITE_BUSY_SNAPSHOT
    assert failure_kind(OperationalError("UPDATE", {}, refused.value)) == RETRY


def test_readers_are_answered_while_another_connection_holds_the_write_lock(app, factory, other_process):
    kit = factory.college(students_count=3)
    other_process.execute("BEGIN IMMEDIATE")
    other_process.execute("UPDATE users SET name = 'Not yet committed' WHERE college_id = ?", (kit.id,))

    def read(index):
        student = kit.students[index % 3]
        client = app.test_client()
        me = client.get("/api/v1/auth/me", headers=student.headers)
        notes = client.get("/api/notifications", headers=student.headers)
        groups = client.get("/api/v1/groups/mine", headers=student.headers)
        return (me.status_code, notes.status_code, groups.status_code), me.json, student.name

    results = run_together(8, read)
    other_process.rollback()
    for result in results:
        assert not isinstance(result, BaseException), result
        statuses, me, expected_name = result
        assert statuses == (200, 200, 200), me
        assert me["data"]["name"] == expected_name  # the committed state, not the writer's open transaction


def test_a_get_that_writes_while_the_lock_is_held_waits_for_it_and_succeeds(app, client, factory, other_process):
    """Reading a thread moves the reader's marker (a write): it meets the held lock, runs again
    taking the lock at BEGIN, and gets it once the other connection commits."""
    kit = factory.college(students_count=2)
    me, friend = kit.students
    assert client.post("/api/messages/send", headers=friend.headers,
                       json={"receiverId": me.id, "content": "hello"}).status_code == 200
    other_process.execute("BEGIN IMMEDIATE")
    other_process.execute("UPDATE colleges SET name = name || '.' WHERE id = ?", (kit.id,))
    released = threading.Timer(0.5, other_process.commit)
    released.start()
    try:
        thread = app.test_client().get(f"/api/messages/{friend.id}", headers=me.headers)
    finally:
        released.join()
    assert thread.status_code == 200, thread.json
    assert [m["content"] for m in thread.json["messages"]] == ["hello"]
    unread = client.get("/api/notifications", headers=me.headers)
    assert unread.status_code == 200


def test_a_request_whose_snapshot_went_stale_runs_again_and_writes_once(app, factory, other_process):
    kit, elsewhere = factory.college(students_count=0), factory.college(students_count=0)
    attempts = []

    def rename():
        attempts.append(True)
        with all_tenants():
            name = db.session.execute(text("SELECT name FROM colleges WHERE id = :id"), {"id": kit.id}).scalar_one()
            if len(attempts) == 1:  # another worker commits after this request's first read
                other_process.execute("UPDATE colleges SET name = 'Moved' WHERE id = ?", (elsewhere.id,))
            db.session.execute(text("UPDATE colleges SET name = :name WHERE id = :id"),
                               {"name": f"{name} (renamed)", "id": kit.id})
        return {"success": True}

    app.add_url_rule("/test/rename", "test_rename", unit_of_work(rename))
    r = app.test_client().get("/test/rename")
    assert r.status_code == 200, r.json
    assert len(attempts) == 2  # the stale upgrade failed once; the rerun took the lock at BEGIN
    with app.app_context(), all_tenants():
        names = dict(db.session.execute(text("SELECT id, name FROM colleges")).all())
    assert names[kit.id].endswith("(renamed)") and not names[kit.id].endswith("(renamed) (renamed)")
    assert names[elsewhere.id] == "Moved"


def test_a_token_check_that_meets_another_writer_still_authenticates(app, factory, other_process):
    """The token check's `last_used_at` (at most once a minute) is written by the request's commit;
    when another worker committed between the request's reads and that write, the unit of work runs
    the request again holding the write lock, and the stamp is written then."""
    kit = factory.college(students_count=1)
    student = kit.student
    long_ago = utcnow() - timedelta(hours=1)
    with app.app_context(), all_tenants():
        db.session.execute(update(AuthSession).where(AuthSession.user_id == student.id).values(last_used_at=long_ago))
        db.session.commit()
    fired = []

    def another_writer_first(_conn, _cursor, statement, _params, _context, _many):
        if not fired and statement.lstrip().upper().startswith("UPDATE AUTH_SESSIONS"):
            fired.append(True)
            other_process.execute("UPDATE colleges SET name = name || '.' WHERE id = ?", (kit.id,))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", another_writer_first)
    try:
        r = app.test_client().get("/api/v1/auth/me", headers=student.headers)
    finally:
        event.remove(engine, "before_cursor_execute", another_writer_first)
    assert fired == [True]
    assert r.status_code == 200, r.json
    with app.app_context(), all_tenants():
        stamped = db.session.execute(select(AuthSession.last_used_at).where(AuthSession.user_id == student.id)).scalar_one()
    assert stamped > long_ago + timedelta(minutes=30)


def test_concurrent_writers_that_read_first_all_commit_or_get_a_clean_409(app, factory):
    """Pairs of students send each other messages, read their threads (which moves read markers)
    and edit their profiles from eight threads at once: a first attempt that read and then found
    another writer ahead runs again holding the lock, so every request commits, once."""
    kit = factory.college(students_count=8)
    rounds = 6

    def chat(index):
        me, peer = kit.students[index], kit.students[index ^ 1]
        client, statuses = app.test_client(), []
        for n in range(rounds):
            sent = client.post("/api/messages/send", headers=me.headers,
                               json={"receiverId": peer.id, "content": f"{index}:{n}"})
            statuses.append(("send", sent.status_code, sent.get_data(as_text=True)))
            read = client.get(f"/api/messages/{peer.id}", headers=me.headers)
            statuses.append(("read", read.status_code, read.get_data(as_text=True)))
            profile = client.put("/api/v1/me/profile", headers=me.headers, json={"bio": f"round {n}"})
            statuses.append(("profile", profile.status_code, profile.get_data(as_text=True)))
        return statuses

    results = run_together(8, chat)
    sent_ok = 0
    for index, statuses in enumerate(results):
        assert not isinstance(statuses, BaseException), statuses
        for kind, status, body in statuses:
            # The rerun holds the write lock from BEGIN, so not even a 409 is expected here.
            assert status == 200, (kind, status, body)
            sent_ok += kind == "send"
    with app.app_context(), all_tenants():
        stored = db.session.execute(select(func.count()).select_from(DirectMessage)).scalar_one()
    assert stored == sent_ok == len(results) * rounds


def test_every_connection_is_in_wal_mode_with_a_busy_timeout_and_normal_sync(app):
    engine = app.extensions["studysync.db"].engine
    connections = [engine.raw_connection() for _ in range(DEFAULT_WSGI_THREADS)]  # one per request thread
    try:
        for connection in connections:
            pragmas = {name: connection.execute(f"PRAGMA {name}").fetchone()[0]
                       for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")}
            assert pragmas == {"journal_mode": "wal", "synchronous": 1, "busy_timeout": 30000, "foreign_keys": 1}
    finally:
        for connection in connections:
            connection.close()
    assert engine.pool.checkedin() == DEFAULT_WSGI_THREADS  # all kept for the next requests, none closed


def test_outside_a_request_a_transaction_holds_the_write_lock_from_its_begin(app, factory, other_process):
    """The CLI, the bench and background threads have no unit of work to run them again, so they
    keep taking the lock at BEGIN: their read-then-write can never meet a stale snapshot."""
    factory.college(students_count=0)
    other_process.execute("PRAGMA busy_timeout=0")
    with app.app_context(), all_tenants():
        db.session.execute(text("SELECT count(*) FROM colleges")).scalar_one()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other_process.execute("BEGIN IMMEDIATE")
        db.session.rollback()
    other_process.execute("BEGIN IMMEDIATE")  # free again once that transaction ended
    other_process.rollback()


def test_writers_of_this_process_take_turns_and_every_turn_is_handed_back(app, factory):
    """Transactions that take the write lock at BEGIN queue for it in this process (SQLite's busy
    handler polls, and starves whoever has waited longest): each one gets its turn, whether it
    commits, rolls back or fails, and hands it on."""
    kit = factory.college(students_count=8)
    engine = app.extensions["studysync.db"].engine

    def write(index):
        student = kit.students[index]
        for n in range(5):
            with app.app_context(), all_tenants():
                try:
                    db.session.execute(update(AuthSession).where(AuthSession.user_id == student.id)
                                       .values(last_used_at=utcnow()))
                    if n == 2:
                        raise ValueError("a failure half-way")
                    db.session.commit()
                except ValueError:
                    db.session.rollback()
                finally:
                    db.session.close()
        return index

    assert run_together(8, write) == list(range(8))
    assert not _writers[engine].locked()  # the last turn was handed back
    with app.app_context(), all_tenants():
        db.session.execute(text("SELECT 1"))  # reads too begin IMMEDIATE outside a request
        assert _writers[engine].locked()
        db.session.rollback()
    assert not _writers[engine].locked()


def test_a_writer_whose_connection_is_dropped_mid_transaction_hands_its_turn_back(app):
    engine = app.extensions["studysync.db"].engine
    with app.app_context():
        connection = engine.connect()
        connection.begin()  # outside a request: BEGIN IMMEDIATE, with this process's turn
        assert _writers[engine].locked()
        connection.invalidate()  # the pool drops it, past the transaction's own ROLLBACK
        assert not _writers[engine].locked()
        connection.rollback()
        connection.close()
