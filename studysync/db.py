"""The database: one engine and session registry per app, the declarative base and shared mixins.

Services reach the session through `db.session`, which resolves to the current app's registry; the
registry is thread-scoped and removed at the end of every app context, so a request never sees
another request's objects.
"""
from __future__ import annotations

import logging
import re
import sqlite3
import threading
import uuid
import weakref
from datetime import datetime, timezone
from typing import Any

from flask import Flask, current_app, g, has_app_context, has_request_context
from sqlalchemy import JSON, DateTime, ForeignKey, MetaData, String, create_engine, event
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    declared_attr,
    mapped_column,
    scoped_session,
    sessionmaker,
)
from sqlalchemy.types import TypeDecorator

from . import db_roundtrips, psycopg_cursor
from . import db_timeouts as timeouts_module
from .db_timeouts import DatabaseTimeouts

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30000  # how long a writer queues for SQLite's write lock
# Connections kept open: as many as a worker's request threads may be (asgi.py's 8 + 1 for hashing by
# default, up to 24 in all with GUNICORN_THREADS), so that under load no request opens and closes one of
# its own. A server also allows at most POOL_SIZE + SERVER_POOL_OVERFLOW per worker (the 30 it always
# allowed).
POOL_SIZE = 24
SERVER_POOL_OVERFLOW = 6

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def utc_iso(moment: datetime | None) -> str | None:
    """ISO-8601 in UTC with a `Z`, as every response and live event shows a time (None stays None)."""
    if moment is None:
        return None
    if moment.tzinfo is None:  # the databases hand back naive UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def new_id() -> str:
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC in Python, naive UTC in every database.

    SQLite and MySQL have no time zone in their DATETIME, and MySQL drops fractions unless asked,
    which would break ordering of events within a second; so microseconds are kept everywhere.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def alembic_compare_type(context, inspected_column, metadata_column, inspected_type, metadata_type):
    """Alembic's `compare_type` hook (migrations/env.py and tests/test_migrations.py share it).

    UTCDateTime is a DATETIME everywhere (DATETIME(6) on MySQL/MariaDB, TIMESTAMP WITHOUT TIME ZONE on
    PostgreSQL): not a difference. Anything else falls back to alembic's own comparison.
    """
    if isinstance(metadata_type, UTCDateTime):
        return inspected_type.__class__.__name__.upper() not in ("DATETIME", "TIMESTAMP")
    return None


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[str]: JSON}


class IdMixin:
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(default=None, onupdate=utcnow)


class TenantScoped:
    """Rows that belong to one college.

    Every ORM select, update and delete of a subclass is filtered to the current college, and a
    flush refuses a row of another college (see `tenancy.py`). `__tenant_nullable__` lets the users
    table hold the platform's sysadmin, who belongs to no college.
    """

    __tenant_nullable__ = False

    @declared_attr
    def college_id(cls) -> Mapped[str]:
        return mapped_column(
            String(36),
            ForeignKey("colleges.id", ondelete="CASCADE"),
            index=True,
            nullable=cls.__tenant_nullable__,
        )


def _engine_options(url: str, timeouts: DatabaseTimeouts) -> dict:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        options = {"connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
        if parsed.database not in (None, "", ":memory:"):
            # SQLAlchemy's default of 5 closed and reopened the rest (and re-ran the PRAGMAs) on
            # nearly every request.
            options.update(pool_size=POOL_SIZE, max_overflow=POOL_SIZE)
        return options
    # A pool of 10 made every request beyond the tenth at once open a connection (on PostgreSQL a
    # backend process started for it) and close it again: 113 in 8 s of 32 concurrent polls on two
    # workers. No pool_pre_ping: db_roundtrips.py pings only connections that sat idle (one round
    # trip less).
    options: dict = {"pool_size": POOL_SIZE, "max_overflow": SERVER_POOL_OVERFLOW,
                     **timeouts_module.driver_options(backend, timeouts)}
    if backend in ("mysql", "mariadb"):
        options["pool_recycle"] = 3600
        options["isolation_level"] = "READ COMMITTED"
    return options


SQLITE_BUSY = 5  # "database is locked": the write lock is taken, or this snapshot is out of date
WRITE_LOCK_AT_BEGIN = "sqlite_write_lock_at_begin"  # on flask.g: see `take_write_lock_at_begin`


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys on, a busy timeout, and transactions that take the write lock only to write.

    In WAL mode readers never block the writer or each other, so a request's transaction begins
    DEFERRED: its reads share the file with everyone, and it takes the single write lock at its
    first write. That upgrade is the danger: a transaction that has read cannot wait for the lock
    (SQLite returns SQLITE_BUSY at once rather than risk a deadlock), and if another connection
    committed since its first read its snapshot is stale (SQLITE_BUSY_SNAPSHOT); busy_timeout helps
    with neither. Both are "database is locked", which `failure_kind` calls `RETRY`: the request's
    unit of work rolls back and runs the request again, and the rerun begins IMMEDIATE
    (`take_write_lock_at_begin`), so it queues on busy_timeout for the lock and cannot fail the same
    way twice. Outside a request (CLI, bench, tests, the live stream's token checks, background
    threads) nothing would run the work again, so every transaction there begins IMMEDIATE, as all
    of them used to.

    synchronous=NORMAL is WAL's documented pairing: a commit is durable against an application
    crash, and a power cut can lose only the last commits, never corrupt the file.

    Waiting for the write lock: SQLite's busy handler does not queue, it sleeps and polls again,
    ever longer (1, 2, 5 ... then 100 ms between tries), so a writer that has waited a while keeps
    losing the lock to newcomers, which poll every few milliseconds: under a steady stream of joins
    some waited past 5 s while the median was ~100 ms. So this process's IMMEDIATE transactions
    take their turn on a lock of their own first (`_writers`), which hands over at once when the
    holder's transaction ends; the busy handler is left to wait for other processes (and for a
    DEFERRED transaction that got the write lock by writing, which never queues here). A turn
    not had within the busy timeout is taken anyway, as before.
    """
    writers = _writers[engine] = threading.Lock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if _deferred_begin():
            # Straight to the driver: a deferred BEGIN takes no lock and cannot fail as a statement
            # can, and SQLAlchemy's statement path (events, a cursor, its result) was ~2% of an
            # authenticated read's instructions.
            connection.connection.driver_connection.execute("BEGIN")
            return
        queued = writers.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if queued:
                writers.release()
            raise
        if queued:
            connection.info[_HOLDS_TURN] = True

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(connection):  # just before the COMMIT or ROLLBACK: the next writer's BEGIN waits ~1 ms
        if connection.invalidated:  # handed back when the pool dropped it (below); `info` would reconnect
            return
        if connection.info.pop(_HOLDS_TURN, False):
            writers.release()

    # A connection given back to the pool (or dropped) in mid-transaction is rolled back by the pool,
    # past the events above: its turn is handed back there, or every later writer would wait.
    def _hand_back(record) -> None:
        if record.info.pop(_HOLDS_TURN, False):
            writers.release()

    @event.listens_for(engine.pool, "reset")
    def _on_reset(_dbapi_connection, record, _reset_state):
        _hand_back(record)

    @event.listens_for(engine.pool, "invalidate")
    def _on_invalidate(_dbapi_connection, record, _exception):
        _hand_back(record)


_writers: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_HOLDS_TURN = "studysync.sqlite_writer_turn"  # on connection.info: this transaction holds `_writers`


def _deferred_begin() -> bool:
    return has_request_context() and not g.get(WRITE_LOCK_AT_BEGIN, False)


def take_write_lock_at_begin() -> None:
    """From now on this request's SQLite transactions begin IMMEDIATE (the unit of work calls it
    before running a request again after "database is locked"). Other databases ignore it."""
    setattr(g, WRITE_LOCK_AT_BEGIN, True)


# Failures that are not the request's fault ------------------------------------------------------

RETRY, UNAVAILABLE = "retry", "unavailable"
_RETRY_SQLSTATES = {"40001", "40P01"}  # PostgreSQL: serialization failure, deadlock detected
_RETRY_MYSQL_CODES = {1205, 1213}  # lock wait timeout, deadlock found
_LOST_MYSQL_CODES = {2002, 2003, 2006, 2013}  # cannot connect, server gone away, lost connection
# The server gave up on a statement after the statement timeout (db_timeouts.py): too slow or stuck
# behind a lock right now, which is the database's state, not the request's fault.
_TIMED_OUT_SQLSTATES = {"57014"}  # PostgreSQL query_canceled
_TIMED_OUT_MYSQL_CODES = {1969, 3024}  # MariaDB max_statement_time, MySQL max_execution_time


def failure_kind(exc: DBAPIError) -> str | None:
    """`RETRY` when the same transaction may well succeed if run again (a deadlock, a serialization
    failure, a lock wait that timed out, SQLite busy), `UNAVAILABLE` when the database cannot be
    reached, None for everything else (a bug, or a constraint the caller should have handled)."""
    if exc.connection_invalidated:
        return UNAVAILABLE
    original = exc.orig
    sqlstate = getattr(original, "sqlstate", None)  # psycopg
    if sqlstate in _RETRY_SQLSTATES:
        return RETRY
    if sqlstate in _TIMED_OUT_SQLSTATES:
        return UNAVAILABLE
    if type(original).__module__.startswith("psycopg") and isinstance(exc, OperationalError) and (
            sqlstate is None or sqlstate.startswith("08")):
        return UNAVAILABLE  # no server answer at all, or a connection exception
    code = original.args[0] if getattr(original, "args", None) and isinstance(original.args[0], int) else None
    if code in _RETRY_MYSQL_CODES:
        return RETRY
    if code in _LOST_MYSQL_CODES or code in _TIMED_OUT_MYSQL_CODES:
        return UNAVAILABLE
    if isinstance(original, sqlite3.OperationalError):
        if getattr(original, "sqlite_errorcode", 0) & 0xFF == SQLITE_BUSY or "locked" in str(original):
            return RETRY  # SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT (see _configure_sqlite), a locked table
        if "unable to open" in str(original):
            return UNAVAILABLE
    return None


UNIQUE, FOREIGN_KEY = "unique", "foreign_key"
_MYSQL_DUPLICATE, _MYSQL_FOREIGN_KEYS = 1062, {1451, 1452}
_SQLITE_COLUMNS = re.compile(r"UNIQUE constraint failed: (.+)$")
_MYSQL_KEY = re.compile(r"for key '([^']+)'")


def integrity_violation(exc: IntegrityError) -> tuple[str | None, str | None]:
    """(`UNIQUE` or `FOREIGN_KEY` or None, the violated constraint's name when the database says).

    PostgreSQL names the constraint; MariaDB names the key; SQLite names the columns, which are
    matched to a unique constraint of the models' metadata."""
    original = exc.orig
    sqlstate = getattr(original, "sqlstate", None)
    if type(original).__module__.startswith("psycopg"):
        diag = getattr(original, "diag", None)
        name = getattr(diag, "constraint_name", None)
        return {"23505": UNIQUE, "23503": FOREIGN_KEY}.get(sqlstate), name
    code = original.args[0] if getattr(original, "args", None) and isinstance(original.args[0], int) else None
    if code == _MYSQL_DUPLICATE:
        found = _MYSQL_KEY.search(str(original))
        return UNIQUE, found.group(1).rsplit(".", 1)[-1] if found else None
    if code in _MYSQL_FOREIGN_KEYS:
        return FOREIGN_KEY, None
    text = str(original)
    if "FOREIGN KEY constraint failed" in text:
        return FOREIGN_KEY, None
    found = _SQLITE_COLUMNS.search(text)
    if found:
        return UNIQUE, _constraint_named_by_columns(found.group(1))
    return None, None


def _constraint_named_by_columns(columns: str) -> str | None:
    """`users.college_id, users.email` → `uq_users_college_id_email` (SQLite's wording)."""
    from sqlalchemy import PrimaryKeyConstraint, UniqueConstraint

    qualified = [c.strip() for c in columns.split(",")]
    table_name = qualified[0].split(".", 1)[0]
    wanted = [c.split(".", 1)[-1] for c in qualified]
    table = Base.metadata.tables.get(table_name)
    if table is None:
        return None
    for constraint in table.constraints:
        if isinstance(constraint, (UniqueConstraint, PrimaryKeyConstraint)) and \
                [c.name for c in constraint.columns] == wanted:
            return constraint.name
    return None


COMMIT_SENT = "database_commit_sent"  # on flask.g: this app context has sent a COMMIT (api/unit_of_work.py)


def _note_commits(engine: Engine) -> None:
    @event.listens_for(engine, "commit")
    def _on_commit(_connection):
        if has_app_context():
            setattr(g, COMMIT_SENT, True)


class Database:
    """One engine and one thread-scoped session registry."""

    def __init__(self, url: str, timeouts: DatabaseTimeouts | None = None):
        self.url = url
        timeouts = timeouts or DatabaseTimeouts()
        self.engine = create_engine(url, **_engine_options(url, timeouts))
        if self.engine.dialect.name == "sqlite":
            _configure_sqlite(self.engine)
        timeouts_module.install(self.engine, timeouts)
        db_roundtrips.install(self.engine)
        psycopg_cursor.install(self.engine)
        _note_commits(self.engine)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        self.Session = scoped_session(self.session_factory)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.Session.remove()
        self.engine.dispose()


class _Accessor:
    """`db.session` / `db.engine` of the current app."""

    @property
    def database(self) -> Database:
        return current_app.extensions["studysync.db"]

    @property
    def session(self) -> Session:
        return self.database.Session()

    @property
    def engine(self) -> Engine:
        return self.database.engine


db = _Accessor()


def init_app(app: Flask, database: Database) -> None:
    app.extensions["studysync.db"] = database

    @app.teardown_appcontext
    def _remove_session(_exc):
        try:
            database.Session.remove()
        except DBAPIError:
            # The closing ROLLBACK found the database gone. The request's answer is already decided
            # (and nothing uncommitted is kept either way): drop the session, keep the answer.
            log.warning("Database lost while closing a session", exc_info=True)
            database.Session.registry.clear()
