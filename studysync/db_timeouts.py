"""How long a request may wait on the database: connecting, checking a connection out, a statement.

Without these a frozen server (SIGSTOP, a hung VM, a network partition that drops nothing) holds
every request thread forever, and then even routes that need no database stop answering. Each wait
has a bound, and each bound ends in an error that `db.failure_kind` calls `UNAVAILABLE`, i.e. a 503.

- connect: the driver's own connect timeout (PostgreSQL's `connect_timeout`, PyMySQL's).
- pool: SQLAlchemy's `pool_timeout`, how long a request queues for a free connection.
- statement: the server cancels a statement after this long (PostgreSQL `statement_timeout`,
  MariaDB `max_statement_time`, MySQL `max_execution_time`). A frozen server cancels nothing, so
  the client also stops waiting `GRACE_SECONDS` later and drops the connection: psycopg's own wait
  timeout, PyMySQL's socket read/write timeouts.

The worst case for one request is about pool + statement + grace + connect (a ping of a connection
that sat idle finding the server frozen, then a reconnect that cannot get through; db_roundtrips.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import psycopg

from sqlalchemy import event
from sqlalchemy.engine import Engine

GRACE_SECONDS = 1.0


@dataclass(frozen=True)
class DatabaseTimeouts:
    connect: float = 3.0
    pool: float = 3.0
    statement: float = 5.0

    @property
    def client(self) -> float:
        """How long the client waits for any one answer: the server's own limit, then a little more."""
        return self.statement + GRACE_SECONDS


def driver_options(backend: str, timeouts: DatabaseTimeouts) -> dict:
    """`create_engine` options for `backend` (PostgreSQL and MySQL/MariaDB; SQLite is local)."""
    options: dict = {"pool_timeout": timeouts.pool}
    if backend in ("mysql", "mariadb"):
        client = max(1, round(timeouts.client))
        options["connect_args"] = {"connect_timeout": max(1, round(timeouts.connect)),
                                   "read_timeout": client, "write_timeout": client}
    return options


def install(engine: Engine, timeouts: DatabaseTimeouts) -> None:
    """The per-connection part: the server-side statement limit and, for psycopg, the client wait."""
    if engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
        _install_psycopg(engine, timeouts)
    elif engine.dialect.name in ("mysql", "mariadb"):
        _install_mysql(engine, timeouts)


def _install_psycopg(engine: Engine, timeouts: DatabaseTimeouts) -> None:
    @event.listens_for(engine, "do_connect")
    def _connect(_dialect, _record, cargs, cparams):
        cparams.setdefault("connect_timeout", max(2, round(timeouts.connect)))  # libpq's minimum is 2
        limit = f"-c statement_timeout={int(timeouts.statement * 1000)}"
        cparams["options"] = f"{cparams.get('options', '')} {limit}".strip()
        connection = BoundedConnection.connect(*cargs, **cparams)
        connection.wait_limit = timeouts.client
        return connection


class BoundedConnection(psycopg.Connection):
    """A psycopg connection whose every wait on the server ends after `wait_limit` seconds.

    psycopg waits for the server in `Connection.wait`, with an optional timeout that nothing sets by
    default. When it expires the connection is mid-protocol, so it is closed: SQLAlchemy then sees a
    closed connection, invalidates it, and the pool opens a fresh one for the next request.
    """

    wait_limit: float | None = None

    def wait(self, gen, interval=0.1, timeout=None):
        if timeout is not None or self.wait_limit is None:  # psycopg's own timed waits (notifies) keep theirs
            return super().wait(gen, interval=interval, timeout=timeout)
        try:
            return super().wait(gen, interval=interval, timeout=self.wait_limit)
        except psycopg.errors._WaitTimeout as exc:
            self.pgconn.finish()
            raise psycopg.OperationalError(
                f"the database did not answer within {self.wait_limit:g}s; connection closed") from exc


def _install_mysql(engine: Engine, timeouts: DatabaseTimeouts) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        mariadb = "mariadb" in dbapi_connection.get_server_info().lower()
        with dbapi_connection.cursor() as cursor:
            if mariadb:
                cursor.execute(f"SET SESSION max_statement_time = {timeouts.statement:g}")
            else:  # MySQL bounds SELECTs only
                cursor.execute(f"SET SESSION max_execution_time = {int(timeouts.statement * 1000)}")
