"""Round trips to a database server: a request that only reads pays one per statement, nothing more.

An authenticated GET runs one SELECT (the token check) or a few. Left to the defaults, each request
also paid a pre-ping (`SELECT 1` on every pool checkout), and on PostgreSQL a `BEGIN` before its first
statement and a `COMMIT` at the end: four round trips for one SELECT, each costing the server a
wake-up and this process the driver's Python. Two changes, each keeping what it replaces:

- Ping only a connection that sat in the pool longer than `PING_AFTER_IDLE_SECONDS`. Pre-ping is
  for connections the server dropped while they waited (a restart, an idle timeout, a failover).
  Under load connections come back to the pool within milliseconds, and a server lost meanwhile
  is met by a request's own statement: SQLAlchemy then invalidates every pooled connection older
  than that error, so at most the requests already running see it (a 503, as during the outage
  itself). A failed ping invalidates the pool as SQLAlchemy's pre-ping does.

- PostgreSQL: a transaction begins at the first statement that may write, not at the first read
  (`lazy_begin`). The connection is in psycopg's autocommit mode, so a plain SELECT runs on its
  own; anything else (INSERT, UPDATE, DELETE, SAVEPOINT, SELECT ... FOR UPDATE/SHARE, a server-side
  cursor, a statement calling a function that writes) is preceded by `BEGIN ISOLATION LEVEL READ
  COMMITTED`, and every later statement runs inside that transaction until SQLAlchemy's commit or
  rollback ends it (psycopg sends COMMIT or ROLLBACK only when the server has a transaction open,
  so a request that only read sends neither). Nothing a request can see changes: in READ COMMITTED
  every statement takes a fresh snapshot inside a transaction too, row locks are taken inside the
  transaction, and every write of a request lies between its one BEGIN and its unit of work's one
  COMMIT (`api/unit_of_work.py`): it commits whole or changes nothing. A read no longer holds a
  transaction open while the view works ("idle in transaction").
"""
from __future__ import annotations

import re
import time

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

PING_AFTER_IDLE_SECONDS = 1.0
IDLE_SINCE = "studysync.idle_since"  # on the pool's connection record
BEGIN = "BEGIN ISOLATION LEVEL READ COMMITTED"
# A statement that starts with SELECT but must run inside the transaction: a row lock, or a call of a
# function that changes something (sequences, advisory locks, settings, notifications).
_NOT_A_PLAIN_READ = re.compile(
    r"\bFOR\s+(?:NO\s+KEY\s+)?UPDATE\b|\bFOR\s+(?:KEY\s+)?SHARE\b|\b(?:nextval|setval|set_config|pg_notify)\s*\(|"
    r"\bpg_(?:try_)?advisory", re.IGNORECASE)
_READS_CACHE_SIZE = 4096  # statements are a few hundred cached strings; the bound is for text() ones


def install(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        return  # a file in this process: no round trips, nothing to ping
    _ping_after_idle(engine)
    if engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
        _lazy_begin(engine)


def _ping_after_idle(engine: Engine) -> None:
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _idle_from_now(_dbapi_connection, record):
        record.info[IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle_long(dbapi_connection, record, _proxy):
        since = record.info.pop(IDLE_SINCE, None)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise exc.InvalidatePoolError() from error  # the pool reconnects, as pre-ping does
            raise


def _lazy_begin(engine: Engine) -> None:
    import psycopg
    from psycopg.pq import TransactionStatus

    idle = TransactionStatus.IDLE
    reads: dict[str, bool] = {}

    def plain_read(statement: str) -> bool:
        known = reads.get(statement)
        if known is None:
            if len(reads) >= _READS_CACHE_SIZE:
                reads.clear()
            known = reads[statement] = (statement.lstrip()[:6].upper() == "SELECT"
                                        and _NOT_A_PLAIN_READ.search(statement) is None)
        return known

    @event.listens_for(engine, "connect")
    def _autocommit(dbapi_connection, _record):
        dbapi_connection.autocommit = True

    @event.listens_for(engine, "before_cursor_execute")
    def _begin_before_writes(_connection, cursor, statement, _parameters, _context, _executemany):
        dbapi_connection = cursor.connection
        if dbapi_connection.pgconn.transaction_status != idle or not dbapi_connection.autocommit:
            return  # inside the transaction already, or a connection that manages its own
        if plain_read(statement) and not isinstance(cursor, psycopg.ServerCursor):
            return
        dbapi_connection.execute(BEGIN)
