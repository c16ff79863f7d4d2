"""The psycopg cursor the engine hands out: `description` is built only when something reads it.

psycopg builds `cursor.description` anew on every access, one `Column` object per column of the
result (its name decoded, its type looked up), ~1 µs each. SQLAlchemy asks for it after every
statement that returns rows but, for a statement whose compiled form it has cached (all of ours
after the first run), only checks that it is not None: the token check alone returns 35 columns.
Here the answer is a sequence that builds psycopg's own list the first time it is indexed, from
the result it was made for.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.pq import ExecStatus
from sqlalchemy import event
from sqlalchemy.engine import Engine

_ROWS = (ExecStatus.TUPLES_OK, ExecStatus.SINGLE_TUPLE, ExecStatus.TUPLES_CHUNK)


class _Result:
    """What psycopg's `Column` reads of a cursor, fixed at the result the description is for."""

    __slots__ = ("pgresult", "_encoding", "adapters")

    def __init__(self, cursor: psycopg.Cursor) -> None:
        self.pgresult, self._encoding, self.adapters = cursor.pgresult, cursor._encoding, cursor.adapters


class Description(Sequence):
    __slots__ = ("_result", "_columns")

    def __init__(self, cursor: psycopg.Cursor) -> None:
        self._result, self._columns = _Result(cursor), None

    def _built(self) -> list[psycopg.Column]:
        if self._columns is None:
            result = self._result
            self._columns = [psycopg.Column(result, i) for i in range(result.pgresult.nfields)]
        return self._columns

    def __len__(self) -> int:
        return self._result.pgresult.nfields

    def __getitem__(self, index: Any) -> Any:
        return self._built()[index]

    def __iter__(self):
        return iter(self._built())

    def __repr__(self) -> str:
        return repr(self._built())


class Cursor(psycopg.Cursor):
    @property
    def description(self) -> Description | None:
        """psycopg's rule for None (no result, or one that holds no rows), the columns deferred."""
        res = self.pgresult
        if res and (res.nfields or res.status in _ROWS):
            return Description(self)
        return None


def install(engine: Engine) -> None:
    if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg":
        return

    @event.listens_for(engine, "connect")
    def _our_cursor(dbapi_connection, _record):
        dbapi_connection.cursor_factory = Cursor
